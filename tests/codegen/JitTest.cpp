// Tests of the ORC JIT wrapper: host detection, module addition, lookup errors and the kernel ABI.
#include "compiler/codegen/Jit.h"

#include "kiln/runtime/Parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

namespace kiln::codegen {
namespace {

TEST(Jit, DetectsTheHost) {
  auto jit = Jit::create();
  ASSERT_TRUE(jit.ok()) << jit.message();
  const HostTarget &t = (*jit)->target();
  EXPECT_FALSE(t.cpu.empty());
  EXPECT_NE(t.triple.find("x86_64"), std::string::npos);
  // x86-64 always has SSE2; wider vectors follow the detected features.
  EXPECT_GE(t.floatLanes(), 4);
  if (t.avx512) {
    EXPECT_EQ(t.floatLanes(), 16);
    EXPECT_NE(t.features.find("+avx512f"), std::string::npos);
  }
}

TEST(Jit, LookupOfAMissingSymbolIsAStatus) {
  auto jit = Jit::create();
  ASSERT_TRUE(jit.ok()) << jit.message();
  auto addr = (*jit)->lookup("kiln_no_such_kernel");
  ASSERT_FALSE(addr.ok());
  EXPECT_NE(addr.message().find("kiln_no_such_kernel"), std::string::npos);
}

TEST(Jit, UniqueNamesDiffer) {
  auto jit = Jit::create();
  ASSERT_TRUE(jit.ok()) << jit.message();
  EXPECT_NE((*jit)->uniqueName("k"), (*jit)->uniqueName("k"));
}

TEST(Jit, AbiTableListsEveryRuntimeFunction) {
  // The table is KernelABI.def, in its order: the names the JIT resolves, each with the address
  // of the runtime's definition (the .def's signatures are checked against them at compile time).
  auto symbols = runtime::kernelAbiSymbols();
  std::vector<std::string> names;
  for (const auto &s : symbols) {
    names.push_back(s.name);
    EXPECT_NE(s.address, nullptr) << s.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"kiln_parallel_for", "kiln_thread_scratch",
                                             "kiln_runtime_error", "kiln_check_finite",
                                             "kiln_fault_pending", "kiln_dnnl_execute"}));
  EXPECT_EQ(symbols[0].address, reinterpret_cast<void *>(&kiln_parallel_for));
  EXPECT_EQ(symbols[3].address, reinterpret_cast<void *>(&kiln_check_finite));
}

// The runtime's parallel loop covers [0, n) exactly once, in contiguous chunks.
TEST(Parallel, CoversTheRangeOnce) {
  for (int threads : {1, 2}) {
    runtime::setNumThreads(threads);
    EXPECT_EQ(runtime::numThreads(), threads);
    for (int64_t n : {1, 2, 3, 17, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      kiln_parallel_for(
          [](void *ctx, int64_t begin, int64_t end) {
            auto *h = static_cast<std::vector<std::atomic<int>> *>(ctx);
            for (int64_t i = begin; i < end; ++i)
              (*h)[static_cast<size_t>(i)]++;
          },
          &hits, n, 1);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "n=" << n << " i=" << i;
    }
  }
  runtime::setNumThreads(0);
}

TEST(Parallel, GrainLimitsTheChunks) {
  runtime::setNumThreads(2);
  // A straggler seen by an earlier test in this process may have serialised the loops for a
  // while (runtime/src/Parallel.cpp); this test is about the grain alone.
  runtime::resetStragglers();
  std::atomic<int> calls{0};
  kiln_parallel_for([](void *ctx, int64_t, int64_t) { ++*static_cast<std::atomic<int> *>(ctx); },
                    &calls, 10, 10);
  EXPECT_EQ(calls.load(), 1); // one chunk of >= 10 iterations: no second thread
  calls = 0;
  kiln_parallel_for([](void *ctx, int64_t, int64_t) { ++*static_cast<std::atomic<int> *>(ctx); },
                    &calls, 20, 10);
  EXPECT_EQ(calls.load(), 2);
  calls = 0; // 19 iterations cannot make two chunks of >= 10
  kiln_parallel_for([](void *ctx, int64_t, int64_t) { ++*static_cast<std::atomic<int> *>(ctx); },
                    &calls, 19, 10);
  EXPECT_EQ(calls.load(), 1);
  runtime::setNumThreads(0);
}

TEST(Parallel, ScratchIsAlignedAndGrows) {
  auto *a = static_cast<char *>(kiln_thread_scratch(100));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 64, 0u);
  std::memset(a, 1, 100);
  EXPECT_EQ(kiln_thread_scratch(50), a); // reused while big enough
  auto *b = static_cast<char *>(kiln_thread_scratch(8 << 20));
  ASSERT_NE(b, nullptr);
  std::memset(b, 2, 8 << 20); // the whole requested size is writable
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 64, 0u);
}

} // namespace
} // namespace kiln::codegen
