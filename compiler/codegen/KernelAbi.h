// KernelAbi: declares the runtime functions of KernelABI.def in an LLVM module (codegen-internal).
#pragma once

#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/Module.h>

#include <string_view>

namespace kiln::codegen {

/// Declares (once per module) the KernelABI.def function `name` with its ABI signature and returns
/// it. `name` must be listed in KernelABI.def; anything else is an internal error (assert).
llvm::FunctionCallee declareAbiFunction(llvm::Module &module, std::string_view name);

} // namespace kiln::codegen
