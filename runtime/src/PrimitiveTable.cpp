// The runtime side of kiln_dnnl_execute (KernelABI.def): forwards to the executable's table.
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
