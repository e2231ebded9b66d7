// gemm_bench: GFLOP/s of Kiln's generated GEMM against oneDNN's dnnl_sgemm on the same shapes.
//
// Usage: gemm_bench [--quick]. Prints a table, then one JSON line per (shape, threads).
#include "compiler/codegen/GemmGen.h"

#include "kiln/runtime/Parallel.h"

#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace kiln;
using Clock = std::chrono::steady_clock;

struct Case {
  const char *name;
  int64_t m, n, k;
  bool ta, tb;
};

// The MNIST MLP (784-128-10, batch 64): each layer's forward GEMM and its two backward GEMMs
// (dX = dY·W^T and dW = X^T·dY), and the square 1024^3 reference point.
const Case kCases[] = {
    {"square 1024^3", 1024, 1024, 1024, false, false},
    {"mlp1 fwd X*W1", 64, 128, 784, false, false},
    {"mlp1 dX dY*W1^T", 64, 784, 128, false, true},
    {"mlp1 dW X^T*dY", 784, 128, 64, true, false},
    {"mlp2 fwd H*W2", 64, 10, 128, false, false},
    {"mlp2 dH dY*W2^T", 64, 128, 10, false, true},
    {"mlp2 dW H^T*dY", 128, 10, 64, true, false},
};

/// Median seconds per call of fn, over `reps` timed batches each long enough to time reliably.
template <typename Fn> double medianSeconds(Fn &&fn, double flops, int reps) {
  for (int i = 0; i < 3; ++i)
    fn();
  // Enough calls per batch for ~2 ms, so timer resolution and call overhead do not dominate.
  int64_t batch = std::max<int64_t>(1, static_cast<int64_t>(2e-3 / (flops / 50e9)));
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    for (int64_t i = 0; i < batch; ++i)
      fn();
    times.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / batch);
  }
  std::nth_element(times.begin(), times.begin() + reps / 2, times.end());
  return times[reps / 2];
}

} // namespace

int main(int argc, char **argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  int reps = quick ? 5 : 21;
  auto jit = codegen::Jit::create();
  if (!jit.ok()) {
    std::fprintf(stderr, "%s\n", jit.message().c_str());
    return 1;
  }
  std::printf("host: %s, %d float lanes\n", (*jit)->target().cpu.c_str(),
              (*jit)->target().floatLanes());
  std::printf("%-18s %5s %5s %5s %3s %8s %9s %9s %7s %9s  %s\n", "case", "M", "N", "K", "thr",
              "jit ms", "kiln GF/s", "dnnl GF/s", "ratio", "max|diff|", "plan");
  std::vector<std::string> json;
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (const Case &c : kCases) {
    std::vector<float> a(c.m * c.k), b(c.k * c.n), ck(c.m * c.n), cd(c.m * c.n);
    for (float &x : a)
      x = dist(rng);
    for (float &x : b)
      x = dist(rng);
    codegen::GemmSpec spec;
    spec.m = c.m;
    spec.n = c.n;
    spec.k = c.k;
    spec.transposeA = c.ta;
    spec.transposeB = c.tb;
    auto t0 = Clock::now();
    auto kernel = codegen::compileGemm(**jit, spec);
    double jitMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!kernel.ok()) {
      std::fprintf(stderr, "%s\n", kernel.message().c_str());
      return 1;
    }
    std::printf("  [%s: CPU ms: emit %.1f, O3 %.1f, codegen %.1f]\n", c.name, kernel->emitMs,
                kernel->optimizeMs, kernel->codegenMs);
    double flops = 2.0 * c.m * c.n * c.k;
    for (int threads : {1, 2}) {
      runtime::setNumThreads(threads);
      auto runKiln = [&] { kernel->fn(a.data(), b.data(), ck.data()); };
      auto runDnnl = [&] {
        dnnl_sgemm(c.ta ? 'T' : 'N', c.tb ? 'T' : 'N', c.m, c.n, c.k, 1.0f, a.data(),
                   c.ta ? c.m : c.k, b.data(), c.tb ? c.k : c.n, 0.0f, cd.data(), c.n);
      };
      double tk = medianSeconds(runKiln, flops, reps);
      double td = medianSeconds(runDnnl, flops, reps);
      double diff = 0;
      for (size_t i = 0; i < ck.size(); ++i)
        diff = std::max(diff, double(std::abs(ck[i] - cd[i])));
      double gk = flops / tk / 1e9, gd = flops / td / 1e9;
      std::printf("%-18s %5ld %5ld %5ld %3d %8.1f %9.1f %9.1f %6.0f%% %9.2e  %s\n", c.name,
                  long(c.m), long(c.n), long(c.k), threads, jitMs, gk, gd, 100 * gk / gd, diff,
                  kernel->plan.str().c_str());
      char line[512];
      std::snprintf(
          line, sizeof line,
          "{\"bench\":\"gemm\",\"case\":\"%s\",\"m\":%ld,\"n\":%ld,\"k\":%ld,"
          "\"transA\":%s,\"transB\":%s,\"threads\":%d,\"jit_ms\":%.2f,"
          "\"kiln_gflops\":%.2f,\"dnnl_gflops\":%.2f,\"ratio\":%.3f,\"max_abs_diff\":%.3g}",
          c.name, long(c.m), long(c.n), long(c.k), c.ta ? "true" : "false", c.tb ? "true" : "false",
          threads, jitMs, gk, gd, gk / gd, diff);
      json.push_back(line);
    }
  }
  runtime::setNumThreads(0);
  for (const std::string &line : json)
    std::printf("%s\n", line.c_str());
  return 0;
}
