// The graph-level Interpreter (feeds, outputs, evaluate, params, run counter) and the check that
// every primitive op in Ops.def has a hand-checked case.
#include "InterpTestUtil.h"

using namespace kiln;
using namespace kiln::test;

namespace {
/// y = relu(x @ w + b) with x [2,2], w [2,1] = [1,-1] (value init), b [1] = 0.5; plus a dense
/// layer "h" over the same operands.
Graph mlp() {
  Graph g("mlp");
  Node *x = *g.addInput("x", TensorType{DType::F32, {2, 2}});
  Initializer wi;
  wi.kind = InitKind::Value;
  wi.data = {1, -1};
  Initializer bi;
  bi.kind = InitKind::Constant;
  bi.value = 0.5;
  Node *w = *g.addParam("w", TensorType{DType::F32, {2, 1}}, wi);
  Node *b = *g.addParam("b", TensorType{DType::F32, {1}}, bi);
  Node *mm = *g.addNode(Op::Matmul, "mm", {x->result(), w->result()});
  Node *add = *g.addNode(Op::Add, "add", {mm->result(), b->result()});
  Node *y = *g.addNode(Op::Relu, "y", {add->result()});
  Node *h = *g.addNode(Op::Dense, "h", {x->result(), w->result(), b->result()},
                       {{"activation", std::string("relu")}});
  g.addOutput(y->result());
  g.addOutput(h->result());
  return g;
}

NamedTensors feedX(std::vector<double> v) {
  return {{"x", tensorOf(DType::F32, {2, 2}, std::move(v))}};
}
} // namespace

TEST(Interpreter, RunReturnsOutputsInOrder) {
  auto interp = Interpreter::create(mlp());
  ASSERT_TRUE(interp.ok()) << interp.message();
  // Rows: 3-1+0.5 = 2.5; 1-4+0.5 = -2.5 -> relu 0.
  auto out = interp->run(feedX({3, 1, 1, 4}));
  ASSERT_TRUE(out.ok()) << out.message();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].first, "y");
  expectTensor((*out)[0].second, DType::F32, {2, 1}, {2.5, 0});
  EXPECT_EQ((*out)[1].first, "h");
  expectTensor((*out)[1].second, DType::F32, {2, 1}, {2.5, 0});
  EXPECT_EQ(interp->runCount(), 1u);
}

TEST(Interpreter, EvaluateIntermediatesAndLayerNames) {
  auto interp = Interpreter::create(mlp());
  ASSERT_TRUE(interp.ok()) << interp.message();
  auto out = interp->evaluate(feedX({3, 1, 1, 4}), {"mm", "h", "w"});
  ASSERT_TRUE(out.ok()) << out.message();
  expectTensor((*out)[0].second, DType::F32, {2, 1}, {2, -3});
  expectTensor((*out)[1].second, DType::F32, {2, 1}, {2.5, 0});
  expectTensor((*out)[2].second, DType::F32, {2, 1}, {1, -1});
  auto bad = interp->evaluate(feedX({0, 0, 0, 0}), {"nope"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("'nope'"), std::string::npos) << bad.message();
  // Values that need no input need no feed.
  auto w = interp->evaluate({}, {"w"});
  ASSERT_TRUE(w.ok()) << w.message();
}

TEST(Interpreter, FeedErrorsNameTheInput) {
  auto interp = Interpreter::create(mlp());
  ASSERT_TRUE(interp.ok());
  auto missing = interp->run({});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("input 'x'"), std::string::npos) << missing.message();
  auto shape = interp->run({{"x", tensorOf(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6})}});
  ASSERT_FALSE(shape.ok());
  EXPECT_NE(shape.message().find("input 'x' expects f32[2,2], fed f32[2,3]"), std::string::npos)
      << shape.message();
  auto dtype = interp->run({{"x", tensorOf(DType::F64, {2, 2}, {1, 2, 3, 4})}});
  ASSERT_FALSE(dtype.ok());
  EXPECT_NE(dtype.message().find("input 'x'"), std::string::npos) << dtype.message();
  auto unknown = interp->run(
      {{"x", tensorOf(DType::F32, {2, 2}, {1, 2, 3, 4})}, {"z", tensorOf(DType::F32, {1}, {1})}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("'z'"), std::string::npos) << unknown.message();
}

TEST(Interpreter, ParamsAndSetParams) {
  auto interp = Interpreter::create(mlp());
  ASSERT_TRUE(interp.ok());
  ASSERT_EQ(interp->params().size(), 2u);
  EXPECT_EQ(interp->params()[0].first, "w");
  expectTensor(interp->params()[1].second, DType::F32, {1}, {0.5});
  ASSERT_TRUE(interp->setParams({{"b", tensorOf(DType::F32, {1}, {-10})}}).isOk());
  auto out = interp->run(feedX({3, 1, 1, 4}));
  ASSERT_TRUE(out.ok());
  expectTensor((*out)[0].second, DType::F32, {2, 1}, {0, 0});
  EXPECT_FALSE(interp->setParams({{"q", tensorOf(DType::F32, {1}, {1})}}).isOk());
  EXPECT_FALSE(interp->setParams({{"x", tensorOf(DType::F32, {2, 2}, {1, 1, 1, 1})}}).isOk());
  Status wrong = interp->setParams({{"w", tensorOf(DType::F32, {1, 2}, {1, 1})}});
  ASSERT_FALSE(wrong.isOk());
  EXPECT_NE(wrong.message().find("param 'w'"), std::string::npos) << wrong.message();
}

TEST(Interpreter, LayerOpsNeverReachEvalOp) {
  auto r = runOp(Op::Dense,
                 {tensorOf(DType::F32, {1, 2}, {1, 2}), tensorOf(DType::F32, {2, 1}, {1, 1})});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("must be decomposed"), std::string::npos) << r.message();
}

TEST(Coverage, EveryPrimitiveOpHasAHandCheckedCase) {
  for (Op op : allOps()) {
    const OpInfo &info = opInfo(op);
    // Fused nodes run their body through evalOp: tests/passes/FuseTest.cpp checks them.
    if (info.has(kSource) || info.has(kLayer) || op == Op::Fused)
      continue;
    EXPECT_TRUE(coveredOps().count(op)) << "no interpreter test case for '" << info.mnemonic << "'";
  }
}
