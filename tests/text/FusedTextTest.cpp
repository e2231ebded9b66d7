// Fused nodes in the text form: nested bodies print and parse back, clone deep-copies them, the
// verifier and addFused check them, and DOT draws them as one box. (The interpreter side is in
// tests/passes/FuseTest.cpp, whose binary links the interpreter.)
#include "compiler/ir/Dot.h"
#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"
#include "compiler/ir/Verifier.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

const char *kFused = R"(graph @g seed=0 {
  input %x : f32[2,3] loc("m.json":1:2)
  input %b : f32[3] loc("m.json":2:2)
  %f = fused(%x, %b) {kind="loop"} : (f32[2,3], f32[2,3]) {
    input %p0 : f32[2,3] loc("m.json":1:2)
    input %p1 : f32[3] loc("m.json":2:2)
    %a = add(%p0, %p1) : f32[2,3] loc("m.json":3:2)
    %r = relu(%a) : f32[2,3] loc("m.json":4:2, "$.nodes[1]")
    return %a, %r
  } loc("m.json":4:2)
  %a = neg(%f:0) : f32[2,3] loc("m.json":5:2)
  %s = reduce_sum(%f:1) : f32[] loc("m.json":6:2)
  return %a, %s
}
)";

Graph parseOk(const char *text) {
  auto g = parseGraph(text, "t.kir");
  EXPECT_TRUE(g.ok()) << g.message();
  return g.ok() ? g.take() : Graph();
}

std::string parseError(const std::string &text) {
  auto g = parseGraph(text, "t.kir");
  return g.ok() ? std::string("parsed") : g.message();
}

TEST(FusedText, PrintsExactlyWhatItParses) {
  Graph g = parseOk(kFused);
  EXPECT_EQ(printGraph(g), kFused);
  EXPECT_TRUE(verify(g).isOk()) << verify(g).message();
  Node *f = g.find("f");
  ASSERT_TRUE(f && f->body());
  EXPECT_EQ(f->op(), Op::Fused);
  EXPECT_EQ(f->numResults(), 2u);
  EXPECT_EQ(f->attrStr("kind"), "loop");
  // Body names are scoped to the body: %a lives both inside and outside.
  EXPECT_EQ(f->body()->find("a")->op(), Op::Add);
  EXPECT_EQ(g.find("a")->op(), Op::Neg);
  EXPECT_EQ(f->body()->find("r")->loc().path, "$.nodes[1]");
  EXPECT_EQ(g.find("s")->operand(0).name(), "f:1");
}

TEST(FusedText, CloneDeepCopiesTheBody) {
  Graph g = parseOk(kFused);
  Graph c = g.clone();
  EXPECT_EQ(printGraph(c), printGraph(g));
  EXPECT_NE(c.find("f")->body(), g.find("f")->body());
  EXPECT_NE(c.find("f")->body()->find("r"), g.find("f")->body()->find("r"));
  EXPECT_TRUE(verify(c).isOk());
}

TEST(FusedText, DotDrawsOneBoxListingTheOps) {
  Graph g = parseOk(kFused);
  std::string dot = writeDot(g);
  EXPECT_NE(dot.find("fused loop:\\n  add a\\n  relu r"), std::string::npos) << dot;
}

TEST(FusedText, ParseErrors) {
  std::string text = kFused;
  // The declared result types must be the body's outputs.
  std::string wrongType = text;
  wrongType.replace(wrongType.find("(f32[2,3], f32[2,3])"), 20, "(f32[2,3], f32[3,3])");
  EXPECT_NE(parseError(wrongType).find("does not match"), std::string::npos)
      << parseError(wrongType);
  // The body's inputs must match the operands.
  std::string wrongInput = text;
  wrongInput.replace(wrongInput.find("input %p1 : f32[3]"), 18, "input %p1 : f32[1,3]");
  EXPECT_NE(parseError(wrongInput).find("operand 1 is f32[3] but body input 'p1' is f32[1,3]"),
            std::string::npos)
      << parseError(wrongInput);
  std::string noReturn = text;
  noReturn.replace(noReturn.find("return %a, %r"), 13, "");
  EXPECT_NE(parseError(noReturn).find("has no 'return'"), std::string::npos)
      << parseError(noReturn);
  std::string param = text;
  param.replace(param.find("input %p1 : f32[3]"), 18, "param %p1 : f32[3]");
  EXPECT_NE(parseError(param).find("expected input, const"), std::string::npos)
      << parseError(param);
  // Nesting: a fused node in a body.
  const char *nested = R"(graph @g {
  input %x : f32[2]
  %f = fused(%x) : f32[2] {
    input %p0 : f32[2]
    %g = fused(%p0) : f32[2] {
      input %q : f32[2]
      %n = neg(%q) : f32[2]
      return %n
    }
    return %g
  }
  return %f
})";
  EXPECT_NE(parseError(nested).find("do not nest"), std::string::npos) << parseError(nested);
  // Without a body, fused is not an op anyone may declare.
  const char *bodyless = "graph @g {\n  input %x : f32[2]\n  %f = fused(%x) : f32[2]\n}";
  EXPECT_NE(parseError(bodyless).find("expected '{' to open the body"), std::string::npos)
      << parseError(bodyless);
}

TEST(FusedText, AddNodeRefusesFusedAndAddFusedChecks) {
  Graph g;
  Node *x = *g.addInput("x", TensorType{DType::F32, {2}});
  auto viaAddNode = g.addNode(Op::Fused, "f", {x->result()});
  ASSERT_FALSE(viaAddNode.ok());
  EXPECT_NE(viaAddNode.message().find("needs a body"), std::string::npos);

  auto body = std::make_unique<Graph>("f");
  Node *p = *body->addInput("p0", TensorType{DType::F32, {2}});
  Node *n = *body->addNode(Op::Neg, "n", {p->result()});
  body->addOutput(n->result());
  auto bad = g.addFused("f", {x->result()}, std::move(body), {{"kind", std::string("tile")}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("kind"), std::string::npos) << bad.message();

  auto body2 = std::make_unique<Graph>("f");
  p = *body2->addInput("p0", TensorType{DType::F32, {2}});
  n = *body2->addNode(Op::Neg, "n", {p->result()});
  body2->addOutput(n->result());
  auto ok = g.addFused("f", {x->result()}, std::move(body2), {{"kind", std::string("loop")}});
  ASSERT_TRUE(ok.ok()) << ok.message();
  g.addOutput((*ok)->result());
  EXPECT_TRUE(verify(g).isOk()) << verify(g).message();
  // A body rewritten behind the verifier's back is caught.
  (*ok)->body()->setOutputs({});
  EXPECT_FALSE(verify(g).isOk());
}

} // namespace
} // namespace kiln
