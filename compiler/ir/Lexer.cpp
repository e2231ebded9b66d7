// The IR text form's tokenizer: one token per call, positions in 1-based lines and byte columns.
#include "compiler/ir/Lexer.h"

#include <cstdio>

namespace kiln {

namespace {
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isNameChar(char c) { return isAlpha(c) || isDigit(c) || c == '.' || c == '/' || c == '-'; }
bool isIdentChar(char c) { return isAlpha(c) || isDigit(c); }

std::string describeChar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f)
    return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02x", unsigned(u));
  return buf;
}

int hexValue(char c) {
  if (isDigit(c))
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}
} // namespace

std::string_view tokenKindName(TokenKind k) {
  switch (k) {
  case TokenKind::Eof: return "end of input";
  case TokenKind::Error: return "an invalid token";
  case TokenKind::Ident: return "a word";
  case TokenKind::ValueRef: return "a value name";
  case TokenKind::Symbol: return "an @name";
  case TokenKind::Int: return "an integer";
  case TokenKind::Float: return "a number";
  case TokenKind::String: return "a string";
  case TokenKind::Ellipsis: return "'...'";
  case TokenKind::LParen: return "'('";
  case TokenKind::RParen: return "')'";
  case TokenKind::LBracket: return "'['";
  case TokenKind::RBracket: return "']'";
  case TokenKind::LBrace: return "'{'";
  case TokenKind::RBrace: return "'}'";
  case TokenKind::Less: return "'<'";
  case TokenKind::Greater: return "'>'";
  case TokenKind::Comma: return "','";
  case TokenKind::Equal: return "'='";
  case TokenKind::Colon: return "':'";
  case TokenKind::Arrow: return "'<-'";
  }
  return "?";
}

void Lexer::advance() {
  if (atEnd())
    return;
  if (text_[pos_] == '\n') {
    ++line_;
    col_ = 1;
  } else {
    ++col_;
  }
  ++pos_;
}

void Lexer::skipSpaceAndComments() {
  while (!atEnd()) {
    char c = peekChar();
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      advance();
    } else if (c == '/' && peekChar(1) == '/') {
      while (!atEnd() && peekChar() != '\n')
        advance();
    } else {
      return;
    }
  }
}

Token Lexer::make(TokenKind kind, std::string text, int line, int col) const {
  return Token{kind, std::move(text), line, col};
}

bool Lexer::readNameChars(std::string &out) {
  while (isNameChar(peekChar())) {
    if (out.size() >= kMaxTokenLength)
      return false;
    out += peekChar();
    advance();
  }
  return true;
}

Token Lexer::lexNumber(int line, int col) {
  std::string s;
  auto take = [&] {
    s += peekChar();
    advance();
  };
  if (peekChar() == '-')
    take();
  if (isAlpha(peekChar())) { // -inf, -nan
    std::string word;
    while (isIdentChar(peekChar()) && word.size() < 8) {
      word += peekChar();
      advance();
    }
    if (word == "inf" || word == "nan")
      return make(TokenKind::Float, s + word, line, col);
    return make(TokenKind::Error, "malformed number '-" + word + "'", line, col);
  }
  bool isFloat = false;
  while (isDigit(peekChar()))
    take();
  if (peekChar() == '.' && isDigit(peekChar(1))) {
    isFloat = true;
    take();
    while (isDigit(peekChar()))
      take();
  }
  if ((peekChar() == 'e' || peekChar() == 'E') &&
      (isDigit(peekChar(1)) ||
       ((peekChar(1) == '+' || peekChar(1) == '-') && isDigit(peekChar(2))))) {
    isFloat = true;
    take();
    if (peekChar() == '+' || peekChar() == '-')
      take();
    while (isDigit(peekChar()))
      take();
  }
  if (isIdentChar(peekChar()) || peekChar() == '.')
    return make(TokenKind::Error, "malformed number '" + s + peekChar() + "'", line, col);
  if (s.size() > kMaxTokenLength)
    return make(TokenKind::Error, "number is too long", line, col);
  return make(isFloat ? TokenKind::Float : TokenKind::Int, std::move(s), line, col);
}

Token Lexer::lexString(int line, int col) {
  advance(); // opening quote
  std::string s;
  while (true) {
    if (atEnd() || peekChar() == '\n')
      return make(TokenKind::Error, "unterminated string", line, col);
    char c = peekChar();
    if (c == '"') {
      advance();
      return make(TokenKind::String, std::move(s), line, col);
    }
    if (c != '\\') {
      s += c;
      advance();
      continue;
    }
    int escLine = line_, escCol = col_;
    advance();
    char e = peekChar();
    switch (e) {
    case '"': s += '"'; break;
    case '\\': s += '\\'; break;
    case 'n': s += '\n'; break;
    case 't': s += '\t'; break;
    case 'r': s += '\r'; break;
    case 'x': {
      int hi = hexValue(peekChar(1)), lo = hexValue(peekChar(2));
      if (hi < 0 || lo < 0)
        return make(TokenKind::Error, "\\x needs two hex digits", escLine, escCol);
      s += char(hi * 16 + lo);
      advance();
      advance();
      break;
    }
    default:
      if (atEnd() || e == '\n')
        return make(TokenKind::Error, "unterminated string", line, col);
      return make(TokenKind::Error, "unknown escape '\\" + std::string(1, e) + "' in string",
                  escLine, escCol);
    }
    advance();
  }
}

Token Lexer::next() {
  skipSpaceAndComments();
  int line = line_, col = col_;
  if (atEnd())
    return make(TokenKind::Eof, "", line, col);
  char c = peekChar();
  auto punct = [&](TokenKind k) {
    advance();
    return make(k, std::string(1, c), line, col);
  };
  switch (c) {
  case '(': return punct(TokenKind::LParen);
  case ')': return punct(TokenKind::RParen);
  case '[': return punct(TokenKind::LBracket);
  case ']': return punct(TokenKind::RBracket);
  case '{': return punct(TokenKind::LBrace);
  case '}': return punct(TokenKind::RBrace);
  case '<':
    // "<-" followed by a number is a negative splat (dense<-1>, dense<-inf>), not an arrow.
    if (peekChar(1) == '-' && !isNameChar(peekChar(2))) {
      advance(), advance();
      return make(TokenKind::Arrow, "<-", line, col);
    }
    return punct(TokenKind::Less);
  case '>': return punct(TokenKind::Greater);
  case ',': return punct(TokenKind::Comma);
  case '=': return punct(TokenKind::Equal);
  case ':': return punct(TokenKind::Colon);
  case '"': return lexString(line, col);
  default: break;
  }
  if (c == '.' && peekChar(1) == '.' && peekChar(2) == '.') {
    advance(), advance(), advance();
    return make(TokenKind::Ellipsis, "...", line, col);
  }
  if (isDigit(c) || (c == '-' && (isDigit(peekChar(1)) || isAlpha(peekChar(1)))))
    return lexNumber(line, col);
  if (c == '%') {
    advance();
    if (!isAlpha(peekChar()))
      return make(TokenKind::Error, "expected a name after '%'", line, col);
    std::string name;
    if (!readNameChars(name))
      return make(TokenKind::Error, "name is too long", line, col);
    // "%h:1" names result 1; "%h : f32" (a colon not followed by a digit) is a type annotation.
    if (peekChar() == ':' && isDigit(peekChar(1))) {
      name += ':';
      advance();
      while (isDigit(peekChar()) && name.size() < kMaxTokenLength) {
        name += peekChar();
        advance();
      }
    }
    return make(TokenKind::ValueRef, std::move(name), line, col);
  }
  if (c == '@') {
    advance();
    if (peekChar() == '"') {
      Token t = lexString(line_, col_);
      if (t.kind == TokenKind::Error)
        return t;
      return make(TokenKind::Symbol, std::move(t.text), line, col);
    }
    if (!isAlpha(peekChar()))
      return make(TokenKind::Error, "expected a name after '@'", line, col);
    std::string name;
    if (!readNameChars(name))
      return make(TokenKind::Error, "name is too long", line, col);
    return make(TokenKind::Symbol, std::move(name), line, col);
  }
  if (isAlpha(c)) {
    std::string word;
    while (isIdentChar(peekChar())) {
      if (word.size() >= kMaxTokenLength)
        return make(TokenKind::Error, "word is too long", line, col);
      word += peekChar();
      advance();
    }
    if (word == "inf" || word == "nan")
      return make(TokenKind::Float, std::move(word), line, col);
    return make(TokenKind::Ident, std::move(word), line, col);
  }
  advance();
  return make(TokenKind::Error, "unexpected character " + describeChar(c), line, col);
}

} // namespace kiln
