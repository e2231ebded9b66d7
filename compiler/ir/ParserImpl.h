// Internal to the text-form parser (Parser.cpp, ParserValues.cpp): the Parser class.
#pragma once

#include "compiler/ir/Graph.h"
#include "compiler/ir/Lexer.h"
#include "compiler/support/Diagnostic.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kiln::detail {

/// The parser state: a one-token lookahead over the Lexer and the graph being built. Each
/// parse* method reads one construct; none recurses, so hostile nesting cannot exhaust the stack.
class Parser {
public:
  Parser(std::string_view text, const std::string &file) : lex_(text), file_(file) { consume(); }
  Expected<Graph> run();

private:
  void consume() { tok_ = lex_.next(); }
  bool at(TokenKind k) const { return tok_.kind == k; }
  bool atWord(std::string_view w) const { return tok_.kind == TokenKind::Ident && tok_.text == w; }
  Loc locOf(const Token &t) const { return Loc{file_, t.line, t.col, ""}; }
  Status errorAt(const Token &t, const std::string &msg) const {
    return kiln::errorAt(locOf(t), msg);
  }
  /// An error at the current token; a lexer error token reports its own message instead.
  Status fail(const std::string &msg) const {
    if (tok_.kind == TokenKind::Error)
      return errorAt(tok_, tok_.text);
    return errorAt(tok_, msg);
  }
  Status expect(TokenKind k, const std::string &msg) {
    if (!at(k))
      return fail(msg);
    consume();
    return Status::ok();
  }
  Status expectWord(std::string_view w, const std::string &msg) {
    if (!atWord(w))
      return fail(msg);
    consume();
    return Status::ok();
  }

  // ---- pieces ----
  Status parseHeader();
  Status parseStatement();
  /// What every source declaration (input, param, const) starts with: the keyword, the name,
  /// ':', the type and an optional arena plan.
  struct SourceHead {
    Token nameTok;
    std::string name;
    TensorType type;
    Token arenaTok;
    std::vector<int64_t> arena;
  };
  Status parseSourceHead(const char *keyword, SourceHead &head);
  /// What every source declaration ends with: its loc(...), then the node gets its arena plan
  /// and location.
  Status finishSource(Node *n, const SourceHead &head, const std::optional<Loc> &loc);
  Status parseInput();
  Status parseParam();
  Status parseConst();
  Status parseNode();
  Status parseReturn();
  Status parseTrain();
  Status parseStep();
  /// Reads a fused node's `{ input ...  %x = op(...) ...  return ... }` into `body`
  /// (ParserFused.cpp).
  Status parseFusedBody(const std::string &name, std::unique_ptr<Graph> &body);
  Expected<std::string> parseDefName(const char *what);
  Status parseType(TensorType &type);
  Status parseLoc(std::optional<Loc> &loc);
  /// Reads an optional `@arena(o0, o1, ...)` (the memory plan) into `offsets`.
  Status parseArena(std::vector<int64_t> &offsets);
  /// Stores offsets read by parseArena on `n`, checking there is one per result.
  Status applyArena(Node *n, const Token &at, const std::vector<int64_t> &offsets);
  Status parseRef(Value &v);
  Status parseRefList(std::vector<Value> &out, TokenKind close);
  Status parseInt(int64_t &v);
  Status parseUInt(uint64_t &v);
  Status parseNumber(double &v);
  Status parseBool(bool &v);
  Status parseNumberList(std::vector<double> &out);
  Status parseAttrValue(AttrValue &v);
  Status parseDense(const TensorType &type, const std::string &who, Tensor &out);
  Status parseElement(DType dt, Tensor &t, int64_t i);
  Status parseInit(Initializer &init);
  Status parseOptimizer(Optimizer &o);
  Status parseSchedule(LrSchedule &s);
  /// Reads `{ key = ..., ... }` calling `field(key token)` for each key after its '='.
  template <typename F> Status parseFields(const char *what, F field);

  Lexer lex_;
  std::string file_;
  Token tok_;
  Graph g_;
  bool sawReturn_ = false;
  bool inBody_ = false; ///< parsing a fused node's body (which cannot nest another)
};

template <typename F> Status Parser::parseFields(const char *what, F field) {
  KILN_TRY(expect(TokenKind::LBrace, std::string("expected '{' after ") + what));
  std::set<std::string> seen;
  while (!at(TokenKind::RBrace)) {
    if (!seen.empty())
      KILN_TRY(expect(TokenKind::Comma, std::string("expected ',' or '}' in ") + what));
    if (!at(TokenKind::Ident))
      return fail(std::string("expected a field name in ") + what);
    Token key = tok_;
    if (!seen.insert(key.text).second)
      return fail("field '" + key.text + "' given twice in " + what);
    consume();
    KILN_TRY(expect(TokenKind::Equal, "expected '=' after '" + key.text + "'"));
    KILN_TRY(field(key));
  }
  consume();
  return Status::ok();
}

} // namespace kiln::detail
