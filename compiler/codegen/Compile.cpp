// compile(): pass pipeline, state and constants layout, kernels and entries, JIT, Executable.
#include "compiler/codegen/Compile.h"

#include "compiler/autodiff/TrainGraph.h"
#include "compiler/codegen/DnnlLower.h"
#include "compiler/codegen/LowerProgram.h"
#include "compiler/ir/Init.h"
#include "compiler/ir/Printer.h"
#include "compiler/passes/MemoryPlan.h"
#include "compiler/passes/PassManager.h"
#include "compiler/support/Diagnostic.h"
#include "kiln/runtime/Parallel.h"

#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <cstring>
#include <unordered_set>

namespace kiln::codegen {

std::string CompileTimes::str() const {
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "passes %.1f ms, emit %.1f ms, O3 %.1f ms, codegen %.1f ms, total %.1f ms CPU, "
                "%.1f ms wall",
                passesMs, emitMs, optimizeMs, codegenMs, totalMs(), wallMs);
  return buf;
}

namespace {

double wallNowMs() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

/// How many modules (and compile threads) a graph's kernels are spread over.
int partitionCount(const CompileOptions &opts, size_t kernelNodes) {
  int threads = opts.compileThreads > 0 ? opts.compileThreads
                                        : int(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, std::min({threads, 8, int(kernelNodes)}));
}

int64_t alignUp(int64_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

/// The kernel nodes `roots` depend on, in graph order (sources excluded), and the inputs read.
void cone(const Graph &g, const std::vector<Value> &roots, EntryPlan &plan,
          std::vector<std::string> &inputs) {
  std::unordered_set<const Node *> needed;
  std::vector<const Node *> stack;
  for (Value v : roots)
    stack.push_back(v.node);
  while (!stack.empty()) {
    const Node *n = stack.back();
    stack.pop_back();
    if (!needed.insert(n).second)
      continue;
    for (Value o : n->operands())
      stack.push_back(o.node);
  }
  for (const auto &node : g.nodes()) {
    const Node *n = node.get();
    if (!needed.count(n))
      continue;
    if (n->isInput())
      inputs.push_back(n->name());
    else if (!n->isParam() && !n->isConstant())
      plan.nodes.push_back(n);
  }
}

/// Params (state) and constants, each at a 64-byte aligned offset of its buffer.
Status layoutSources(const Graph &g, ProgramLayout &layout, ExecutableSpec &spec) {
  for (Node *p : g.params()) {
    KILN_ASSIGN(Tensor value, initialParamValue(*p, g.seed()));
    int64_t offset = int64_t(spec.initialState.size());
    layout.stateOffset[p] = offset;
    spec.initialState.resize(size_t(alignUp(offset + int64_t(value.byteSize()))), 0);
    if (value.byteSize())
      std::memcpy(spec.initialState.data() + offset, value.raw(), value.byteSize());
    spec.params.push_back(BufferSlot{p->name(), p->type().dtype, p->type().shape,
                                     BufferRegion::State, offset});
  }
  for (Node *c : g.constants()) {
    const auto &v = c->value();
    if (!v || v->dtype() != c->type().dtype || v->shape() != c->type().shape)
      return errorAt(c->loc(), "constant '" + c->name() + "': value does not match its type " +
                                   c->type().str());
    int64_t offset = int64_t(spec.constants.size());
    layout.constantOffset[c] = offset;
    spec.constants.resize(size_t(alignUp(offset + int64_t(v->byteSize()))), 0);
    if (v->byteSize())
      std::memcpy(spec.constants.data() + offset, v->raw(), v->byteSize());
  }
  for (Node *in : g.inputs()) {
    spec.inputs.push_back(BufferSlot{in->name(), in->type().dtype, in->type().shape,
                                     BufferRegion::Arena, in->arenaOffset()});
    spec.inputSources[in->name()] =
        SourceRef{in->loc().known() ? in->loc().str() : std::string(), in->loc().path};
  }
  return Status::ok();
}

/// The names results are reported under: taken before the pipeline, since a pass may replace an
/// output's node (fusion, folding) but keeps its position. Predict first, then each step program
/// (loss, then metrics).
std::vector<std::vector<std::string>> resultNames(const Graph &g) {
  std::vector<std::vector<std::string>> names(1);
  for (Value v : g.outputs())
    names[0].push_back(v.name());
  for (const StepProgram &p : g.stepPrograms()) {
    names.emplace_back(1, p.loss.name());
    for (Value m : p.metrics)
      names.back().push_back(m.name());
  }
  return names;
}

/// The entry plans and their runtime descriptions (entry functions filled in after the JIT).
Status planEntries(const Graph &g, const ProgramLayout &layout,
                   const std::vector<std::vector<std::string>> &resultNames,
                   std::vector<EntryPlan> &plans, ExecutableSpec &spec) {
  if (resultNames.size() != 1 + g.stepPrograms().size())
    return Status::error("internal error: the pass pipeline changed the step programs");
  auto add = [&](EntryPlan plan, const std::vector<Value> &results,
                 const std::vector<std::string> &names) -> Status {
    if (names.size() != results.size())
      return Status::error("internal error: the pass pipeline changed the results of '" +
                           plan.name + "'");
    std::vector<Value> roots = results;
    for (const StateUpdate &u : plan.updates)
      roots.push_back(u.value);
    EntryPoint entry;
    entry.name = plan.name;
    cone(g, roots, plan, entry.requiredInputs);
    for (size_t i = 0; i < results.size(); ++i) {
      KILN_ASSIGN(BufferSlot s, slotOf(results[i], layout, names[i]));
      entry.results.push_back(std::move(s));
    }
    plans.push_back(std::move(plan));
    spec.entries.push_back(std::move(entry));
    return Status::ok();
  };
  {
    EntryPlan plan;
    plan.name = "predict";
    plan.symbol = "kiln_entry_predict";
    KILN_TRY(add(std::move(plan), g.outputs(), resultNames[0]));
  }
  for (const StepProgram &p : g.stepPrograms()) {
    EntryPlan plan;
    plan.name = p.name;
    plan.symbol = "kiln_entry_step_" + std::to_string(plans.size());
    plan.training = true;
    plan.updates = p.updates;
    std::vector<Value> results{p.loss};
    results.insert(results.end(), p.metrics.begin(), p.metrics.end());
    KILN_TRY(add(std::move(plan), results, resultNames[plans.size()]));
  }
  return Status::ok();
}

/// What keeps a JIT executable's code alive: the JIT and the oneDNN primitives its entries call.
struct JitWithPrimitives {
  std::unique_ptr<runtime::PrimitiveTable> primitives;
  std::unique_ptr<Jit> jit;
};

} // namespace

/// `pipeline` (comma-separated pass names) without the pass `name`.
static std::string withoutPass(const std::string &pipeline, const std::string &name) {
  std::string out;
  size_t start = 0;
  while (start <= pipeline.size()) {
    size_t end = std::min(pipeline.find(',', start), pipeline.size());
    std::string pass = pipeline.substr(start, end - start);
    if (pass != name)
      out += (out.empty() ? "" : ",") + pass;
    start = end + 1;
  }
  return out;
}

Expected<LoweredProgram> lowerProgram(const Graph &source, const CompileOptions &opts,
                                      const HostTarget &target, CompileTimes &times) {
  double start = threadCpuMs();
  Graph g = source.clone();
  if (opts.training && !g.trainSteps().empty() && g.stepPrograms().empty()) {
    KILN_ASSIGN(g, buildTrainingGraph(source));
  }
  std::vector<std::vector<std::string>> names = resultNames(g);
  PassManagerOptions pmOpts;
  pmOpts.verifyEach = opts.verifyEach;
  // --check-numerics names the node that produced a NaN: every node then needs a kernel of its
  // own, so the pipeline runs without `fuse`.
  std::string pipeline = opts.checkNumerics ? withoutPass(opts.pipeline, "fuse") : opts.pipeline;
  KILN_ASSIGN(PassManager pm, PassManager::create(pipeline, pmOpts));
  KILN_TRY(pm.run(g).status());
  if (g.arenaBytes() < 0)
    return Status::error("error: the pipeline '" + pipeline +
                         "' does not plan memory: end it with plan-memory");
  times.passesMs = threadCpuMs() - start;
  if (opts.dumps && opts.dumpOptimizedGraph)
    opts.dumps->optimizedGraph = printGraph(g);

  start = threadCpuMs();
  LoweredProgram out;
  ExecutableSpec &spec = out.spec;
  spec.graphName = g.name();
  spec.arenaBytes = g.arenaBytes();
  spec.threads = opts.threads;
  ProgramLayout layout;
  layout.checkNumerics = opts.checkNumerics;
  KILN_TRY(layoutSources(g, layout, spec));
  KILN_TRY(planEntries(g, layout, names, out.plans, spec));
  // oneDNN nodes become calls into the executable's primitive table, not kernels.
  for (const auto &node : g.nodes())
    if (isDnnlNode(*node)) {
      KILN_ASSIGN(DnnlLowering l, lowerDnnlNode(*node));
      layout.dnnlCalls[node.get()] = DnnlCall{int64_t(out.dnnlOps.size()), l.sources};
      out.dnnlOps.push_back(std::move(l.desc));
    }

  std::vector<ModuleUnit> &units = out.units;
  units.resize(size_t(partitionCount(opts, g.nodes().size())));
  std::vector<KernelContext> parts;
  for (size_t i = 0; i < units.size(); ++i) {
    units[i].context = std::make_unique<llvm::LLVMContext>();
    KILN_ASSIGN(units[i].module,
                newTargetModule(g.name() + (i ? "." + std::to_string(i) : ""), *units[i].context,
                                target));
    parts.push_back(KernelContext{*units[i].context, *units[i].module, target, g.seed()});
  }
  KILN_TRY(buildProgram(parts, g, layout, out.plans,
                        opts.dumps && opts.dumpKernels ? &opts.dumps->kernels : nullptr));
  // Partitions nothing was placed in (tiny graphs) are dropped rather than compiled empty.
  units.erase(std::remove_if(units.begin() + 1, units.end(),
                             [](const ModuleUnit &u) { return u.module->empty(); }),
              units.end());
  for (ModuleUnit &u : units)
    applyTargetAttributes(*u.module, target);
  times.emitMs = threadCpuMs() - start;
  for (ModuleUnit &u : units) {
    if (opts.dumps && opts.dumpLlvm) {
      llvm::raw_string_ostream os(opts.dumps->llvm);
      u.module->print(os, nullptr);
    }
    if (opts.dumps && opts.dumpAsm) {
      KILN_ASSIGN(std::string text, printAssembly(*u.module, target));
      opts.dumps->assembly += text;
    }
  }
  return out;
}

Expected<std::unique_ptr<Executable>> compile(const Graph &source, const CompileOptions &opts) {
  CompileTimes times;
  double wallStart = wallNowMs();
  KILN_ASSIGN(std::unique_ptr<Jit> jit, Jit::create());
  KILN_ASSIGN(LoweredProgram lowered, lowerProgram(source, opts, jit->target(), times));
  ExecutableSpec &spec = lowered.spec;
  KILN_TRY(jit->addModules(lowered.units, /*parallel=*/true));
  times.optimizeMs = jit->lastOptimizeMs();
  times.codegenMs = jit->lastCodegenMs();
  for (size_t i = 0; i < lowered.plans.size(); ++i) {
    KILN_ASSIGN(void *address, jit->lookup(lowered.plans[i].symbol));
    spec.entries[i].function = reinterpret_cast<EntryFunction>(address);
  }
  // The oneDNN primitives are created here, once per executable; the entries find the table
  // through the global that lowerProgram's code reads.
  auto owner = std::make_shared<JitWithPrimitives>();
  if (!lowered.dnnlOps.empty()) {
    double tableStart = threadCpuMs();
    // oneDNN fixes a primitive's thread count when it is created (from the calling thread's
    // OpenMP setting): create them with the executable's, or a 1-thread executable would still
    // run its convolutions on every core.
    int savedThreads = runtime::numThreads();
    if (opts.threads > 0)
      runtime::setNumThreads(opts.threads);
    auto table = runtime::dnnl::createDnnlTable(lowered.dnnlOps);
    runtime::setNumThreads(savedThreads);
    KILN_ASSIGN(owner->primitives, std::move(table));
    KILN_ASSIGN(void *slot, jit->lookup(kDnnlTableSymbol));
    *static_cast<void **>(slot) = owner->primitives.get();
    times.codegenMs += threadCpuMs() - tableStart;
  }
  owner->jit = std::move(jit);
  spec.keepAlive = std::move(owner);
  times.wallMs = wallNowMs() - wallStart;
  if (opts.times)
    *opts.times = times;
  return Executable::create(std::move(spec));
}

} // namespace kiln::codegen
