// The GEMMs a sample's graph runs (matmuls, and convolutions as im2col GEMMs) and the generated
// GEMM's GFLOP/s on each shape against oneDNN's dnnl_sgemm, for sample_bench.
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::bench {

/// One row-major f32 GEMM shape, C[M,N] = op(A)[M,K] · op(B)[K,N] (codegen::GemmSpec's terms).
struct GemmShape {
  int64_t m = 0, n = 0, k = 0;
  bool transposeA = false, transposeB = false;
  std::string origin; ///< the first node it comes from and how ("conv fwd per image: c1")
  int count = 1;      ///< how many nodes of the graph run this shape
};

/// The distinct GEMM shapes of `g`'s top-level and fused-body nodes: 2-d f32 matmuls as they
/// are, NHWC groups-1 f32 convolutions as the GEMMs EmitConvGemm.cpp runs (forward and
/// backprop-input per image, backprop-filter over the whole batch). Batched matmuls and other
/// convolutions are left out (the generated kernel is not a single GEMM there).
std::vector<GemmShape> gemmShapes(const Graph &g);

/// One shape at one thread count.
struct GemmRow {
  std::string sample;
  GemmShape shape;
  int threads = 1;
  double jitMs = 0; ///< wall ms of compileGemm
  double kilnGflops = 0, dnnlGflops = 0;
  double maxAbsDiff = 0; ///< between the two results on the same random operands
};

/// Compiles the generated GEMM for each shape and times it and dnnl_sgemm at each thread
/// count (the best of batches of calls; `quick` uses fewer batches). An LLVM error is a Status.
Expected<std::vector<GemmRow>> compareGemms(const std::string &sample,
                                            const std::vector<GemmShape> &shapes,
                                            const std::vector<int> &threads, bool quick);

/// The aligned table of every row.
void printGemmTable(const std::vector<GemmRow> &rows);

/// One row as a JSON line with stable keys ({"bench":"sample_gemm", ...}).
std::string gemmJson(const GemmRow &r);

} // namespace kiln::bench
