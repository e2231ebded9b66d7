// Jit: ORC LLJIT for the host CPU, linking objects compiled by ModuleCompiler, and the kernel ABI.
#include "compiler/codegen/Jit.h"

#include "compiler/codegen/ModuleCompiler.h"

#include "kiln/runtime/Parallel.h"

#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <ctime>

namespace kiln::codegen {

namespace {

/// Converts an llvm::Error into a Status, consuming it.
Status toStatus(llvm::Error err, std::string_view what) {
  std::string message = llvm::toString(std::move(err));
  return Status::error("error: " + std::string(what) + ": " + message);
}

/// LLVM's target registry is global; initialise the native target once per process.
bool initNativeTarget() {
  static bool ok = [] {
    return !llvm::InitializeNativeTarget() && !llvm::InitializeNativeTargetAsmPrinter() &&
           !llvm::InitializeNativeTargetAsmParser();
  }();
  return ok;
}

} // namespace

double threadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}

struct Jit::Impl {
  std::unique_ptr<llvm::orc::LLJIT> lljit;
};

Jit::Jit(std::unique_ptr<Impl> impl, HostTarget target)
    : impl_(std::move(impl)), target_(std::move(target)) {}

Jit::~Jit() = default;

Expected<std::unique_ptr<Jit>> Jit::create() {
  if (!initNativeTarget())
    return Status::error("error: LLVM has no native target for this host");

  // The host's CPU name and features, explicitly: AVX-512 here, whatever exists elsewhere.
  HostTarget target;
  target.triple = llvm::sys::getProcessTriple();
  target.cpu = llvm::sys::getHostCPUName().str();
  std::vector<std::string> features;
  for (const auto &f : llvm::sys::getHostCPUFeatures())
    features.push_back((f.second ? "+" : "-") + f.first().str());
  std::sort(features.begin(), features.end());
  for (const std::string &f : features)
    target.features += (target.features.empty() ? "" : ",") + f;
  auto has = [&](const char *name) {
    return std::find(features.begin(), features.end(), std::string("+") + name) != features.end();
  };
  target.avx512 = has("avx512f");
  target.avx2 = has("avx2") && has("fma");

  llvm::orc::JITTargetMachineBuilder jtmb{llvm::Triple(target.triple)};
  jtmb.setCPU(target.cpu);
  jtmb.addFeatures(features);
  jtmb.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);

  auto impl = std::make_unique<Impl>();

  auto lljit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(jtmb).create();
  if (!lljit)
    return toStatus(lljit.takeError(), "cannot create the LLVM JIT");
  impl->lljit = std::move(*lljit);

  // Generated code may call exactly the functions of KernelABI.def: define them as absolute
  // symbols at the runtime's addresses instead of searching the whole process.
  llvm::orc::SymbolMap abi;
  auto &es = impl->lljit->getExecutionSession();
  for (const runtime::AbiSymbol &sym : runtime::kernelAbiSymbols())
    abi[es.intern(sym.name)] = llvm::orc::ExecutorSymbolDef(
        llvm::orc::ExecutorAddr::fromPtr(sym.address),
        llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
  if (auto err = impl->lljit->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(abi))))
    return toStatus(std::move(err), "cannot define the kernel ABI symbols");

  return std::unique_ptr<Jit>(new Jit(std::move(impl), std::move(target)));
}

std::unique_ptr<llvm::Module> Jit::newModule(std::string_view name,
                                             llvm::LLVMContext &context) const {
  auto module = std::make_unique<llvm::Module>(llvm::StringRef(name.data(), name.size()), context);
  module->setTargetTriple(target_.triple);
  module->setDataLayout(impl_->lljit->getDataLayout());
  return module;
}

void Jit::applyTargetAttributes(llvm::Module &module) const {
  codegen::applyTargetAttributes(module, target_);
}

Status Jit::addModule(std::unique_ptr<llvm::Module> module,
                      std::unique_ptr<llvm::LLVMContext> context) {
  std::vector<ModuleUnit> units(1);
  units[0].context = std::move(context);
  units[0].module = std::move(module);
  return addModules(units, /*parallel=*/false);
}

Status Jit::addModules(std::vector<ModuleUnit> &units, bool parallel) {
  ModuleCompileTimes times;
  KILN_ASSIGN(auto objects, compileModules(units, target_, parallel, &times));
  lastOptimizeMs_ = times.optimizeCpuMs;
  lastCodegenMs_ = times.codegenCpuMs;
  lastWallMs_ = times.wallMs;
  for (auto &object : objects)
    if (auto err = impl_->lljit->addObjectFile(std::move(object)))
      return toStatus(std::move(err), "cannot add compiled code to the JIT");
  return Status::ok();
}

Expected<void *> Jit::lookup(std::string_view name) {
  auto addr = impl_->lljit->lookup(llvm::StringRef(name.data(), name.size()));
  if (!addr)
    return toStatus(addr.takeError(), "JIT symbol '" + std::string(name) + "' not found");
  return addr->toPtr<void *>();
}

std::string Jit::uniqueName(std::string_view prefix) {
  return std::string(prefix) + "_" + std::to_string(nextName_++);
}

} // namespace kiln::codegen
