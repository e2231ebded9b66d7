// Export/import round trips: every sample graph, and small graphs exercising every field.
#include "frontend/json/JsonImporter.h"

#include <algorithm>
#include <filesystem>
#include <gtest/gtest.h>

namespace kiln {
namespace {

std::vector<std::string> sampleFiles() {
  std::vector<std::string> files;
  for (auto &e : std::filesystem::directory_iterator("samples"))
    if (e.path().extension() == ".json")
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

/// Compares two graphs node by node: names, ops, operands, attrs, types, values, inits.
void expectSameGraph(const Graph &a, const Graph &b) {
  EXPECT_EQ(a.name(), b.name());
  EXPECT_EQ(a.seed(), b.seed());
  EXPECT_EQ(a.weightsFile(), b.weightsFile());
  ASSERT_EQ(a.nodes().size(), b.nodes().size());
  for (size_t i = 0; i < a.nodes().size(); ++i) {
    const Node &x = *a.nodes()[i], &y = *b.nodes()[i];
    SCOPED_TRACE(x.name());
    EXPECT_EQ(x.name(), y.name());
    EXPECT_EQ(x.op(), y.op());
    EXPECT_EQ(x.attrs(), y.attrs());
    EXPECT_EQ(x.resultTypes(), y.resultTypes());
    ASSERT_EQ(x.numOperands(), y.numOperands());
    for (unsigned k = 0; k < x.numOperands(); ++k)
      EXPECT_EQ(x.operand(k).name(), y.operand(k).name());
    EXPECT_EQ(x.init(), y.init());
    EXPECT_EQ(x.trainable(), y.trainable());
    ASSERT_EQ(bool(x.value()), bool(y.value()));
    if (x.value()) {
      EXPECT_TRUE(x.value()->identical(*y.value()));
    }
  }
  ASSERT_EQ(a.outputs().size(), b.outputs().size());
  for (size_t i = 0; i < a.outputs().size(); ++i)
    EXPECT_EQ(a.outputs()[i].name(), b.outputs()[i].name());
  ASSERT_EQ(a.trainSteps().size(), b.trainSteps().size());
  for (size_t i = 0; i < a.trainSteps().size(); ++i) {
    const TrainStep &s = a.trainSteps()[i], &t = b.trainSteps()[i];
    EXPECT_EQ(s.name, t.name);
    EXPECT_EQ(s.loss.name(), t.loss.name());
    ASSERT_EQ(s.params.size(), t.params.size());
    for (size_t k = 0; k < s.params.size(); ++k)
      EXPECT_EQ(s.params[k]->name(), t.params[k]->name());
    EXPECT_EQ(s.paramsGiven, t.paramsGiven);
    EXPECT_EQ(s.optimizer, t.optimizer);
    EXPECT_EQ(s.l1, t.l1);
    EXPECT_EQ(s.l2, t.l2);
    EXPECT_EQ(s.hasRegularization, t.hasRegularization);
    EXPECT_EQ(s.clipNorm, t.clipNorm);
    EXPECT_EQ(s.schedule, t.schedule);
    ASSERT_EQ(s.metrics.size(), t.metrics.size());
    for (size_t k = 0; k < s.metrics.size(); ++k)
      EXPECT_EQ(s.metrics[k].name(), t.metrics[k].name());
  }
}

void checkRoundTrip(const std::string &file) {
  SCOPED_TRACE(file);
  auto g = importJsonFile(file);
  ASSERT_TRUE(g.ok()) << g.message();
  std::string text = exportJson(*g);
  std::string dir = std::filesystem::path(file).parent_path().string() + "/";
  auto again = importJsonText(text, file + ".exported", dir);
  ASSERT_TRUE(again.ok()) << again.message() << "\n" << text;
  expectSameGraph(*g, *again);
  EXPECT_EQ(exportJson(*again), text);
}

TEST(RoundTrip, EverySample) {
  auto files = sampleFiles();
  EXPECT_GE(files.size(), 11u);
  for (auto &f : files)
    checkRoundTrip(f);
}

TEST(RoundTrip, EveryGoodTestGraph) {
  int count = 0;
  for (auto &e : std::filesystem::directory_iterator("tests/json/good"))
    if (e.path().extension() == ".json") {
      checkRoundTrip(e.path().string());
      ++count;
    }
  EXPECT_GE(count, 3);
}

} // namespace
} // namespace kiln
