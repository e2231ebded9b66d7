// Executable: a compiled graph ready to run (arena, persistent state, constants, entry functions).
#pragma once

#include "kiln/runtime/Safetensors.h"
#include "kiln/runtime/Status.h"
#include "kiln/runtime/Tensor.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace kiln {

/// The signature of every generated program entry ("predict", each step program): it reads and
/// writes the arena, reads (and, for train steps, updates) the state, reads the constants.
using EntryFunction = void (*)(char *arena, char *state, const char *constants, int64_t run);

/// Which of an executable's buffers a tensor lives in.
enum class BufferRegion { Arena, State, Constants };

/// One tensor at a fixed place in one of the executable's buffers.
struct BufferSlot {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  BufferRegion region = BufferRegion::Arena;
  int64_t offset = 0;
  /// Size in bytes of the dense row-major tensor.
  size_t bytes() const;
};

/// One program entry: its function, the inputs it reads (which must be fed) and the tensors it
/// returns, by name, in order (predict: the graph's outputs; a step: loss first, then metrics).
struct EntryPoint {
  std::string name;
  EntryFunction function = nullptr;
  std::vector<std::string> requiredInputs;
  std::vector<BufferSlot> results;
};

/// Everything the compiler hands to the runtime to make an Executable.
/// Where the graph declares a value ("file:line:col" and the JSON path; either may be empty).
struct SourceRef {
  std::string loc, path;
};

struct ExecutableSpec {
  std::string graphName;
  /// Declarations of the inputs by name, so that a bad feed is reported where the input is
  /// declared, as the interpreter does.
  std::unordered_map<std::string, SourceRef> inputSources;
  int64_t arenaBytes = 0;
  std::vector<BufferSlot> inputs;  ///< every graph input (arena; offset -1 if never read)
  std::vector<BufferSlot> params;  ///< every param and optimizer slot (state), in graph order
  std::vector<uint8_t> initialState;
  std::vector<uint8_t> constants;
  std::vector<EntryPoint> entries; ///< "predict" and each step program
  int threads = 0;                 ///< threads of the parallel loops; <= 0: OpenMP's default
  std::shared_ptr<void> keepAlive; ///< owns the code (the JIT) the entry functions live in
};

/// A compiled graph: owns the 64-byte aligned arenas, the persistent state (params, optimizer
/// slots, counters in one buffer), the constants and the run counter. Its API mirrors the
/// interpreter's (compiler/interp/Interpreter.h), so tests can run both on the same feeds.
///
/// Threading contract (docs/architecture.md, "Threading"): `run` (inference) may be called from many threads
/// at once; each call works in an arena of its own (kept in a pool for reuse) and reads the
/// state. `trainStep`, `setParams` and `setRunCount` are exclusive: they wait for running calls
/// and block new ones while they run, so a predict sees the params before or after a step,
/// never half of it. A kernel fault is reported to the call that caused it.
class Executable {
public:
  /// Takes the spec's buffers and code; checks that every slot fits its buffer.
  static Expected<std::unique_ptr<Executable>> create(ExecutableSpec spec);
  ~Executable();
  Executable(const Executable &) = delete;
  Executable &operator=(const Executable &) = delete;

  /// Inference: every input must be fed (dtype and shape checked, errors name the input);
  /// returns every graph output by name in output order. Dropout is identity.
  Expected<NamedTensors> run(const NamedTensors &feeds);
  /// Runs one step program: returns loss then metrics by name and applies every state update.
  /// Only the inputs the step reads must be fed; on a feed error nothing changes.
  Expected<NamedTensors> trainStep(const std::string &step, const NamedTensors &feeds);

  /// Current values of every param (and optimizer slot), in graph order.
  const NamedTensors params() const;
  /// Replaces params by name; an unknown name or a wrong dtype or shape is an error (and then
  /// nothing is changed).
  Status setParams(const NamedTensors &values);
  /// Number of run/trainStep calls so far: the stream counter of the next run's random ops.
  uint64_t runCount() const { return runCount_.load(); }
  /// Sets the run counter, as when resuming from a checkpoint (Checkpoint.h).
  void setRunCount(uint64_t count);

  const std::string &graphName() const { return spec_.graphName; }
  /// Names of the entries ("predict" first when present).
  std::vector<std::string> entryNames() const;
  /// The entry called `name`, or null.
  const EntryPoint *findEntry(const std::string &name) const;
  /// Every graph input (arena slots) and every param (state slots), in graph order.
  const std::vector<BufferSlot> &inputs() const { return spec_.inputs; }
  const std::vector<BufferSlot> &paramSlots() const { return spec_.params; }
  int64_t arenaBytes() const { return spec_.arenaBytes; }
  int64_t stateBytes() const { return int64_t(spec_.initialState.size()); }

private:
  explicit Executable(ExecutableSpec spec);
  Expected<NamedTensors> call(const EntryPoint &entry, const NamedTensors &feeds,
                              bool requireAll);
  char *regionBase(BufferRegion r, char *arena);

  ExecutableSpec spec_;
  struct AlignedFree {
    void operator()(char *p) const;
  };
  using Buffer = std::unique_ptr<char, AlignedFree>;
  /// An arena from the pool, or a new one; returned with releaseArena.
  Buffer acquireArena();
  void releaseArena(Buffer arena);

  Buffer state_, constants_;
  std::mutex arenaMutex_;
  std::vector<Buffer> freeArenas_;        ///< guarded by arenaMutex_
  mutable std::shared_mutex stateMutex_;  ///< shared: run, params; exclusive: steps, setters
  /// Taken briefly before stateMutex_ and held by a writer while it waits, so that a stream of
  /// predicts cannot starve a train step (glibc's rwlock prefers readers).
  mutable std::mutex turnstile_;
  std::shared_lock<std::shared_mutex> readLock() const;
  std::unique_lock<std::shared_mutex> writeLock() const;
  std::atomic<uint64_t> runCount_{0};
  /// Bumped (under the exclusive lock) by every setParams and train step, and published to the
  /// primitive tables during each call (PrimitiveTable.h), so that they may reuse what they
  /// derived from params, e.g. oneDNN's reordered filters, until it changes.
  uint64_t stateVersion_ = 0;
};

} // namespace kiln
