// plan-memory: plans of small graphs by hand, every sample's plan checked, and the checker.
#include "compiler/autodiff/TrainGraph.h"
#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"
#include "compiler/passes/MemoryPlan.h"
#include "compiler/passes/PassManager.h"
#include "frontend/json/JsonImporter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

namespace kiln {
namespace {

namespace fs = std::filesystem;

Graph parse(const std::string &text) {
  auto g = parseGraph(text, "test.kir");
  EXPECT_TRUE(g.ok()) << g.message();
  return g.ok() ? std::move(*g) : Graph();
}

/// Runs `pipeline` on `g`; returns the debug output (the passes' notes).
std::string runPipeline(Graph &g, const std::string &pipeline) {
  std::ostringstream debug;
  PassManagerOptions opts;
  opts.debug = &debug;
  auto pm = PassManager::create(pipeline, opts);
  EXPECT_TRUE(pm.ok()) << pm.message();
  if (!pm.ok())
    return "";
  auto changed = pm->run(g);
  EXPECT_TRUE(changed.ok()) << changed.message();
  return debug.str();
}

int64_t offsetOf(const Graph &g, const std::string &name) { return g.find(name)->arenaOffset(); }

// Values of 1 KiB and one of 64 bytes. %b reuses the block of %x (dead after %a); %c is
// written over %a (dead at %c, same size, add is elementwise), %d over %c, %e over %d.
const char *kChain = R"(graph @chain seed=0 {
  input %x : f32[256]
  param %w : f32[256] init=ones
  %a = mul(%x, %w) : f32[256]
  %b = reduce_sum(%a) {axes=[0], keepdims=true} : f32[1]
  %c = add(%a, %b) : f32[256]
  %d = exp(%c) : f32[256]
  %e = neg(%d) : f32[256]
  return %e
}
)";

TEST(PlanMemory, ChainReusesDeadValuesAndWritesInPlace) {
  Graph g = parse(kChain);
  std::string notes = runPipeline(g, "plan-memory");
  ASSERT_TRUE(checkMemoryPlan(g).isOk()) << checkMemoryPlan(g).message();
  EXPECT_EQ(offsetOf(g, "x"), 0);
  EXPECT_EQ(offsetOf(g, "a"), 1024);
  EXPECT_EQ(offsetOf(g, "b"), 0) << "reuses the input's block after its last use";
  EXPECT_EQ(offsetOf(g, "c"), 1024);
  EXPECT_EQ(offsetOf(g, "d"), 1024);
  EXPECT_EQ(offsetOf(g, "e"), 1024);
  EXPECT_EQ(g.find("w")->arenaOffset(), -1) << "params live in persistent state";
  EXPECT_EQ(g.peakLiveBytes(), 2048); // %x and %a at %a
  EXPECT_EQ(g.arenaBytes(), 2048);
  EXPECT_NE(notes.find("plan-memory: arena 2.0 KiB, minimum 2.0 KiB (100%), 6 values, 3 in place"),
            std::string::npos)
      << notes;
}

TEST(PlanMemory, RunningTwiceReportsUnchanged) {
  Graph g = parse(kChain);
  runPipeline(g, "plan-memory");
  std::string first = printGraph(g);
  auto pm = PassManager::create("plan-memory");
  ASSERT_TRUE(pm.ok()) << pm.message();
  auto changed = pm->run(g);
  ASSERT_TRUE(changed.ok()) << changed.message();
  EXPECT_FALSE(*changed);
  EXPECT_EQ(printGraph(g), first);
}

TEST(PlanMemory, RootsStayLiveToTheEnd) {
  // %a is an output, %m a step-program metric, %l its loss and %q an update value: no value
  // defined after them may take their blocks, and none is written in place over them.
  Graph g = parse(R"(graph @roots seed=0 {
  input %x : f32[64]
  param %p : f32[64] init=zeros
  %a = relu(%x) : f32[64]
  %m = neg(%a) : f32[64]
  %u = exp(%m) : f32[64]
  %l = reduce_sum(%u) : f32[]
  %n = sqrt(%u) : f32[64]
  %q = add(%n, %p) : f32[64]
  return %a
  step @train(loss=%l, metrics=[%m]) {
    %p <- %q
  }
}
)");
  runPipeline(g, "plan-memory");
  ASSERT_TRUE(checkMemoryPlan(g).isOk()) << checkMemoryPlan(g).message();
  int numNodes = int(g.nodes().size());
  for (const LiveRange &r : arenaLiveRanges(g)) {
    std::string name = r.value.name();
    bool root = name == "a" || name == "m" || name == "l" || name == "q";
    EXPECT_EQ(r.root, root) << name;
    if (root) {
      EXPECT_EQ(r.end, numNodes) << name;
    }
  }
  std::vector<std::string> order = {"x", "a", "m", "u", "l", "n", "q"};
  auto inPlaceChain = [](const std::string &v) { return v == "u" || v == "n" || v == "q"; };
  for (size_t i = 0; i < order.size(); ++i)
    for (size_t j = i + 1; j < order.size(); ++j) {
      const std::string &r = order[i], &later = order[j];
      bool root = r == "a" || r == "m" || r == "l" || r == "q";
      if (root && !(inPlaceChain(r) && inPlaceChain(later))) {
        EXPECT_NE(offsetOf(g, r), offsetOf(g, later)) << r << " vs " << later;
      }
    }
  // %n is written over %u (it dies at %n and is no root), %q over %n likewise; %m reuses the
  // input's block, dead after %a.
  EXPECT_EQ(offsetOf(g, "n"), offsetOf(g, "u"));
  EXPECT_EQ(offsetOf(g, "q"), offsetOf(g, "n"));
  EXPECT_EQ(offsetOf(g, "m"), offsetOf(g, "x"));
}

TEST(PlanMemory, BroadcastAndDtypeChangesAreNotInPlace) {
  Graph g = parse(R"(graph @b seed=0 {
  input %x : f32[4,16]
  input %y : f64[16]
  %a = exp(%x) : f32[4,16]
  %s = cast(%y) {dtype=f32} : f32[16]
  %t = add(%s, %a) : f32[4,16]
  %c = cast(%t) {dtype=f64} : f64[4,16]
  return %c
}
)");
  runPipeline(g, "plan-memory");
  ASSERT_TRUE(checkMemoryPlan(g).isOk()) << checkMemoryPlan(g).message();
  const Node &t = *g.find("t");
  EXPECT_FALSE(mayRunInPlace(t, 0, 0)) << "%s is broadcast: element i moves";
  EXPECT_TRUE(mayRunInPlace(t, 0, 1));
  EXPECT_FALSE(mayRunInPlace(*g.find("c"), 0, 0)) << "f32 -> f64 changes the element size";
  EXPECT_EQ(offsetOf(g, "t"), offsetOf(g, "a"));
  EXPECT_NE(offsetOf(g, "c"), offsetOf(g, "t"));
}

TEST(PlanMemory, FusedLoopsAreInPlaceOnlyWhenTheirBodyIsElementwise) {
  // %f (an elementwise body) is written over %a; %r's body reduces a size-1 axis, which keeps
  // the byte size but not the element-for-element access, so it gets a block of its own.
  Graph g = parse(R"(graph @fused seed=0 {
  input %x : f32[16,1]
  %a = exp(%x) : f32[16,1]
  %f = fused(%a, %x) {kind="loop"} : f32[16,1] {
    input %p0 : f32[16,1]
    input %p1 : f32[16,1]
    %f/m = mul(%p0, %p1) : f32[16,1]
    %f = tanh(%f/m) : f32[16,1]
    return %f
  }
  %r = fused(%f) {kind="loop"} : f32[16] {
    input %p0 : f32[16,1]
    %r/n = neg(%p0) : f32[16,1]
    %r = reduce_sum(%r/n) {axes=[1]} : f32[16]
    return %r
  }
  return %r
}
)");
  runPipeline(g, "plan-memory");
  ASSERT_TRUE(checkMemoryPlan(g).isOk()) << checkMemoryPlan(g).message();
  EXPECT_TRUE(mayRunInPlace(*g.find("f"), 0, 0));
  EXPECT_FALSE(mayRunInPlace(*g.find("r"), 0, 0));
  EXPECT_EQ(offsetOf(g, "f"), offsetOf(g, "a"));
  EXPECT_NE(offsetOf(g, "r"), offsetOf(g, "f"));
  g.find("r")->setArenaOffset(offsetOf(g, "f"));
  EXPECT_FALSE(checkMemoryPlan(g).isOk());
}

TEST(PlanMemory, DeadResultsAndInputsArePlanned) {
  Graph g = parse(R"(graph @dead seed=0 {
  input %x : f32[32]
  input %unused : f32[8]
  %dead = exp(%x) : f32[32]
  %y = neg(%x) : f32[32]
  return %y
}
)");
  runPipeline(g, "plan-memory");
  ASSERT_TRUE(checkMemoryPlan(g).isOk()) << checkMemoryPlan(g).message();
  EXPECT_EQ(offsetOf(g, "x"), 0);
  EXPECT_EQ(offsetOf(g, "unused"), 128);
  // %dead is written (and dies) while %x is live; %y then takes its block, not %x's (an input).
  EXPECT_EQ(offsetOf(g, "dead"), 128);
  EXPECT_EQ(offsetOf(g, "y"), 128);
  EXPECT_EQ(g.peakLiveBytes(), 256);
  EXPECT_EQ(g.arenaBytes(), 256);
}

// ---- the checker ----

TEST(PlanMemoryCheck, RejectsOverlappingLiveValues) {
  Graph g = parse(kChain);
  runPipeline(g, "plan-memory");
  ASSERT_TRUE(checkMemoryPlan(g).isOk());
  // %a is live until %c; putting %b inside it is wrong.
  g.find("b")->setArenaOffset(offsetOf(g, "a") + 64);
  Status s = checkMemoryPlan(g);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("'%a' [1024, 2048) and '%b' [1088, 1152) overlap while both are "
                             "live (points 3 to 4)"),
            std::string::npos)
      << s.message();
}

TEST(PlanMemoryCheck, InPlaceOnlyOverADyingNonInputOperandOfAnElementwiseNode) {
  // The stored plan writes %c over %a; the checker accepts that pair.
  Graph g = parse(kChain);
  runPipeline(g, "plan-memory");
  ASSERT_EQ(offsetOf(g, "c"), offsetOf(g, "a"));
  // %a over %x: %x dies at %a and mul is elementwise, but %x is an input.
  g.find("b")->setArenaOffset(2048);
  g.setArenaBytes(2112);
  g.find("a")->setArenaOffset(0);
  Status s = checkMemoryPlan(g);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("'%x' [0, 1024) and '%a' [0, 1024) overlap"), std::string::npos)
      << s.message();

  // A reduction that keeps the size is still not in place: element i is not just read by i.
  Graph r = parse(R"(graph @r seed=0 {
  input %x : f32[16,1]
  %a = exp(%x) : f32[16,1]
  %s = reduce_sum(%a) {axes=[1]} : f32[16]
  return %s
}
)");
  runPipeline(r, "plan-memory");
  ASSERT_TRUE(checkMemoryPlan(r).isOk()) << checkMemoryPlan(r).message();
  EXPECT_NE(offsetOf(r, "s"), offsetOf(r, "a"));
  r.find("s")->setArenaOffset(offsetOf(r, "a"));
  s = checkMemoryPlan(r);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("'%a'"), std::string::npos) << s.message();
}

TEST(PlanMemoryCheck, RejectsUnplannedMisalignedOutOfArenaAndPlannedParams) {
  Graph g = parse(kChain);
  runPipeline(g, "plan-memory");
  g.find("w")->setArenaOffset(0);
  EXPECT_NE(checkMemoryPlan(g).message().find("param or constant"), std::string::npos);
  g.find("w")->setArenaOffset(-1);
  g.find("b")->setArenaOffset(32);
  EXPECT_NE(checkMemoryPlan(g).message().find("not a multiple of 64"), std::string::npos);
  g.find("b")->setArenaOffset(g.arenaBytes());
  EXPECT_NE(checkMemoryPlan(g).message().find("past the arena"), std::string::npos);
  g.find("b")->setArenaOffset(-1);
  EXPECT_NE(checkMemoryPlan(g).message().find("'%b' has no arena offset"), std::string::npos);
}

// ---- text form ----

TEST(PlanMemoryText, PlanRoundTripsThroughText) {
  Graph g = parse(kChain);
  runPipeline(g, "plan-memory");
  std::string text = printGraph(g);
  EXPECT_NE(text.find("graph @chain seed=0 arena=2048 peak_live=2048 {"), std::string::npos)
      << text;
  EXPECT_NE(text.find("input %x : f32[256] @arena(0)"), std::string::npos) << text;
  EXPECT_NE(text.find("param %w : f32[256] init=ones"), std::string::npos) << text;
  Graph back = parse(text);
  EXPECT_EQ(printGraph(back), text);
  EXPECT_TRUE(checkMemoryPlan(back).isOk());
  for (const auto &n : g.nodes())
    EXPECT_EQ(back.find(n->name())->arenaOffset(), n->arenaOffset()) << n->name();
  Graph copy = g.clone();
  EXPECT_EQ(printGraph(copy), text);
}

TEST(PlanMemoryText, BadArenaSyntaxIsALocatedError) {
  auto g = parseGraph("graph @g seed=0 {\n  input %x : f32[2] @arena(0, 64)\n}\n", "a.kir");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("a.kir:2:21: error: '%x' has 1 result(s) but @arena gives 2"),
            std::string::npos)
      << g.message();
  g = parseGraph("graph @g seed=0 {\n  input %x : f32[2] @arena(-5)\n}\n", "a.kir");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("-1 (unplanned) or at least 0"), std::string::npos) << g.message();
  g = parseGraph("graph @g seed=0 arena=-3 {\n}\n", "a.kir");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("'arena' is -1 (unplanned) or a byte count"), std::string::npos)
      << g.message();
}

// ---- every sample, inference and training ----

struct SampleResult {
  std::string name;
  int64_t arena, minimum;
};

std::vector<fs::path> samplePaths() {
  std::vector<fs::path> paths;
  for (auto &e : fs::directory_iterator(fs::path(KILN_SOURCE_DIR) / "samples"))
    if (e.path().extension() == ".json")
      paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  return paths;
}

void checkSamplePlan(Graph &g, const std::string &who, std::vector<SampleResult> &results) {
  SCOPED_TRACE(who);
  std::string notes = runPipeline(g, "decompose,fold,cse,dce,plan-memory");
  ASSERT_NE(notes.find("plan-memory: arena "), std::string::npos) << notes;
  Status s = checkMemoryPlan(g);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_GT(g.peakLiveBytes(), 0);
  EXPECT_GE(g.arenaBytes(), g.peakLiveBytes());
  EXPECT_LE(double(g.arenaBytes()), 1.5 * double(g.peakLiveBytes()));
  for (const auto &n : g.nodes())
    EXPECT_EQ(n->arenaOffset() >= 0, !n->isParam() && !n->isConstant()) << n->name();
  std::string text = printGraph(g);
  auto back = parseGraph(text, who + ".kir");
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_EQ(printGraph(*back), text);
  EXPECT_TRUE(checkMemoryPlan(*back).isOk());
  results.push_back({who, g.arenaBytes(), g.peakLiveBytes()});
}

TEST(PlanMemorySamples, EveryPlanIsValidAndWithinHalfOfTheMinimum) {
  auto paths = samplePaths();
  ASSERT_GE(paths.size(), 11u);
  std::vector<SampleResult> results;
  for (auto &path : paths) {
    auto g = importJsonFile(path.string());
    ASSERT_TRUE(g.ok()) << g.message();
    std::string stem = path.stem().string();
    auto training = buildTrainingGraph(*g);
    Graph inference = std::move(*g);
    checkSamplePlan(inference, stem + "/predict", results);
    if (!training.ok()) {
      ADD_FAILURE() << stem << ": " << training.message();
      continue;
    }
    if (!training->stepPrograms().empty())
      checkSamplePlan(*training, stem + "/train", results);
  }
  for (auto &r : results)
    std::printf("  %-28s arena %10lld  minimum %10lld  ratio %.3f\n", r.name.c_str(),
                (long long)r.arena, (long long)r.minimum, double(r.arena) / double(r.minimum));
}

} // namespace
} // namespace kiln
