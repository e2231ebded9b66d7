// Train-step features beyond one optimizer: metrics, several named steps over different params,
// dropout (identity in run, one shared mask in a training step), and trainStep's errors.
#include "TrainTestUtil.h"

#include "compiler/autodiff/TrainGraph.h"
#include "compiler/interp/Interpreter.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

using test::vectorTensor;

/// pred = w * x + b (b a broadcast scalar), loss = sum((pred - y)^2), mae = mean|pred - y|.
/// Step "fit_w" trains w with sgd and reports mae; step "fit_b" trains b with adam.
Graph twoStepGraph() {
  Graph g("two_steps");
  DType dt = DType::F64;
  Initializer w0;
  w0.kind = InitKind::Value;
  w0.data = {0.5, -1.0, 1.5};
  Initializer b0;
  b0.kind = InitKind::Constant;
  b0.value = 0.25;
  Node *x = *g.addInput("x", {dt, {3}});
  Node *y = *g.addInput("y", {dt, {3}});
  Node *w = *g.addParam("w", {dt, {3}}, w0);
  Node *b = *g.addParam("b", {dt, {}}, b0);
  Node *wx = *g.addNode(Op::Mul, "wx", {w->result(), x->result()});
  Node *pred = *g.addNode(Op::Add, "pred", {wx->result(), b->result()});
  Node *d = *g.addNode(Op::Sub, "d", {pred->result(), y->result()});
  Node *loss = *g.addNode(Op::ReduceSum, "loss", {(*g.addNode(Op::Square, "sq", {d->result()}))->result()});
  Node *mae = *g.addNode(Op::ReduceMean, "mae", {(*g.addNode(Op::Abs, "ad", {d->result()}))->result()});
  g.addOutput(pred->result());
  TrainStep fitW;
  fitW.name = "fit_w";
  fitW.loss = loss->result();
  fitW.params = {w};
  fitW.optimizer = Optimizer::defaults(Optimizer::Kind::Sgd);
  fitW.optimizer.lr = 0.02;
  fitW.metrics = {mae->result()};
  g.addTrainStep(fitW);
  TrainStep fitB;
  fitB.name = "fit_b";
  fitB.loss = loss->result();
  fitB.params = {b};
  fitB.optimizer = Optimizer::defaults(Optimizer::Kind::Adam);
  fitB.optimizer.lr = 0.1;
  g.addTrainStep(fitB);
  return g;
}

TEST(TrainOptions, TwoNamedStepsOverDifferentParamsWithMetrics) {
  auto training = buildTrainingGraph(twoStepGraph());
  ASSERT_TRUE(training.ok()) << training.message();
  ASSERT_EQ(training->stepPrograms().size(), 2u);
  auto interp = Interpreter::create(*training);
  ASSERT_TRUE(interp.ok()) << interp.message();

  std::vector<double> w = {0.5, -1.0, 1.5}, x = {1.0, 2.0, -1.0}, y = {1.0, -1.0, 0.5};
  double b = 0.25, m = 0, v = 0;
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-7;
  NamedTensors feeds{{"x", vectorTensor(DType::F64, x)}, {"y", vectorTensor(DType::F64, y)}};
  auto residuals = [&] {
    std::vector<double> d(3);
    for (int i = 0; i < 3; ++i)
      d[size_t(i)] = w[size_t(i)] * x[size_t(i)] + b - y[size_t(i)];
    return d;
  };
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // fit_w: sgd on w; b stays.
    std::vector<double> d = residuals();
    double loss = 0, mae = 0;
    for (double e : d)
      loss += e * e, mae += std::fabs(e) / 3;
    for (int i = 0; i < 3; ++i)
      w[size_t(i)] -= 0.02 * 2 * d[size_t(i)] * x[size_t(i)];
    double bBefore = test::findTensor(interp->params(), "b")->at(0);
    auto r = interp->trainStep("fit_w", feeds);
    ASSERT_TRUE(r.ok()) << r.message();
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].first, "loss");
    EXPECT_EQ((*r)[1].first, "mae");
    test::expectClose({(*r)[0].second.at(0), (*r)[1].second.at(0)}, {loss, mae}, 1e-6, "fit_w");
    test::expectClose(test::findTensor(interp->params(), "w")->toDoubles(), w, 1e-6, "w");
    EXPECT_EQ(test::findTensor(interp->params(), "b")->at(0), bBefore); // untouched, bit for bit

    // fit_b: adam on the broadcast scalar b, whose gradient is the sum 2 * sum(d).
    d = residuals();
    loss = 0;
    double g = 0;
    for (double e : d)
      loss += e * e, g += 2 * e;
    int t = round + 1;
    m = beta1 * m + (1 - beta1) * g;
    v = beta2 * v + (1 - beta2) * g * g;
    b -= 0.1 * (m / (1 - std::pow(beta1, t))) / (std::sqrt(v / (1 - std::pow(beta2, t))) + eps);
    std::vector<double> wBefore = test::findTensor(interp->params(), "w")->toDoubles();
    r = interp->trainStep("fit_b", feeds);
    ASSERT_TRUE(r.ok()) << r.message();
    ASSERT_EQ(r->size(), 1u);
    test::expectClose({(*r)[0].second.at(0)}, {loss}, 1e-6, "fit_b loss");
    test::expectClose({test::findTensor(interp->params(), "b")->at(0)}, {b}, 1e-6, "b");
    EXPECT_EQ(test::findTensor(interp->params(), "w")->toDoubles(), wBefore);
    // Each step keeps its own counter.
    EXPECT_EQ(test::findTensor(interp->params(), "fit_w/t")->at(0), double(round + 1));
    EXPECT_EQ(test::findTensor(interp->params(), "fit_b/t")->at(0), double(round + 1));
  }
}

/// h = dropout(w * x, rate 0.5), loss = sum((h - y)^2); 16 elements so that masks differ.
Graph dropoutGraph() {
  Graph g("drop");
  g.setSeed(5);
  DType dt = DType::F64;
  Initializer w0;
  w0.kind = InitKind::Value;
  for (int i = 0; i < 16; ++i)
    w0.data.push_back(0.1 * (i + 1));
  Node *x = *g.addInput("x", {dt, {16}});
  Node *y = *g.addInput("y", {dt, {16}});
  Node *w = *g.addParam("w", {dt, {16}}, w0);
  Node *wx = *g.addNode(Op::Mul, "wx", {w->result(), x->result()});
  Node *h = *g.addNode(Op::Dropout, "h", {wx->result()}, {{"rate", 0.5}});
  Node *d = *g.addNode(Op::Sub, "d", {h->result(), y->result()});
  Node *loss = *g.addNode(Op::ReduceSum, "loss", {(*g.addNode(Op::Square, "sq", {d->result()}))->result()});
  g.addOutput(h->result());
  TrainStep s;
  s.loss = loss->result();
  s.params = {w};
  s.optimizer.lr = 0.01;
  s.metrics = {h->result()};
  g.addTrainStep(s);
  return g;
}

TEST(TrainOptions, DropoutIsIdentityInRunAndOneMaskInATrainingStep) {
  auto training = buildTrainingGraph(dropoutGraph());
  ASSERT_TRUE(training.ok()) << training.message();
  auto interp = Interpreter::create(*training);
  ASSERT_TRUE(interp.ok()) << interp.message();
  std::vector<double> x(16), y(16);
  for (int i = 0; i < 16; ++i)
    x[size_t(i)] = 1.0 - 0.1 * i, y[size_t(i)] = 0.3 * (i % 3);
  NamedTensors feeds{{"x", vectorTensor(DType::F64, x)}, {"y", vectorTensor(DType::F64, y)}};

  auto ran = interp->run(feeds);
  ASSERT_TRUE(ran.ok()) << ran.message();
  std::vector<double> w = test::findTensor(interp->params(), "w")->toDoubles();
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ((*ran)[0].second.at(i), w[size_t(i)] * x[size_t(i)]) << "run() must not drop";

  std::vector<std::vector<bool>> masks;
  for (int step = 0; step < 2; ++step) {
    w = test::findTensor(interp->params(), "w")->toDoubles();
    auto r = interp->trainStep("train", feeds);
    ASSERT_TRUE(r.ok()) << r.message();
    const Tensor &h = (*r)[1].second;
    std::vector<bool> mask(16);
    int kept = 0;
    for (int i = 0; i < 16; ++i) {
      double full = w[size_t(i)] * x[size_t(i)];
      mask[size_t(i)] = h.at(i) != 0;
      kept += mask[size_t(i)];
      // Kept elements are scaled by 1 / (1 - rate) = 2.
      EXPECT_NEAR(h.at(i), mask[size_t(i)] ? 2 * full : 0.0, 1e-12) << i;
    }
    EXPECT_GT(kept, 0);
    EXPECT_LT(kept, 16);
    // The gradient uses the forward mask: dL/dw = 2 (h - y) * mask * 2 * x.
    std::vector<double> expected(16);
    for (int i = 0; i < 16; ++i) {
      size_t k = size_t(i);
      double grad = 2 * (h.at(i) - y[k]) * (mask[k] ? 2.0 : 0.0) * x[k];
      expected[k] = w[k] - 0.01 * grad;
    }
    test::expectClose(test::findTensor(interp->params(), "w")->toDoubles(), expected, 1e-9,
                      "w after step " + std::to_string(step));
    masks.push_back(mask);
  }
  EXPECT_NE(masks[0], masks[1]) << "every step must draw a new mask";

  // Seeded: a fresh interpreter's first step draws the first mask again (after one run()).
  auto again = Interpreter::create(*training);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(again->run(feeds).ok());
  auto r = again->trainStep("train", feeds);
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ((*r)[1].second.at(i) != 0, masks[0][size_t(i)]) << i;
}

TEST(TrainOptions, TrainStepErrorsChangeNothing) {
  auto training = buildTrainingGraph(twoStepGraph());
  ASSERT_TRUE(training.ok()) << training.message();
  auto interp = Interpreter::create(*training);
  ASSERT_TRUE(interp.ok());
  NamedTensors before = interp->params();
  NamedTensors feeds{{"x", vectorTensor(DType::F64, {1, 2, 3})},
                     {"y", vectorTensor(DType::F64, {1, 2, 3})}};

  auto r = interp->trainStep("nope", feeds);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(), "graph 'two_steps' has no train step 'nope' (it has fit_w, fit_b)");
  NamedTensors unknown = feeds;
  unknown.emplace_back("z", vectorTensor(DType::F64, {1}));
  r = interp->trainStep("fit_w", unknown);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(), "feed 'z' is not an input of graph 'two_steps'");
  r = interp->trainStep("fit_w", {feeds[0]});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("input 'y' (f64[3]) is not fed"), std::string::npos) << r.message();
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_TRUE(interp->params()[i].second.identical(before[i].second)) << before[i].first;

  // A graph that was never turned into a training graph says how to get one.
  auto plain = Interpreter::create(twoStepGraph());
  ASSERT_TRUE(plain.ok());
  r = plain->trainStep("fit_w", feeds);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("buildTrainingGraph"), std::string::npos) << r.message();
}

} // namespace
} // namespace kiln
