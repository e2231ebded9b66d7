// kiln_parallel_for's straggler rule (runtime/src/Parallel.cpp): two loops close together whose
// thread is held up far beyond its share of the work make the process run its loops on the
// calling thread for a while; loops whose threads keep pace, evenly or unevenly split, count no
// straggler.
#include "kiln/runtime/Parallel.h"

#include <gtest/gtest.h>

#include <omp.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

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

/// Runs `body` over n iterations on 2 threads from a clean state; true if it raised no
/// straggler event. Retried, since another process may really hold up a thread here.
bool cleanRun(int64_t n, int64_t iterationUs) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    kiln::runtime::resetStragglers();
    int64_t before = kiln::runtime::stragglerEvents();
    Body b;
    b.iterationUs = iterationUs;
    kiln_parallel_for(run, &b, n, 1);
    if (kiln::runtime::stragglerEvents() == before && !kiln::runtime::loopsSerialized())
      return true;
  }
  return false;
}

class ParallelStraggler : public ::testing::Test {
protected:
  void SetUp() override {
    if (omp_get_num_procs() < 2)
      GTEST_SKIP() << "needs two cores";
    kiln::runtime::setNumThreads(2);
  }
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

TEST_F(ParallelStraggler, EvenWorkIsNoStraggler) {
  EXPECT_TRUE(cleanRun(4, 1000)) << "two threads of 2 ms each";
}

TEST_F(ParallelStraggler, UnevenSplitIsNoStraggler) {
  // 3 iterations of 1 ms on 2 threads: one thread works 2 ms, the other 1 ms; the 1 ms skew is
  // the split, not a held-up thread.
  EXPECT_TRUE(cleanRun(3, 1000));
}

} // namespace
