// One sample's measurements for sample_bench: compile (inference and training), memory plan,
// FLOPs per entry, and timed predict and train steps at each thread count.
#pragma once

#include "GemmCompare.h"
#include "PeakFlops.h"

#include "compiler/codegen/Compile.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kiln::bench {

/// Wall time of one codegen::compile and its thread-CPU phase split.
struct CompileInfo {
  double wallMs = 0;
  codegen::CompileTimes times;
};

/// The memory plan of the graph an executable was compiled from.
struct PlanBytes {
  int64_t arenaBytes = -1;
  int64_t peakLiveBytes = -1; ///< the plan's lower bound (largest set of live values)
};

/// Per-call times of one entry over `runs` timed calls after warm-up.
struct Timing {
  double medianMs = 0;
  double minMs = 0;
  int64_t runs = 0;
  /// Cores other processes kept busy on average while the timed calls ran (/proc/stat minus this
  /// process; -1 if unreadable). On a shared 2-core host anything above ~0.1 means the 2-thread
  /// numbers are not the machine's: OpenMP threads wait at barriers for a descheduled peer.
  double otherCores = -1;
};

/// One (sample, entry, threads) measurement: a table row and a JSON line.
struct Row {
  std::string sample;
  std::string workload; ///< the seed workload (../shared/bench/README.md) it stands for, or ""
  std::string entry;    ///< "predict" or a train step's name
  std::string backend = "llvm"; ///< llvm, dnnl or auto: the pass pipeline it was compiled with
  int threads = 1;
  CompileInfo compile; ///< of the executable the entry ran in
  PlanBytes plan;
  int64_t stateBytes = 0;
  Timing timing;
  double flops = 0;       ///< flopCount of the entry on the optimised graph
  double peakGflops = 0;  ///< measured FMA peak at this thread count
  double gflops() const { return timing.medianMs > 0 ? flops / (timing.medianMs * 1e6) : 0; }
  double peakFraction() const { return peakGflops > 0 ? gflops() / peakGflops : 0; }
};

/// Everything measured for one sample file.
struct SampleResult {
  std::string name;                 ///< the file's stem ("cnn_mnist")
  std::vector<Row> rows;            ///< predict, then each step, for each thread count
  std::vector<std::string> notes;   ///< compile splits and plan summaries, for the log
  std::vector<GemmShape> gemmShapes; ///< the GEMMs of its (training) graph, for compareGemms
  /// The optimised training graph (the inference one without train steps), for profileKernels.
  Graph optimized;
  /// 1-thread median ms of every step entry together (of predict without train steps), the
  /// time the kernels of `optimized` add up to; 0 if not measured at 1 thread.
  double entriesMs1 = 0;
};

/// Imports `file`, compiles it inference-only and (if it has train steps) for training, runs
/// the pass pipeline again on the same graph to read the plan and count FLOPs, and times
/// predict and each step with random feeds for about `seconds` each at every thread count.
/// Errors (import, compile, a failed run) name the sample.
/// `backend` (llvm, dnnl, auto) picks the pass pipeline (codegen::kLlvmPipeline, ...).
Expected<SampleResult> benchSample(const std::string &file, const std::vector<int> &threads,
                                   double seconds, const std::map<int, PeakFlops> &peaks,
                                   const std::string &backend = "llvm");

/// The row as one JSON line with stable keys, for scripts and the PyTorch comparison (issue 8):
/// {"bench":"sample", "sample", "workload" (seed workload name or null), "backend" (llvm|dnnl|auto),
///  "entry", "threads", "compile_ms" (wall), "compile_{passes,emit,o3,codegen}_ms" (thread CPU),
///  "step_ms" (median), "step_min_ms", "step_us" (median), "runs", "flops" (per call),
///  "gflops" (flops / median), "peak_gflops" (measured FMA loop, same threads),
///  "peak_fraction", "arena_bytes", "peak_live_bytes", "state_bytes", "host_other_cores"}.
std::string rowJson(const Row &r);

} // namespace kiln::bench
