// fuse: every sample, inference and training, computes the same after
// "decompose,fold,cse,dce,fuse" as before, verifies, round-trips through the text form, and has
// a pinned number of kernels; plus the interpreter on a hand-written fused node.
#include "compiler/autodiff/TrainGraph.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"
#include "compiler/ir/Verifier.h"
#include "compiler/passes/PassManager.h"
#include "frontend/json/JsonImporter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>

namespace kiln {
namespace {

constexpr const char *kPipeline = "decompose,fold,cse,dce,fuse";

/// Kernels: top-level nodes that are not inputs, params or constants (a fused node is one).
int kernelCount(const Graph &g) {
  int n = 0;
  for (const auto &node : g.nodes())
    n += !node->info().has(kSource);
  return n;
}

int fusedCount(const Graph &g) {
  int n = 0;
  for (const auto &node : g.nodes())
    n += node->op() == Op::Fused;
  return n;
}

/// Pinned results of kPipeline per sample: kernels and fused nodes of the inference graph and
/// of the training graph. A change in fusion decisions (or in decompose/fold/cse/dce) shows up
/// here; update the table only after checking the new dump (kiln-opt --passes=... [--train]).
struct Pin {
  int inferKernels, inferFused, trainKernels, trainFused;
};
const std::map<std::string, Pin> &pins() {
  static const std::map<std::string, Pin> table = {
      {"autoencoder", {3, 3, 15, 11}},    {"cnn_cifar", {14, 8, 47, 26}},
      {"cnn_mnist", {14, 8, 47, 26}},     {"gan", {11, 9, 42, 31}},
      {"linreg", {3, 3, 15, 10}},         {"logreg", {3, 3, 11, 7}},
      {"lstm", {192, 122, 450, 291}},     {"mlp_binary", {4, 4, 18, 13}},
      {"mnist_mlp", {9, 5, 21, 14}},      {"softmax_reg", {7, 4, 17, 12}},
      {"transformer", {33, 7, 105, 40}},
  };
  return table;
}

/// Deterministic feeds: floats uniform in [-1, 1), integer inputs (class labels) i % 2.
NamedTensors feedsFor(const Graph &g) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> d(-1, 1);
  NamedTensors feeds;
  for (Node *in : g.inputs()) {
    Tensor t(in->type().dtype, in->type().shape);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.set(i, isFloat(t.dtype()) ? d(rng) : double(i % 2));
    feeds.emplace_back(in->name(), std::move(t));
  }
  return feeds;
}

void expectClose(const Tensor &a, const Tensor &b, const std::string &what) {
  ASSERT_EQ(a.dtype(), b.dtype()) << what;
  ASSERT_EQ(a.shape(), b.shape()) << what;
  int bad = 0;
  for (int64_t i = 0; i < a.numElements() && bad < 5; ++i) {
    double x = a.at(i), y = b.at(i);
    if (std::isnan(x) && std::isnan(y))
      continue;
    double tol = 1e-6 * std::max({std::fabs(x), std::fabs(y), 1e-3});
    if (!(std::fabs(x - y) <= tol)) {
      ADD_FAILURE() << what << "[" << i << "]: " << x << " before, " << y << " after";
      ++bad;
    }
  }
}

/// Runs kPipeline; checks the verifier and the text round trip.
Graph optimize(const Graph &g, const std::string &what) {
  Graph out = g.clone();
  auto pm = PassManager::create(kPipeline);
  EXPECT_TRUE(pm.ok()) << pm.message();
  auto changed = pm->run(out);
  EXPECT_TRUE(changed.ok()) << what << ": " << changed.message();
  Status v = verify(out);
  EXPECT_TRUE(v.isOk()) << what << ": " << v.message();
  std::string text = printGraph(out);
  auto back = parseGraph(text, what + ".kir");
  EXPECT_TRUE(back.ok()) << what << ": " << back.message();
  if (back.ok()) {
    EXPECT_EQ(printGraph(*back), text) << what << ": the text form does not round-trip";
  }
  return out;
}

class FuseSample : public ::testing::TestWithParam<std::string> {};

TEST_P(FuseSample, InferenceMatchesAndKernelsArePinned) {
  const std::string sample = GetParam();
  auto g = importJsonFile("samples/" + sample + ".json");
  ASSERT_TRUE(g.ok()) << g.message();
  Graph fused = optimize(*g, sample);
  NamedTensors feeds = feedsFor(*g);
  auto before = Interpreter::create(*g);
  auto after = Interpreter::create(fused);
  ASSERT_TRUE(before.ok() && after.ok());
  auto x = before->run(feeds);
  auto y = after->run(feeds);
  ASSERT_TRUE(x.ok()) << x.message();
  ASSERT_TRUE(y.ok()) << y.message();
  ASSERT_EQ(x->size(), y->size());
  for (size_t i = 0; i < x->size(); ++i)
    expectClose((*x)[i].second, (*y)[i].second, sample + " output " + (*x)[i].first);
  const Pin &pin = pins().at(sample);
  EXPECT_EQ(kernelCount(fused), pin.inferKernels) << sample;
  EXPECT_EQ(fusedCount(fused), pin.inferFused) << sample;
}

TEST_P(FuseSample, TrainingStepsMatchAndKernelsArePinned) {
  const std::string sample = GetParam();
  auto g = importJsonFile("samples/" + sample + ".json");
  ASSERT_TRUE(g.ok()) << g.message();
  auto training = buildTrainingGraph(*g);
  ASSERT_TRUE(training.ok()) << training.message();
  ASSERT_FALSE(training->stepPrograms().empty()) << sample << " has no train step";
  Graph fused = optimize(*training, sample + "-train");
  NamedTensors feeds = feedsFor(*g);
  auto before = Interpreter::create(*training);
  auto after = Interpreter::create(fused);
  ASSERT_TRUE(before.ok() && after.ok());
  for (int step = 0; step < 3; ++step)
    for (const StepProgram &p : training->stepPrograms()) {
      auto x = before->trainStep(p.name, feeds);
      auto y = after->trainStep(p.name, feeds);
      ASSERT_TRUE(x.ok()) << x.message();
      ASSERT_TRUE(y.ok()) << y.message();
      ASSERT_EQ(x->size(), y->size());
      // Loss first, then metrics (names may differ: a fused result is "name:k").
      for (size_t i = 0; i < x->size(); ++i)
        expectClose((*x)[i].second, (*y)[i].second,
                    sample + " step " + std::to_string(step) + " " + p.name + " " + (*x)[i].first);
    }
  // The updated state agrees too, so later steps start from the same params.
  for (size_t i = 0; i < before->params().size(); ++i)
    expectClose(before->params()[i].second, after->params()[i].second,
                sample + " param " + before->params()[i].first);
  const Pin &pin = pins().at(sample);
  EXPECT_EQ(kernelCount(fused), pin.trainKernels) << sample;
  EXPECT_EQ(fusedCount(fused), pin.trainFused) << sample;
}

std::vector<std::string> sampleNames() {
  std::vector<std::string> names;
  for (auto &[name, pin] : pins())
    names.push_back(name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Samples, FuseSample, ::testing::ValuesIn(sampleNames()),
                         [](const auto &info) { return info.param; });

// The pin table lists every sample in samples/, so a new sample cannot skip this test.
TEST(FuseSamples, TableCoversEverySample) {
  size_t count = 0;
  for (const auto &entry : std::filesystem::directory_iterator("samples"))
    if (entry.path().extension() == ".json") {
      ++count;
      EXPECT_TRUE(pins().count(entry.path().stem().string()))
          << entry.path() << " has no row in the pin table";
    }
  EXPECT_EQ(count, pins().size());
}

// ---- hand-written graphs ----

Graph parse(const std::string &text) {
  auto g = parseGraph(text, "test.kir");
  EXPECT_TRUE(g.ok()) << g.message();
  return g.ok() ? std::move(*g) : Graph();
}

std::string runFuse(Graph &g) {
  std::ostringstream debug;
  PassManagerOptions opts;
  opts.debug = &debug;
  auto pm = PassManager::create("fuse", opts);
  EXPECT_TRUE(pm.ok()) << pm.message();
  auto changed = pm->run(g);
  EXPECT_TRUE(changed.ok()) << changed.message();
  return debug.str();
}

Tensor tensorOf(Shape shape, std::vector<float> values) {
  Tensor t(DType::F32, std::move(shape));
  for (size_t i = 0; i < values.size(); ++i)
    t.data<float>()[i] = values[i];
  return t;
}

TEST(FusedInterp, BodyComputesItsParts) {
  Graph g = parse(R"(graph @g {
  input %x : f32[2,3]
  input %b : f32[3]
  %f = fused(%x, %b) {kind="loop"} : (f32[2,3], f32[2,3]) {
    input %p0 : f32[2,3]
    input %p1 : f32[3]
    %a = add(%p0, %p1) : f32[2,3]
    %r = relu(%a) : f32[2,3]
    return %a, %r
  }
  %a = neg(%f:0) : f32[2,3]
  %s = reduce_sum(%f:1) : f32[]
  return %a, %s
})");
  auto interp = Interpreter::create(g);
  ASSERT_TRUE(interp.ok()) << interp.message();
  auto out = interp->run({{"x", tensorOf({2, 3}, {1, -2, 3, -4, 5, -6})},
                          {"b", tensorOf({3}, {0.5f, 1, -1})}});
  ASSERT_TRUE(out.ok()) << out.message();
  // a = x + b = [1.5, -1, 2, -3.5, 6, -7]; out0 = -a; out1 = sum(relu(a)) = 1.5 + 2 + 6.
  EXPECT_FLOAT_EQ((*out)[0].second.data<float>()[0], -1.5f);
  EXPECT_FLOAT_EQ((*out)[0].second.data<float>()[3], 3.5f);
  EXPECT_FLOAT_EQ((*out)[1].second.data<float>()[0], 9.5f);
}

TEST(Fuse, ChainBecomesOneKernelKeepingNamesAndLocations) {
  Graph g = parse(R"(graph @g {
  input %x : f32[4,3]
  input %b : f32[3]
  %a = add(%x, %b) : f32[4,3] loc("m.json":3:1)
  %r = relu(%a) : f32[4,3] loc("m.json":4:1)
  %y = mul(%r, %r) : f32[4,3] loc("m.json":5:1)
  return %y
})");
  Graph original = g.clone();
  std::string notes = runFuse(g);
  ASSERT_TRUE(verify(g).isOk()) << verify(g).message();
  EXPECT_EQ(kernelCount(g), 1);
  Node *y = g.find("y");
  ASSERT_TRUE(y && y->body()) << printGraph(g);
  EXPECT_EQ(y->loc().line, 5);
  EXPECT_EQ(y->body()->find("a")->loc().line, 3);
  EXPECT_EQ(y->body()->nodes().size(), 5u); // two inputs, three ops
  EXPECT_NE(notes.find("fuse: loop group 'y': a, r, y (1 result)"), std::string::npos) << notes;
  NamedTensors feeds = {{"x", tensorOf({4, 3}, {1, -2, 3, -4, 5, -6, 7, -8, 9, -1, 0, 2})},
                        {"b", tensorOf({3}, {0.5f, 1, -1})}};
  auto x = Interpreter::create(original)->run(feeds);
  auto z = Interpreter::create(g)->run(feeds);
  ASSERT_TRUE(x.ok() && z.ok());
  expectClose((*x)[0].second, (*z)[0].second, "y");
  // Running again finds nothing more to fuse.
  std::string second = runFuse(g);
  EXPECT_NE(second.find("[pass-manager] fuse: unchanged"), std::string::npos) << second;
}

} // namespace
} // namespace kiln
