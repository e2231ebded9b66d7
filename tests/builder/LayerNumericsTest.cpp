// Layers through decomposition and the interpreter, against values worked out by hand.
#include "tests/builder/RunUtil.h"

#include "compiler/ir/Decompose.h"

#include <cmath>

namespace kiln::builder {
namespace {

using namespace testing;

double sigm(double x) { return 1 / (1 + std::exp(-x)); }

// x = [1, -2], w = [[2, 1], [1, 1]], b = [0.5, 0.25]: x @ w + b = [0.5, -0.75].
struct DenseCase {
  const char *activation;
  std::vector<double> expected;
};

class DenseActivation : public ::testing::TestWithParam<DenseCase> {};

TEST_P(DenseActivation, MatchesTheFormula) {
  GraphBuilder g("dense");
  Tensor x = g.input("x", DType::F64, {1, 2});
  Tensor w = g.input("w", DType::F64, {2, 2});
  Tensor b = g.input("b", DType::F64, {2});
  Tensor y = dense(x, w, b, {.activation = GetParam().activation}).named("y");
  auto out = runGraph(g, {y}, {{"x", f64({1, 2}, {1, -2})},
                               {"w", f64({2, 2}, {2, 1, 1, 1})},
                               {"b", f64({2}, {0.5, 0.25})}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{1, 2}));
  expectNear(out[0], GetParam().expected);
}

double geluExact(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
double sm0 = std::exp(0.5) / (std::exp(0.5) + std::exp(-0.75));

INSTANTIATE_TEST_SUITE_P(
    Builder, DenseActivation,
    ::testing::Values(DenseCase{"none", {0.5, -0.75}}, DenseCase{"relu", {0.5, 0}},
                      DenseCase{"sigmoid", {sigm(0.5), sigm(-0.75)}},
                      DenseCase{"tanh", {std::tanh(0.5), std::tanh(-0.75)}},
                      DenseCase{"softmax", {sm0, 1 - sm0}},
                      DenseCase{"leaky_relu", {0.5, -0.15}},
                      DenseCase{"gelu", {geluExact(0.5), geluExact(-0.75)}}),
    [](const auto &info) { return std::string(info.param.activation); });

TEST(Layers, DenseFoldsLeadingDimsAndWorksWithoutBias) {
  GraphBuilder g("dense3");
  Tensor x = g.input("x", DType::F32, {2, 1, 2});
  Tensor w = g.input("w", DType::F32, {2, 2});
  Tensor y = dense(x, w).named("y");
  auto out = runGraph(g, {y}, {{"x", f32({2, 1, 2}, {1, -2, 0, 1})}, {"w", f32({2, 2}, {2, 1, 1, 1})}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dtype(), DType::F32);
  EXPECT_EQ(out[0].shape(), (Shape{2, 1, 2}));
  expectNear(out[0], {0, -1, 1, 1}, 1e-6);
}

// x = [1, 2] over two steps, W = 0.5, R = -1, b = 0.1:
// h1 = act(0.5 + 0.1), h2 = act(1.0 - h1 + 0.1).
TEST(Layers, SimpleRnnTwoSteps) {
  for (bool sequences : {false, true}) {
    for (std::string act : {"tanh", "relu"}) {
      GraphBuilder g("rnn");
      Tensor x = g.input("x", DType::F64, {1, 2, 1});
      Tensor k = g.input("k", DType::F64, {1, 1});
      Tensor r = g.input("r", DType::F64, {1, 1});
      Tensor b = g.input("b", DType::F64, {1});
      Tensor h = simpleRnn(x, k, r, b, {.activation = act, .returnSequences = sequences}).named("h");
      auto out = runGraph(g, {h}, {{"x", f64({1, 2, 1}, {1, 2})}, {"k", f64({1, 1}, {0.5})},
                                   {"r", f64({1, 1}, {-1})}, {"b", f64({1}, {0.1})}});
      ASSERT_EQ(out.size(), 1u);
      double h1 = act == "tanh" ? std::tanh(0.6) : 0.6;
      double h2 = act == "tanh" ? std::tanh(1.1 - h1) : 0.5;
      if (sequences) {
        EXPECT_EQ(out[0].shape(), (Shape{1, 2, 1}));
        expectNear(out[0], {h1, h2});
      } else {
        EXPECT_EQ(out[0].shape(), (Shape{1, 1}));
        expectNear(out[0], {h2});
      }
    }
  }
}

// U = 1, gates i, f, g, o from kernel [wi, wf, wg, wo], recurrent [ri, rf, rg, ro] and bias.
TEST(Layers, LstmTwoStepsMatchesTheGateFormulas) {
  const double k[4] = {0.5, -0.5, 1.0, 0.25}, r[4] = {0.1, 0.2, -0.3, 0.4},
               b[4] = {0, 1, 0, -0.1}, xs[2] = {1, -1};
  double h = 0, c = 0, hs[2];
  for (int t = 0; t < 2; ++t) {
    auto z = [&](int gate) { return xs[t] * k[gate] + h * r[gate] + b[gate]; };
    double i = sigm(z(0)), f = sigm(z(1)), gg = std::tanh(z(2)), o = sigm(z(3));
    c = f * c + i * gg;
    h = o * std::tanh(c);
    hs[t] = h;
  }
  for (bool sequences : {false, true}) {
    GraphBuilder g("lstm");
    Tensor x = g.input("x", DType::F64, {1, 2, 1});
    Tensor kt = g.input("k", DType::F64, {1, 4});
    Tensor rt = g.input("r", DType::F64, {1, 4});
    Tensor bt = g.input("b", DType::F64, {4});
    Tensor y = lstm(x, kt, rt, bt, {.returnSequences = sequences}).named("y");
    auto out = runGraph(g, {y}, {{"x", f64({1, 2, 1}, {xs[0], xs[1]})},
                                 {"k", f64({1, 4}, {k[0], k[1], k[2], k[3]})},
                                 {"r", f64({1, 4}, {r[0], r[1], r[2], r[3]})},
                                 {"b", f64({4}, {b[0], b[1], b[2], b[3]})}});
    ASSERT_EQ(out.size(), 1u);
    if (sequences)
      expectNear(out[0], {hs[0], hs[1]});
    else
      expectNear(out[0], {hs[1]});
  }
}

// B = 2, I = 1, U = 2: each gate is a 2-column block of the [B, 8] pre-activation, so a slip in
// the gate order or block width shows. Reference: the gate formulas, loop by loop.
TEST(Layers, LstmGateBlocksWithTwoUnits) {
  const int B = 2, T = 3, U = 2;
  std::vector<double> k(4 * U), r(U * 4 * U), b(4 * U), x(B * T);
  for (size_t i = 0; i < k.size(); ++i)
    k[i] = 0.1 * double(i) - 0.3;
  for (size_t i = 0; i < r.size(); ++i)
    r[i] = 0.05 * double(i % 7) - 0.15;
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = i / U == 1 ? 1.0 : 0.01 * double(i);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = double(i) - 2.5;
  std::vector<double> expected;
  for (int n = 0; n < B; ++n) {
    double h[U] = {0, 0}, c[U] = {0, 0};
    for (int t = 0; t < T; ++t) {
      double z[4 * U];
      for (int j = 0; j < 4 * U; ++j) {
        z[j] = x[n * T + t] * k[j] + b[j];
        for (int u = 0; u < U; ++u)
          z[j] += h[u] * r[u * 4 * U + j];
      }
      for (int u = 0; u < U; ++u) {
        double i = sigm(z[u]), f = sigm(z[U + u]), g = std::tanh(z[2 * U + u]), o = sigm(z[3 * U + u]);
        c[u] = f * c[u] + i * g;
        h[u] = o * std::tanh(c[u]);
      }
    }
    expected.insert(expected.end(), h, h + U);
  }
  GraphBuilder g("lstm2");
  Tensor xt = g.input("x", DType::F64, {B, T, 1});
  Tensor kt = g.input("k", DType::F64, {1, 4 * U});
  Tensor rt = g.input("r", DType::F64, {U, 4 * U});
  Tensor bt = g.input("b", DType::F64, {4 * U});
  Tensor y = lstm(xt, kt, rt, bt).named("y");
  auto out = runGraph(g, {y}, {{"x", f64({B, T, 1}, x)}, {"k", f64({1, 4 * U}, k)},
                               {"r", f64({U, 4 * U}, r)}, {"b", f64({4 * U}, b)}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{B, U}));
  expectNear(out[0], expected);
}

// heads = 2, D = 2 (dh = 1, scale 1), identity projections, q = k = v = x = [[1, 2], [3, -1]].
// Head h attends with column h: out[i][h] = sum_j e^{x_ih x_jh} x_jh / sum_j e^{x_ih x_jh}.
double wavg(double s0, double s1, double v0, double v1) {
  return (std::exp(s0) * v0 + std::exp(s1) * v1) / (std::exp(s0) + std::exp(s1));
}

std::vector<kiln::Tensor> runAttention(bool causal, bool biases) {
  GraphBuilder g("mha");
  Tensor x = g.input("x", DType::F64, {1, 2, 2});
  Tensor eye = g.constant("eye", f64({2, 2}, {1, 0, 0, 1}));
  AttentionWeights w{.wq = eye, .wk = eye, .wv = eye, .wo = eye};
  if (biases) {
    w.bq = g.constant("bq", f64({2}, {0, 0}));
    w.bk = g.constant("bk", f64({2}, {0, 0}));
    w.bv = g.constant("bv", f64({2}, {1, 1}));
    w.bo = g.constant("bo", f64({2}, {1, -1}));
  }
  Tensor y = multiHeadAttention(x, x, x, w, {.heads = 2, .causal = causal}).named("y");
  return runGraph(g, {y}, {{"x", f64({1, 2, 2}, {1, 2, 3, -1})}});
}

TEST(Layers, MultiHeadAttention) {
  double h0r0 = wavg(1, 3, 1, 3), h0r1 = wavg(3, 9, 1, 3);
  double h1r0 = wavg(4, -2, 2, -1), h1r1 = wavg(-2, 1, 2, -1);
  auto plain = runAttention(false, false);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].shape(), (Shape{1, 2, 2}));
  expectNear(plain[0], {h0r0, h1r0, h0r1, h1r1});
  // Causal: position 0 sees only itself.
  auto causal = runAttention(true, false);
  ASSERT_EQ(causal.size(), 1u);
  expectNear(causal[0], {1, 2, h0r1, h1r1});
  // bv = 1 shifts every value (and so every average) by 1; bo adds [1, -1].
  auto biased = runAttention(true, true);
  ASSERT_EQ(biased.size(), 1u);
  expectNear(biased[0], {1 + 2, 2 + 0, h0r1 + 2, h1r1 + 0});
}

TEST(Layers, DecomposedResultKeepsTheLayerName) {
  GraphBuilder g("names");
  Tensor x = g.input("x", DType::F32, {2, 3, 4});
  Tensor k = g.param("k", {4, 8}, init::glorotUniform());
  Tensor r = g.param("r", {2, 8}, init::glorotUniform());
  Tensor b = g.param("b", {8});
  Tensor h = lstm(x, k, r, b).named("h");
  Tensor y = relu(h).named("y");
  g.output(h);
  g.output(y);
  auto graph = g.finish();
  ASSERT_TRUE(graph.ok()) << graph.message();
  ASSERT_TRUE(decomposeLayers(*graph).isOk());
  Node *hn = graph->find("h");
  ASSERT_NE(hn, nullptr);
  EXPECT_EQ(hn->op(), Op::Mul); // h_T = o * tanh(c_T)
  EXPECT_EQ(hn->type(), (TensorType{DType::F32, {2, 2}}));
  EXPECT_EQ(graph->outputs()[0].node, hn);
  EXPECT_EQ(graph->find("y")->operand(0).node, hn);
  EXPECT_NE(graph->find("h/t2/i"), nullptr);
  for (auto &n : graph->nodes())
    EXPECT_FALSE(n->info().has(kLayer)) << n->name();
}

} // namespace
} // namespace kiln::builder
