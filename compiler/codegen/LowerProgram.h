// lowerProgram: the part of compile() the JIT and the ahead-of-time writer share, from a graph to
// optimisable LLVM modules and the runtime's description of them. Internal: includes LLVM.
#pragma once

#include "compiler/codegen/Compile.h"
#include "compiler/codegen/ModuleCompiler.h"
#include "compiler/codegen/ProgramBuilder.h"
#include "kiln/runtime/dnnl/DnnlTable.h"

#include <vector>

namespace kiln::codegen {

/// A graph lowered to LLVM: the runtime description of its buffers and entries (entry functions
/// still null) and the modules that define them, not yet optimised.
struct LoweredProgram {
  ExecutableSpec spec;            ///< spec.entries[i] is emitted from plans[i]
  std::vector<EntryPlan> plans;   ///< plans[i].symbol is the entry function's symbol
  std::vector<ModuleUnit> units;  ///< units[0] holds the entries; the others, kernels only
  /// The oneDNN primitives the entries call by index (DnnlCall); empty when there are none. The
  /// JIT creates them (runtime::dnnl::createDnnlTable) and stores the table's address in the
  /// global kDnnlTableSymbol; code that runs without it reports a run-time error.
  std::vector<runtime::dnnl::DnnlOpDesc> dnnlOps;
};

/// Everything compile() does before the JIT: the training graph (when opts.training), the pass
/// pipeline, params and constants laid out, entries planned, kernels and entries emitted for
/// `target` over up to opts.compileThreads modules, and the --emit dumps opts asks for. Fills
/// times.passesMs and times.emitMs.
Expected<LoweredProgram> lowerProgram(const Graph &source, const CompileOptions &opts,
                                      const HostTarget &target, CompileTimes &times);

} // namespace kiln::codegen
