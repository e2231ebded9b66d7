// PrimitiveTable: library primitives (oneDNN) that generated entry functions call by index.
#pragma once

#include <cstdint>

extern "C" {
/// See KernelABI.def: runs primitive `index` of `table` (a kiln::runtime::PrimitiveTable) on the
/// tensors at `args` (an array of pointers: the node's results, then its operands).
void kiln_dnnl_execute(void *table, int64_t index, void *args);
}

namespace kiln::runtime {

/// The primitives of one executable, created once when it is compiled and called by index from
/// its entry functions through kiln_dnnl_execute. The interface lives in kiln_runtime so that the
/// ABI function is always defined; implementations (kiln_runtime_dnnl) are in libraries of their
/// own, so a program that uses none of them does not link oneDNN.
class PrimitiveTable {
public:
  virtual ~PrimitiveTable() = default;
  /// Runs primitive `index` on `args` (results first, then operands, dense row-major tensors as
  /// the IR lays them out). A failure is recorded through kiln_runtime_error (the executable
  /// reports it after the run); it never throws.
  virtual void execute(int64_t index, void **args) noexcept = 0;
};

/// What the running entry call promises a primitive table about the executable's state (params,
/// optimizer slots, counters): `version` changes whenever anything may have written the state
/// (Executable bumps it on every setParams and train step), and `readOnly` says that the state
/// cannot change during this call (predict: it holds the executable's shared lock). A table may
/// then reuse what it derived from a state tensor (a reordered filter) while the version stays.
struct StateVersion {
  uint64_t version = 0;
  bool readOnly = false;
};

/// Publishes a StateVersion to the primitive tables called on this thread while it is alive
/// (Executable::call sets one around each entry). Outside any scope a table assumes nothing.
class StateVersionScope {
public:
  StateVersionScope(uint64_t version, bool readOnly);
  ~StateVersionScope();
  StateVersionScope(const StateVersionScope &) = delete;
  StateVersionScope &operator=(const StateVersionScope &) = delete;

private:
  StateVersion current_;
  const StateVersion *previous_;
};

/// The innermost StateVersionScope's promise on this thread, or null if there is none.
const StateVersion *currentStateVersion();

} // namespace kiln::runtime
