// The random-graph differential fuzzer (tests/codegen/GraphFuzz.h) under the `dnnl` pipeline:
// every op oneDNN runs is selected wherever it appears in a random graph, next to any other op,
// with whatever bias and activation follow it, and every output must match the interpreter.
// Tolerances as in tests/codegen/GraphFuzzTest.cpp (f32 1e-4: values stay within +-64, so
// reordered sums and oneDNN's own exp/tanh/erf differ by ~1e-5 at most; f64 1e-9 unless the
// value depends on f32 work; integers and bools exactly). KILN_FUZZ_SEED offsets the seeds.
#include "../codegen/GraphFuzz.h"

#include "compiler/codegen/Compile.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/interp/RandomFeeds.h"
#include "compiler/ir/Printer.h"
#include "tests/common/TensorCompare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

namespace kiln::test {
namespace {

constexpr int kGraphs = 150;
constexpr uint64_t kSeedBase = 900000; // away from GraphFuzzTest's seeds: other graphs
constexpr double kTolF32 = 1e-4;
constexpr double kTolF64 = 1e-9;
/// Fraction of graphs that must get at least one oneDNN node, or the test proves little.
constexpr double kMinDnnlFraction = 0.15;

using kiln::test::worstError;

TEST(DnnlFuzz, RandomGraphsMatchTheInterpreter) {
  uint64_t offset = 0;
  if (const char *s = std::getenv("KILN_FUZZ_SEED"))
    offset = std::strtoull(s, nullptr, 10);
  int withDnnl = 0;
  for (int k = 0; k < kGraphs; ++k) {
    uint64_t seed = kSeedBase + offset + uint64_t(k);
    Graph g = randomGraph(seed);
    auto feeds = randomFeeds(g, seed);
    ASSERT_TRUE(feeds.ok()) << "seed " << seed << ": " << feeds.message();
    auto interp = Interpreter::create(g);
    ASSERT_TRUE(interp.ok()) << "seed " << seed << ": " << interp.message();
    auto want = interp->run(*feeds);
    ASSERT_TRUE(want.ok()) << "seed " << seed << ": " << want.message();
    codegen::CompileDumps dumps;
    codegen::CompileOptions opts;
    opts.pipeline = codegen::kDnnlPipeline;
    opts.dumps = &dumps;
    opts.dumpOptimizedGraph = true;
    auto exe = codegen::compile(g, opts);
    ASSERT_TRUE(exe.ok()) << "seed " << seed << ": " << exe.message() << "\n" << printGraph(g);
    withDnnl += dumps.optimizedGraph.find("kind=\"dnnl\"") != std::string::npos;
    auto got = (*exe)->run(*feeds);
    ASSERT_TRUE(got.ok()) << "seed " << seed << ": " << got.message();
    ASSERT_EQ(got->size(), want->size());
    for (size_t i = 0; i < want->size(); ++i) {
      const Tensor &w = (*want)[i].second;
      double tol = w.dtype() == DType::F64 && !dependsOnF32(g.outputs()[i]) ? kTolF64 : kTolF32;
      ASSERT_LE(worstError((*got)[i].second, w), tol)
          << "seed " << seed << ", output " << (*want)[i].first << "\n"
          << printGraph(g) << "\n" << dumps.optimizedGraph;
    }
  }
  EXPECT_GE(double(withDnnl) / kGraphs, kMinDnnlFraction) << withDnnl << " of " << kGraphs;
  std::cout << "[ dnnl     ] " << withDnnl << " of " << kGraphs << " graphs had oneDNN nodes\n";
}

} // namespace
} // namespace kiln::test
