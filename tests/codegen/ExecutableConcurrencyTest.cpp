// The executable's threading contract (Executable.h; docs/architecture.md, "Threading"): predict
// from many threads at once gives exactly the single-threaded results; train steps are
// exclusive; a kernel fault is reported to the call that caused it and to no other. These tests
// also run under ThreadSanitizer in `make sanitize` (their names contain "Concurrency").
#include "compiler/codegen/Compile.h"
#include "compiler/interp/RandomFeeds.h"
#include "frontend/json/JsonImporter.h"
#include "tests/common/TensorCompare.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

namespace kiln {
namespace {

constexpr int kThreads = 8;
constexpr int kRounds = 25;

std::unique_ptr<Executable> compileSample(const std::string &name) {
  auto g = importJsonFile(std::string(KILN_SOURCE_DIR) + "/samples/" + name + ".json");
  EXPECT_TRUE(g.ok()) << g.message();
  if (!g.ok())
    return nullptr;
  codegen::CompileOptions opts;
  opts.threads = 2; // each call's parallel loops use 2 threads: 8 callers oversubscribe on purpose
  auto exe = codegen::compile(*g, opts);
  EXPECT_TRUE(exe.ok()) << exe.message();
  return exe.ok() ? std::move(*exe) : nullptr;
}

using kiln::test::sameBits;

TEST(ExecutableConcurrency, PredictFromEightThreadsMatchesSequentialBitForBit) {
  auto exe = compileSample("cnn_mnist");
  ASSERT_NE(exe, nullptr);
  auto g = importJsonFile(std::string(KILN_SOURCE_DIR) + "/samples/cnn_mnist.json");
  ASSERT_TRUE(g.ok());
  // A different batch per thread, so that a call reading another call's arena shows.
  std::vector<NamedTensors> feeds;
  std::vector<NamedTensors> want;
  for (int t = 0; t < kThreads; ++t) {
    feeds.push_back(randomFeeds(*g, 100 + uint64_t(t)).take());
    auto r = exe->run(feeds.back());
    ASSERT_TRUE(r.ok()) << r.message();
    want.push_back(std::move(*r));
  }
  ASSERT_FALSE(sameBits(want[0], want[1])) << "the feeds must give different outputs";
  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        auto got = exe->run(feeds[size_t(t)]);
        if (!got.ok())
          ++failures;
        else if (!sameBits(*got, want[size_t(t)]))
          ++mismatches;
      }
    });
  for (auto &th : threads)
    th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(ExecutableConcurrency, TrainStepsAreExclusiveWhilePredictsRun) {
  auto exe = compileSample("mnist_mlp");
  auto reference = compileSample("mnist_mlp");
  ASSERT_NE(exe, nullptr);
  ASSERT_NE(reference, nullptr);
  auto g = importJsonFile(std::string(KILN_SOURCE_DIR) + "/samples/mnist_mlp.json");
  ASSERT_TRUE(g.ok());
  NamedTensors feeds = randomFeeds(*g, 7).take();
  constexpr int kSteps = 30;
  // Sequentially: the params after kSteps steps.
  for (int s = 0; s < kSteps; ++s)
    ASSERT_TRUE(reference->trainStep("train", feeds).ok());
  // Concurrently: one thread trains while others predict; every predict must see whole steps,
  // and the training must end exactly where the sequential one did (predicts do not touch the
  // state, and the run counter only positions random ops, which this model has none of).
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < kThreads - 1; ++t)
    readers.emplace_back([&] {
      while (!done)
        if (!exe->run(feeds).ok())
          ++failures;
    });
  for (int s = 0; s < kSteps; ++s)
    if (!exe->trainStep("train", feeds).ok())
      ++failures;
  done = true;
  for (auto &th : readers)
    th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(sameBits(exe->params(), reference->params()));
}

// Gather with an index input: thread 0 feeds an index out of range, the others valid ones. The
// fault must reach thread 0's calls, every time, and never another thread's.
TEST(ExecutableConcurrency, KernelFaultsReachOnlyTheCallThatCausedThem) {
  const char *model = R"({
    "format": "kiln-graph", "version": 1, "name": "lookup",
    "inputs": [{"name": "ids", "dtype": "i32", "shape": [4096]}],
    "params": [{"name": "table", "shape": [100, 16], "init": "uniform"}],
    "nodes": [{"name": "rows", "op": "gather", "inputs": ["table", "ids"], "attrs": {"axis": 0}}],
    "outputs": ["rows"]
  })";
  auto g = importJsonText(model, "lookup.json", ".");
  ASSERT_TRUE(g.ok()) << g.message();
  codegen::CompileOptions opts;
  opts.threads = 2;
  auto exe = codegen::compile(*g, opts);
  ASSERT_TRUE(exe.ok()) << exe.message();
  auto feed = [](int32_t bad) {
    Tensor ids(DType::I32, {4096});
    for (int64_t i = 0; i < ids.numElements(); ++i)
      ids.set(i, double(i % 100));
    if (bad)
      ids.set(4000, double(bad)); // late in the loop: on the second worker thread
    return NamedTensors{{"ids", std::move(ids)}};
  };
  std::atomic<int> missed{0}, stray{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      NamedTensors f = feed(t == 0 ? 1000 : 0);
      for (int r = 0; r < kRounds * 4; ++r) {
        auto got = (*exe)->run(f);
        if (t == 0 && (got.ok() || got.message().find("index 1000") == std::string::npos))
          ++missed;
        if (t != 0 && !got.ok())
          ++stray;
      }
    });
  for (auto &th : threads)
    th.join();
  EXPECT_EQ(missed.load(), 0);
  EXPECT_EQ(stray.load(), 0);
}

} // namespace
} // namespace kiln
