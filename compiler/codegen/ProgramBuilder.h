// ProgramBuilder: the LLVM side of compile(): kernels for the scheduled nodes and one entry
// function per program, calling them in node order with pointers into arena, state, constants.
#pragma once

#include "compiler/codegen/KernelEmitter.h"
#include "kiln/runtime/Executable.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace kiln::codegen {

/// Where every param and constant lives (arena values carry their offsets on the nodes).
struct ProgramLayout {
  std::unordered_map<const Node *, int64_t> stateOffset;    ///< params and optimizer slots
  std::unordered_map<const Node *, int64_t> constantOffset; ///< constants
};

/// The buffer slot of `v` under `layout`, named `name`; an arena value without an offset is an
/// internal error.
Expected<BufferSlot> slotOf(Value v, const ProgramLayout &layout, const std::string &name);

/// One program entry to emit: the kernel nodes it runs (in graph order) and, for step programs,
/// the state updates it applies at the end.
struct EntryPlan {
  std::string name;   ///< "predict" or the step program's name
  std::string symbol; ///< the entry function's symbol in the JIT
  bool training = false;
  std::vector<const Node *> nodes;
  std::vector<StateUpdate> updates;
};

/// Emits a kernel (emitKernel) for every node that some plan runs, and each plan's entry function
/// `void symbol(ptr arena, ptr state, ptr constants, i64 run)`. Kernels are spread over the
/// modules of `parts` (each in its own LLVMContext, to be compiled on its own thread), balanced
/// by instruction count; the entries go into parts[0] and call kernels of other parts through
/// declarations. In a non-training entry a dropout
/// calls its kernel's `<symbol>_inference` variant if the emitter made one, else copies its
/// operand (dropout is the identity at inference). `listing`, if not null, gets one line per
/// kernel: its symbol, op, node name and (for fused nodes) the body's ops.
Status buildProgram(std::vector<KernelContext> &parts, const Graph &g,
                    const ProgramLayout &layout, const std::vector<EntryPlan> &plans,
                    std::string *listing);

} // namespace kiln::codegen
