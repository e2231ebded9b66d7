// Importing good graphs: structure, defaults, locations, weights, limits and file output.
#include "frontend/json/JsonImporter.h"

#include <cmath>
#include <filesystem>
#include <gtest/gtest.h>

namespace kiln {

/// Readable Loc in gtest failures.
void PrintTo(const Loc &l, std::ostream *os) { *os << l.str() << " " << l.path; }

namespace {

Graph load(const std::string &path) {
  auto g = importJsonFile(path);
  EXPECT_TRUE(g.ok()) << g.message();
  return g.ok() ? g.take() : Graph();
}

const char *kSmall = R"({
  "format": "kiln-graph", "version": 1, "name": "small",
  "inputs": [{"name": "x", "shape": [2, 3]}],
  "nodes": [
    {"name": "r", "op": "relu", "inputs": ["x"]},
    {"name": "s", "op": "softmax", "inputs": ["r"], "attrs": {"axis": 0}}
  ],
  "outputs": ["s"]
})";

TEST(Import, SmallGraphStructureAndLocations) {
  auto g = importJsonText(kSmall, "small.json", "");
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(g->name(), "small");
  EXPECT_EQ(g->seed(), 0u);
  ASSERT_EQ(g->nodes().size(), 3u);
  Node *s = g->find("s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->op(), Op::Softmax);
  EXPECT_EQ(s->operand(0).node, g->find("r"));
  EXPECT_EQ(std::get<int64_t>(s->attrs().at("axis")), 0);
  EXPECT_EQ(s->type().str(), "f32[2,3]");
  // Node 's' is the object starting at line 6, column 5.
  EXPECT_EQ(s->loc(), (Loc{"small.json", 6, 5, "$.nodes[1]"}));
  EXPECT_EQ(g->find("x")->loc(), (Loc{"small.json", 3, 14, "$.inputs[0]"}));
  ASSERT_EQ(g->outputs().size(), 1u);
  EXPECT_EQ(g->outputs()[0].node, s);
}

TEST(Import, LocRefinerPointsAtAttributesAndInputs) {
  auto g = importJsonText(kSmall, "small.json", "");
  ASSERT_TRUE(g.ok()) << g.message();
  const Loc &node = g->find("s")->loc();
  EXPECT_EQ(g->refineLoc(node, "axis", -1), (Loc{"small.json", 6, 71, "$.nodes[1].attrs.axis"}));
  EXPECT_EQ(g->refineLoc(node, "", 0), (Loc{"small.json", 6, 47, "$.nodes[1].inputs[0]"}));
  EXPECT_EQ(g->refineLoc(node, "", -2), (Loc{"small.json", 6, 46, "$.nodes[1].inputs"}));
  // An attribute the file does not write points at the deepest part that exists.
  const Loc &r = g->find("r")->loc();
  EXPECT_EQ(g->refineLoc(r, "axis", -1), r);
}

TEST(Import, NodesInAnyOrderAreSortedTopologically) {
  Graph g = load("tests/json/good/mlp_weights.json");
  ASSERT_FALSE(g.nodes().empty());
  std::vector<std::string> order;
  for (auto &n : g.nodes())
    if (!n->info().has(kSource))
      order.push_back(n->name());
  EXPECT_EQ(order, (std::vector<std::string>{"h", "logits", "loss", "acc"}));
  EXPECT_EQ(g.find("loss")->loc().path, "$.nodes[0]");
}

TEST(Import, SourcesConstantsAndWeights) {
  Graph g = load("tests/json/good/mlp_weights.json");
  ASSERT_NE(g.find("w"), nullptr);
  EXPECT_EQ(g.seed(), 7u);
  EXPECT_EQ(g.weightsFile(), "weights.safetensors");
  Node *w = g.find("w");
  EXPECT_EQ(w->init().kind, InitKind::Uniform);
  EXPECT_EQ(w->init().low, -0.5);
  EXPECT_EQ(w->init().seed, std::optional<uint64_t>(3));
  ASSERT_TRUE(w->value());
  EXPECT_EQ(w->value()->toDoubles(), (std::vector<double>{0.5, -1.0, 0.25, 2.0, -0.125, 1.5}));
  ASSERT_TRUE(g.find("b")->value());
  EXPECT_FLOAT_EQ(float(g.find("b")->value()->at(1)), -0.2f);
  Node *count = g.find("count");
  EXPECT_FALSE(count->trainable());
  EXPECT_EQ(count->type().str(), "i64[]");
  EXPECT_FALSE(count->value());

  EXPECT_EQ(g.find("scale")->value()->toDoubles(), (std::vector<double>{0.125}));
  EXPECT_EQ(g.find("table")->value()->toDoubles(), (std::vector<double>{1, 2.5, -3, 4e-3}));
  // i64 values keep all 64 bits (2^53 + 1 is not a double).
  EXPECT_EQ(g.find("idx")->value()->data<int64_t>()[2], int64_t(9007199254740993));
  EXPECT_EQ(g.find("mask")->value()->toDoubles(), (std::vector<double>{1, 0}));
  auto ninf = g.find("neg_inf")->value()->toDoubles();
  EXPECT_TRUE(std::isinf(ninf[0]) && ninf[0] < 0);
}

TEST(Import, TrainStepsWithEveryOption) {
  Graph g = load("tests/json/good/mlp_weights.json");
  ASSERT_EQ(g.trainSteps().size(), 2u);
  const TrainStep &s = g.trainSteps()[0];
  EXPECT_EQ(s.name, "step");
  EXPECT_EQ(s.loss.node, g.find("loss"));
  EXPECT_TRUE(s.paramsGiven);
  ASSERT_EQ(s.params.size(), 2u);
  EXPECT_EQ(s.params[0], g.find("w"));
  EXPECT_EQ(s.optimizer.kind, Optimizer::Kind::AdamW);
  EXPECT_EQ(s.optimizer.lr, 0.01);
  EXPECT_EQ(s.optimizer.beta1, 0.8);
  EXPECT_EQ(s.optimizer.beta2, 0.999);
  EXPECT_EQ(s.optimizer.weightDecay, 0.001);
  ASSERT_EQ(s.metrics.size(), 1u);
  EXPECT_EQ(s.metrics[0].node, g.find("acc"));
  EXPECT_TRUE(s.hasRegularization);
  EXPECT_EQ(s.l1, 0.0);
  EXPECT_EQ(s.l2, 0.0001);
  EXPECT_EQ(s.clipNorm, std::optional<double>(1.5));
  EXPECT_EQ(s.schedule.kind, LrSchedule::Kind::StepDecay);
  EXPECT_EQ(s.schedule.factor, 0.5);
  EXPECT_EQ(s.schedule.every, 10);
  const TrainStep &t = g.trainSteps()[1];
  EXPECT_EQ(t.optimizer, Optimizer::defaults(Optimizer::Kind::RmsProp));
  EXPECT_EQ(t.schedule.kind, LrSchedule::Kind::ExponentialDecay);
  EXPECT_EQ(t.schedule.decaySteps, 100.0);
  EXPECT_EQ(t.loc.path, "$.train[1]");
}

TEST(Import, SingleStepDefaults) {
  Graph g = load("tests/json/good/single_step.json");
  ASSERT_EQ(g.trainSteps().size(), 1u);
  const TrainStep &s = g.trainSteps()[0];
  EXPECT_EQ(s.name, "train");
  EXPECT_FALSE(s.paramsGiven);
  ASSERT_EQ(s.params.size(), 2u); // every trainable param the loss depends on, in graph order
  EXPECT_EQ(s.params[0]->name(), "w");
  EXPECT_EQ(s.params[1]->name(), "b");
  EXPECT_EQ(s.optimizer, Optimizer::defaults(Optimizer::Kind::Sgd));
  EXPECT_FALSE(s.hasRegularization);
  EXPECT_FALSE(s.clipNorm);
  // Params without init: glorot_uniform for matrices, zeros for vectors (Keras's Dense).
  EXPECT_EQ(g.find("w")->init().kind, InitKind::GlorotUniform);
  EXPECT_EQ(g.find("b")->init().kind, InitKind::Zeros);
}

TEST(Import, AttributeKindsAreConverted) {
  Graph g = load("tests/json/good/conv_attrs.json");
  ASSERT_NE(g.find("c1"), nullptr);
  EXPECT_EQ(std::get<std::vector<int64_t>>(g.find("c1")->attrs().at("padding")),
            (std::vector<int64_t>{1, 1, 0, 2}));
  EXPECT_EQ(g.find("c1")->type().str(), "f32[2,8,4,4]");
  EXPECT_EQ(std::get<double>(g.find("lr")->attrs().at("alpha")), 1.0); // int given, float kept
  EXPECT_EQ(g.find("oh")->attrDType("dtype"), DType::F64);
  EXPECT_EQ(g.find("oh")->type().str(), "f64[2,5]");
  EXPECT_EQ(g.find("kb")->init().data, (std::vector<double>{0.1, 0.2, 0.3, 0.4}));
  EXPECT_EQ(g.find("k")->init().seed, std::optional<uint64_t>(11));
}

TEST(Import, TooManyNodesIsRejectedBeforeBuilding) {
  std::string text = R"({"format": "kiln-graph", "version": 1, "name": "big", "inputs": [],
  "nodes": [)";
  for (int i = 0; i < 1000001; ++i)
    text += i ? ",0" : "0";
  text += "], \"outputs\": []}";
  auto g = importJsonText(text, "big.json", "");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.message(), "big.json:2:12: error: 'nodes' has 1000001 entries (the limit is "
                         "1000000) ($.nodes)");
}

TEST(Import, MissingFileAndEmptyOutputs) {
  auto g = importJsonFile("tests/json/good/no-such-file.json");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.message().rfind("tests/json/good/no-such-file.json: error: cannot open file", 0), 0u)
      << g.message();
}

TEST(Export, FileIsWrittenAtomicallyAndReadsBack) {
  Graph g = load("tests/json/good/single_step.json");
  auto dir = std::filesystem::temp_directory_path() / "kiln_json_export_test";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "out.json").string();
  ASSERT_TRUE(exportJsonFile(g, path).isOk());
  auto again = importJsonFile(path);
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(exportJson(*again), exportJson(g));
  EXPECT_FALSE(exportJsonFile(g, (dir / "missing-dir" / "x.json").string()).isOk());
  std::filesystem::remove_all(dir);
}

TEST(Export, FloatsAreShortestAndExact) {
  auto g = importJsonText(R"({"format": "kiln-graph", "version": 1, "name": "f",
    "inputs": [], "constants": [{"name": "c", "shape": [3], "value": [0.1, 3, 1e-45]}],
    "nodes": [], "outputs": ["c"]})", "f.json", "");
  ASSERT_TRUE(g.ok()) << g.message();
  std::string text = exportJson(*g);
  EXPECT_NE(text.find("\"value\": [0.1, 3.0, 1e-45]"), std::string::npos) << text;
}

} // namespace
} // namespace kiln
