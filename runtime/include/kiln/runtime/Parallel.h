// Parallel loops and per-thread scratch for generated kernels, on the OpenMP runtime oneDNN uses.
#pragma once

#include <cstdint>
#include <span>
#include <string>

extern "C" {
/// The body of a parallel loop: processes iterations [begin, end) with the caller's context.
typedef void (*KilnParallelBody)(void *ctx, int64_t begin, int64_t end);

/// See KernelABI.def: runs body over [0, n) in static contiguous chunks of >= grain iterations.
void kiln_parallel_for(KilnParallelBody body, void *ctx, int64_t n, int64_t grain);

/// See KernelABI.def: this thread's reusable, 64-byte aligned scratch of at least `bytes` bytes.
void *kiln_thread_scratch(int64_t bytes);

/// See KernelABI.def: records a kernel's run-time fault (message with "{}" replaced by value).
void kiln_runtime_error(void *message, int64_t value);

/// See KernelABI.def: 0 if data[0..count) (f32, or f64 when isF64) is all finite; else records
/// the fault and returns 1.
int32_t kiln_check_finite(void *data, int64_t count, int32_t isF64, void *message);

/// See KernelABI.def: 1 when the running call has recorded a fault.
int32_t kiln_fault_pending();
}

namespace kiln::runtime {

/// Sets the number of threads Kiln's parallel loops (and oneDNN, which shares the OpenMP runtime)
/// use from this thread on. n <= 0 restores the OpenMP default (all cores, or OMP_NUM_THREADS).
void setNumThreads(int n);

/// The number of threads a parallel loop started from this thread would use.
int numThreads();

/// One thread's part of a parallel loop: when it started and ended (ns, monotonic) and how many
/// iterations it ran.
struct LoopThreadTiming {
  int64_t start = 0, end = 0, iterations = 0;
};
/// The straggler rule kiln_parallel_for applies to its threads (the calling thread first): true
/// if one started 0.5 ms after the caller, or took more than twice, and 0.5 ms more than, what
/// its iterations at the fastest thread's pace explain.
bool loopHadStraggler(std::span<const LoopThreadTiming> threads);

/// How many parallel loops so far found a thread held up far beyond its work (another process
/// took its core); two close together make the process run its loops on one thread for a
/// while (Parallel.cpp).
int64_t stragglerEvents();
/// True while parallel loops run on their calling thread alone after stragglers.
bool loopsSerialized();
/// Ends a serial period now and forgets earlier stragglers (tests).
void resetStragglers();

/// The first run-time fault a generated kernel recorded through kiln_runtime_error outside any
/// KernelErrorScope since the last call (the complete located message), or "" if none; clears it.
std::string takeKernelError();

/// Collects the faults of the kernels one call runs. While a scope is alive on a thread, faults
/// recorded on that thread, and on the worker threads of the parallel loops it starts, go to
/// the scope, not to the process-wide slot: concurrent runs each get their own faults.
class KernelErrorScope {
public:
  KernelErrorScope();
  ~KernelErrorScope();
  KernelErrorScope(const KernelErrorScope &) = delete;
  KernelErrorScope &operator=(const KernelErrorScope &) = delete;
  /// The first fault recorded in this scope, or ""; clears it.
  std::string take();

  struct Slot; // a message and its mutex (workers may record at the same time)

private:
  Slot *slot_;
  Slot *previous_;
};

/// One entry of the kernel ABI: a runtime function that generated code may call, by address.
struct AbiSymbol {
  const char *name;
  void *address;
};

/// Every function listed in KernelABI.def with its address, for the JIT's symbol table.
std::span<const AbiSymbol> kernelAbiSymbols();

} // namespace kiln::runtime
