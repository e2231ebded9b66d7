// The runtime side of kiln_dnnl_execute (KernelABI.def): forwards to the executable's table,
// and the state version an executable publishes to it (StateVersionScope).
#include "kiln/runtime/PrimitiveTable.h"

#include "kiln/runtime/Parallel.h"

extern "C" void kiln_dnnl_execute(void *table, int64_t index, void *args) {
  // A null table means the code was generated without one: an internal error, reported like a
  // kernel fault rather than crashing the process.
  if (!table) {
    kiln_runtime_error(const_cast<char *>("internal error: a oneDNN node ran without its "
                                          "primitive table ({})"),
                       index);
    return;
  }
  static_cast<kiln::runtime::PrimitiveTable *>(table)->execute(index, static_cast<void **>(args));
}

namespace kiln::runtime {

namespace {
// Set by the scope on the thread that calls the entry; oneDNN nodes are called from the entry
// itself, never from a parallel loop's workers, so a worker sees none and caches nothing.
thread_local const StateVersion *tlsStateVersion = nullptr;
} // namespace

StateVersionScope::StateVersionScope(uint64_t version, bool readOnly)
    : current_{version, readOnly}, previous_(tlsStateVersion) {
  tlsStateVersion = &current_;
}

StateVersionScope::~StateVersionScope() { tlsStateVersion = previous_; }

const StateVersion *currentStateVersion() { return tlsStateVersion; }

} // namespace kiln::runtime
