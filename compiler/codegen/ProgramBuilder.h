// ProgramBuilder: the LLVM side of compile(): kernels for the scheduled nodes and one entry
// function per program, calling them in node order with pointers into arena, state, constants.
#pragma once

#include "compiler/codegen/KernelEmitter.h"
#include "kiln/runtime/Executable.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace kiln::codegen {

/// The exported global (a pointer, null until set) through which entries find the executable's
/// oneDNN primitive table: compile() stores the table's address there after the JIT links the
/// code. Code that never gets it set (an ahead-of-time object today) reports a run-time error.
inline constexpr const char *kDnnlTableSymbol = "kiln_dnnl_table";

/// How an entry calls one oneDNN node: kiln_dnnl_execute(table, index, args), where args[i] is
/// the node's result (sources[i] == -1) or its operand sources[i] (compiler/codegen/DnnlLower.h).
struct DnnlCall {
  int64_t index = 0;
  std::vector<int> sources;
};

/// Where every param and constant lives (arena values carry their offsets on the nodes).
struct ProgramLayout {
  std::unordered_map<const Node *, int64_t> stateOffset;    ///< params and optimizer slots
  std::unordered_map<const Node *, int64_t> constantOffset; ///< constants
  /// Every oneDNN node (no kernel of its own). Entries that run one load the executable's
  /// primitive table from the global `kDnnlTableSymbol`, which the loader sets.
  std::unordered_map<const Node *, DnnlCall> dnnlCalls;
  /// --check-numerics: after each kernel, every float result is checked for NaN and Inf, and
  /// the entry stops at the first one (kiln_check_finite), naming the node that produced it.
  bool checkNumerics = false;
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
