// AssemblyDump: O3 on a clone of the module, then the TargetMachine's assembly printer.
#include "compiler/codegen/AssemblyDump.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/TargetParser/Triple.h>
#include <llvm/Transforms/Utils/Cloning.h>

namespace kiln::codegen {

Expected<std::string> printAssembly(const llvm::Module &module, const HostTarget &target) {
  std::string error;
  const llvm::Target *t = llvm::TargetRegistry::lookupTarget(target.triple, error);
  if (!t)
    return Status::error("error: no LLVM target for '" + target.triple + "': " + error);
  std::unique_ptr<llvm::TargetMachine> machine(
      t->createTargetMachine(target.triple, target.cpu, target.features, llvm::TargetOptions(),
                             std::nullopt, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return Status::error("error: cannot create the target machine for '" + target.triple + "'");

  std::unique_ptr<llvm::Module> copy = llvm::CloneModule(module);
  copy->setDataLayout(machine->createDataLayout());
  {
    // The same O3 pipeline the JIT runs (Jit::addModule).
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(machine.get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
    mpm.run(*copy, mam);
  }
  llvm::SmallString<4096> text;
  llvm::raw_svector_ostream os(text);
  llvm::legacy::PassManager pm;
  if (machine->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::AssemblyFile))
    return Status::error("error: the target machine cannot emit assembly");
  pm.run(*copy);
  return std::string(text.str());
}

} // namespace kiln::codegen
