// The random-graph differential fuzzer: randomGraph(seed) run by the interpreter and by
// codegen::compile (default pipeline, fusion on) on randomFeeds(graph, seed); every output must
// agree. KILN_FUZZ_GRAPHS sets the number of graphs (default 500, split over kShards shards, one
// ctest each), KILN_FUZZ_SEED offsets the seeds. A failure prints the seed and the graph's text
// form (KILN_FUZZ_PRINT=1 prints every graph): save it as a .kir file and `kiln-opt FILE
// --passes=...` or `kilnc run` reproduces it.
//
// Tolerance, as err = |llvm - interp| / max(1, |llvm|, |interp|):
//   f32 1e-4: values stay within +-64 (GraphFuzz.h), so a few ulps of difference from the
//     vectorised transcendentals, from fused loops that keep intermediates in registers, and from
//     blocked matmul/conv and vector reductions that reorder sums (up to 2401 terms here) are
//     ~1e-5 at most; 1e-4 leaves room for a chain of a dozen such ops, not for a wrong index or
//     a wrong constant (those give errors of order 1e-2 and more).
//   f64 1e-9: the same reasoning with f64's 2^-53: reorderings give ~1e-13, a dozen ops ~1e-12.
//     An f64 output that depends on any f32 value (a cast from f32) gets the f32 tolerance.
//   integers and bools exactly.
#include "GraphFuzz.h"

#include "compiler/codegen/Compile.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/interp/RandomFeeds.h"
#include "compiler/ir/OpInfo.h"
#include "compiler/ir/Printer.h"
#include "compiler/ir/Verifier.h"
#include "tests/common/TensorCompare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

namespace kiln::test {
namespace {

constexpr int kShards = 10;
constexpr int64_t kDefaultGraphs = 500;
constexpr double kTolF32 = 1e-4;
constexpr double kTolF64 = 1e-9;
/// Fraction of graphs whose optimised form must contain a fused node.
constexpr double kMinFusedFraction = 0.3;

int64_t envInt(const char *name, int64_t fallback) {
  const char *s = std::getenv(name);
  if (!s || !*s)
    return fallback;
  char *end = nullptr;
  long long v = std::strtoll(s, &end, 10);
  return *end == 0 && v >= 0 ? int64_t(v) : fallback;
}

using kiln::test::worstError;

struct GraphOutcome {
  std::string failure; ///< "" when every output matched
  bool fused = false;
  std::set<Op> ops;
};

/// Builds graph `seed`, runs the interpreter on randomFeeds(seed) and the LLVM executable on
/// randomFeeds(llvmFeedSeed) (the same seed, except in the test that checks the check).
GraphOutcome runOne(uint64_t seed, uint64_t llvmFeedSeed) {
  GraphOutcome out;
  Graph g = randomGraph(seed);
  for (const auto &n : g.nodes())
    if (!n->info().has(kSource))
      out.ops.insert(n->op());
  auto fail = [&](const std::string &what) {
    out.failure = "seed " + std::to_string(seed) + ": " + what + "\n" + printGraph(g);
    return out;
  };
  if (envInt("KILN_FUZZ_PRINT", 0))
    std::cout << "seed " << seed << ":\n" << printGraph(g, PrintOptions{false, 16});
  auto feeds = randomFeeds(g, seed);
  if (!feeds)
    return fail("feeds: " + feeds.message());
  auto interp = Interpreter::create(g);
  if (!interp)
    return fail("interpreter: " + interp.message());
  auto want = interp->run(*feeds);
  if (!want)
    return fail("interpreter run: " + want.message());
  codegen::CompileDumps dumps;
  codegen::CompileOptions opts;
  opts.dumpOptimizedGraph = true;
  opts.dumps = &dumps;
  auto exe = codegen::compile(g, opts);
  if (!exe)
    return fail("compile: " + exe.message());
  out.fused = dumps.optimizedGraph.find("= fused(") != std::string::npos;
  auto llvmFeeds = llvmFeedSeed == seed ? feeds : randomFeeds(g, llvmFeedSeed);
  if (!llvmFeeds)
    return fail("feeds: " + llvmFeeds.message());
  auto got = (*exe)->run(*llvmFeeds);
  if (!got)
    return fail("llvm run: " + got.message());
  if (got->size() != want->size())
    return fail("output count differs");
  for (size_t i = 0; i < want->size(); ++i) {
    const Tensor &w = (*want)[i].second, &r = (*got)[i].second;
    int64_t at = -1;
    double err = worstError(r, w, &at);
    double tol = !isFloat(w.dtype()) ? 0 : dependsOnF32(g.outputs()[i]) ? kTolF32 : kTolF64;
    if (err <= tol && (*got)[i].first == (*want)[i].first)
      continue;
    std::ostringstream os;
    os.precision(17);
    os << "output " << (*want)[i].first << " (" << dtypeName(w.dtype()) << shapeToString(w.shape())
       << " vs " << dtypeName(r.dtype()) << shapeToString(r.shape()) << "): err " << err;
    if (at >= 0)
      os << " at element " << at << ": llvm " << r.at(at) << ", interp " << w.at(at);
    return fail(os.str());
  }
  return out;
}

class GraphFuzz : public ::testing::TestWithParam<int> {};

TEST_P(GraphFuzz, RandomGraphsMatchTheInterpreter) {
  int64_t total = envInt("KILN_FUZZ_GRAPHS", kDefaultGraphs);
  uint64_t offset = uint64_t(envInt("KILN_FUZZ_SEED", 0));
  int64_t perShard = (total + kShards - 1) / kShards;
  int64_t first = GetParam() * perShard, last = std::min(total, first + perShard);
  int64_t graphs = 0, fused = 0, failures = 0;
  std::set<Op> ops;
  for (int64_t i = first; i < last; ++i) {
    GraphOutcome o = runOne(offset + uint64_t(i), offset + uint64_t(i));
    ++graphs;
    fused += o.fused;
    ops.insert(o.ops.begin(), o.ops.end());
    if (!o.failure.empty()) {
      ++failures;
      ADD_FAILURE() << o.failure;
    }
  }
  std::cout << "[ fuzz     ] shard " << GetParam() << ": " << graphs << " graphs (seeds "
            << offset + uint64_t(first) << ".." << offset + uint64_t(last) - 1 << "), " << failures
            << " mismatches, " << fused << " with a fused node, " << ops.size() << " of "
            << fuzzedOps().size() << " fuzzed ops used\n";
  if (graphs > 0) {
    EXPECT_GE(double(fused), kMinFusedFraction * double(graphs))
        << "too few graphs exercise fusion";
  }
}

INSTANTIATE_TEST_SUITE_P(Shards, GraphFuzz, ::testing::Range(0, kShards));

// The check is not vacuous: with other feeds on the LLVM side, most graphs must mismatch (all
// but those whose outputs depend on no input, or only on the sign or argmax of one).
TEST(GraphFuzzTable, DifferentFeedsAreCaught) {
  int caught = 0, graphs = 20;
  for (int i = 0; i < graphs; ++i)
    caught += !runOne(uint64_t(i), uint64_t(i) + 1000).failure.empty();
  EXPECT_GE(caught, graphs * 3 / 4);
}

TEST(GraphFuzzTable, EveryOpIsFuzzedOrSaysWhyNot) {
  std::vector<Op> fuzzed = fuzzedOps();
  EXPECT_GT(fuzzed.size(), allOps().size() - 5);
  for (Op op : allOps()) {
    bool isFuzzed = std::find(fuzzed.begin(), fuzzed.end(), op) != fuzzed.end();
    EXPECT_NE(isFuzzed, !fuzzSkipReason(op).empty()) << opName(op);
  }
}

TEST(GraphFuzzTable, GraphsAreDeterministicValidAndCoverEveryFuzzedOp) {
  std::set<Op> seen;
  FuzzOptions opts;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    Graph g = randomGraph(seed, opts);
    ASSERT_TRUE(verify(g).isOk()) << "seed " << seed << ": " << verify(g).message();
    int opNodes = 0;
    for (const auto &n : g.nodes())
      if (!n->info().has(kSource)) {
        ++opNodes;
        seen.insert(n->op());
      }
    // Helpers (abs/add for a domain, a comparison for select) may overshoot by a few.
    EXPECT_GE(opNodes, 1) << "seed " << seed;
    EXPECT_LE(opNodes, opts.maxNodes + 3) << "seed " << seed;
    EXPECT_GE(g.outputs().size(), 1u);
    EXPECT_LE(g.outputs().size(), 3u);
    if (seed < 20) {
      EXPECT_EQ(printGraph(g), printGraph(randomGraph(seed, opts))) << "seed " << seed;
    }
  }
  EXPECT_NE(printGraph(randomGraph(1)), printGraph(randomGraph(2)));
  for (Op op : fuzzedOps())
    EXPECT_TRUE(seen.count(op)) << opName(op) << " never sampled in 400 graphs";
}

} // namespace
} // namespace kiln::test
