// Tokens of the IR text form (see Parser.h for the grammar), produced one at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln {

enum class TokenKind {
  Eof,
  Error,    ///< text holds the message; line/col where it happened
  Ident,    ///< bare word: keywords, dtypes, attribute and field names (inf/nan are Float)
  ValueRef, ///< %name or %name:k; text is the part after '%'
  Symbol,   ///< @name or @"any text"; text is the name (unescaped)
  Int,      ///< -?[0-9]+
  Float,    ///< a number with '.', 'e' or 'E', or inf, -inf, nan, -nan
  String,   ///< "..."; text is the unescaped contents
  Ellipsis, ///< ... (only in elided values, which do not parse)
  LParen, RParen, LBracket, RBracket, LBrace, RBrace, Less, Greater, Comma, Equal, Colon,
  Arrow, ///< <- (a step program's state update); `<-1` stays '<' then a number, as in dense<-1>
};

struct Token {
  TokenKind kind = TokenKind::Eof;
  std::string text;
  int line = 1;
  int col = 1;
};

/// Splits the text form into tokens. Whitespace and `//` comments are skipped. Never recurses
/// and never reads past the end; a malformed token comes back as TokenKind::Error.
class Lexer {
public:
  explicit Lexer(std::string_view text) : text_(text) {}
  Token next();

  /// Longest token (a number or a name) accepted, to bound work on hostile text.
  static constexpr size_t kMaxTokenLength = 1024;

private:
  char peekChar(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool atEnd() const { return pos_ >= text_.size(); }
  void advance();
  void skipSpaceAndComments();
  Token make(TokenKind kind, std::string text, int line, int col) const;
  Token lexNumber(int line, int col);
  Token lexString(int line, int col);
  /// Reads [A-Za-z0-9_./-]* (name characters after the first); returns false if too long.
  bool readNameChars(std::string &out);

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int col_ = 1;
};

/// A readable name of a token kind for messages ("a value name", "'('", ...).
std::string_view tokenKindName(TokenKind k);

} // namespace kiln
