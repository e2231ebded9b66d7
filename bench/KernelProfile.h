// Per-kernel profile of an optimised graph for sample_bench --profile: each top-level kernel node
// compiled and timed on its own, to find the kernel a slow step spends its time in (the JIT
// registers no perf map, so `perf` sees generated code only as anonymous addresses).
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Status.h"

#include <string>
#include <vector>

namespace kiln::bench {

/// One kernel node's time when run alone.
struct KernelTime {
  std::string name; ///< the node's name in the optimised graph
  std::string kind; ///< op mnemonic, or "fused:loop|matmul|conv" with its body's main op
  double ms = 0;    ///< median per run; includes copying the node's results out (outBytes)
  double flops = 0;
  int64_t outBytes = 0;
};

/// Compiles each top-level kernel node of `optimized` (the graph compile() runs: after the pass
/// pipeline) into its own executable, with its float operands as params (no per-run copy in)
/// and the rest as random inputs, and times Executable::run for about `secondsEach`. The list
/// is in graph order; the caller sorts. Errors name the node.
Expected<std::vector<KernelTime>> profileKernels(const Graph &optimized, double secondsEach);

/// Prints the `top` slowest kernels with their share of the sum, and the sum against
/// `stepMs` (the whole entry's measured time; 0 to omit).
void printKernelProfile(const std::string &sample, std::vector<KernelTime> kernels, int top,
                        double stepMs);

} // namespace kiln::bench
