// Every optimizer and every train-step option, trained for several steps on the interpreter and
// compared with an independent plain-C++ reference (TrainTestUtil.h) to 1e-6 relative.
#include "TrainTestUtil.h"

#include "compiler/autodiff/TrainGraph.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Verifier.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

using test::ReferenceTrainer;
using test::StepConfig;
using test::withOptimizer;

const std::vector<double> kW0 = {0.5, -1.5, 2.0};

/// Step k's feeds: they change every step so that slots and counters must really carry state.
std::vector<double> xAt(int k) { return {1.0 + 0.1 * k, -2.0 + 0.05 * k, 0.5 - 0.2 * k}; }
std::vector<double> yAt(int k) { return {2.0, 1.0 - 0.1 * k, -1.0}; }

struct Case {
  std::string name;
  StepConfig config;
  /// For clip cases: whether clipping must have been active at every step (checked on the
  /// reference, so the case tests what it claims).
  std::optional<bool> clipActive;
};

Optimizer optimizer(Optimizer::Kind kind, double lr) {
  Optimizer o = Optimizer::defaults(kind);
  o.lr = lr;
  return o;
}

/// Trains the least-squares graph and the reference side by side for `steps` steps, comparing
/// the reported loss, w, every optimizer slot and the step counter after each step.
void trainAndCompare(const Case &c, DType dt, int steps, double rel) {
  SCOPED_TRACE(c.name);
  Graph g = test::leastSquaresGraph(dt, kW0, c.config);
  auto training = buildTrainingGraph(g);
  ASSERT_TRUE(training.ok()) << training.message();
  ASSERT_TRUE(verify(*training).isOk()) << verify(*training).message();
  const StepProgram *program = training->findStepProgram("train");
  ASSERT_NE(program, nullptr);
  auto interp = Interpreter::create(*training);
  ASSERT_TRUE(interp.ok()) << interp.message();
  ReferenceTrainer ref(c.config, kW0);

  for (int k = 0; k < steps; ++k) {
    NamedTensors feeds{{"x", test::vectorTensor(dt, xAt(k))}, {"y", test::vectorTensor(dt, yAt(k))}};
    auto result = interp->trainStep("train", feeds);
    ASSERT_TRUE(result.ok()) << result.message();
    double expectedLoss = ref.step(xAt(k), yAt(k));
    if (c.clipActive) {
      ASSERT_EQ(ref.lastClipActive, *c.clipActive) << "step " << k;
    }
    ASSERT_EQ(result->size(), 1u);
    EXPECT_EQ((*result)[0].first, program->loss.name());
    test::expectClose({(*result)[0].second.at(0)}, {expectedLoss}, rel,
                      "loss at step " + std::to_string(k));

    const NamedTensors &params = interp->params();
    test::expectClose(test::findTensor(params, "w")->toDoubles(), ref.w, rel,
                      "w after step " + std::to_string(k));
    EXPECT_EQ(test::findTensor(params, "train/t")->at(0), double(k + 1));
    using K = Optimizer::Kind;
    K kind = c.config.optimizer.kind;
    if (kind == K::Sgd && c.config.optimizer.momentum != 0)
      test::expectClose(test::findTensor(params, "train/w/momentum")->toDoubles(), ref.slotA, rel,
                        "momentum");
    if (kind == K::RmsProp)
      test::expectClose(test::findTensor(params, "train/w/v")->toDoubles(), ref.slotA, rel, "v");
    if (kind == K::Adam || kind == K::AdamW) {
      test::expectClose(test::findTensor(params, "train/w/m")->toDoubles(), ref.slotA, rel, "m");
      test::expectClose(test::findTensor(params, "train/w/v")->toDoubles(), ref.slotB, rel, "v");
    }
  }
}

std::vector<Case> optimizerCases() {
  using K = Optimizer::Kind;
  Optimizer momentum = optimizer(K::Sgd, 0.01);
  momentum.momentum = 0.9;
  Optimizer nesterov = momentum;
  nesterov.nesterov = true;
  Optimizer rms = optimizer(K::RmsProp, 0.01);
  rms.rho = 0.8;
  rms.epsilon = 1e-6;
  Optimizer adam = optimizer(K::Adam, 0.05);
  adam.beta1 = 0.8;
  adam.beta2 = 0.95;
  Optimizer adamw = adam;
  adamw.kind = K::AdamW;
  adamw.weightDecay = 0.1;
  return {
      {"sgd", withOptimizer(optimizer(K::Sgd, 0.02)), {}},
      {"sgd_momentum", withOptimizer(momentum), {}},
      {"sgd_nesterov", withOptimizer(nesterov), {}},
      {"rmsprop", withOptimizer(rms), {}},
      {"adam", withOptimizer(adam), {}},
      {"adamw", withOptimizer(adamw), {}},
  };
}

TEST(TrainStep, EveryOptimizerMatchesTheReference) {
  for (const Case &c : optimizerCases())
    trainAndCompare(c, DType::F64, 5, 1e-6);
}

TEST(TrainStep, EveryOptimizerWithDefaultsMatchesTheReference) {
  // The spec's default hyper-parameters (lr 0.01 / 0.001, beta2 0.999, epsilon 1e-7, ...).
  using K = Optimizer::Kind;
  for (K kind : {K::Sgd, K::RmsProp, K::Adam, K::AdamW})
    trainAndCompare({std::string(optimizerKindName(kind)), withOptimizer(Optimizer::defaults(kind)), {}},
                    DType::F64, 4, 1e-6);
}

TEST(TrainStep, RegularizationL1AndL2) {
  StepConfig l1 = withOptimizer(optimizer(Optimizer::Kind::Sgd, 0.02));
  l1.l1 = 0.3;
  StepConfig l2 = withOptimizer(optimizer(Optimizer::Kind::Sgd, 0.02));
  l2.l2 = 0.4;
  StepConfig both = withOptimizer(optimizer(Optimizer::Kind::Adam, 0.05));
  both.l1 = 0.1;
  both.l2 = 0.2;
  trainAndCompare({"l1", l1, {}}, DType::F64, 5, 1e-6);
  trainAndCompare({"l2", l2, {}}, DType::F64, 5, 1e-6);
  trainAndCompare({"l1_l2_adam", both, {}}, DType::F64, 5, 1e-6);
}

TEST(TrainStep, ClipNormActiveAndInactive) {
  StepConfig active = withOptimizer(optimizer(Optimizer::Kind::Sgd, 0.05));
  active.clipNorm = 0.5; // the gradient norm starts near 8.8 and stays above 0.5
  StepConfig inactive = withOptimizer(optimizer(Optimizer::Kind::Sgd, 0.01));
  inactive.clipNorm = 1e3;
  StepConfig withMomentum = withOptimizer(optimizer(Optimizer::Kind::Sgd, 0.05));
  withMomentum.optimizer.momentum = 0.5;
  withMomentum.clipNorm = 1.0;
  trainAndCompare({"clip_active", active, true}, DType::F64, 5, 1e-6);
  trainAndCompare({"clip_inactive", inactive, false}, DType::F64, 5, 1e-6);
  trainAndCompare({"clip_momentum", withMomentum, true}, DType::F64, 4, 1e-6);
}

TEST(TrainStep, LearningRateSchedules) {
  StepConfig exponential = withOptimizer(optimizer(Optimizer::Kind::Sgd, 0.03));
  exponential.schedule.kind = LrSchedule::Kind::ExponentialDecay;
  exponential.schedule.decayRate = 0.5;
  exponential.schedule.decaySteps = 2;
  StepConfig stepDecay = withOptimizer(optimizer(Optimizer::Kind::Sgd, 0.03));
  stepDecay.schedule.kind = LrSchedule::Kind::StepDecay;
  stepDecay.schedule.factor = 0.1;
  stepDecay.schedule.every = 2;
  StepConfig adamDecay = withOptimizer(optimizer(Optimizer::Kind::Adam, 0.1));
  adamDecay.schedule = exponential.schedule;
  trainAndCompare({"exponential_decay", exponential, {}}, DType::F64, 5, 1e-6);
  trainAndCompare({"step_decay", stepDecay, {}}, DType::F64, 5, 1e-6);
  trainAndCompare({"adam_exponential_decay", adamDecay, {}}, DType::F64, 5, 1e-6);
}

TEST(TrainStep, StepDecayReallyDecays) {
  // Guards the reference itself: with factor 0.1 every 2 steps, steps 3-4 move w 10x less per
  // unit gradient than steps 1-2 would, so a schedule that is ignored fails the comparison.
  StepConfig c = withOptimizer(optimizer(Optimizer::Kind::Sgd, 0.03));
  c.schedule.kind = LrSchedule::Kind::StepDecay;
  c.schedule.factor = 0.1;
  c.schedule.every = 2;
  ReferenceTrainer ref(c, kW0);
  ref.t = 2;
  EXPECT_NEAR(ref.learningRate(), 0.03, 1e-15);
  ref.t = 3;
  EXPECT_NEAR(ref.learningRate(), 0.003, 1e-15);
}

TEST(TrainStep, SinglePrecision) {
  Optimizer adam = optimizer(Optimizer::Kind::Adam, 0.05);
  StepConfig c = withOptimizer(adam);
  c.l2 = 0.01;
  c.clipNorm = 5.0;
  c.schedule.kind = LrSchedule::Kind::ExponentialDecay;
  c.schedule.decayRate = 0.9;
  c.schedule.decaySteps = 1;
  // f32 rounding (about 6e-8 relative per op) over a few dozen ops and 4 steps.
  trainAndCompare({"adam_f32", c, {}}, DType::F32, 4, 2e-5);
}

} // namespace
} // namespace kiln
