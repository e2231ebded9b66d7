// Unit tests of differentiate itself: fan-out summing, stop_gradient, integer paths, unreached
// wrt values, broadcasting reduction, tie rules, naming and locations, and its errors.
#include "compiler/autodiff/Differentiate.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>

namespace kiln::test {
namespace {

Tensor f64s(Shape shape, std::vector<double> v) { return Tensor::fromF64(std::move(shape), v); }

/// A small graph under construction plus shorthands; every helper asserts success.
struct G {
  Graph g{"unit"};
  Value in(const std::string &name, TensorType t) { return (*g.addInput(name, t))->result(); }
  Value op(Op o, const std::string &name, std::vector<Value> xs, AttrMap attrs = {}) {
    auto n = g.addNode(o, name, std::move(xs), std::move(attrs));
    EXPECT_TRUE(n.ok()) << n.message();
    return n.ok() ? (*n)->result() : Value{};
  }
  /// reduce_sum(x) named "loss", made the graph's output (a graph needs one to verify).
  Value sum(Value x) {
    Value loss = op(Op::ReduceSum, "loss", {x});
    g.addOutput(loss);
    return loss;
  }
  /// Differentiates and evaluates the gradients on the interpreter.
  std::vector<Tensor> grads(Value loss, const std::vector<Value> &wrt, const NamedTensors &feeds,
                            std::vector<Value> *values = nullptr) {
    auto gs = differentiate(g, loss, wrt);
    EXPECT_TRUE(gs.ok()) << gs.message();
    if (!gs.ok())
      return {};
    Status v = verify(g);
    EXPECT_TRUE(v.isOk()) << v.message();
    if (values)
      *values = *gs;
    std::vector<std::string> names;
    for (Value x : *gs)
      names.push_back(x.name());
    auto interp = Interpreter::create(g);
    EXPECT_TRUE(interp.ok()) << interp.message();
    auto out = interp->evaluate(feeds, names);
    EXPECT_TRUE(out.ok()) << out.message();
    std::vector<Tensor> ts;
    for (auto &[n, t] : *out)
      ts.push_back(t);
    return ts;
  }
};

const TensorType kVec3{DType::F64, {3}};

TEST(Differentiate, FanOutGradientsAreSummed) {
  // loss = sum(x*x + x): x is used three times, dx = 2x + 1.
  G t;
  Value x = t.in("x", kVec3);
  Value loss = t.sum(t.op(Op::Add, "y", {t.op(Op::Mul, "sq", {x, x}), x}));
  std::vector<Value> gv;
  auto d = t.grads(loss, {x}, {{"x", f64s({3}, {1, -2, 0.5})}}, &gv);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].toDoubles(), (std::vector<double>{3, -3, 2}));
  // The final gradient of x is a sum node named after x.
  EXPECT_EQ(gv[0].node->op(), Op::Add);
  EXPECT_EQ(gv[0].node->name().rfind("grad/x/sum", 0), 0u) << gv[0].node->name();
}

TEST(Differentiate, StopGradientBlocksItsOperand) {
  // loss = sum(x * stop_gradient(x)): only the direct use counts, dx = x (not 2x).
  G t;
  Value x = t.in("x", kVec3);
  Value loss = t.sum(t.op(Op::Mul, "y", {x, t.op(Op::StopGradient, "sg", {x})}));
  auto d = t.grads(loss, {x}, {{"x", f64s({3}, {1, -2, 4})}});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].toDoubles(), (std::vector<double>{1, -2, 4}));
}

TEST(Differentiate, IntegerPathsStopTheFlow) {
  // loss = sum(cast(cast(x, i32), f64) * w + k): x reaches the loss only through an integer,
  // so its gradient is zero; w's gradient flows; an integer wrt value gets an integer zero.
  G t;
  Value x = t.in("x", kVec3), w = t.in("w", kVec3);
  Value k = t.in("k", TensorType{DType::I32, {3}});
  Value xi = t.op(Op::Cast, "xi", {x}, {{"dtype", DType::I32}});
  Value xf = t.op(Op::Cast, "xf", {t.op(Op::Add, "xk", {xi, k})}, {{"dtype", DType::F64}});
  Value loss = t.sum(t.op(Op::Mul, "y", {xf, w}));
  std::vector<Value> gv;
  auto d = t.grads(loss, {x, w, k},
                   {{"x", f64s({3}, {1.5, 2.5, -3.5})},
                    {"w", f64s({3}, {1, 1, 1})},
                    {"k", Tensor::fromI32({3}, std::vector<int32_t>{1, 0, 0})}},
                   &gv);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_TRUE(gv[0].node->isConstant());
  EXPECT_EQ(d[0].toDoubles(), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(d[1].toDoubles(), (std::vector<double>{2, 2, -3}));
  EXPECT_EQ(gv[2].type(), (TensorType{DType::I32, {3}}));
  EXPECT_TRUE(gv[2].node->isConstant());
  EXPECT_EQ(d[2].toDoubles(), (std::vector<double>{0, 0, 0}));
}

TEST(Differentiate, UnreachedWrtGetsZerosOfItsType) {
  G t;
  Value x = t.in("x", kVec3);
  Value other = t.in("other", TensorType{DType::F32, {2, 2}});
  Value loss = t.sum(t.op(Op::Exp, "e", {x}));
  auto gs = differentiate(t.g, loss, {other});
  ASSERT_TRUE(gs.ok()) << gs.message();
  Value z = (*gs)[0];
  EXPECT_EQ(z.type(), other.type());
  ASSERT_TRUE(z.node->isConstant());
  EXPECT_EQ(z.node->value()->toDoubles(), (std::vector<double>(4, 0.0)));
  // Nothing but the zero constant was added: the loss's cone holds no path from `other`.
  EXPECT_EQ(t.g.nodes().size(), 5u);
}

TEST(Differentiate, BroadcastingIsSummedBack) {
  // y = a[2,3] + b[3] + c[] weighted by R: db sums R over rows, dc sums all of R, and the
  // reduce+reshape keeps their exact types.
  G t;
  Value a = t.in("a", {DType::F64, {2, 3}}), b = t.in("b", kVec3), c = t.in("c", {DType::F64, {}});
  Value r = (*t.g.addConstant("R", f64s({2, 3}, {1, 2, 3, 4, 5, 6})))->result();
  Value y = t.op(Op::Add, "y", {t.op(Op::Add, "ab", {a, b}), c});
  Value loss = t.sum(t.op(Op::Mul, "w", {y, r}));
  std::vector<Value> gv;
  auto d = t.grads(loss, {a, b, c},
                   {{"a", Tensor(DType::F64, {2, 3})},
                    {"b", Tensor(DType::F64, {3})},
                    {"c", Tensor(DType::F64, {})}},
                   &gv);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].toDoubles(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(d[1].toDoubles(), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(d[2].toDoubles(), (std::vector<double>{21}));
  EXPECT_EQ(gv[1].type(), b.type());
  EXPECT_EQ(gv[2].type(), c.type());
}

TEST(Differentiate, TieRules) {
  // reduce_max splits among tied maxima; maximum/minimum send ties to the first operand;
  // relu's gradient at 0 is 0.
  G t;
  Value x = t.in("x", {DType::F64, {4}});
  Value a = t.in("a", {DType::F64, {2}}), b = t.in("b", {DType::F64, {2}});
  Value m = t.op(Op::ReduceMax, "m", {x});
  Value mx = t.op(Op::ReduceSum, "mx", {t.op(Op::Maximum, "max", {a, b})});
  Value mn = t.op(Op::ReduceSum, "mn", {t.op(Op::Minimum, "min", {a, b})});
  Value rl = t.op(Op::ReduceSum, "rl", {t.op(Op::Relu, "relu", {x})});
  Value loss = t.op(Op::Add, "l3", {t.op(Op::Add, "l1", {m, t.op(Op::Mul, "l2", {mx, mn})}), rl});
  t.g.addOutput(loss);
  // d/dx = max split + relu mask; d/da = mn * [a>=b] + mx * [a<=b].
  auto d =
      t.grads(loss, {x, a, b},
              {{"x", f64s({4}, {1, 3, 3, 0})}, {"a", f64s({2}, {2, 1})}, {"b", f64s({2}, {2, 5})}});
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].toDoubles(), (std::vector<double>{1, 1.5, 1.5, 0}));
  // max = [2,5] (mx = 7), min = [2,1] (mn = 3). Tie at 0 goes to a in both.
  EXPECT_EQ(d[1].toDoubles(), (std::vector<double>{3 + 7, 7}));
  EXPECT_EQ(d[2].toDoubles(), (std::vector<double>{0, 3}));
}

TEST(Differentiate, CastBetweenFloatsCastsBack) {
  G t;
  Value x = t.in("x", {DType::F32, {2}});
  Value y = t.op(Op::Cast, "y", {x}, {{"dtype", DType::F64}});
  Value loss = t.sum(t.op(Op::Square, "sq", {y}));
  std::vector<Value> gv;
  auto d = t.grads(loss, {x}, {{"x", Tensor::fromF32({2}, std::vector<float>{1.5f, -2})}}, &gv);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(gv[0].node->op(), Op::Cast);
  EXPECT_EQ(gv[0].type(), x.type());
  EXPECT_EQ(d[0].toDoubles(), (std::vector<double>{3, -4}));
}

TEST(Differentiate, IntermediateWrtAndTheLossItself) {
  // wrt an intermediate h = exp(x) and x together: dh = 2h, dx = dh * h; wrt the loss is 1.
  G t;
  Value x = t.in("x", {DType::F64, {1}});
  Value h = t.op(Op::Exp, "h", {x});
  Value loss = t.sum(t.op(Op::Square, "sq", {h}));
  auto d = t.grads(loss, {h, x, loss}, {{"x", f64s({1}, {0.5})}});
  ASSERT_EQ(d.size(), 3u);
  double e = std::exp(0.5);
  EXPECT_DOUBLE_EQ(d[0].at(0), 2 * e);
  EXPECT_DOUBLE_EQ(d[1].at(0), 2 * e * e);
  EXPECT_EQ(d[2].at(0), 1);
}

TEST(Differentiate, NewNodesAreNamedAndLocatedAfterTheirForwardNode) {
  G t;
  Value x = t.in("x", kVec3);
  Loc loc{"model.json", 14, 9, "$.nodes[2]"};
  Value s = (*t.g.addNode(Op::Sigmoid, "act", {x}, {}, loc))->result();
  Value loss = t.sum(s);
  size_t before = t.g.nodes().size();
  auto gs = differentiate(t.g, loss, {x});
  ASSERT_TRUE(gs.ok()) << gs.message();
  bool sawAct = false;
  for (size_t i = before; i < t.g.nodes().size(); ++i) {
    const Node &n = *t.g.nodes()[i];
    EXPECT_EQ(n.name().rfind("grad/", 0), 0u) << n.name();
    if (n.name().rfind("grad/act/", 0) == 0) {
      sawAct = true;
      EXPECT_EQ(n.loc(), loc) << n.name();
    }
  }
  EXPECT_TRUE(sawAct);
  // Differentiating twice adds a second, uniquely named set of nodes.
  auto again = differentiate(t.g, loss, {x});
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_NE((*again)[0].node, (*gs)[0].node);
  Status v = verify(t.g);
  EXPECT_TRUE(v.isOk()) << v.message();
}

TEST(Differentiate, RejectsANonScalarOrIntegerLoss) {
  G t;
  Value x = t.in("x", kVec3);
  Loc loc{"m.json", 3, 5, ""};
  Value e = (*t.g.addNode(Op::Exp, "e", {x}, {}, loc))->result();
  auto r = differentiate(t.g, e, {x});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("m.json:3:5"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("the loss must be a float scalar, got f64[3]"), std::string::npos)
      << r.message();
  Value k = t.in("k", {DType::I32, {}});
  auto ri = differentiate(t.g, k, {x});
  ASSERT_FALSE(ri.ok());
  EXPECT_NE(ri.message().find("got i32[]"), std::string::npos) << ri.message();
}

TEST(Differentiate, RejectsLayersInTheCone) {
  G t;
  Value x = t.in("x", {DType::F64, {2, 3}}), w = t.in("w", {DType::F64, {3, 4}});
  Value d = t.op(Op::Dense, "fc", {x, w});
  auto r = differentiate(t.g, t.sum(d), {w});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("dense 'fc'"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("decomposeLayers"), std::string::npos) << r.message();
}

} // namespace
} // namespace kiln::test
