// ModuleCompiler: Kiln's LLVM pipeline, object emission, and compiling modules on parallel threads.
#include "compiler/codegen/ModuleCompiler.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/PassManager.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/SmallVectorMemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <chrono>
#include <thread>

namespace kiln::codegen {

Expected<std::unique_ptr<llvm::TargetMachine>> createTargetMachine(const HostTarget &target) {
  std::string error;
  const llvm::Target *t = llvm::TargetRegistry::lookupTarget(target.triple, error);
  if (!t)
    return Status::error("error: no LLVM target for '" + target.triple + "': " + error);
  // PIC code with the small code model: what the JIT linker and a later link into a program
  // (AOT objects) both accept.
  std::unique_ptr<llvm::TargetMachine> machine(t->createTargetMachine(
      target.triple, target.cpu, target.features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      llvm::CodeModel::Small, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return Status::error("error: cannot create the target machine for '" + target.triple + "'");
  return machine;
}

Expected<std::unique_ptr<llvm::Module>> newTargetModule(std::string_view name,
                                                        llvm::LLVMContext &context,
                                                        const HostTarget &target) {
  KILN_ASSIGN(std::unique_ptr<llvm::TargetMachine> machine, createTargetMachine(target));
  auto module = std::make_unique<llvm::Module>(llvm::StringRef(name.data(), name.size()), context);
  module->setTargetTriple(target.triple);
  module->setDataLayout(machine->createDataLayout());
  return module;
}

void applyTargetAttributes(llvm::Module &module, const HostTarget &target) {
  for (llvm::Function &f : module) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", target.cpu);
    if (!target.features.empty())
      f.addFnAttr("target-features", target.features);
    // Server x86 CPUs prefer 256-bit vectors by default; without these the backend would split
    // every explicit <16 x float> into two halves.
    if (target.avx512) {
      f.addFnAttr("prefer-vector-width", "512");
      f.addFnAttr("min-legal-vector-width", "512");
    }
  }
}

void optimizeModule(llvm::Module &module, llvm::TargetMachine &machine) {
  module.setDataLayout(machine.createDataLayout());
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = false; // see the header
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&machine, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(module, mam);
}

namespace {

Status emitFile(llvm::Module &module, llvm::TargetMachine &machine, llvm::CodeGenFileType type,
                llvm::SmallVectorImpl<char> &out) {
  llvm::raw_svector_ostream os(out);
  llvm::legacy::PassManager pm;
  if (machine.addPassesToEmitFile(pm, os, nullptr, type))
    return Status::error("error: the LLVM target machine cannot emit this file type");
  pm.run(module);
  return Status::ok();
}

double wallNowMs() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

} // namespace

Expected<std::unique_ptr<llvm::MemoryBuffer>> emitObject(llvm::Module &module,
                                                         llvm::TargetMachine &machine) {
  llvm::SmallVector<char, 0> object;
  KILN_TRY(emitFile(module, machine, llvm::CodeGenFileType::ObjectFile, object));
  return std::unique_ptr<llvm::MemoryBuffer>(
      std::make_unique<llvm::SmallVectorMemoryBuffer>(std::move(object), module.getName(),
                                                      /*RequiresNullTerminator=*/false));
}

Expected<std::string> printAssembly(const llvm::Module &module, const HostTarget &target) {
  KILN_ASSIGN(std::unique_ptr<llvm::TargetMachine> machine, createTargetMachine(target));
  std::unique_ptr<llvm::Module> copy = llvm::CloneModule(module);
  optimizeModule(*copy, *machine);
  llvm::SmallString<4096> text;
  KILN_TRY(emitFile(*copy, *machine, llvm::CodeGenFileType::AssemblyFile, text));
  return std::string(text.str());
}

namespace {

/// One unit start to finish, on the calling thread.
struct UnitResult {
  Status status = Status::ok();
  std::unique_ptr<llvm::MemoryBuffer> object;
  double optimizeMs = 0, codegenMs = 0;
};

void compileUnit(ModuleUnit &unit, const HostTarget &target, UnitResult &result) {
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(*unit.module, &os)) {
    result.status = Status::error("error: generated LLVM module '" + unit.module->getName().str() +
                                  "' does not verify: " + os.str());
    return;
  }
  auto machine = createTargetMachine(target);
  if (!machine.ok()) {
    result.status = machine.status();
    return;
  }
  double start = threadCpuMs();
  optimizeModule(*unit.module, **machine);
  double mid = threadCpuMs();
  auto object = emitObject(*unit.module, **machine);
  result.optimizeMs = mid - start;
  result.codegenMs = threadCpuMs() - mid;
  if (!object.ok()) {
    result.status = object.status();
    return;
  }
  result.object = object.take();
}

} // namespace

Expected<std::vector<std::unique_ptr<llvm::MemoryBuffer>>>
compileModules(std::vector<ModuleUnit> &units, const HostTarget &target, bool parallel,
               ModuleCompileTimes *times) {
  double start = wallNowMs();
  std::vector<UnitResult> results(units.size());
  if (parallel && units.size() > 1) {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < units.size(); ++i)
      threads.emplace_back(compileUnit, std::ref(units[i]), std::cref(target),
                           std::ref(results[i]));
    for (std::thread &t : threads)
      t.join();
  } else {
    for (size_t i = 0; i < units.size(); ++i)
      compileUnit(units[i], target, results[i]);
  }
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> objects;
  ModuleCompileTimes spent;
  for (UnitResult &r : results) {
    KILN_TRY(r.status);
    spent.optimizeCpuMs += r.optimizeMs;
    spent.codegenCpuMs += r.codegenMs;
    objects.push_back(std::move(r.object));
  }
  spent.wallMs = wallNowMs() - start;
  if (times)
    *times = spent;
  return objects;
}

} // namespace kiln::codegen
