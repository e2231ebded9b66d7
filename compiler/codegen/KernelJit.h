// Compiling one kernel on its own, without LLVM headers: for tests and tools outside codegen.
#pragma once

#include "compiler/codegen/Jit.h"
#include "compiler/ir/Node.h"

#include <cstdint>

namespace kiln::codegen {

/// The kernel signature of KernelEmitter.h with R results and O operands, called through an
/// array of pointers: results first, then operands.
using KernelCall = void (*)(void *const *pointers, int64_t run);

/// Emits `node`'s kernel (emitKernel) into a fresh module, plus a thunk that unpacks a pointer
/// array into the kernel's arguments, adds both to `jit` and returns the thunk. Errors name the
/// op and node (e.g. an op without an LLVM lowering yet).
Expected<KernelCall> jitKernel(Jit &jit, const Node &node, uint64_t graphSeed = 0);

} // namespace kiln::codegen
