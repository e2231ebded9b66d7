// ModuleCompiler: the one optimisation pipeline and the machine-code step every LLVM module goes
// through, whether the JIT loads the result, `--emit=asm` prints it or (later) an AOT object
// file keeps it. Internal to compiler/codegen: includes LLVM.
#pragma once

#include "compiler/codegen/Jit.h"

#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::codegen {

/// A target machine for `target` at the JIT's code-generation level. Each thread that compiles
/// needs its own: a TargetMachine is not safe to share between concurrent code generators.
Expected<std::unique_ptr<llvm::TargetMachine>> createTargetMachine(const HostTarget &target);

/// A fresh module for `target` (triple and data layout set), as Jit::newModule makes for the
/// host; the ahead-of-time writer uses it for CPUs other than the host's.
Expected<std::unique_ptr<llvm::Module>> newTargetModule(std::string_view name,
                                                        llvm::LLVMContext &context,
                                                        const HostTarget &target);

/// Sets "target-cpu", "target-features" and (with AVX-512) the 512-bit vector width attributes on
/// every function definition in `module`, so explicit wide vectors are not split by the backend.
void applyTargetAttributes(llvm::Module &module, const HostTarget &target);

/// Runs Kiln's pipeline on `module`: LLVM's O3 with the target's cost model, except the generic
/// loop unroller. Kiln's hot loops (the GEMM microkernels, the vector bodies of elementwise
/// loops) are unrolled when they are emitted; on top of that the unroller roughly doubled the
/// compile time and made no step faster (the MNIST CNN got slower: measured in
/// docs/architecture.md, "Compile time").
void optimizeModule(llvm::Module &module, llvm::TargetMachine &machine);

/// Machine code for an optimised module, as an in-memory relocatable object file.
Expected<std::unique_ptr<llvm::MemoryBuffer>> emitObject(llvm::Module &module,
                                                         llvm::TargetMachine &machine);

/// Optimises a copy of `module` and returns its host assembly; `module` is unchanged.
Expected<std::string> printAssembly(const llvm::Module &module, const HostTarget &target);

/// One module to compile, with the context it lives in (contexts are per thread in LLVM).
struct ModuleUnit {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
};

/// What compiling a batch of modules cost.
struct ModuleCompileTimes {
  double optimizeCpuMs = 0; ///< summed over threads
  double codegenCpuMs = 0;  ///< summed over threads
  double wallMs = 0;
};

/// Verifies, optimises and compiles every unit into an object file, one thread per unit when
/// `parallel` (each with its own target machine). Objects come back in unit order. The first
/// failure (a module that does not verify, a target without an object emitter) is returned.
Expected<std::vector<std::unique_ptr<llvm::MemoryBuffer>>>
compileModules(std::vector<ModuleUnit> &units, const HostTarget &target, bool parallel,
               ModuleCompileTimes *times);

} // namespace kiln::codegen
