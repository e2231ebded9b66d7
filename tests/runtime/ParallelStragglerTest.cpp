// kiln_parallel_for's straggler rule (runtime/src/Parallel.cpp): two loops close together whose
// thread is held up far beyond its share of the work make the process run its loops on the
// calling thread for a while (real threads); threads that keep pace, evenly or unevenly split,
// are no stragglers (the rule on timings).
#include "kiln/runtime/Parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

/// Busy for `us` microseconds (a sleep would hand the core to another test process).
void spin(int64_t us) {
  auto until = Clock::now() + std::chrono::microseconds(us);
  while (Clock::now() < until) {
  }
}

struct Body {
  int64_t slowIteration = -1; ///< this iteration also spins slowUs
  int64_t slowUs = 0;
  int64_t iterationUs = 0; ///< every iteration spins this long
  std::mutex mutex;
  std::set<std::thread::id> threads;
};

void run(void *ctx, int64_t begin, int64_t end) {
  auto *b = static_cast<Body *>(ctx);
  {
    std::lock_guard<std::mutex> lock(b->mutex);
    b->threads.insert(std::this_thread::get_id());
  }
  for (int64_t i = begin; i < end; ++i) {
    spin(b->iterationUs);
    if (i == b->slowIteration)
      spin(b->slowUs);
  }
}

class ParallelStraggler : public ::testing::Test {
protected:
  // Two threads even on one core: the rule is about a team's threads, not about cores.
  void SetUp() override { kiln::runtime::setNumThreads(2); }
  void TearDown() override {
    kiln::runtime::resetStragglers();
    kiln::runtime::setNumThreads(0);
  }
};

TEST_F(ParallelStraggler, HeldUpThreadsSerialiseTheNextLoops) {
  kiln::runtime::resetStragglers();
  int64_t before = kiln::runtime::stragglerEvents();
  Body slow;
  slow.slowIteration = 1; // the second thread's only iteration takes 3 ms, the first's nothing
  slow.slowUs = 3000;
  kiln_parallel_for(run, &slow, 2, 1);
  EXPECT_EQ(slow.threads.size(), 2u) << "the first loop runs on the team";
  EXPECT_EQ(kiln::runtime::stragglerEvents(), before + 1);
  EXPECT_FALSE(kiln::runtime::loopsSerialized()) << "one straggler alone may be a hiccup";
  Body slowAgain;
  slowAgain.slowIteration = 1;
  slowAgain.slowUs = 3000;
  kiln_parallel_for(run, &slowAgain, 2, 1);
  EXPECT_EQ(kiln::runtime::stragglerEvents(), before + 2);
  EXPECT_TRUE(kiln::runtime::loopsSerialized()) << "a second one soon after is contention";

  Body next;
  kiln_parallel_for(run, &next, 1000, 1);
  EXPECT_EQ(next.threads.size(), 1u) << "while serialised, a loop runs on its caller alone";
  EXPECT_TRUE(next.threads.count(std::this_thread::get_id()));

  kiln::runtime::resetStragglers();
  Body again;
  again.iterationUs = 100;
  kiln_parallel_for(run, &again, 2, 1);
  EXPECT_EQ(again.threads.size(), 2u) << "after the serial period the team is used again";
}

// The rule itself, on timings (whether a real loop meets a straggler depends on what else the
// machine runs, so loops that should count none are checked here rather than on real threads).
using kiln::runtime::LoopThreadTiming;
constexpr int64_t kMs = 1'000'000;

bool straggles(std::vector<LoopThreadTiming> t) { return kiln::runtime::loopHadStraggler(t); }

TEST(LoopStragglerRule, EvenAndUnevenSplitsAreNoStragglers) {
  EXPECT_FALSE(straggles({{0, 2 * kMs, 2}, {20'000, 2 * kMs + 30'000, 2}})) << "even work";
  EXPECT_FALSE(straggles({{0, 2 * kMs, 2}, {10'000, kMs + 10'000, 1}})) << "3 iterations on 2";
  // A GEMM's narrower last panel: 7 full panels against 5 full and one quarter-wide, 1 ms each.
  EXPECT_FALSE(straggles({{0, 7 * kMs, 7}, {0, 5 * kMs + kMs / 4, 6}}));
  EXPECT_FALSE(straggles({{0, 3000, 1}, {400'000, 405'000, 1}})) << "0.4 ms late is a wake-up";
}

TEST(LoopStragglerRule, LateOrHeldUpThreadsAreStragglers) {
  EXPECT_TRUE(straggles({{0, 3000, 1}, {3 * kMs, 3 * kMs + 3000, 1}})) << "started 3 ms late";
  EXPECT_TRUE(straggles({{0, 300'000, 4}, {0, 3 * kMs + 300'000, 4}})) << "lost a timeslice";
  EXPECT_TRUE(straggles({{0, 10 * kMs, 10}, {0, 21 * kMs, 10}})) << "twice its share, and more";
  EXPECT_FALSE(straggles({{0, 10'000, 1}, {0, 300'000, 1}})) << "under 0.5 ms never counts";
}

} // namespace
