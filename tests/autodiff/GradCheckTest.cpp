// The numerical gradient check, generated from the op table: every op of Ops.def has a sample
// (GradCheckCases.cpp) or the test fails. Differentiable samples compare differentiate's
// gradient, run on the interpreter in f64, with central differences on every element of every
// float operand.
//
// Tolerance: err = |analytic - numeric| / max(1, |analytic|, |numeric|) < 1e-5. Central
// differences with eps = 1e-6 have truncation error ~eps^2 * f''' ~ 1e-12 and rounding error
// ~1e-16 * |loss| / eps ~ 1e-10 * |loss|; the latter scales with the loss, not with the
// gradient element, so small gradients are compared absolutely and large ones relatively.
// A wrong rule (a missed factor, sign or broadcast axis) gives errors of order 1e-1.
#include "GradCheckCases.h"

#include "compiler/autodiff/Differentiate.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Decompose.h"
#include "compiler/ir/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace kiln::test {
namespace {

constexpr double kEps = 1e-6;
constexpr double kTolerance = 1e-5;

Tensor randomTensor(const OperandSpec &spec, std::mt19937_64 &rng) {
  Tensor t(spec.type.dtype, spec.type.shape);
  std::uniform_real_distribution<double> uniform(spec.lo, spec.hi);
  std::bernoulli_distribution coin(0.5);
  for (int64_t i = 0; i < t.numElements(); ++i) {
    double v = uniform(rng);
    if (spec.type.dtype == DType::Bool)
      v = coin(rng) ? 1 : 0;
    else if (!isFloat(spec.type.dtype))
      v = std::floor(v);
    else if (spec.awayFromZero && coin(rng))
      v = -v;
    t.set(i, v);
  }
  return t;
}

/// A sample's graph: inputs x0.. (plus an unrelated input "z"), y = op(x...), and
/// loss = reduce_sum(y * R) with a fixed random R (y cast to f64 if it is not float), with
/// layers decomposed. The weights R make every output element count differently, so a
/// gradient routed to the wrong element cannot cancel out.
struct SampleGraph {
  Graph g{"gradcheck"};
  std::vector<Value> operands; ///< the inputs x0.., then z
  Value loss;
};

void buildSample(const GradSample &s, SampleGraph &out, std::mt19937_64 &rng) {
  Graph &g = out.g;
  g.setSeed(20240601);
  for (size_t i = 0; i < s.operands.size(); ++i)
    out.operands.push_back((*g.addInput("x" + std::to_string(i), s.operands[i].type))->result());
  out.operands.push_back((*g.addInput("z", TensorType{DType::F64, {2}}))->result());
  std::vector<Value> ins(out.operands.begin(), out.operands.end() - 1);
  auto y = g.addNode(s.op, "y", ins, s.attrs);
  ASSERT_TRUE(y.ok()) << y.message();
  Value v = (*y)->result();
  if (!isFloat(v.type().dtype))
    v = (*g.addNode(Op::Cast, "y_f64", {v}, {{"dtype", DType::F64}}))->result();
  Value r = (*g.addConstant("R", randomTensor({v.type(), -1, 1}, rng)))->result();
  Value weighted = (*g.addNode(Op::Mul, "weighted", {v, r}))->result();
  out.loss = (*g.addNode(Op::ReduceSum, "loss", {weighted}))->result();
  g.addOutput(out.loss);
  Status st = decomposeLayers(g);
  ASSERT_TRUE(st.isOk()) << st.message();
}

NamedTensors randomFeeds(const GradSample &s, std::mt19937_64 &rng) {
  NamedTensors feeds;
  for (size_t i = 0; i < s.operands.size(); ++i)
    feeds.emplace_back("x" + std::to_string(i), randomTensor(s.operands[i], rng));
  feeds.emplace_back("z", Tensor(DType::F64, {2}));
  return feeds;
}

const Tensor &named(const NamedTensors &ts, const std::string &name) {
  for (const auto &[n, t] : ts)
    if (n == name)
      return t;
  ADD_FAILURE() << "no tensor named " << name;
  static Tensor empty;
  return empty;
}

/// Asserts that `grad` is a constant of `type` holding zeros: what differentiate gives a value
/// that the loss does not depend on.
void expectZeroConstant(Value grad, const TensorType &type, const std::string &what) {
  ASSERT_TRUE(grad) << what;
  EXPECT_EQ(grad.type(), type) << what;
  ASSERT_TRUE(grad.node->isConstant()) << what << ": got " << opName(grad.node->op());
  ASSERT_TRUE(grad.node->value()) << what;
  for (double v : grad.node->value()->toDoubles())
    ASSERT_EQ(v, 0) << what;
}

class GradCheckSample : public ::testing::TestWithParam<size_t> {
protected:
  const GradSample &sample() const { return gradSamples()[GetParam()]; }
};

TEST_P(GradCheckSample, MatchesDefinition) {
  const GradSample &s = sample();
  std::mt19937_64 rng(12345);
  SampleGraph sg;
  ASSERT_NO_FATAL_FAILURE(buildSample(s, sg, rng));
  auto grads = differentiate(sg.g, sg.loss, sg.operands);
  ASSERT_TRUE(grads.ok()) << grads.message();
  ASSERT_EQ(grads->size(), sg.operands.size());
  Status verified = verify(sg.g);
  ASSERT_TRUE(verified.isOk()) << verified.message();

  // The unrelated input never gets more than a zero constant; neither do integer operands
  // nor any operand of a non-differentiable op.
  expectZeroConstant(grads->back(), sg.operands.back().type(), "z");
  for (size_t i = 0; i + 1 < sg.operands.size(); ++i) {
    EXPECT_EQ((*grads)[i].type(), sg.operands[i].type()) << "operand " << i;
    if (s.check == GradCheck::NotDifferentiable || !isFloat(sg.operands[i].type().dtype))
      expectZeroConstant((*grads)[i], sg.operands[i].type(), "operand " + std::to_string(i));
  }
  if (s.check == GradCheck::NotDifferentiable)
    return;

  auto interp = Interpreter::create(sg.g);
  ASSERT_TRUE(interp.ok()) << interp.message();
  NamedTensors feeds = randomFeeds(s, rng);
  std::vector<std::string> names;
  for (Value v : *grads)
    names.push_back(v.name());
  // Inference mode: dropout is the identity, whose gradient central differences can check
  // too; its training-mode mask is checked by DropoutMask below.
  auto analytic = interp->evaluate(feeds, names);
  ASSERT_TRUE(analytic.ok()) << analytic.message();

  auto lossAt = [&]() {
    auto r = interp->evaluate(feeds, {"loss"});
    EXPECT_TRUE(r.ok()) << r.message();
    return r.ok() ? (*r)[0].second.at(0) : NAN;
  };
  for (size_t i = 0; i < s.operands.size(); ++i) {
    if (!isFloat(s.operands[i].type.dtype))
      continue;
    const Tensor &a = named(*analytic, names[i]);
    ASSERT_EQ(a.shape(), s.operands[i].type.shape);
    Tensor &x = feeds[i].second;
    double worst = 0;
    int64_t worstAt = -1;
    double worstA = 0, worstN = 0;
    for (int64_t j = 0; j < x.numElements(); ++j) {
      double orig = x.at(j);
      x.set(j, orig + kEps);
      double plus = lossAt();
      x.set(j, orig - kEps);
      double minus = lossAt();
      x.set(j, orig);
      double numeric = (plus - minus) / (2 * kEps);
      double err =
          std::abs(a.at(j) - numeric) / std::max({1.0, std::abs(a.at(j)), std::abs(numeric)});
      if (!(err <= worst)) { // also catches NaN
        worst = err;
        worstAt = j;
        worstA = a.at(j);
        worstN = numeric;
      }
    }
    EXPECT_LT(worst, kTolerance) << "operand " << i << " element " << worstAt << ": analytic "
                                 << worstA << ", numeric " << worstN;
  }
}

// dx == dy * mask / (1 - rate), with the mask read off the forward output of the same run
// (the operand is never 0, so y == 0 exactly where an element was dropped). Two runs draw two
// masks: the backward must follow each.
void checkDropoutMask(const GradSample &s) {
  std::mt19937_64 rng(777);
  SampleGraph sg;
  ASSERT_NO_FATAL_FAILURE(buildSample(s, sg, rng));
  auto grads = differentiate(sg.g, sg.loss, {sg.operands[0]});
  ASSERT_TRUE(grads.ok()) << grads.message();
  std::string dxName = (*grads)[0].name();
  const Tensor &r = *sg.g.find("R")->value();
  double rate = std::get<double>(s.attrs.at("rate"));
  auto interp = Interpreter::create(sg.g);
  ASSERT_TRUE(interp.ok()) << interp.message();
  NamedTensors feeds = randomFeeds(s, rng);
  std::vector<double> firstMask;
  for (int run = 0; run < 2; ++run) {
    auto out = interp->evaluate(feeds, {"y", dxName}, /*training=*/true);
    ASSERT_TRUE(out.ok()) << out.message();
    const Tensor &y = named(*out, "y"), &dx = named(*out, dxName);
    int64_t kept = 0;
    std::vector<double> mask;
    for (int64_t j = 0; j < y.numElements(); ++j) {
      double m = y.at(j) != 0 ? 1 : 0;
      mask.push_back(m);
      kept += int64_t(m);
      double expected = r.at(j) * m / (1 - rate);
      EXPECT_NEAR(dx.at(j), expected, 1e-12 * std::max(1.0, std::abs(expected)))
          << "run " << run << " element " << j;
    }
    EXPECT_GT(kept, 0) << "run " << run;
    EXPECT_LT(kept, y.numElements()) << "run " << run;
    if (run == 0)
      firstMask = mask;
    else
      EXPECT_NE(mask, firstMask) << "each run draws a fresh mask";
  }
}

TEST(GradCheckDropout, ReplaysTheForwardMask) {
  int checked = 0;
  for (const GradSample &s : gradSamples()) {
    if (s.check != GradCheck::DropoutMask)
      continue;
    SCOPED_TRACE(sampleName(s));
    checkDropoutMask(s);
    ++checked;
  }
  EXPECT_GE(checked, 2) << "the table lost its dropout samples";
}

std::string paramName(const ::testing::TestParamInfo<size_t> &info) {
  std::string name = sampleName(gradSamples()[info.param]);
  for (char &c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllOps, GradCheckSample, ::testing::Range(size_t(0), gradSamples().size()),
                         paramName);

// The table is complete: adding an op to Ops.def without a sample fails here. An op marked
// kNoGrad may only have not-differentiable samples.
TEST(GradCheckTable, EveryOpHasASample) {
  for (Op op : allOps()) {
    // Fused nodes are made after differentiation (the fuse pass) and are never differentiated.
    if (opInfo(op).has(kSource) || op == Op::Fused)
      continue;
    bool any = false, numeric = false;
    for (const GradSample &s : gradSamples()) {
      if (s.op != op)
        continue;
      any = true;
      numeric |= s.check != GradCheck::NotDifferentiable;
    }
    EXPECT_TRUE(any) << "op '" << opName(op) << "' has no gradient-check sample";
    if (opInfo(op).has(kNoGrad)) {
      EXPECT_FALSE(numeric) << "op '" << opName(op) << "' is kNoGrad but has a checked sample";
    }
  }
}

} // namespace
} // namespace kiln::test
