// The runtime side of KernelABI.def: OpenMP parallel loops and per-thread scratch buffers.
#include "kiln/runtime/Parallel.h"
#include "kiln/runtime/PrimitiveTable.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>

namespace {

// The ABI's type tokens spelled as C types, so the .def list can be checked against the
// definitions below: a row whose signature disagrees with its definition fails to compile.
using Void = void;
using I32 = int32_t;
using I64 = int64_t;
using F32 = float;
using Ptr = void *;
using FnPtr = KilnParallelBody;

template <typename Ret, typename... Params> struct AbiSignature {
  using Type = Ret (*)(Params...);
};
// KILN_ABI_PARAMS puts the comma before the parameter types only when there are some.
#define KILN_ABI_PARAMS(...) __VA_OPT__(, ) __VA_ARGS__
#define KILN_ABI_FN(name, ret, params)                                                             \
  static_assert(                                                                                   \
      std::is_same_v<decltype(&::name), AbiSignature<ret KILN_ABI_PARAMS params>::Type>,           \
      #name " in KernelABI.def disagrees with its definition");
#include "kiln/runtime/KernelABI.def"

// One growing buffer per thread. Freed at thread exit; never shrunk, since kernels of one
// executable ask for the same sizes again and again.
struct ScratchDeleter {
  void operator()(void *p) const { std::free(p); }
};
thread_local std::unique_ptr<void, ScratchDeleter> tlsScratch;
thread_local int64_t tlsScratchBytes = 0;

} // namespace

struct kiln::runtime::KernelErrorScope::Slot {
  std::mutex mutex;
  std::string message;
};

namespace {
// Where this thread's kernel faults go: the innermost KernelErrorScope, set on the calling
// thread by the scope and on OpenMP workers by kiln_parallel_for; null: the process-wide slot.
thread_local kiln::runtime::KernelErrorScope::Slot *tlsErrorSlot = nullptr;
} // namespace

namespace {
// Stragglers. A parallel loop ends when its last thread does. When another process keeps a core
// busy, a team thread can lose its core for a whole scheduler timeslice (milliseconds) while its
// partner spins at the barrier, and a train step's hundreds of loops each wait that long: 2-thread
// steps ran 10-100x slower than on one thread (docs/architecture.md, "Threading"). So every loop
// times its threads; a thread that started or ran far behind the others (see hadStraggler) is a
// straggler. Two stragglers within kWindowNs (one
// alone may be a hiccup: an interrupt, a page fault) make loops run on their calling thread
// alone for kSerialNs, after which the team is tried again. On a quiet machine the skew is
// microseconds and nothing changes.
constexpr int64_t kStragglerNs = 500'000;
constexpr int64_t kWindowNs = 100'000'000;
constexpr int64_t kSerialNs = 200'000'000;
constexpr int kMaxTimedThreads = 64;
std::atomic<int64_t> serialUntilNs{0};
std::atomic<int64_t> lastStragglerNs{INT64_MIN / 2};
std::atomic<int64_t> stragglerCount{0};

int64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// One thread's part of a timed loop (its own cache line: the threads write them concurrently).
struct alignas(64) ThreadTiming : kiln::runtime::LoopThreadTiming {};

/// True if a thread of the loop was held up by something other than its work: it started
/// kStragglerNs after the calling thread (team start-up, e.g. the pool's creation on the first
/// loop, delays them all alike and does not count), or took more than twice, and kStragglerNs
/// more than, what its iterations at the fastest thread's pace explain. Iterations of one loop
/// cost about the same, but not exactly (a GEMM's last column panel is narrower), so a big
/// loop's uneven split must not count: losing a timeslice multiplies a chunk's time, an uneven
/// split adds at most about one iteration.
template <typename Timing> bool hadStraggler(const Timing *t, int threads) {
  double fastest = 0; // ns per iteration
  for (int i = 0; i < threads; ++i)
    if (t[i].iterations > 0) {
      double pace = double(t[i].end - t[i].start) / double(t[i].iterations);
      fastest = fastest == 0 ? pace : std::min(fastest, pace);
    }
  for (int i = 0; i < threads; ++i) {
    if (t[i].iterations == 0)
      continue;
    if (t[i].start - t[0].start > kStragglerNs)
      return true;
    double expected = fastest * double(t[i].iterations);
    if (double(t[i].end - t[i].start) - expected > std::max(double(kStragglerNs), expected))
      return true;
  }
  return false;
}
} // namespace

extern "C" void kiln_parallel_for(KilnParallelBody body, void *ctx, int64_t n, int64_t grain) {
  if (n <= 0)
    return;
  grain = std::max<int64_t>(grain, 1);
  // Every chunk gets at least `grain` iterations, so small loops stay on one thread.
  int64_t maxChunks = std::max<int64_t>(1, n / grain);
  // Nested parallelism would oversubscribe the cores; an inner loop runs on its caller's thread.
  int64_t threads = omp_in_parallel() ? 1 : std::min<int64_t>(omp_get_max_threads(), maxChunks);
  threads = std::min<int64_t>(threads, kMaxTimedThreads);
  if (threads <= 1 || nowNs() < serialUntilNs.load(std::memory_order_relaxed)) {
    body(ctx, 0, n);
    return;
  }
  kiln::runtime::KernelErrorScope::Slot *errors = tlsErrorSlot;
  ThreadTiming timing[kMaxTimedThreads];
  int team = 1;
#pragma omp parallel num_threads(static_cast <int>(threads))
  {
    // Workers report faults to the scope of the thread that started the loop.
    kiln::runtime::KernelErrorScope::Slot *saved = tlsErrorSlot;
    tlsErrorSlot = errors;
    // Static contiguous chunks: each thread gets one range, the first n % t ranges one longer,
    // so neighbouring iterations (which share packed panels) stay on one thread.
    int64_t t = omp_get_num_threads();
    int64_t id = omp_get_thread_num();
    int64_t base = n / t, extra = n % t;
    int64_t first = id * base + std::min(id, extra);
    int64_t last = first + base + (id < extra ? 1 : 0);
    ThreadTiming &mine = timing[id];
    mine.start = nowNs();
    if (first < last)
      body(ctx, first, last);
    mine.end = nowNs();
    mine.iterations = last - first;
    if (id == 0)
      team = int(t);
    tlsErrorSlot = saved;
  }
  if (hadStraggler(timing, team)) {
    int64_t now = nowNs();
    if (now - lastStragglerNs.exchange(now, std::memory_order_relaxed) < kWindowNs)
      serialUntilNs.store(now + kSerialNs, std::memory_order_relaxed);
    stragglerCount.fetch_add(1, std::memory_order_relaxed);
  }
}

extern "C" void *kiln_thread_scratch(int64_t bytes) {
  if (bytes <= tlsScratchBytes)
    return tlsScratch.get();
  // Round up so that small growth steps do not reallocate every time.
  int64_t size = std::max<int64_t>(((bytes + 4095) / 4096) * 4096, 64 * 1024);
  void *p = std::aligned_alloc(64, static_cast<size_t>(size));
  if (!p)
    return nullptr;
  tlsScratch.reset(p);
  tlsScratchBytes = size;
  return p;
}

namespace {
// The first recorded kernel fault; kernels run on many threads, so it is guarded.
std::mutex kernelErrorMutex;
std::string kernelError;
} // namespace

namespace {
/// Records `message` (its "{}" replaced by `detail`) as the running call's fault, unless it has
/// one already: the first fault is the one reported.
void recordFault(const char *message, const std::string &detail) {
  kiln::runtime::KernelErrorScope::Slot *slot = tlsErrorSlot;
  std::lock_guard<std::mutex> lock(slot ? slot->mutex : kernelErrorMutex);
  std::string &first = slot ? slot->message : kernelError;
  if (!first.empty())
    return;
  std::string text = message ? message : "error: run-time fault in a generated kernel";
  size_t at = text.find("{}");
  if (at != std::string::npos)
    text.replace(at, 2, detail);
  first = std::move(text);
}

template <typename T> int64_t firstNonFinite(const T *p, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i]))
      return i;
  return -1;
}
} // namespace

extern "C" void kiln_runtime_error(void *message, int64_t value) {
  // The ABI passes every data pointer as Ptr (void *); this one is a C string.
  recordFault(static_cast<const char *>(message), std::to_string(value));
}

extern "C" int32_t kiln_check_finite(void *data, int64_t count, int32_t isF64, void *message) {
  int64_t at = isF64 ? firstNonFinite(static_cast<const double *>(data), count)
                     : firstNonFinite(static_cast<const float *>(data), count);
  if (at < 0)
    return 0;
  double v = isF64 ? static_cast<const double *>(data)[at] : static_cast<const float *>(data)[at];
  std::string what = std::isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
  recordFault(static_cast<const char *>(message), what + " at element " + std::to_string(at));
  return 1;
}

extern "C" int32_t kiln_fault_pending() {
  kiln::runtime::KernelErrorScope::Slot *slot = tlsErrorSlot;
  std::lock_guard<std::mutex> lock(slot ? slot->mutex : kernelErrorMutex);
  return (slot ? slot->message : kernelError).empty() ? 0 : 1;
}

namespace kiln::runtime {

void setNumThreads(int n) {
  if (n <= 0)
    n = omp_get_num_procs();
  omp_set_num_threads(n);
}

int numThreads() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

int64_t stragglerEvents() { return stragglerCount.load(std::memory_order_relaxed); }

bool loopHadStraggler(std::span<const LoopThreadTiming> threads) {
  return !threads.empty() && hadStraggler(threads.data(), int(threads.size()));
}

bool loopsSerialized() { return nowNs() < serialUntilNs.load(std::memory_order_relaxed); }

void resetStragglers() {
  serialUntilNs.store(0, std::memory_order_relaxed);
  lastStragglerNs.store(INT64_MIN / 2, std::memory_order_relaxed);
}

std::string takeKernelError() {
  std::lock_guard<std::mutex> lock(kernelErrorMutex);
  return std::exchange(kernelError, std::string());
}

KernelErrorScope::KernelErrorScope() : slot_(new Slot), previous_(tlsErrorSlot) {
  tlsErrorSlot = slot_;
}

KernelErrorScope::~KernelErrorScope() {
  tlsErrorSlot = previous_;
  delete slot_;
}

std::string KernelErrorScope::take() {
  std::lock_guard<std::mutex> lock(slot_->mutex);
  return std::exchange(slot_->message, std::string());
}

std::span<const AbiSymbol> kernelAbiSymbols() {
  static const AbiSymbol symbols[] = {
#define KILN_ABI_FN(name, ret, params) {#name, reinterpret_cast<void *>(&::name)},
#include "kiln/runtime/KernelABI.def"
  };
  return symbols;
}

} // namespace kiln::runtime
