// AssemblyDump: the host assembly of a module, optimised as the JIT would (`--emit=asm`).
#pragma once

#include "compiler/codegen/Jit.h"

#include <llvm/IR/Module.h>

#include <string>

namespace kiln::codegen {

/// Optimises a copy of `module` at O3 for `target` and returns its assembly text. `module` is
/// not changed, so it can still be handed to the JIT afterwards.
Expected<std::string> printAssembly(const llvm::Module &module, const HostTarget &target);

} // namespace kiln::codegen
