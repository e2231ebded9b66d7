// Losses and metrics through decomposition and the interpreter, every reduction, by hand.
#include "tests/builder/RunUtil.h"

#include <cmath>
#include <functional>

namespace kiln::builder {
namespace {

using namespace testing;

using LossFn = std::function<Tensor(const Tensor &, const Tensor &, const std::string &)>;

/// Runs loss(a, b) with reductions none, sum and mean; returns the three results.
std::vector<kiln::Tensor> runReductions(const LossFn &loss, kiln::Tensor a, kiln::Tensor b) {
  GraphBuilder g("loss");
  Tensor ta = g.input("a", a.dtype(), a.shape());
  Tensor tb = g.input("b", b.dtype(), b.shape());
  std::vector<Tensor> outs;
  for (const char *r : {"none", "sum", "mean"})
    outs.push_back(loss(ta, tb, r).named(std::string("loss_") + r));
  return runGraph(g, outs, {{"a", std::move(a)}, {"b", std::move(b)}});
}

/// Checks none == perRow (shape [B]), sum and mean (scalars).
void expectReductions(const std::vector<kiln::Tensor> &out, const std::vector<double> &perRow,
                      double tol = 1e-12) {
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].shape(), (Shape{int64_t(perRow.size())}));
  expectNear(out[0], perRow, tol);
  double sum = 0;
  for (double v : perRow)
    sum += v;
  EXPECT_TRUE(out[1].shape().empty());
  EXPECT_TRUE(out[2].shape().empty());
  expectNear(out[1], {sum}, tol);
  expectNear(out[2], {sum / double(perRow.size())}, tol);
}

LossFn withReduction(Tensor (*fn)(const Tensor &, const Tensor &, LossOptions, SrcLoc)) {
  return [fn](const Tensor &a, const Tensor &b, const std::string &r) {
    return fn(a, b, {.reduction = r}, SrcLoc::current());
  };
}

// sq = [[0, 4], [4, 9]]: per-row means [2, 6.5].
TEST(Losses, MseRowsAreMeansOverTheOtherAxes) {
  auto out = runReductions(withReduction(mse), f64({2, 2}, {1, 2, 3, 4}), f64({2, 2}, {1, 0, 1, 1}));
  expectReductions(out, {2, 6.5});
  EXPECT_EQ(out[2].dtype(), DType::F64);
}

TEST(Losses, MseOnVectorsUsesEachElementAsARow) {
  auto out = runReductions(withReduction(mse), f32({3}, {1, 2, 3}), f32({3}, {0, 0, 0}));
  expectReductions(out, {1, 4, 9}, 1e-6);
  EXPECT_EQ(out[2].dtype(), DType::F32);
}

// p = 1 with t = 0 is clamped to 1 - 1e-7, giving -log(1e-7) rather than infinity.
TEST(Losses, BinaryCrossEntropyClamps) {
  auto out = runReductions(withReduction(binaryCrossEntropy), f64({3}, {0.8, 1.0, 0.25}),
                           f64({3}, {1, 0, 0.5}));
  double third = -(0.5 * std::log(0.25) + 0.5 * std::log(0.75));
  expectReductions(out, {-std::log(0.8), -std::log(1e-7), third}, 1e-9);
}

// Against the naive -t log s(x) - (1-t) log(1 - s(x)) where that is finite; x = 100, t = 0 would
// be log(0) naively and must come out as 100.
TEST(Losses, SigmoidCrossEntropyIsStable) {
  auto naive = [](double x, double t) {
    double s = 1 / (1 + std::exp(-x));
    return -t * std::log(s) - (1 - t) * std::log(1 - s);
  };
  auto out = runReductions(withReduction(sigmoidCrossEntropy), f64({2, 2}, {2, -3, 100, 0.5}),
                           f64({2, 2}, {1, 0, 0, 0.25}));
  double row0 = (naive(2, 1) + naive(-3, 0)) / 2;
  double row1 = (100 + naive(0.5, 0.25)) / 2;
  expectReductions(out, {row0, row1}, 1e-9);
}

// logits [[1, 2, 3], [0, 2, 0]]; row 1 with L = log(2 + e^2).
TEST(Losses, SoftmaxCrossEntropySparseAndDense) {
  double row0 = -(3 - std::log(std::exp(1) + std::exp(2) + std::exp(3)));
  double lse1 = std::log(2 + std::exp(2));
  kiln::Tensor logits = f64({2, 3}, {1, 2, 3, 0, 2, 0});
  int32_t li32[] = {2, 1};
  auto sparse = runReductions(withReduction(softmaxCrossEntropy), logits,
                              kiln::Tensor::fromI32({2}, li32));
  expectReductions(sparse, {row0, lse1 - 2});
  int64_t li64[] = {2, 0};
  auto sparse64 = runReductions(withReduction(softmaxCrossEntropy), logits,
                                kiln::Tensor::fromI64({2}, li64));
  expectReductions(sparse64, {row0, lse1});
  auto dense = runReductions(withReduction(softmaxCrossEntropy), logits,
                             f64({2, 3}, {0, 0, 1, 0.25, 0.75, 0}));
  expectReductions(dense, {row0, lse1 - 1.5});
}

TEST(Losses, SoftmaxCrossEntropyF32LargeLogits) {
  int32_t labels[] = {0};
  auto out = runReductions(withReduction(softmaxCrossEntropy), f32({1, 2}, {1000, 0}),
                           kiln::Tensor::fromI32({1}, labels));
  expectReductions(out, {0}, 1e-6);
}

// argmax of [[1, 2], [5, 0], [3, 3]] is [1, 0, 0] (ties pick the first).
TEST(Metrics, AccuracyWithI32AndI64Labels) {
  kiln::Tensor logits = f64({3, 2}, {1, 2, 5, 0, 3, 3});
  int32_t l32[] = {1, 1, 0};
  expectReductions(runReductions(withReduction(accuracy), logits, kiln::Tensor::fromI32({3}, l32)),
                   {1, 0, 1});
  int64_t l64[] = {0, 0, 1};
  expectReductions(runReductions(withReduction(accuracy), logits, kiln::Tensor::fromI64({3}, l64)),
                   {0, 1, 0});
}

// p = [[0.9, 0.2], [0.6, 0.4]], t = [[1, 0], [0, 0]]: hits [[1, 1], [0, 1]].
TEST(Metrics, BinaryAccuracyWithThresholds) {
  kiln::Tensor p = f32({2, 2}, {0.9f, 0.2f, 0.6f, 0.4f});
  kiln::Tensor t = f32({2, 2}, {1, 0, 0, 0});
  auto at = [](double threshold) {
    return [threshold](const Tensor &a, const Tensor &b, const std::string &r) {
      return binaryAccuracy(a, b, {.reduction = r, .threshold = threshold});
    };
  };
  expectReductions(runReductions(at(0.5), p, t), {1, 0.5});
  expectReductions(runReductions(at(0.65), p, t), {1, 1});
}

TEST(Losses, ShapeMismatchIsAnError) {
  GraphBuilder g("bad");
  Tensor a = g.input("a", DType::F32, {4, 2});
  Tensor b = g.input("b", DType::F32, {4, 3});
  EXPECT_FALSE(mse(a, b).valid());
  EXPECT_FALSE(g.finish().ok());
}

} // namespace
} // namespace kiln::builder
