// Differential tests of the LLVM backend: compile() against the reference interpreter on every op
// sample of the gradient-check table (f32 and f64) and on every samples/*.json (inference and 20
// train steps).
//
// Tolerances, as err = |llvm - interp| / max(1, |llvm|, |interp|):
//   single ops:  f32 1e-5, f64 1e-10 (vectorised transcendental functions and reassociated sums
//                differ from the interpreter's libm calls and sequential sums by a few ulps);
//   samples:     f32 1e-4 (whole models: matmul/conv blocking reorders long sums, and 20 train
//                steps let rounding differences grow through the updates).
// Integer and bool results must match exactly (the formula gives 0 only for equal integers).
#include "../autodiff/GradCheckCases.h"

#include "compiler/autodiff/TrainGraph.h"
#include "compiler/codegen/Compile.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Decompose.h"
#include "frontend/json/JsonImporter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <sstream>

namespace kiln::test {
namespace {

constexpr double kOpTolF32 = 1e-5;
constexpr double kOpTolF64 = 1e-10;
constexpr double kSampleTol = 1e-4;

/// The first element where `a` and `b` differ by more than `tol` (see the header), or "".
std::string compareTensors(const Tensor &a, const Tensor &b, double tol) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape())
    return "type " + std::string(dtypeName(a.dtype())) + shapeToString(a.shape()) + " vs " +
           std::string(dtypeName(b.dtype())) + shapeToString(b.shape());
  for (int64_t i = 0; i < a.numElements(); ++i) {
    double x = a.at(i), y = b.at(i);
    if (std::isnan(x) && std::isnan(y))
      continue;
    double err = std::fabs(x - y) / std::max({1.0, std::fabs(x), std::fabs(y)});
    if (!(err <= (isFloat(a.dtype()) ? tol : 0.0))) {
      std::ostringstream os;
      os.precision(17);
      os << "element " << i << ": llvm " << x << ", interp " << y << " (err " << err << ")";
      return os.str();
    }
  }
  return "";
}

Tensor randomTensor(const OperandSpec &spec, DType dtype, std::mt19937_64 &rng) {
  Tensor t(dtype, spec.type.shape);
  std::uniform_real_distribution<double> uniform(spec.lo, spec.hi);
  std::bernoulli_distribution coin(0.5);
  for (int64_t i = 0; i < t.numElements(); ++i) {
    double v = uniform(rng);
    if (dtype == DType::Bool)
      v = coin(rng) ? 1 : 0;
    else if (!isFloat(dtype))
      v = std::floor(v);
    else if (spec.awayFromZero && coin(rng))
      v = -v;
    t.set(i, v);
  }
  return t;
}

/// Random ops in training mode (dropout active), where predict cannot see them: a step program
/// over loss = reduce_sum(y * s) with a scalar param s (ones), run three times so the run
/// counter changes the draws. Compares the losses and the updated s. Empty if they match.
std::string checkTrainingMode(const GradSample &s, DType floatType, const NamedTensors &feeds) {
  Graph g("train_" + std::string(opName(s.op)));
  g.setSeed(20240601);
  std::vector<Value> ins;
  for (auto &[name, t] : feeds)
    ins.push_back((*g.addInput(name, TensorType{t.dtype(), t.shape()}))->result());
  AttrMap attrs = s.attrs;
  for (auto &[k, v] : attrs)
    if (auto *d = std::get_if<DType>(&v))
      *d = *d == DType::F64 ? floatType : *d;
  Initializer ones;
  ones.kind = InitKind::Ones;
  Node *scale = *g.addParam("s", TensorType{floatType, {}}, ones);
  Value y = (*g.addNode(s.op, "y", ins, attrs))->result();
  Value v = (*g.addNode(Op::Mul, "v", {y, scale->result()}))->result();
  Value loss = (*g.addNode(Op::ReduceSum, "loss", {v}))->result();
  g.addOutput(loss);
  TrainStep step;
  step.loss = loss;
  step.params = {scale};
  step.paramsGiven = true;
  step.optimizer = Optimizer::defaults(Optimizer::Kind::Sgd);
  g.addTrainStep(step);
  auto training = buildTrainingGraph(g);
  if (!training)
    return "training graph: " + training.message();
  auto interp = Interpreter::create(*training);
  auto exe = codegen::compile(g);
  if (!interp || !exe)
    return "create: " + (interp ? exe.message() : interp.message());
  double tol = floatType == DType::F32 ? kOpTolF32 : kOpTolF64;
  for (int round = 0; round < 3; ++round) {
    auto want = interp->trainStep("train", feeds);
    auto got = (*exe)->trainStep("train", feeds);
    if (!want || !got)
      return "train step: " + (want ? got.message() : want.message());
    std::string diff = compareTensors((*got)[0].second, (*want)[0].second, tol);
    if (diff.empty())
      diff = compareTensors((*exe)->params()[0].second, interp->params()[0].second, tol);
    if (!diff.empty())
      return "training round " + std::to_string(round + 1) + ": " + diff;
  }
  return "";
}

/// The sample's op on inputs x0.., every result an output; f64 operands and dtype attributes
/// become `floatType`.
struct OpOutcome {
  std::string name;     ///< "conv2d/nchw_groups f32"
  std::string missing;  ///< the compile error of an op without an LLVM lowering yet
  std::string failure;  ///< any other failure or mismatch
};

OpOutcome checkSample(const GradSample &s, DType floatType) {
  OpOutcome out;
  out.name = sampleName(s) + (floatType == DType::F32 ? " f32" : " f64");
  auto convert = [&](DType d) { return d == DType::F64 ? floatType : d; };
  Graph g("op_" + std::string(opName(s.op)));
  g.setSeed(20240601);
  std::vector<Value> ins;
  for (size_t i = 0; i < s.operands.size(); ++i) {
    TensorType t{convert(s.operands[i].type.dtype), s.operands[i].type.shape};
    ins.push_back((*g.addInput("x" + std::to_string(i), t))->result());
  }
  AttrMap attrs = s.attrs;
  for (auto &[k, v] : attrs)
    if (auto *d = std::get_if<DType>(&v))
      *d = convert(*d);
  auto y = g.addNode(s.op, "y", ins, attrs);
  if (!y) {
    out.failure = "building the graph: " + y.message();
    return out;
  }
  for (unsigned r = 0; r < (*y)->numResults(); ++r)
    g.addOutput((*y)->result(r));

  std::mt19937_64 rng(7);
  NamedTensors feeds;
  for (size_t i = 0; i < s.operands.size(); ++i)
    feeds.emplace_back("x" + std::to_string(i),
                       randomTensor(s.operands[i], convert(s.operands[i].type.dtype), rng));
  auto interp = Interpreter::create(g);
  if (!interp) {
    out.failure = "interpreter: " + interp.message();
    return out;
  }
  auto want = interp->run(feeds);
  if (!want) {
    out.failure = "interpreter run: " + want.message();
    return out;
  }
  codegen::CompileOptions opts;
  opts.verifyEach = true;
  auto exe = codegen::compile(g, opts);
  if (!exe) {
    (exe.message().find("no LLVM lowering") != std::string::npos ? out.missing : out.failure) =
        exe.message();
    return out;
  }
  auto got = (*exe)->run(feeds);
  if (!got) {
    out.failure = "run: " + got.message();
    return out;
  }
  double tol = floatType == DType::F32 ? kOpTolF32 : kOpTolF64;
  for (size_t i = 0; i < want->size(); ++i) {
    std::string diff = compareTensors((*got)[i].second, (*want)[i].second, tol);
    if (!diff.empty()) {
      out.failure = "output " + (*want)[i].first + ": " + diff;
      return out;
    }
  }
  if (s.op == Op::Dropout || s.op == Op::RandomUniform || s.op == Op::RandomNormal)
    out.failure = checkTrainingMode(s, floatType, feeds);
  return out;
}

/// Every sample in f32 and f64, computed once for the tests below.
const std::vector<OpOutcome> &opOutcomes() {
  static const std::vector<OpOutcome> outcomes = [] {
    std::vector<OpOutcome> v;
    for (const GradSample &s : gradSamples())
      for (DType dt : {DType::F32, DType::F64})
        v.push_back(checkSample(s, dt));
    return v;
  }();
  return outcomes;
}

TEST(BackendDiff, EveryLoweredOpMatchesTheInterpreter) {
  int compared = 0;
  for (const OpOutcome &o : opOutcomes()) {
    EXPECT_TRUE(o.failure.empty()) << o.name << ": " << o.failure;
    compared += o.failure.empty() && o.missing.empty();
  }
  EXPECT_GT(compared, 0) << "no op sample compiled at all";
}

TEST(BackendDiff, EveryOpHasAnLlvmLowering) {
  std::string missing;
  for (const OpOutcome &o : opOutcomes())
    if (!o.missing.empty())
      missing += "\n  " + o.name + ": " + o.missing;
  EXPECT_TRUE(missing.empty()) << "op samples without an LLVM lowering:" << missing;
}

} // namespace
} // namespace kiln::test
