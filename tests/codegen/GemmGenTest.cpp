// Tests of the generated GEMM: every shape, transpose, beta, packing and thread count against a
// naive double-accumulated reference.
#include "compiler/codegen/GemmGen.h"

#include "kiln/runtime/Parallel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace kiln::codegen {
namespace {

Jit &sharedJit() {
  static std::unique_ptr<Jit> jit = [] {
    auto j = Jit::create();
    EXPECT_TRUE(j.ok()) << j.message();
    return j.take();
  }();
  return *jit;
}

/// Runs the generated GEMM for `spec` and compares with the reference: |c - ref| must be within
/// 1e-5 of sum_k |a_ik b_kj| (+ |c0| for beta = 1), the scale of the rounding a float sum can make.
void checkGemm(const GemmSpec &spec, int threads) {
  SCOPED_TRACE(::testing::Message()
               << spec.m << "x" << spec.n << "x" << spec.k << " ta=" << spec.transposeA
               << " tb=" << spec.transposeB << " beta=" << spec.accumulate << " threads=" << threads
               << " lanes=" << spec.floatLanes << " packA=" << int(spec.packA)
               << " packB=" << int(spec.packB));
  auto kernel = compileGemm(sharedJit(), spec);
  ASSERT_TRUE(kernel.ok()) << kernel.message();
  SCOPED_TRACE(kernel->plan.str());
  const int64_t m = spec.m, n = spec.n, k = spec.k;
  std::mt19937 rng(static_cast<unsigned>(m * 131 + n * 7 + k));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n)),
      c(static_cast<size_t>(m * n));
  for (float &x : a)
    x = dist(rng);
  for (float &x : b)
    x = dist(rng);
  for (float &x : c)
    x = dist(rng);
  std::vector<float> c0 = c;
  auto av = [&](int64_t i, int64_t p) { return spec.transposeA ? a[p * m + i] : a[i * k + p]; };
  auto bv = [&](int64_t p, int64_t j) { return spec.transposeB ? b[j * k + p] : b[p * n + j]; };

  runtime::setNumThreads(threads);
  kernel->fn(a.data(), b.data(), c.data());
  runtime::setNumThreads(0);

  int64_t bad = 0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double ref = spec.accumulate ? c0[i * n + j] : 0.0, scale = std::abs(ref);
      for (int64_t p = 0; p < k; ++p) {
        ref += double(av(i, p)) * double(bv(p, j));
        scale += std::abs(double(av(i, p)) * double(bv(p, j)));
      }
      double got = c[i * n + j];
      if (!(std::abs(got - ref) <= 1e-5 * scale + 1e-30) && bad++ < 5)
        ADD_FAILURE() << "C[" << i << "," << j << "] = " << got << ", expected " << ref;
    }
  }
  EXPECT_EQ(bad, 0);
}

struct Shape {
  int64_t m, n, k;
};

const Shape kShapes[] = {{1, 1, 1},      {7, 13, 29},    {64, 784, 128}, {128, 10, 64},
                         {64, 128, 784}, {784, 128, 64}, {64, 10, 128},  {33, 47, 5},
                         {12, 32, 1},    {13, 33, 385},  {2, 1000, 3},   {300, 2, 17}};

TEST(GemmGen, AllShapesTransposesAndBetas) {
  for (const Shape &s : kShapes) {
    for (int t = 0; t < 4; ++t) {
      for (bool beta : {false, true}) {
        GemmSpec spec;
        spec.m = s.m;
        spec.n = s.n;
        spec.k = s.k;
        spec.transposeA = t & 1;
        spec.transposeB = t & 2;
        spec.accumulate = beta;
        spec.minFmasPerThread = 0; // split even small shapes, to test the threaded paths
        for (int threads : {1, 2})
          checkGemm(spec, threads);
      }
    }
  }
}

TEST(GemmGen, ForcedPackingAndNarrowVectors) {
  // Every combination of packing on the shapes whose edges and K blocks exercise it, and the
  // AVX2-width (8) and SSE-width (4) kernels that other x86-64 hosts would get.
  for (const Shape &s : {Shape{7, 13, 29}, Shape{64, 784, 128}, Shape{37, 70, 700}}) {
    for (PackMode pa : {PackMode::Always, PackMode::Never}) {
      for (PackMode pb : {PackMode::Always, PackMode::Never}) {
        for (int lanes : {0, 8, 4}) {
          GemmSpec spec;
          spec.m = s.m;
          spec.n = s.n;
          spec.k = s.k;
          spec.transposeA = lanes == 8;
          spec.transposeB = lanes != 0; // the 8x8 and 4x4 in-register transposes
          spec.accumulate = pa == PackMode::Always;
          spec.packA = pa;
          spec.packB = pb;
          spec.floatLanes = lanes;
          spec.minFmasPerThread = 0;
          if (lanes > sharedJit().target().floatLanes())
            continue;
          checkGemm(spec, 2);
        }
      }
    }
  }
}

TEST(GemmGen, LargeBlockedShape) {
  // Larger than one kc, nc and mc block: several K blocks accumulate, several N blocks per thread.
  GemmSpec spec;
  spec.m = 200;
  spec.n = 700;
  spec.k = 1100;
  auto plan = planGemm(spec, sharedJit().target());
  EXPECT_LT(plan.kc, spec.k);
  EXPECT_TRUE(plan.packA);
  EXPECT_TRUE(plan.packB);
  checkGemm(spec, 2);
  spec.transposeA = spec.transposeB = true;
  spec.accumulate = true;
  checkGemm(spec, 1);
}

TEST(GemmGen, PlanUsesTheHostVectors) {
  GemmSpec spec;
  spec.m = 1024;
  spec.n = 1024;
  spec.k = 1024;
  const HostTarget &t = sharedJit().target();
  GemmPlan plan = planGemm(spec, t);
  EXPECT_EQ(plan.lanes, t.floatLanes());
  EXPECT_EQ(plan.nr(), 2 * t.floatLanes());
  // The accumulators plus the B vectors and a broadcast fit in the register file.
  EXPECT_LE(plan.mr * plan.nv + plan.nv + 1, t.vectorRegisters());
  EXPECT_EQ(plan.nc % plan.nr(), 0);
  EXPECT_EQ(plan.mc % plan.mr, 0);
  EXPECT_TRUE(plan.splitN);
  spec.m = 4096;
  spec.n = 64;
  EXPECT_FALSE(planGemm(spec, t).splitN);
}

TEST(GemmGen, BadShapesAreStatusErrors) {
  GemmSpec spec;
  spec.m = 0;
  spec.n = 3;
  spec.k = 3;
  auto kernel = compileGemm(sharedJit(), spec);
  ASSERT_FALSE(kernel.ok());
  EXPECT_NE(kernel.message().find("0x3x3"), std::string::npos);
  spec.m = 3;
  spec.floatLanes = 5;
  EXPECT_FALSE(compileGemm(sharedJit(), spec).ok());
}

} // namespace
} // namespace kiln::codegen
