// The FMA-throughput loop behind PeakFlops: independent vector FMA chains, one loop per thread.
#include "PeakFlops.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

namespace kiln::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Enough independent accumulators to cover FMA latency (4 cycles) times two pipes with room to
// spare, but few enough to stay in registers (16 ymm without AVX-512). They are twelve named
// variables, not an array: GCC at -O2 keeps an array in memory, and the loop then measures
// store-to-load forwarding instead of FMA throughput. acc = acc * a + b converges to
// b / (1 - a), so no value overflows or turns denormal however long the loop runs.
constexpr int kAccumulators = 12;
#define KILN_EACH_ACC(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11)

__attribute__((target("avx512f"))) float fmaLoopAvx512(int64_t iters) {
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-6f);
#define KILN_DECL(j) __m512 acc##j = _mm512_set1_ps(float(j));
  KILN_EACH_ACC(KILN_DECL)
#undef KILN_DECL
  for (int64_t i = 0; i < iters; ++i) {
#define KILN_FMA(j) acc##j = _mm512_fmadd_ps(acc##j, a, b);
    KILN_EACH_ACC(KILN_FMA)
#undef KILN_FMA
  }
  __m512 sum = _mm512_setzero_ps();
#define KILN_SUM(j) sum = _mm512_add_ps(sum, acc##j);
  KILN_EACH_ACC(KILN_SUM)
#undef KILN_SUM
  // Stored and summed by hand: GCC 12's _mm512_reduce_add_ps warns about its own internals.
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float s = 0;
  for (float x : lanes)
    s += x;
  return s;
}

__attribute__((target("avx2,fma"))) float fmaLoopAvx2(int64_t iters) {
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f);
#define KILN_DECL(j) __m256 acc##j = _mm256_set1_ps(float(j));
  KILN_EACH_ACC(KILN_DECL)
#undef KILN_DECL
  for (int64_t i = 0; i < iters; ++i) {
#define KILN_FMA(j) acc##j = _mm256_fmadd_ps(acc##j, a, b);
    KILN_EACH_ACC(KILN_FMA)
#undef KILN_FMA
  }
  __m256 sum = _mm256_setzero_ps();
#define KILN_SUM(j) sum = _mm256_add_ps(sum, acc##j);
  KILN_EACH_ACC(KILN_SUM)
#undef KILN_SUM
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float s = 0;
  for (float x : lanes)
    s += x;
  return s;
}

/// Without FMA the loop is a multiply and an add per element; it is counted as 2 FLOPs too.
float fmaLoopScalar(int64_t iters) {
#define KILN_DECL(j) float acc##j = float(j);
  KILN_EACH_ACC(KILN_DECL)
#undef KILN_DECL
  for (int64_t i = 0; i < iters; ++i) {
#define KILN_FMA(j) acc##j = acc##j * 0.999999f + 1e-6f;
    KILN_EACH_ACC(KILN_FMA)
#undef KILN_FMA
  }
  float s = 0;
#define KILN_SUM(j) s += acc##j;
  KILN_EACH_ACC(KILN_SUM)
#undef KILN_SUM
  return s;
}
#undef KILN_EACH_ACC

double cpuinfoGhz() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cpu MHz", 0) != 0)
      continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos)
      return 0;
    try {
      return std::stod(line.substr(colon + 1)) / 1000.0;
    } catch (...) { // a malformed line only loses the nominal figure
      return 0;
    }
  }
  return 0;
}

/// Seconds for `threads` threads each running `loop(iters)`, started together.
template <typename Loop> double timeThreads(Loop loop, int threads, int64_t iters) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> seconds(size_t(threads), 0.0);
  std::vector<float> sinks(size_t(threads), 0.0f);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire))
        std::this_thread::yield();
      auto t0 = Clock::now();
      sinks[size_t(t)] = loop(iters);
      seconds[size_t(t)] = std::chrono::duration<double>(Clock::now() - t0).count();
    });
  while (ready.load() < threads)
    std::this_thread::yield();
  go.store(true, std::memory_order_release);
  for (auto &th : pool)
    th.join();
  // The result must look used, or the loop could be dropped.
  volatile float sink = 0;
  for (float s : sinks)
    sink = sink + s;
  (void)sink;
  return *std::max_element(seconds.begin(), seconds.end());
}

} // namespace

std::string PeakFlops::str() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%s, %d lanes x %d FMA pipes (assumed), cpuinfo %.2f GHz, %d thread%s: nominal "
                "%.0f GFLOP/s, measured FMA loop %.0f GFLOP/s (implies %.2f GHz)",
                isa.c_str(), lanes, fmaPipes, cpuinfoGhz, threads, threads == 1 ? "" : "s",
                nominalGflops(), measuredGflops, impliedGhz());
  return buf;
}

PeakFlops measurePeakFlops(int threads, double seconds) {
  PeakFlops p;
  p.threads = std::max(1, threads);
  p.cpuinfoGhz = cpuinfoGhz();
  __builtin_cpu_init();
  float (*loop)(int64_t) = fmaLoopScalar;
  if (__builtin_cpu_supports("avx512f")) {
    p.isa = "avx512f";
    p.lanes = 16;
    loop = fmaLoopAvx512;
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    p.isa = "avx2+fma";
    p.lanes = 8;
    loop = fmaLoopAvx2;
  } else {
    p.isa = "scalar";
    p.lanes = 1;
    p.fmaPipes = 1;
  }
  // Many short repetitions, keeping the best: on a shared or throttled host (a VM whose other
  // tenants or a CPU quota take cycles) a sustained loop measures the share it got, while the
  // best burst of a few milliseconds measures what the core can do.
  int64_t iters = 1 << 12;
  double t = timeThreads(loop, 1, iters);
  while (t < 1e-3) {
    iters *= 4;
    t = timeThreads(loop, 1, iters);
  }
  iters = std::max<int64_t>(1, int64_t(double(iters) * 5e-3 / t)); // ~5 ms per repetition
  const int reps = std::max(5, int(seconds / 5e-3));
  double best = 0;
  for (int rep = 0; rep < reps; ++rep) {
    double s = timeThreads(loop, p.threads, iters);
    double flops = 2.0 * p.lanes * kAccumulators * double(iters) * p.threads;
    best = std::max(best, flops / s / 1e9);
  }
  p.measuredGflops = best;
  return p;
}

} // namespace kiln::bench
