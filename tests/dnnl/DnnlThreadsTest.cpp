// The executable's threading contract (Executable.h) holds with oneDNN nodes: predict from many
// threads at once gives exactly the single-threaded results. The primitive table makes every
// buffer a call writes (pooling workspace, scratchpad) per call, and shares a param filter's
// reordered copy only within one state version (FilterCache); a buffer shared wrongly would mix
// the callers' data and show here as wrong outputs.
#include "compiler/codegen/Compile.h"
#include "compiler/interp/RandomFeeds.h"
#include "frontend/json/JsonImporter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

namespace kiln {
namespace {

TEST(DnnlThreads, PredictFromManyThreadsAtOnceMatchesOneThread) {
  constexpr int kThreads = 6, kRounds = 10;
  auto g = importJsonFile(std::string(KILN_SOURCE_DIR) + "/samples/cnn_mnist.json");
  ASSERT_TRUE(g.ok()) << g.message();
  codegen::CompileOptions opts;
  opts.pipeline = codegen::kDnnlPipeline;
  opts.threads = 1;
  auto exe = codegen::compile(*g, opts);
  ASSERT_TRUE(exe.ok()) << exe.message();
  // Different feeds per caller, so that mixed-up buffers give a different answer.
  std::vector<NamedTensors> feeds;
  std::vector<NamedTensors> want;
  for (int t = 0; t < kThreads; ++t) {
    feeds.push_back(randomFeeds(*g, 50 + uint64_t(t)).take());
    auto r = (*exe)->run(feeds.back());
    ASSERT_TRUE(r.ok()) << r.message();
    want.push_back(std::move(*r));
  }
  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        auto r = (*exe)->run(feeds[size_t(t)]);
        if (!r.ok()) {
          ++failures;
          return;
        }
        for (size_t i = 0; i < r->size(); ++i) {
          const Tensor &a = (*r)[i].second, &b = want[size_t(t)][i].second;
          if (a.byteSize() != b.byteSize() || std::memcmp(a.raw(), b.raw(), a.byteSize()) != 0)
            ++mismatches;
        }
      }
    });
  for (std::thread &th : threads)
    th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

} // namespace
} // namespace kiln
