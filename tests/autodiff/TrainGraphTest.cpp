// buildTrainingGraph as a whole: every sample verifies and round-trips through the text form,
// the step programs' shape (names, state, locations), errors, and two models trained to a goal.
#include "TrainTestUtil.h"

#include "compiler/autodiff/TrainGraph.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"
#include "compiler/ir/Verifier.h"
#include "frontend/json/JsonImporter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace kiln {
namespace {

TEST(TrainGraph, EverySampleBuildsVerifiesAndRoundTrips) {
  int samples = 0, programs = 0;
  for (auto &entry : std::filesystem::directory_iterator(KILN_SOURCE_DIR "/samples")) {
    if (entry.path().extension() != ".json")
      continue;
    SCOPED_TRACE(entry.path().filename().string());
    ++samples;
    auto g = importJsonFile(entry.path().string());
    ASSERT_TRUE(g.ok()) << g.message();
    auto training = buildTrainingGraph(*g);
    ASSERT_TRUE(training.ok()) << training.message();
    ASSERT_TRUE(verify(*training).isOk()) << verify(*training).message();
    EXPECT_EQ(training->stepPrograms().size(), g->trainSteps().size());
    programs += int(training->stepPrograms().size());
    for (const StepProgram &p : training->stepPrograms()) {
      const TrainStep *s = g->findTrainStep(p.name);
      ASSERT_NE(s, nullptr);
      // Every param of the step is updated, plus its slots and the counter.
      for (const Node *param : s->params) {
        bool found = false;
        for (const StateUpdate &u : p.updates)
          found |= u.state->name() == param->name();
        EXPECT_TRUE(found) << param->name();
      }
      EXPECT_GT(p.updates.size(), s->params.size());
    }
    std::string text = printGraph(*training);
    auto reparsed = parseGraph(text, "training.kir");
    ASSERT_TRUE(reparsed.ok()) << reparsed.message();
    EXPECT_EQ(printGraph(*reparsed), text);
    EXPECT_TRUE(verify(*reparsed).isOk()) << verify(*reparsed).message();
    EXPECT_EQ(reparsed->stepPrograms().size(), training->stepPrograms().size());
  }
  EXPECT_GE(samples, 10);
  EXPECT_GE(programs, samples); // the gan has two
}

TEST(TrainGraph, StateIsNamedNonTrainableZeroParamsAtTheStepsLocation) {
  test::StepConfig c = test::withOptimizer(Optimizer::defaults(Optimizer::Kind::Adam));
  c.l2 = 0.1;
  Graph g = test::leastSquaresGraph(DType::F32, {1, 2}, c);
  g.trainSteps()[0].loc = Loc{"m.json", 30, 3, "$.train"};
  auto training = buildTrainingGraph(g);
  ASSERT_TRUE(training.ok()) << training.message();
  const StepProgram &p = training->stepPrograms().at(0);
  EXPECT_EQ(p.loss.name(), "train/loss"); // the regularized loss
  std::vector<std::string> states;
  for (const StateUpdate &u : p.updates)
    states.push_back(u.state->name());
  EXPECT_EQ(states, (std::vector<std::string>{"w", "train/w/m", "train/w/v", "train/t"}));
  for (const char *name : {"train/w/m", "train/w/v", "train/t"}) {
    Node *n = training->find(name);
    ASSERT_NE(n, nullptr) << name;
    EXPECT_TRUE(n->isParam());
    EXPECT_FALSE(n->trainable()) << name;
    EXPECT_EQ(n->init().kind, InitKind::Zeros);
    EXPECT_EQ(n->loc(), (Loc{"m.json", 30, 3, "$.train"}));
  }
  EXPECT_EQ(training->find("train/t")->type(), (TensorType{DType::I64, {}}));
  EXPECT_EQ(training->find("train/w/m")->type(), (TensorType{DType::F32, {2}}));
  EXPECT_EQ(training->find("train/w/new")->loc(), (Loc{"m.json", 30, 3, "$.train"}));
  // Every constant of the update is in the param's dtype.
  for (auto &n : training->nodes()) {
    if (n->isConstant() && n->name().starts_with("train/w/")) {
      EXPECT_EQ(n->type().dtype, DType::F32) << n->name();
    }
  }
  // The source graph is untouched and a training graph is not trained twice.
  EXPECT_TRUE(g.stepPrograms().empty());
  EXPECT_EQ(g.find("train/t"), nullptr);
  auto twice = buildTrainingGraph(*training);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.message().find("already a training graph"), std::string::npos);
}

TEST(TrainGraph, BadOptionsAreLocatedErrors) {
  test::StepConfig c = test::withOptimizer(Optimizer::defaults(Optimizer::Kind::Sgd));
  c.clipNorm = 0;
  Graph g = test::leastSquaresGraph(DType::F64, {1, 2}, c);
  g.trainSteps()[0].loc = Loc{"m.json", 7, 5, "$.train"};
  auto r = buildTrainingGraph(g);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(), "m.json:7:5: error: train step 'train': clip_norm must be positive "
                         "($.train)");
}

/// A dense layer and a loss over generated data, built from JSON text like a user's file.
Graph importModel(const std::string &json) {
  auto g = importJsonText(json, "model.json", ".");
  EXPECT_TRUE(g.ok()) << g.message();
  return g.ok() ? g.take() : Graph();
}

TEST(TrainGraph, LinearRegressionReachesSmallMse) {
  Graph g = importModel(R"({"format": "kiln-graph", "version": 1, "name": "lin", "seed": 3,
    "inputs": [{"name": "x", "dtype": "f32", "shape": [32, 1]},
               {"name": "y", "dtype": "f32", "shape": [32, 1]}],
    "params": [{"name": "w", "shape": [1, 1], "init": "glorot_uniform"},
               {"name": "b", "shape": [1], "init": "zeros"}],
    "nodes": [{"name": "pred", "op": "dense", "inputs": ["x", "w", "b"]},
              {"name": "loss", "op": "mse", "inputs": ["pred", "y"]}],
    "outputs": ["pred"],
    "train": {"loss": "loss", "optimizer": {"kind": "sgd", "lr": 0.3}}})");
  auto training = buildTrainingGraph(g);
  ASSERT_TRUE(training.ok()) << training.message();
  auto interp = Interpreter::create(*training);
  ASSERT_TRUE(interp.ok()) << interp.message();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  Tensor x(DType::F32, {32, 1}), y(DType::F32, {32, 1});
  for (int i = 0; i < 32; ++i) {
    x.data<float>()[i] = u(rng);
    y.data<float>()[i] = 3 * x.data<float>()[i] + 2;
  }
  double first = 0, last = 0;
  for (int step = 0; step < 200; ++step) {
    auto r = interp->trainStep("train", {{"x", x}, {"y", y}});
    ASSERT_TRUE(r.ok()) << r.message();
    (step == 0 ? first : last) = (*r)[0].second.at(0);
  }
  EXPECT_GT(first, 1.0);
  EXPECT_LT(last, 1e-3);
  EXPECT_NEAR(test::findTensor(interp->params(), "w")->at(0), 3.0, 0.01);
  EXPECT_NEAR(test::findTensor(interp->params(), "b")->at(0), 2.0, 0.01);
}

TEST(TrainGraph, LogisticRegressionSeparatesSeparableData) {
  Graph g = importModel(R"({"format": "kiln-graph", "version": 1, "name": "logit", "seed": 3,
    "inputs": [{"name": "x", "dtype": "f32", "shape": [40, 2]},
               {"name": "y", "dtype": "f32", "shape": [40, 1]}],
    "params": [{"name": "w", "shape": [2, 1], "init": "zeros"},
               {"name": "b", "shape": [1], "init": "zeros"}],
    "nodes": [{"name": "prob", "op": "dense", "inputs": ["x", "w", "b"],
               "attrs": {"activation": "sigmoid"}},
              {"name": "loss", "op": "binary_cross_entropy", "inputs": ["prob", "y"]},
              {"name": "acc", "op": "binary_accuracy", "inputs": ["prob", "y"]}],
    "outputs": ["prob"],
    "train": {"loss": "loss", "optimizer": {"kind": "sgd", "lr": 1.0}, "metrics": ["acc"]}})");
  auto training = buildTrainingGraph(g);
  ASSERT_TRUE(training.ok()) << training.message();
  auto interp = Interpreter::create(*training);
  ASSERT_TRUE(interp.ok()) << interp.message();
  // Two clusters on either side of the line x0 - x1 = 0.5, with a margin.
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1, 1);
  Tensor x(DType::F32, {40, 2}), y(DType::F32, {40, 1});
  for (int i = 0; i < 40; ++i) {
    float a = u(rng), b = u(rng), label = float(i % 2);
    float shift = label ? 0.8f : -0.8f;
    x.data<float>()[2 * i] = a + shift + 0.5f;
    x.data<float>()[2 * i + 1] = b - shift;
    // Keep every point at least 0.2 from the boundary so the classes are separable.
    float side = x.data<float>()[2 * i] - x.data<float>()[2 * i + 1] - 0.5f;
    if (label == 1 ? side <= 0.2f : side >= -0.2f) {
      --i;
      continue;
    }
    y.data<float>()[i] = label;
  }
  double acc = 0, firstLoss = 0, loss = 0;
  for (int step = 0; step < 300; ++step) {
    auto r = interp->trainStep("train", {{"x", x}, {"y", y}});
    ASSERT_TRUE(r.ok()) << r.message();
    ASSERT_EQ(r->size(), 2u);
    loss = (*r)[0].second.at(0);
    if (step == 0)
      firstLoss = loss;
    acc = (*r)[1].second.at(0);
  }
  EXPECT_NEAR(firstLoss, std::log(2.0), 1e-5); // zero weights predict 0.5 everywhere
  EXPECT_LT(loss, 0.1);
  EXPECT_EQ(acc, 1.0);
  auto final = interp->evaluate({{"x", x}, {"y", y}}, {"acc"});
  ASSERT_TRUE(final.ok()) << final.message();
  EXPECT_EQ((*final)[0].second.at(0), 1.0);
}

} // namespace
} // namespace kiln
