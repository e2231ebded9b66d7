// Initializers: Keras fans, limits and stddevs, determinism, seed use, dtypes and errors.
#include "InterpTestUtil.h"

#include "compiler/ir/Init.h"
#include "kiln/runtime/Random.h"

#include <cmath>

using namespace kiln;
using namespace kiln::test;

namespace {
Node *addParam(Graph &g, const std::string &name, DType dt, Shape shape, Initializer init,
               bool trainable = true) {
  auto p = g.addParam(name, TensorType{dt, std::move(shape)}, std::move(init), trainable);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.message());
  return p.ok() ? *p : nullptr;
}

Initializer initOf(InitKind kind) {
  Initializer i;
  i.kind = kind;
  return i;
}

Tensor initOk(const Node &p, uint64_t seed) {
  auto t = initialParamValue(p, seed);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.message());
  return t.ok() ? t.take() : Tensor();
}

double maxAbs(const Tensor &t) {
  double m = 0;
  for (int64_t i = 0; i < t.numElements(); ++i)
    m = std::max(m, std::fabs(t.at(i)));
  return m;
}

double stddev(const Tensor &t) {
  double s = 0, s2 = 0;
  for (int64_t i = 0; i < t.numElements(); ++i) {
    s += t.at(i);
    s2 += t.at(i) * t.at(i);
  }
  double n = double(t.numElements()), mean = s / n;
  return std::sqrt(s2 / n - mean * mean);
}
} // namespace

TEST(Init, KerasFans) {
  EXPECT_EQ(computeFans({}), (std::pair<int64_t, int64_t>{1, 1}));
  EXPECT_EQ(computeFans({7}), (std::pair<int64_t, int64_t>{7, 7}));
  EXPECT_EQ(computeFans({784, 128}), (std::pair<int64_t, int64_t>{784, 128}));
  // HWIO [3,3,16,32]: receptive 9, fan_in 144, fan_out 288.
  EXPECT_EQ(computeFans({3, 3, 16, 32}), (std::pair<int64_t, int64_t>{144, 288}));
}

TEST(Init, ConstantKindsInEveryDType) {
  Graph g;
  Initializer c = initOf(InitKind::Constant);
  c.value = 2.5;
  Initializer v = initOf(InitKind::Value);
  v.data = {1, -2, 3, 4};
  expectTensor(initOk(*addParam(g, "z", DType::F64, {2}, initOf(InitKind::Zeros)), 0), DType::F64,
               {2}, {0, 0});
  expectTensor(initOk(*addParam(g, "o", DType::F32, {2}, initOf(InitKind::Ones)), 0), DType::F32,
               {2}, {1, 1});
  expectTensor(initOk(*addParam(g, "c", DType::F32, {3}, c), 0), DType::F32, {3}, {2.5, 2.5, 2.5});
  expectTensor(initOk(*addParam(g, "v", DType::F64, {2, 2}, v), 0), DType::F64, {2, 2},
               {1, -2, 3, 4});
  expectTensor(initOk(*addParam(g, "step", DType::I64, {}, initOf(InitKind::Ones), false), 0),
               DType::I64, {}, {1});
  expectTensor(initOk(*addParam(g, "iv", DType::I32, {2, 2}, v, false), 0), DType::I32, {2, 2},
               {1, -2, 3, 4});
}

TEST(Init, RandomInitOnIntParamIsAnErrorNamingIt) {
  Graph g;
  Node *p = addParam(g, "counts", DType::I32, {4}, initOf(InitKind::GlorotUniform), false);
  auto t = initialParamValue(*p, 0);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.message().find("param 'counts'"), std::string::npos) << t.message();
  EXPECT_NE(t.message().find("glorot_uniform"), std::string::npos) << t.message();
}

TEST(Init, WeightsFileValueWins) {
  Graph g;
  Node *p = addParam(g, "w", DType::F32, {2}, initOf(InitKind::GlorotUniform));
  p->setValue(std::make_shared<const Tensor>(tensorOf(DType::F32, {2}, {7, 8})));
  expectTensor(initOk(*p, 0), DType::F32, {2}, {7, 8});
}

TEST(Init, GlorotAndHeUniformLimits) {
  Graph g;
  for (DType dt : kFloatTypes) {
    std::string s(dtypeName(dt));
    // [200, 300]: glorot limit sqrt(6/500), he limit sqrt(6/200).
    Tensor gu = initOk(*addParam(g, "gu" + s, dt, {200, 300}, initOf(InitKind::GlorotUniform)), 1);
    Tensor hu = initOk(*addParam(g, "hu" + s, dt, {200, 300}, initOf(InitKind::HeUniform)), 1);
    double gl = std::sqrt(6.0 / 500), hl = std::sqrt(6.0 / 200);
    EXPECT_LE(maxAbs(gu), gl);
    EXPECT_GT(maxAbs(gu), gl * 0.99); // 60000 draws come close to the limit
    EXPECT_LE(maxAbs(hu), hl);
    EXPECT_GT(maxAbs(hu), hl * 0.99);
    EXPECT_NEAR(stddev(gu), gl / std::sqrt(3.0), 0.01 * gl);
  }
}

TEST(Init, TruncatedNormals) {
  Graph g;
  for (DType dt : kFloatTypes) {
    std::string s(dtypeName(dt));
    // HWIO [3,3,20,40]: fan_in 180, fan_out 360.
    Tensor gn =
        initOk(*addParam(g, "gn" + s, dt, {3, 3, 20, 40}, initOf(InitKind::GlorotNormal)), 2);
    Tensor hn = initOk(*addParam(g, "hn" + s, dt, {3, 3, 20, 40}, initOf(InitKind::HeNormal)), 2);
    double gs = std::sqrt(2.0 / 540) / 0.87962566103423978,
           hs = std::sqrt(2.0 / 180) / 0.87962566103423978;
    EXPECT_LE(maxAbs(gn), 2 * gs * (1 + 1e-6)); // re-drawn beyond 2 stddev
    EXPECT_LE(maxAbs(hn), 2 * hs * (1 + 1e-6));
    // The correction makes the truncated draw's stddev the target sqrt(2/(fan_in+fan_out)).
    EXPECT_NEAR(stddev(gn), std::sqrt(2.0 / 540), 0.03 * std::sqrt(2.0 / 540));
    EXPECT_NEAR(stddev(hn), std::sqrt(2.0 / 180), 0.03 * std::sqrt(2.0 / 180));
  }
}

TEST(Init, UniformAndNormalParameters) {
  Graph g;
  Initializer u = initOf(InitKind::Uniform);
  u.low = 2;
  u.high = 4;
  Initializer n = initOf(InitKind::Normal);
  n.mean = -1;
  n.stddev = 0.1;
  Tensor tu = initOk(*addParam(g, "u", DType::F32, {5000}, u), 0);
  Tensor tn = initOk(*addParam(g, "n", DType::F64, {5000}, n), 0);
  double su = 0, sn = 0;
  for (int64_t i = 0; i < 5000; ++i) {
    ASSERT_TRUE(tu.at(i) >= 2 && tu.at(i) < 4);
    su += tu.at(i);
    sn += tn.at(i);
  }
  EXPECT_NEAR(su / 5000, 3, 0.03);
  EXPECT_NEAR(sn / 5000, -1, 0.01);
  EXPECT_NEAR(stddev(tn), 0.1, 0.005);
}

TEST(Init, DeterminismAndSeeds) {
  Graph g;
  Node *a = addParam(g, "a", DType::F32, {4, 4}, initOf(InitKind::GlorotUniform));
  Node *b = addParam(g, "b", DType::F32, {4, 4}, initOf(InitKind::GlorotUniform));
  Initializer seeded = initOf(InitKind::GlorotUniform);
  seeded.seed = 1234;
  Node *c = addParam(g, "c", DType::F32, {4, 4}, seeded);
  Node *d = addParam(g, "d64", DType::F64, {4, 4}, seeded);
  EXPECT_TRUE(initOk(*a, 7).identical(initOk(*a, 7)));
  EXPECT_FALSE(initOk(*a, 7).identical(initOk(*a, 8))) << "the graph seed matters";
  EXPECT_FALSE(initOk(*a, 7).identical(initOk(*b, 7))) << "the param name matters";
  EXPECT_TRUE(initOk(*c, 7).identical(initOk(*c, 8))) << "an explicit seed ignores the graph seed";
  EXPECT_EQ(initSeed(*c, 7), 1234u);
  EXPECT_EQ(initSeed(*a, 7), hashSeed(7, "a"));
  // The same seed draws the same numbers in f32 and f64 (up to rounding).
  Tensor cf = initOk(*c, 0), cd = initOk(*d, 0);
  for (int64_t i = 0; i < 16; ++i)
    EXPECT_EQ(float(cd.at(i)), float(cf.at(i)));
  // Element 0 of glorot_uniform is -limit + 2*limit*u with u from stream (seed, 0, 0).
  double limit = std::sqrt(6.0 / 8);
  EXPECT_DOUBLE_EQ(cd.at(0), -limit + 2 * limit * uniform01(1234, 0, 0));
}
