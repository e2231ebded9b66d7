// Inference convolutions reuse their reordered param filters (runtime/dnnl FilterCache) until the
// executable's state version changes: the reuse itself, at the table, and that every way params
// change (setParams, a train step) and a filter that is not a param (a fed input) still give the
// interpreter's results. Concurrent predicts over the cache: DnnlThreadsTest.
//
// Tolerance: 1e-4 for whole models against the interpreter, as DnnlSampleTest (oneDNN's summing
// order; each op agrees to ~1e-6); 1e-5 for one convolution, as DnnlOpTest. A filter reorder
// that used old weights differs by order 1 (the new weights below are the old ones negated and
// scaled, or fresh random ones).
#include "compiler/codegen/Compile.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/interp/RandomFeeds.h"
#include "compiler/ir/Parser.h"
#include "frontend/json/JsonImporter.h"
#include "kiln/runtime/Parallel.h"
#include "kiln/runtime/PrimitiveTable.h"
#include "kiln/runtime/dnnl/DnnlTable.h"
#include "tests/common/TensorCompare.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace kiln {
namespace {

using kiln::test::worstError;

constexpr double kModelTolerance = 1e-4;
constexpr double kOpTolerance = 1e-5;

std::vector<float> randomVector(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (float &x : v)
    x = u(rng);
  return v;
}

/// A 3x3 valid conv of x [2,7,7,32] (NHWC) with an HWIO filter [3,3,32,64]: oneDNN wants the
/// filter blocked (its `any` layout differs from HWIO), so the table reorders it.
runtime::dnnl::DnnlOpDesc convDesc() {
  runtime::dnnl::DnnlOpDesc d;
  d.kind = runtime::dnnl::DnnlKind::ConvForward;
  d.name = "conv";
  d.args = {runtime::dnnl::DnnlTensor{{2, 64, 5, 5}, {5 * 5 * 64, 1, 5 * 64, 64}},
            runtime::dnnl::DnnlTensor{{2, 32, 7, 7}, {7 * 7 * 32, 1, 7 * 32, 32}},
            runtime::dnnl::DnnlTensor{{64, 32, 3, 3}, {1, 64, 3 * 32 * 64, 32 * 64}}};
  d.strides = {1, 1};
  d.dilations = {0, 0};
  d.padLeft = {0, 0};
  d.padRight = {0, 0};
  d.stateWeights = true;
  return d;
}

TEST(DnnlFilterCache, AnInferenceCallReusesTheFilterUntilTheStateVersionChanges) {
  auto table = runtime::dnnl::createDnnlTable({convDesc()});
  ASSERT_TRUE(table.ok()) << table.message();
  std::vector<float> x = randomVector(2 * 7 * 7 * 32, 1), w = randomVector(3 * 3 * 32 * 64, 2);
  std::vector<float> w2 = randomVector(w.size(), 3);
  auto conv = [&](std::vector<float> &filter) {
    std::vector<float> y(2 * 5 * 5 * 64, -7);
    void *args[] = {y.data(), x.data(), filter.data()};
    kiln_dnnl_execute(table->get(), 0, args);
    EXPECT_EQ(runtime::takeKernelError(), "");
    return y;
  };
  auto maxDiff = [](const std::vector<float> &a, const std::vector<float> &b) {
    float m = 0;
    for (size_t i = 0; i < a.size(); ++i)
      m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
  };
  // Without a scope (no executable's promise) every call reorders: the reference results.
  std::vector<float> want1 = conv(w), want2 = conv(w2);
  ASSERT_GT(maxDiff(want1, want2), 0.5f);
  std::vector<float> filter = w;
  {
    runtime::StateVersionScope v1(1, /*readOnly=*/true);
    EXPECT_LE(maxDiff(conv(filter), want1), kOpTolerance);
    // Same version: the contract says the weights did not change, so the cached reorder of the
    // old weights is used (this is the hoisting; an executable never breaks the promise).
    filter = w2;
    EXPECT_LE(maxDiff(conv(filter), want1), kOpTolerance);
  }
  {
    runtime::StateVersionScope v2(2, /*readOnly=*/true); // a param write bumped the version
    EXPECT_LE(maxDiff(conv(filter), want2), kOpTolerance);
  }
  {
    // A call that may write the state (a train step) never uses nor fills the cache.
    runtime::StateVersionScope step(2, /*readOnly=*/false);
    filter = w;
    EXPECT_LE(maxDiff(conv(filter), want1), kOpTolerance);
  }
  {
    runtime::StateVersionScope v2again(2, /*readOnly=*/true);
    EXPECT_LE(maxDiff(conv(filter), want2), kOpTolerance); // still the version-2 copy
  }
  {
    runtime::StateVersionScope v3(3, /*readOnly=*/true);
    EXPECT_LE(maxDiff(conv(filter), want1), kOpTolerance);
  }
}

/// The interpreter's predict outputs with `params` (the graph's own; optimizer slots, which a
/// training executable also lists, are left out), against the executable's.
double predictError(Executable &exe, const Graph &g, const NamedTensors &params,
                    const NamedTensors &feeds) {
  auto interp = Interpreter::create(g);
  EXPECT_TRUE(interp.ok()) << interp.message();
  NamedTensors own;
  for (const auto &[name, t] : params)
    for (const auto &p : interp->params())
      if (p.first == name)
        own.emplace_back(name, t);
  EXPECT_EQ(own.size(), interp->params().size());
  Status set = interp->setParams(own);
  EXPECT_TRUE(set) << set.message();
  auto want = interp->run(feeds);
  auto got = exe.run(feeds);
  EXPECT_TRUE(want.ok() && got.ok());
  return want.ok() && got.ok() ? worstError(*got, *want) : INFINITY;
}

Expected<std::unique_ptr<Executable>> compileDnnl(const Graph &g, bool training, int threads = 0) {
  codegen::CompileOptions opts;
  opts.pipeline = codegen::kDnnlPipeline;
  opts.training = training;
  opts.threads = threads;
  return codegen::compile(g, opts);
}

TEST(DnnlFilterCache, PredictOnlyUsesNewParamsAfterSetParams) {
  auto g = importJsonFile(std::string(KILN_SOURCE_DIR) + "/samples/cnn_mnist.json");
  ASSERT_TRUE(g.ok()) << g.message();
  auto exe = compileDnnl(*g, /*training=*/false);
  ASSERT_TRUE(exe.ok()) << exe.message();
  ASSERT_EQ((*exe)->entryNames(), std::vector<std::string>{"predict"});
  NamedTensors feeds = randomFeeds(*g, 5).take();
  NamedTensors params = (*exe)->params();
  auto first = (*exe)->run(feeds), again = (*exe)->run(feeds);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(worstError(*first, *again), 0.0) << "two predicts in a row differ";
  EXPECT_LE(predictError(**exe, *g, params, feeds), kModelTolerance);
  // New conv filters: negated and doubled, so stale ones would change the logits' signs.
  for (auto &[name, t] : params)
    if (name.find("_w") != std::string::npos && t.shape().size() == 4)
      for (int64_t i = 0; i < t.numElements(); ++i)
        t.set(i, -2 * t.at(i));
  ASSERT_TRUE((*exe)->setParams(params));
  auto changed = (*exe)->run(feeds);
  ASSERT_TRUE(changed.ok());
  EXPECT_GT(worstError((*changed)[0].second, (*first)[0].second), 0.01) << "weights unused";
  EXPECT_LE(predictError(**exe, *g, params, feeds), kModelTolerance);
  auto changedAgain = (*exe)->run(feeds);
  ASSERT_TRUE(changedAgain.ok());
  EXPECT_EQ(worstError(*changedAgain, *changed), 0.0);
}

TEST(DnnlFilterCache, PredictAfterATrainStepUsesTheUpdatedFilters) {
  auto g = importJsonFile(std::string(KILN_SOURCE_DIR) + "/samples/cnn_cifar.json");
  ASSERT_TRUE(g.ok()) << g.message();
  auto exe = compileDnnl(*g, /*training=*/true);
  ASSERT_TRUE(exe.ok()) << exe.message();
  NamedTensors feeds = randomFeeds(*g, 6).take();
  auto before = (*exe)->run(feeds);
  ASSERT_TRUE(before.ok()) << before.message();
  std::string step;
  for (const std::string &e : (*exe)->entryNames())
    if (e != "predict")
      step = e;
  for (int i = 0; i < 3; ++i) {
    auto r = (*exe)->trainStep(step, randomFeeds(*g, 20 + uint64_t(i)).take());
    ASSERT_TRUE(r.ok()) << r.message();
    // The interpreter with the executable's current params predicts what the executable does.
    EXPECT_LE(predictError(**exe, *g, (*exe)->params(), feeds), kModelTolerance) << "step " << i;
  }
  auto after = (*exe)->run(feeds);
  ASSERT_TRUE(after.ok());
  EXPECT_GT(worstError((*after)[0].second, (*before)[0].second), 1e-4) << "steps changed nothing";
}

TEST(DnnlFilterCache, PredictsDuringTrainingSeeWholeStepsNeverAStaleFilter) {
  // Predicting threads run while the main thread trains: each predict must equal the predict of
  // one of the param versions the steps went through (bit for bit, same executable), never a
  // mix of new params with a filter reordered from old ones.
  constexpr int kSteps = 5, kPredictors = 3;
  auto g = importJsonFile(std::string(KILN_SOURCE_DIR) + "/samples/cnn_mnist.json");
  ASSERT_TRUE(g.ok()) << g.message();
  auto exe = compileDnnl(*g, /*training=*/true, /*threads=*/1);
  ASSERT_TRUE(exe.ok()) << exe.message();
  std::string step;
  for (const std::string &e : (*exe)->entryNames())
    if (e != "predict")
      step = e;
  NamedTensors feeds = randomFeeds(*g, 8).take();
  std::vector<NamedTensors> versions{(*exe)->params()};
  std::mutex seenMutex;
  std::vector<Tensor> seen; // logits of every concurrent predict
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> predictors;
  for (int t = 0; t < kPredictors; ++t)
    predictors.emplace_back([&] {
      do {
        auto r = (*exe)->run(feeds);
        if (!r.ok()) {
          ++failures;
          return;
        }
        std::lock_guard<std::mutex> lock(seenMutex);
        seen.push_back((*r)[0].second);
      } while (!done.load());
    });
  for (int i = 0; i < kSteps; ++i) {
    auto r = (*exe)->trainStep(step, randomFeeds(*g, 40 + uint64_t(i)).take());
    ASSERT_TRUE(r.ok()) << r.message();
    versions.push_back((*exe)->params());
  }
  done = true;
  for (std::thread &th : predictors)
    th.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<Tensor> expected;
  for (const NamedTensors &params : versions) {
    ASSERT_TRUE((*exe)->setParams(params));
    auto r = (*exe)->run(feeds);
    ASSERT_TRUE(r.ok()) << r.message();
    expected.push_back((*r)[0].second);
  }
  EXPECT_GT(worstError(expected.front(), expected.back()), 1e-4) << "the steps changed nothing";
  ASSERT_FALSE(seen.empty());
  int unmatched = 0;
  std::set<size_t> versionsSeen;
  for (const Tensor &t : seen) {
    bool match = false;
    for (size_t v = 0; v < expected.size(); ++v)
      if (worstError(t, expected[v]) == 0.0) {
        match = true;
        versionsSeen.insert(v);
      }
    unmatched += match ? 0 : 1;
  }
  EXPECT_EQ(unmatched, 0) << "of " << seen.size() << " concurrent predicts";
  // How much the run interleaved (not asserted: the scheduler decides).
  RecordProperty("predicts", int(seen.size()));
  RecordProperty("versions_seen", int(versionsSeen.size()));
}

TEST(DnnlFilterCache, AFedFilterIsReorderedOnEveryCall) {
  // Not a param: its value changes between predicts at the same state version.
  auto g = parseGraph("graph @g {\n  input %x : f32[2,7,7,32]\n  input %w : f32[3,3,32,64]\n"
                      "  %y = conv2d(%x, %w) : f32[2,5,5,64]\n  return %y\n}\n",
                      "fed_filter.kir");
  ASSERT_TRUE(g.ok()) << g.message();
  auto exe = compileDnnl(*g, /*training=*/false);
  ASSERT_TRUE(exe.ok()) << exe.message();
  auto interp = Interpreter::create(*g);
  ASSERT_TRUE(interp.ok()) << interp.message();
  NamedTensors last;
  for (uint64_t seed : {1u, 2u, 3u}) {
    NamedTensors feeds = randomFeeds(*g, seed).take();
    auto want = interp->run(feeds);
    auto got = (*exe)->run(feeds);
    ASSERT_TRUE(want.ok() && got.ok());
    EXPECT_LE(worstError(*got, *want), kOpTolerance) << "seed " << seed;
    if (!last.empty()) {
      EXPECT_GT(worstError(*got, last), 0.01);
    }
    last = std::move(*got);
  }
}

} // namespace
} // namespace kiln
