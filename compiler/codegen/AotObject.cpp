// compileAot: the JIT's modules, optimised the same way, linked into one object with only the
// kiln_program descriptor exported.
//
// Why link optimised modules instead of writing one object per partition: a program that links
// two models must see no clash between their kernels, so every kernel must be a local symbol.
// Separate objects can only refer to each other through global symbols, which would need a
// system linker (`ld -r`) and `objcopy` to localise afterwards. Linking the modules in LLVM keeps
// kilnc free of external tools: each partition is still optimised on its own thread exactly as
// the JIT does it (same modules, same pipeline, so the same code), then the optimised modules
// are moved into one context (a bitcode round trip), linked, internalised, and given to the
// code generator once. Machine code for the whole program is then one thread's work, which an
// ahead-of-time build can afford.
#include "compiler/codegen/Aot.h"

#include "compiler/codegen/AotDescriptor.h"
#include "compiler/codegen/LowerProgram.h"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Linker/Linker.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Object/ObjectFile.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

namespace kiln::codegen {

namespace {

double wallNowMs() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

/// The target for `cpu`: the JIT's own host description for "native", otherwise the CPU's
/// features as LLVM's x86 backend defines them (no host detection: the object may run elsewhere).
Expected<HostTarget> aotTarget(const std::string &cpu) {
  if (cpu == "native") {
    KILN_ASSIGN(std::unique_ptr<Jit> jit, Jit::create());
    return jit->target();
  }
  if (llvm::InitializeNativeTarget() || llvm::InitializeNativeTargetAsmPrinter())
    return Status::error("error: LLVM has no native target for this host");
  HostTarget target;
  target.triple = llvm::sys::getProcessTriple();
  std::string error;
  const llvm::Target *t = llvm::TargetRegistry::lookupTarget(target.triple, error);
  if (!t)
    return Status::error("error: no LLVM target for '" + target.triple + "': " + error);
  std::unique_ptr<llvm::MCSubtargetInfo> sti(t->createMCSubtargetInfo(target.triple, cpu, ""));
  if (!sti || !sti->isCPUStringValid(cpu))
    return Status::error("error: --target-cpu '" + cpu + "' is not a CPU LLVM knows for " +
                         target.triple + " (try " + kAotTargetCpus + ")");
  target.cpu = cpu;
  target.avx512 = sti->checkFeatures("+avx512f");
  target.avx2 = sti->checkFeatures("+avx2,+fma");
  return target;
}

/// Verifies and optimises each unit on its own thread (as compileModules does for the JIT) and
/// returns each optimised module as bitcode.
Expected<std::vector<llvm::SmallVector<char, 0>>>
optimizeUnits(std::vector<ModuleUnit> &units, const HostTarget &target, double &cpuMs) {
  std::vector<llvm::SmallVector<char, 0>> bitcode(units.size());
  std::vector<Status> status(units.size(), Status::ok());
  std::vector<double> spent(units.size(), 0);
  auto work = [&](size_t i) {
    std::string problems;
    llvm::raw_string_ostream os(problems);
    if (llvm::verifyModule(*units[i].module, &os)) {
      status[i] = Status::error("error: generated LLVM module '" +
                                units[i].module->getName().str() + "' does not verify: " + os.str());
      return;
    }
    auto machine = createTargetMachine(target);
    if (!machine.ok()) {
      status[i] = machine.status();
      return;
    }
    double start = threadCpuMs();
    optimizeModule(*units[i].module, **machine);
    spent[i] = threadCpuMs() - start;
    llvm::raw_svector_ostream out(bitcode[i]);
    llvm::WriteBitcodeToFile(*units[i].module, out);
  };
  std::vector<std::thread> threads;
  for (size_t i = 0; i < units.size(); ++i)
    threads.emplace_back(work, i);
  for (std::thread &t : threads)
    t.join();
  cpuMs = 0;
  for (size_t i = 0; i < units.size(); ++i) {
    KILN_TRY(status[i]);
    cpuMs += spent[i];
  }
  return bitcode;
}

/// Every optimised module, read back into `context` and linked into one module.
Expected<std::unique_ptr<llvm::Module>>
linkUnits(const std::vector<llvm::SmallVector<char, 0>> &bitcode, llvm::LLVMContext &context) {
  std::unique_ptr<llvm::Module> merged;
  for (const auto &code : bitcode) {
    llvm::MemoryBufferRef ref(llvm::StringRef(code.data(), code.size()), "kiln-aot");
    auto module = llvm::parseBitcodeFile(ref, context);
    if (!module)
      return Status::error("internal error: cannot read back an optimised module: " +
                           llvm::toString(module.takeError()));
    if (!merged) {
      merged = std::move(*module);
      continue;
    }
    if (llvm::Linker::linkModules(*merged, std::move(*module)))
      return Status::error("internal error: the optimised modules do not link into one");
  }
  return merged;
}

/// Makes every definition but `keep` internal, so two programs linked into one binary share no
/// symbol but the runtime's.
void internalize(llvm::Module &module, const std::string &keep) {
  for (llvm::Function &f : module)
    if (!f.isDeclaration())
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable &v : module.globals())
    if (!v.isDeclaration() && v.getName() != keep)
      v.setLinkage(llvm::GlobalValue::InternalLinkage);
}

/// The symbols `object` leaves undefined, sorted: read from the object itself, because the code
/// generator turns intrinsics (llvm.exp, llvm.memcpy) into libm and libc calls the IR never names.
Expected<std::vector<std::string>> undefinedSymbols(const llvm::MemoryBuffer &object) {
  auto file = llvm::object::ObjectFile::createObjectFile(object.getMemBufferRef());
  if (!file)
    return Status::error("internal error: cannot read the object just written: " +
                         llvm::toString(file.takeError()));
  std::set<std::string> names;
  for (const llvm::object::SymbolRef &sym : (*file)->symbols()) {
    auto flags = sym.getFlags();
    auto name = sym.getName();
    if (!flags || !name) {
      llvm::consumeError(flags.takeError());
      llvm::consumeError(name.takeError());
      continue;
    }
    if ((*flags & llvm::object::SymbolRef::SF_Undefined) && !name->empty())
      names.insert(name->str());
  }
  return std::vector<std::string>(names.begin(), names.end());
}

/// Writes opts.params over the initial state, after checking every one (so nothing is half done).
Status overrideParams(ExecutableSpec &spec, const AotOptions &opts) {
  std::vector<const BufferSlot *> slots;
  for (const auto &[name, t] : opts.params) {
    auto it = std::find_if(spec.params.begin(), spec.params.end(),
                           [&](const BufferSlot &s) { return s.name == name; });
    std::string where = opts.paramsFile.empty() ? "" : opts.paramsFile + ": ";
    if (it == spec.params.end())
      return Status::error(where + "error: '" + name + "' is not a param of graph '" +
                           spec.graphName + "'");
    if (t.dtype() != it->dtype || t.shape() != it->shape)
      return Status::error(where + "error: param '" + name + "' is " +
                           std::string(dtypeName(it->dtype)) + shapeToString(it->shape) +
                           ", given " + std::string(dtypeName(t.dtype())) +
                           shapeToString(t.shape()));
    slots.push_back(&*it);
  }
  for (size_t i = 0; i < slots.size(); ++i)
    if (size_t bytes = opts.params[i].second.byteSize())
      std::memcpy(spec.initialState.data() + slots[i]->offset, opts.params[i].second.raw(), bytes);
  return Status::ok();
}

} // namespace

bool isAotName(const std::string &name) {
  static const std::set<std::string> keywords = {
      "auto",   "break",  "case",     "char",   "const",    "continue", "default",  "do",
      "double", "else",   "enum",     "extern", "float",    "for",      "goto",     "if",
      "inline", "int",    "long",     "register", "restrict", "return", "short",    "signed",
      "sizeof", "static", "struct",   "switch", "typedef",  "union",    "unsigned", "void",
      "volatile", "while", "class",   "namespace", "template", "this",  "new",      "delete",
      "bool",   "true",   "false",    "and",    "or",       "not",      "xor",      "friend",
      "public", "private", "protected", "operator", "virtual", "try",   "catch",    "throw",
      "using",  "typename", "explicit", "mutable", "export", "nullptr", "decltype", "m_"};
  if (name.empty() || name.size() > 64 || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return !keywords.count(name);
}

std::string aotNameFor(const std::string &graphName) {
  std::string out;
  for (char c : graphName)
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0])))
    out = "_" + out;
  if (out.size() > 64)
    out.resize(64);
  return isAotName(out) ? out : out + "_";
}

Expected<AotArtifacts> compileAot(const Graph &g, const AotOptions &opts) {
  AotArtifacts out;
  out.name = opts.name.empty() ? aotNameFor(g.name()) : opts.name;
  if (!isAotName(out.name))
    return Status::error("error: --name '" + out.name +
                         "' is not a C identifier of at most 64 characters");
  KILN_ASSIGN(HostTarget target, aotTarget(opts.targetCpu));
  out.cpu = target.cpu;

  CompileTimes &times = out.times;
  double wallStart = wallNowMs();
  KILN_ASSIGN(LoweredProgram lowered, lowerProgram(g, opts.compile, target, times));
  // oneDNN nodes call a primitive table the JIT creates at load time; an object has no loader
  // to create it yet, so a pipeline that selects oneDNN is refused rather than failing at run
  // time. The descriptor's version field leaves room for a table description later.
  if (!lowered.dnnlOps.empty())
    return Status::error("error: --pipeline selects oneDNN for " +
                         std::to_string(lowered.dnnlOps.size()) + " node(s) of graph '" +
                         g.name() + "'; ahead-of-time objects contain generated code only "
                         "(use a pipeline without select-dnnl)");
  KILN_TRY(overrideParams(lowered.spec, opts));
  KILN_ASSIGN(auto bitcode, optimizeUnits(lowered.units, target, times.optimizeMs));
  lowered.units.clear(); // the per-thread contexts are no longer needed

  llvm::LLVMContext context;
  KILN_ASSIGN(std::unique_ptr<llvm::Module> module, linkUnits(bitcode, context));
  std::vector<std::string> paramNames;
  for (const Node *p : g.params())
    paramNames.push_back(p->name());
  std::string symbol = out.name + "_program";
  KILN_TRY(emitDescriptor(*module, lowered.spec, lowered.plans, symbol, target.cpu));
  internalize(*module, symbol);

  KILN_ASSIGN(std::unique_ptr<llvm::TargetMachine> machine, createTargetMachine(target));
  double start = threadCpuMs();
  KILN_ASSIGN(std::unique_ptr<llvm::MemoryBuffer> object, emitObject(*module, *machine));
  times.codegenMs = threadCpuMs() - start;
  times.wallMs = wallNowMs() - wallStart;
  out.object.assign(object->getBufferStart(), object->getBufferEnd());
  KILN_ASSIGN(out.externals, undefinedSymbols(*object));

  const ExecutableSpec &spec = lowered.spec;
  out.arenaBytes = spec.arenaBytes;
  out.stateBytes = int64_t(spec.initialState.size());
  out.constantBytes = int64_t(spec.constants.size());
  for (const BufferSlot &s : spec.params)
    if (std::find(paramNames.begin(), paramNames.end(), s.name) != paramNames.end())
      out.paramBytes += int64_t(s.bytes());
  out.header = aotHeader(spec, out, paramNames, opts);
  return out;
}

} // namespace kiln::codegen
