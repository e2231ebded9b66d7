// GemmGen: generated, cache- and register-blocked, vectorised, multithreaded f32 GEMM kernels.
#pragma once

#include "compiler/codegen/Jit.h"

#include <cstdint>
#include <string>

namespace llvm {
class Function;
} // namespace llvm

namespace kiln::codegen {

/// Whether a GEMM operand is copied into contiguous panels first.
enum class PackMode { Auto, Always, Never };

/// One row-major GEMM with static shapes: C[M,N] (+)= op(A)[M,K] · op(B)[K,N], where A is stored
/// [M,K] (or [K,M] when transposeA) and B is stored [K,N] (or [N,K] when transposeB), densely.
struct GemmSpec {
  int64_t m = 0, n = 0, k = 0;
  bool transposeA = false;
  bool transposeB = false;
  bool accumulate = false; ///< beta = 1: C += A·B; otherwise beta = 0: C = A·B
  // Knobs for tests and benchmarks; the defaults are what the compiler uses.
  PackMode packA = PackMode::Auto;
  PackMode packB = PackMode::Auto;
  int floatLanes = 0;                 ///< 0: the host's widest (16 with AVX-512); 8 or 4 to force
  int64_t minFmasPerThread = 1 << 16; ///< below this much work per thread, use fewer threads
};

/// The blocking a GEMM kernel is generated with (all static; see planGemm).
struct GemmPlan {
  int lanes = 16;   ///< floats per vector
  int mr = 12;      ///< microkernel rows (broadcast A elements)
  int nv = 2;       ///< microkernel vectors per row; NR = nv * lanes columns
  int64_t kc = 384; ///< K block: the A micro-panel (mr x kc) stays in L1
  int64_t mc = 0;   ///< M block: packed A (mc x kc)
  int64_t nc = 0;   ///< N block: packed B (kc x nc) stays in L2
  bool packA = false;
  bool packB = false;
  bool splitN = true; ///< threads split the columns (else the rows) of C
  int64_t units = 1;  ///< parallel iterations: NR-panels of N (or mr-panels of M)
  int64_t grain = 1;  ///< minimum panels per thread
  int nr() const { return nv * lanes; }
  /// A one-line summary for logs and benchmarks: "mr=12 nr=32 kc=384 mc=.. nc=.. packA packB".
  std::string str() const;
};

/// Chooses the blocking for `spec` on `target`: register tile from the vector width and register
/// count, kc/nc from L1/L2 sizes, packing when an operand is strided (transposed B) or large.
GemmPlan planGemm(const GemmSpec &spec, const HostTarget &target);

/// Bytes of the calling thread's kiln_thread_scratch that a GEMM generated with `plan` uses (its
/// packed panels, at the start of the buffer). A kernel that keeps data of its own in the same
/// scratch buffer while calling the GEMM must place it at or after this offset (rounded to 64).
int64_t gemmScratchBytes(const GemmPlan &plan);

/// The signature of a generated GEMM: C (+)= op(A)·op(B) with the shapes of its spec. Uses the
/// calling thread's kiln::runtime::numThreads() threads.
using GemmFn = void (*)(const float *a, const float *b, float *c);

/// A compiled GEMM and how it was built.
struct GemmKernel {
  GemmFn fn = nullptr;
  std::string symbol;
  GemmPlan plan;
  double emitMs = 0;     ///< building the LLVM IR (thread CPU ms, as the next two)
  double optimizeMs = 0; ///< the O3 pipeline
  double codegenMs = 0;  ///< instruction selection and linking (the first lookup)
};

/// Generates the GEMM for `spec` as LLVM IR, optimises it, JIT-compiles it and returns it. Fails
/// with a Status on invalid shapes (a dimension <= 0) or an LLVM error.
Expected<GemmKernel> compileGemm(Jit &jit, const GemmSpec &spec);

/// Emits the GEMM for `spec`, blocked for `target`, into `module` as an external function
/// `void symbol(const float *A, const float *B, float *C)` (plus internal helpers named
/// `symbol.*`), without optimising or compiling it: kernels call it from their own code. It uses
/// kiln_parallel_for (serial when called inside a parallel region) and kiln_thread_scratch.
/// Fails on the shapes compileGemm rejects.
Expected<llvm::Function *> emitGemmFunction(llvm::Module &module, const GemmSpec &spec,
                                            const HostTarget &target, const std::string &symbol);

} // namespace kiln::codegen
