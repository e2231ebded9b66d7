// Tests of the builder API itself: names, locations, recorded errors, operators, train steps.
#include "frontend/builder/Builder.h"

#include "compiler/interp/Interpreter.h"

#include <gtest/gtest.h>

namespace kiln::builder {
namespace {

TEST(Builder, AutoNamesAndNamed) {
  GraphBuilder g("t");
  Tensor x = g.input("x", DType::F32, {2, 3});
  Tensor a = relu(x);
  Tensor b = relu(a).named("h");
  EXPECT_EQ(a.name(), "relu_1");
  EXPECT_EQ(b.name(), "h");
  Tensor c = relu(b);
  EXPECT_EQ(c.name(), "relu_3");
  g.output(c);
  auto graph = g.finish();
  ASSERT_TRUE(graph.ok()) << graph.message();
  EXPECT_NE(graph->find("h"), nullptr);
  EXPECT_EQ(graph->find("relu_2"), nullptr);
}

TEST(Builder, LocationIsTheCallersLine) {
  GraphBuilder g("t");
  Tensor x = g.input("x", DType::F32, {2, 3});
  int line = __LINE__ + 1;
  Tensor y = relu(x);
  EXPECT_EQ(y.node()->loc().file, "BuilderTest.cpp");
  EXPECT_EQ(y.node()->loc().line, line);
  EXPECT_GT(y.node()->loc().col, 0);
}

TEST(Builder, ShapeErrorComesBackFromFinishWithFileAndLine) {
  GraphBuilder g("t");
  Tensor a = g.input("a", DType::F32, {2, 3});
  Tensor b = g.input("b", DType::F32, {4, 5});
  int line = __LINE__ + 1;
  Tensor c = matmul(a, b);
  EXPECT_FALSE(c.valid());
  // Later calls return invalid handles and record nothing new.
  Tensor d = relu(c);
  EXPECT_FALSE(d.valid());
  Tensor e = g.input("e", DType::F32, {1});
  EXPECT_FALSE(e.valid());
  g.output(d);
  auto graph = g.finish();
  ASSERT_FALSE(graph.ok());
  std::string expect = "BuilderTest.cpp:" + std::to_string(line) + ":";
  EXPECT_EQ(graph.message().rfind(expect, 0), 0u) << graph.message();
  EXPECT_NE(graph.message().find("matmul"), std::string::npos) << graph.message();
}

TEST(Builder, OperatorErrorIsLocatedAtTheExpression) {
  GraphBuilder g("t");
  Tensor a = g.input("a", DType::F32, {2, 3});
  Tensor b = g.input("b", DType::F32, {4});
  int line = __LINE__ + 1;
  Tensor c = a + b;
  EXPECT_FALSE(c.valid());
  auto graph = g.finish();
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.message().rfind("BuilderTest.cpp:" + std::to_string(line) + ":", 0), 0u)
      << graph.message();
}

TEST(Builder, DuplicateNameIsAnError) {
  GraphBuilder g("t");
  Tensor x = g.input("x", DType::F32, {2});
  int line = __LINE__ + 1;
  Tensor y = relu(x).named("x");
  EXPECT_FALSE(y.valid());
  auto graph = g.finish();
  ASSERT_FALSE(graph.ok());
  EXPECT_NE(graph.message().find(":" + std::to_string(line) + ":"), std::string::npos);
  EXPECT_NE(graph.message().find("'x' is defined twice"), std::string::npos) << graph.message();
}

TEST(Builder, DefaultTensorOperandIsAnError) {
  GraphBuilder g("t");
  Tensor x = g.input("x", DType::F32, {2, 2});
  Tensor none;
  Tensor y = matmul(x, none);
  EXPECT_FALSE(y.valid());
  auto graph = g.finish();
  ASSERT_FALSE(graph.ok());
  EXPECT_NE(graph.message().find("undefined"), std::string::npos) << graph.message();
}

TEST(Builder, OperatorsBuildTheirOpsAndScalarsTakeTheTensorDType) {
  GraphBuilder g("t");
  Tensor x = g.input("x", DType::F64, {2});
  Tensor y = g.input("y", DType::F64, {2});
  Tensor s = x + y;
  Tensor d = x - y;
  Tensor m = x * 0.5;
  Tensor q = 2.0 / x;
  Tensor n = -x;
  EXPECT_EQ(s.node()->op(), Op::Add);
  EXPECT_EQ(d.node()->op(), Op::Sub);
  EXPECT_EQ(m.node()->op(), Op::Mul);
  EXPECT_EQ(q.node()->op(), Op::Div);
  EXPECT_EQ(n.node()->op(), Op::Neg);
  Node *half = m.node()->operand(1).node;
  ASSERT_TRUE(half->isConstant());
  EXPECT_EQ(half->type().dtype, DType::F64);
  EXPECT_EQ(half->value()->at(0), 0.5);
  EXPECT_TRUE(q.node()->operand(0).node->isConstant());
  Tensor all = (s + d) * m / q + n;
  g.output(all);
  auto graph = g.finish();
  ASSERT_TRUE(graph.ok()) << graph.message();

  auto interp = Interpreter::create(*graph);
  ASSERT_TRUE(interp.ok()) << interp.message();
  double xs[] = {1, 4}, ys[] = {3, -2};
  auto out = interp->run({{"x", kiln::Tensor::fromF64({2}, xs)}, {"y", kiln::Tensor::fromF64({2}, ys)}});
  ASSERT_TRUE(out.ok()) << out.message();
  // ((x+y) + (x-y)) * 0.5x / (2/x) - x = 2x * 0.5x * x / 2 - x = x^3/2 - x
  auto v = (*out)[0].second.toDoubles();
  EXPECT_DOUBLE_EQ(v[0], 0.5 - 1);
  EXPECT_DOUBLE_EQ(v[1], 32 - 4);
}

TEST(Builder, TrainStepDefaultsToTheParamsTheLossDependsOn) {
  GraphBuilder g("t");
  Tensor x = g.input("x", DType::F32, {4, 2});
  Tensor y = g.input("y", DType::F32, {4, 1});
  Tensor unused = g.param("unused", {3});
  Tensor w = g.param("w", {2, 1}, init::glorotUniform());
  Tensor frozen = g.param("frozen", {1}, init::ones(), {.trainable = false});
  Tensor b = g.param("b", {1});
  Tensor pred = (dense(x, w, b) * frozen).named("pred");
  Tensor loss = mse(pred, y).named("loss");
  g.output(pred);
  g.train({.loss = loss, .optimizer = adam(1e-2)});
  auto graph = g.finish();
  ASSERT_TRUE(graph.ok()) << graph.message();
  ASSERT_EQ(graph->trainSteps().size(), 1u);
  const TrainStep &step = graph->trainSteps()[0];
  EXPECT_EQ(step.name, "train");
  EXPECT_FALSE(step.paramsGiven);
  ASSERT_EQ(step.params.size(), 2u);
  EXPECT_EQ(step.params[0]->name(), "w");
  EXPECT_EQ(step.params[1]->name(), "b");
  EXPECT_EQ(step.optimizer.kind, Optimizer::Kind::Adam);
  EXPECT_DOUBLE_EQ(step.optimizer.lr, 1e-2);
  EXPECT_EQ(step.loss.name(), "loss");
  (void)unused;
}

TEST(Builder, FinishVerifiesAndIsSingleUse) {
  GraphBuilder g("t");
  Tensor x = g.input("x", DType::F32, {2});
  g.output(sigmoid(x));
  auto first = g.finish();
  ASSERT_TRUE(first.ok()) << first.message();
  auto second = g.finish();
  EXPECT_FALSE(second.ok());
}

TEST(Builder, AttributesEqualToDefaultsAreLeftOut) {
  GraphBuilder g("t");
  Tensor x = g.input("x", DType::F32, {1, 8, 8, 2});
  Tensor w = g.param("w", {3, 3, 2, 4}, init::heNormal());
  Tensor c = conv2d(x, w, {.padding = "same"});
  Tensor p = maxPool2d(c, {.ksize = {2, 2}});
  Tensor w2 = g.param("w2", {3, 3, 4, 4}, init::heNormal());
  Tensor c2 = conv2d(p, w2, {.strides = {2, 2}, .padding = {1, 1, 1, 1}});
  ASSERT_TRUE(c2.valid()) << g.status().message();
  EXPECT_EQ(c.node()->attrs().size(), 1u);
  EXPECT_EQ(c.node()->attrStr("padding"), "same");
  EXPECT_EQ(p.node()->attrs().size(), 1u);
  EXPECT_EQ(c.type().shape, (Shape{1, 8, 8, 4}));
  EXPECT_EQ(p.type().shape, (Shape{1, 4, 4, 4}));
  EXPECT_EQ(c2.type().shape, (Shape{1, 2, 2, 4}));
  EXPECT_EQ(*c2.node()->attrInts("padding"), (std::vector<int64_t>{1, 1, 1, 1}));
}

} // namespace
} // namespace kiln::builder
