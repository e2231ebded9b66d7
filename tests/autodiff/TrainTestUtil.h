// Test helpers for training: a tiny least-squares graph built with the Graph API, and an
// independent reference trainer in plain C++ loops (closed-form gradient, the spec's formulas).
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Safetensors.h"
#include "kiln/runtime/Tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace kiln::test {

/// The options of one train step, shared by the graph and the reference trainer.
struct StepConfig {
  Optimizer optimizer;
  double l1 = 0, l2 = 0;
  std::optional<double> clipNorm;
  LrSchedule schedule;
};

/// A config with only the optimizer set.
inline StepConfig withOptimizer(Optimizer o) {
  StepConfig c;
  c.optimizer = o;
  return c;
}

/// Fills a TrainStep's options from `c`.
inline void applyConfig(TrainStep &s, const StepConfig &c) {
  s.optimizer = c.optimizer;
  s.l1 = c.l1;
  s.l2 = c.l2;
  s.hasRegularization = c.l1 != 0 || c.l2 != 0;
  s.clipNorm = c.clipNorm;
  s.schedule = c.schedule;
}

inline Tensor vectorTensor(DType dt, const std::vector<double> &v) {
  Tensor t(dt, {int64_t(v.size())});
  for (size_t i = 0; i < v.size(); ++i)
    t.set(int64_t(i), v[i]);
  return t;
}

/// loss = reduce_sum(square(w * x - y)) over vectors of n elements, one train step "train"
/// updating w. Outputs: the loss.
inline Graph leastSquaresGraph(DType dt, const std::vector<double> &w0, const StepConfig &c) {
  Graph g("least_squares");
  int64_t n = int64_t(w0.size());
  Initializer init;
  init.kind = InitKind::Value;
  init.data = w0;
  Node *x = *g.addInput("x", TensorType{dt, {n}});
  Node *y = *g.addInput("y", TensorType{dt, {n}});
  Node *w = *g.addParam("w", TensorType{dt, {n}}, init);
  Node *pred = *g.addNode(Op::Mul, "pred", {w->result(), x->result()});
  Node *d = *g.addNode(Op::Sub, "d", {pred->result(), y->result()});
  Node *sq = *g.addNode(Op::Square, "sq", {d->result()});
  Node *loss = *g.addNode(Op::ReduceSum, "loss", {sq->result()});
  g.addOutput(loss->result());
  TrainStep s;
  s.name = "train";
  s.loss = loss->result();
  s.params = {w};
  s.paramsGiven = true;
  applyConfig(s, c);
  g.addTrainStep(s);
  return g;
}

/// The reference: one parameter vector trained on the least-squares loss with the spec's
/// formulas, written independently of Kiln.
struct ReferenceTrainer {
  StepConfig c;
  std::vector<double> w, slotA, slotB; ///< sgd: momentum; rmsprop: v; adam: m, v
  int64_t t = 0;
  bool lastClipActive = false;

  ReferenceTrainer(StepConfig config, std::vector<double> w0)
      : c(config), w(std::move(w0)), slotA(w.size(), 0.0), slotB(w.size(), 0.0) {}

  /// The closed-form gradient of sum((w x - y)^2) + l1 sum|w| + l2 sum w^2: 2 (w x - y) x +
  /// l1 sign(w) + 2 l2 w.
  std::vector<double> gradient(const std::vector<double> &x, const std::vector<double> &y,
                               double &loss) const {
    loss = 0;
    std::vector<double> g(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      double d = w[i] * x[i] - y[i];
      loss += d * d + c.l1 * std::fabs(w[i]) + c.l2 * w[i] * w[i];
      double sign = w[i] > 0 ? 1.0 : w[i] < 0 ? -1.0 : 0.0;
      g[i] = 2 * d * x[i] + c.l1 * sign + 2 * c.l2 * w[i];
    }
    return g;
  }

  double learningRate() const {
    const LrSchedule &s = c.schedule;
    double lr = c.optimizer.lr;
    if (s.kind == LrSchedule::Kind::ExponentialDecay)
      lr *= std::pow(s.decayRate, double(t - 1) / s.decaySteps);
    if (s.kind == LrSchedule::Kind::StepDecay)
      lr *= std::pow(s.factor, std::floor(double(t - 1) / double(s.every)));
    return lr;
  }

  /// One step; returns the loss before the update (what a step reports).
  double step(const std::vector<double> &x, const std::vector<double> &y) {
    double loss = 0;
    std::vector<double> g = gradient(x, y, loss);
    if (c.clipNorm) {
      double norm = 0;
      for (double v : g)
        norm += v * v;
      norm = std::sqrt(norm);
      lastClipActive = norm > *c.clipNorm;
      if (lastClipActive)
        for (double &v : g)
          v *= *c.clipNorm / norm;
    }
    ++t;
    update(g, learningRate());
    return loss;
  }

  void update(const std::vector<double> &g, double lr) {
    const Optimizer &o = c.optimizer;
    for (size_t i = 0; i < w.size(); ++i) {
      switch (o.kind) {
      case Optimizer::Kind::Sgd:
        if (o.momentum == 0) {
          w[i] -= lr * g[i];
        } else {
          slotA[i] = o.momentum * slotA[i] + g[i];
          w[i] -= lr * (o.nesterov ? g[i] + o.momentum * slotA[i] : slotA[i]);
        }
        break;
      case Optimizer::Kind::RmsProp:
        slotA[i] = o.rho * slotA[i] + (1 - o.rho) * g[i] * g[i];
        w[i] -= lr * g[i] / (std::sqrt(slotA[i]) + o.epsilon);
        break;
      case Optimizer::Kind::Adam:
      case Optimizer::Kind::AdamW: {
        if (o.kind == Optimizer::Kind::AdamW)
          w[i] -= lr * o.weightDecay * w[i];
        slotA[i] = o.beta1 * slotA[i] + (1 - o.beta1) * g[i];
        slotB[i] = o.beta2 * slotB[i] + (1 - o.beta2) * g[i] * g[i];
        double mHat = slotA[i] / (1 - std::pow(o.beta1, double(t)));
        double vHat = slotB[i] / (1 - std::pow(o.beta2, double(t)));
        w[i] -= lr * mHat / (std::sqrt(vHat) + o.epsilon);
        break;
      }
      }
    }
  }
};

/// |actual - expected| within `rel` of |expected| (and a tiny absolute floor for zeros).
inline void expectClose(const std::vector<double> &actual, const std::vector<double> &expected,
                        double rel, const std::string &what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], rel * std::fabs(expected[i]) + 1e-12)
        << what << " element " << i;
}

/// The tensor of `name` in a NamedTensors list, or null.
inline const Tensor *findTensor(const NamedTensors &list, const std::string &name) {
  for (auto &[n, t] : list)
    if (n == name)
      return &t;
  return nullptr;
}

} // namespace kiln::test
