// emitDescriptor: the kiln_program descriptor (kiln/runtime.h) of an ahead-of-time object, as
// LLVM constants. Internal to compiler/codegen: includes LLVM.
#pragma once

#include "compiler/codegen/ProgramBuilder.h"
#include "kiln/runtime/Executable.h"

#include <llvm/IR/Module.h>

#include <string>
#include <vector>

namespace kiln::codegen {

/// Adds to `module` (which defines every plans[i].symbol) the constant `symbol` of type
/// kiln_program describing `spec`: names, dtypes, shapes and offsets of the inputs, params and
/// each entry's results, the entry functions and their required inputs, the initial state and
/// the constants (64-byte aligned). Everything it adds but `symbol` is private. A plan whose
/// entry function is missing is an internal error.
Status emitDescriptor(llvm::Module &module, const ExecutableSpec &spec,
                      const std::vector<EntryPlan> &plans, const std::string &symbol,
                      const std::string &targetCpu);

} // namespace kiln::codegen
