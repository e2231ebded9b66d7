// Philox known answers, the uniform/normal transforms, and the random ops (dropout, random_*)
// through the Interpreter: statistics, reproducibility from the seed, fresh draws per run.
#include "InterpTestUtil.h"

#include "kiln/runtime/Random.h"

#include <cmath>

using namespace kiln;
using namespace kiln::test;

TEST(Philox, KnownAnswerVectors) {
  // Random123's kat_vectors for philox4x32 with 10 rounds.
  using W = std::array<uint32_t, 4>;
  EXPECT_EQ(philox4x32({0, 0, 0, 0}, {0, 0}), (W{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (W{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (W{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Philox, StreamsAndTransforms) {
  EXPECT_NE(hashSeed(0, "a"), hashSeed(0, "b"));
  EXPECT_NE(hashSeed(0, "a"), hashSeed(1, "a"));
  EXPECT_EQ(hashSeed(7, "w1"), hashSeed(7, "w1"));
  double sum = 0, sumSq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    double u = uniform01(42, 3, uint64_t(i));
    float uf = uniform01f(42, 3, uint64_t(i));
    ASSERT_TRUE(u >= 0 && u < 1);
    ASSERT_TRUE(uf >= 0 && uf < 1);
    double z = normal01(42, 3, uint64_t(i));
    ASSERT_TRUE(std::isfinite(z));
    sum += z;
    sumSq += z * z;
  }
  EXPECT_NEAR(sum / n, 0, 0.03);
  EXPECT_NEAR(sumSq / n, 1, 0.04);
  // Element i is independent of the others: same (seed, counter, index), same number.
  EXPECT_EQ(uniform01(1, 2, 5), uniform01(1, 2, 5));
  EXPECT_NE(uniform01(1, 2, 5), uniform01(1, 3, 5));
  EXPECT_NE(uniform01(1, 2, 5), uniform01(2, 2, 5));
}

namespace {
using Ints = std::vector<int64_t>;

Graph randomGraph(uint64_t seed, Op op, AttrMap attrs, int64_t n) {
  Graph g("r");
  g.setSeed(seed);
  std::vector<Value> operands;
  if (op == Op::Dropout)
    operands.push_back((*g.addInput("x", TensorType{DType::F32, {n}}))->result());
  auto node = g.addNode(op, "d", operands, std::move(attrs));
  EXPECT_TRUE(node.ok()) << (node.ok() ? "" : node.message());
  g.addOutput((*node)->result());
  return g;
}

Tensor evalD(Interpreter &interp, const NamedTensors &feeds, bool training) {
  auto r = interp.evaluate(feeds, {"d"}, training);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.message());
  return r.ok() ? (*r)[0].second : Tensor();
}
} // namespace

OP_TEST(Dropout, TrainingScalesKeptAndIsReproducible) {
  const int64_t n = 10000;
  Graph g = randomGraph(5, Op::Dropout, {{"rate", 0.25}}, n);
  NamedTensors feeds = {{"x", tensorOf(DType::F32, {n}, std::vector<double>(size_t(n), 3.0))}};
  auto a = Interpreter::create(g), b = Interpreter::create(g);
  ASSERT_TRUE(a.ok() && b.ok());
  // Inference: identity.
  auto inf = a->run(feeds);
  ASSERT_TRUE(inf.ok()) << inf.message();
  EXPECT_TRUE((*inf)[0].second.identical(feeds[0].second));

  Interpreter other = b.take();
  auto warm = other.run(feeds); // align run counters: both interpreters are now at run 1
  ASSERT_TRUE(warm.ok());
  Tensor t1 = evalD(*a, feeds, true);
  Tensor t1b = evalD(other, feeds, true);
  EXPECT_TRUE(t1.identical(t1b)) << "same graph seed, same run counter: same mask";
  int64_t dropped = 0;
  for (int64_t i = 0; i < n; ++i) {
    double v = t1.at(i);
    ASSERT_TRUE(v == 0 || v == 4.0) << "kept elements are scaled by 1/(1-rate): " << v;
    dropped += v == 0;
  }
  EXPECT_NEAR(double(dropped) / double(n), 0.25, 0.02);
  Tensor t2 = evalD(*a, feeds, true);
  EXPECT_FALSE(t1.identical(t2)) << "every run draws anew";
  EXPECT_EQ(a->runCount(), 3u);

  // Another graph seed gives another mask; an explicit seed attr ignores the graph seed.
  auto c = Interpreter::create(randomGraph(6, Op::Dropout, {{"rate", 0.25}}, n));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->run(feeds).ok());
  EXPECT_FALSE(evalD(*c, feeds, true).identical(t1));
  auto s1 =
      Interpreter::create(randomGraph(1, Op::Dropout, {{"rate", 0.5}, {"seed", int64_t(9)}}, n));
  auto s2 =
      Interpreter::create(randomGraph(2, Op::Dropout, {{"rate", 0.5}, {"seed", int64_t(9)}}, n));
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_TRUE(evalD(*s1, feeds, true).identical(evalD(*s2, feeds, true)));
}

OP_TEST(Dropout, EvalOpInferenceIdentityInBothFloats) {
  for (DType dt : kFloatTypes) {
    Tensor x = tensorOf(dt, {3}, {1, -2, 3});
    expectTensor(evalOk(Op::Dropout, {x}, {{"rate", 0.9}}), dt, {3}, {1, -2, 3});
    Tensor t = evalOk(Op::Dropout, {x}, {{"rate", 0.5}}, EvalContext{true, 1, 0});
    for (int64_t i = 0; i < 3; ++i)
      EXPECT_TRUE(t.at(i) == 0 || t.at(i) == 2 * x.at(i));
  }
}

OP_TEST(RandomUniform, StatisticsAndReproducibility) {
  const int64_t n = 20000;
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    AttrMap attrs = {{"shape", Ints{n}}, {"dtype", dt}, {"low", -1.0}, {"high", 3.0}};
    Graph g = randomGraph(11, Op::RandomUniform, attrs, n);
    auto a = Interpreter::create(g), b = Interpreter::create(g);
    ASSERT_TRUE(a.ok() && b.ok());
    Tensor t = evalD(*a, {}, false);
    ASSERT_EQ(t.dtype(), dt);
    EXPECT_TRUE(t.identical(evalD(*b, {}, false)));
    EXPECT_FALSE(t.identical(evalD(*a, {}, false)));
    double sum = 0, sumSq = 0;
    for (int64_t i = 0; i < n; ++i) {
      double v = t.at(i);
      ASSERT_TRUE(v >= -1 && v < 3) << v;
      sum += v;
      sumSq += v * v;
    }
    double mean = sum / double(n);
    EXPECT_NEAR(mean, 1.0, 0.04);
    EXPECT_NEAR(sumSq / double(n) - mean * mean, 16.0 / 12.0, 0.05);
  }
}

OP_TEST(RandomNormal, StatisticsAndReproducibility) {
  const int64_t n = 20000;
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    AttrMap attrs = {{"shape", Ints{100, 200}}, {"dtype", dt}, {"mean", 2.0}, {"stddev", 0.5}};
    Graph g = randomGraph(3, Op::RandomNormal, attrs, n);
    auto a = Interpreter::create(g), b = Interpreter::create(g);
    ASSERT_TRUE(a.ok() && b.ok());
    Tensor t = evalD(*a, {}, false);
    ASSERT_EQ(shapeToString(t.shape()), "[100,200]");
    EXPECT_TRUE(t.identical(evalD(*b, {}, false)));
    EXPECT_FALSE(t.identical(evalD(*a, {}, false)));
    double sum = 0, sumSq = 0;
    for (int64_t i = 0; i < n; ++i) {
      sum += t.at(i);
      sumSq += t.at(i) * t.at(i);
    }
    double mean = sum / double(n);
    EXPECT_NEAR(mean, 2.0, 0.02);
    EXPECT_NEAR(std::sqrt(sumSq / double(n) - mean * mean), 0.5, 0.02);
  }
}
