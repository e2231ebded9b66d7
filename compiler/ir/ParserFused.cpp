// The text-form parser's fused bodies: `{ input ..., definitions, return ... }` after a fused
// node's result type. The body is parsed into its own Graph by swapping it in for the graph
// being built, so every statement parser is reused and body names are scoped to the body.
#include "compiler/ir/ParserImpl.h"

namespace kiln::detail {

Status Parser::parseFusedBody(const std::string &name, std::unique_ptr<Graph> &body) {
  if (inBody_)
    return fail("fused node '" + name + "' inside a fused body (fused nodes do not nest)");
  KILN_TRY(expect(TokenKind::LBrace, "expected '{' to open the body of fused node '" + name + "'"));
  Graph outer = std::move(g_);
  bool outerReturn = sawReturn_;
  g_ = Graph(name);
  sawReturn_ = false;
  inBody_ = true;
  auto statements = [&]() -> Status {
    while (!at(TokenKind::RBrace)) {
      if (at(TokenKind::Eof))
        return fail("expected '}' to close the body of fused node '" + name + "'");
      if (atWord("input"))
        KILN_TRY(parseInput());
      else if (atWord("const"))
        KILN_TRY(parseConst());
      else if (atWord("return"))
        KILN_TRY(parseReturn());
      else if (at(TokenKind::ValueRef))
        KILN_TRY(parseNode());
      else
        return fail("expected input, const, %name = op(...) or return in the body of fused node '" +
                    name + "'");
    }
    if (!sawReturn_)
      return fail("the body of fused node '" + name + "' has no 'return'");
    consume();
    return Status::ok();
  };
  Status status = statements();
  body = std::make_unique<Graph>(std::move(g_));
  g_ = std::move(outer);
  sawReturn_ = outerReturn;
  inBody_ = false;
  return status;
}

} // namespace kiln::detail
