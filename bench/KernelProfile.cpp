// profileKernels: every kernel node of an optimised graph compiled and timed on its own.
#include "KernelProfile.h"

#include "compiler/codegen/Compile.h"
#include "compiler/interp/RandomFeeds.h"
#include "compiler/ir/FlopCount.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace kiln::bench {
namespace {

using Clock = std::chrono::steady_clock;

/// "fused:conv(conv2d)": the fusion kind and the body's most expensive op, so a row says what
/// the kernel mostly does.
std::string kindOf(const Node &n) {
  if (n.op() != Op::Fused || !n.body())
    return std::string(opName(n.op()));
  const Node *main = nullptr;
  double best = -1;
  for (const auto &b : n.body()->nodes()) {
    double f = flopCount(*b);
    if (!b->isInput() && !b->isConstant() && f > best) {
      best = f;
      main = b.get();
    }
  }
  return "fused:" + n.attrStr("kind") + (main ? "(" + std::string(opName(main->op())) + ")" : "");
}

/// A graph with `n` alone: float operands become params (uniform init), others inputs; every
/// result is an output.
Expected<Graph> isolate(const Node &n) {
  Graph g(n.name());
  std::vector<Value> operands;
  for (unsigned i = 0; i < n.numOperands(); ++i) {
    const TensorType &t = n.operand(i).type();
    std::string name = "operand" + std::to_string(i);
    Initializer init;
    init.kind = InitKind::Uniform;
    Expected<Node *> src = isFloat(t.dtype) ? g.addParam(name, t, init, /*trainable=*/false)
                                            : g.addInput(name, t);
    if (!src.ok())
      return src.status();
    operands.push_back((*src)->result());
  }
  Expected<Node *> k = n.op() == Op::Fused
                           ? g.addFused(n.name(), operands,
                                        std::make_unique<Graph>(n.body()->clone()), n.attrs())
                           : g.addNode(n.op(), n.name(), operands, n.attrs());
  if (!k.ok())
    return k.status();
  for (unsigned r = 0; r < (*k)->numResults(); ++r)
    g.addOutput((*k)->result(r));
  return g;
}

} // namespace

Expected<std::vector<KernelTime>> profileKernels(const Graph &optimized, double secondsEach) {
  std::vector<KernelTime> out;
  codegen::CompileOptions opts;
  opts.training = false;
  opts.pipeline = "plan-memory"; // the node is already what the full pipeline made of it
  for (const auto &node : optimized.nodes()) {
    const Node &n = *node;
    if (n.isInput() || n.isParam() || n.isConstant())
      continue;
    KILN_ASSIGN(Graph g, isolate(n));
    auto exe = codegen::compile(g, opts);
    if (!exe.ok())
      return Status::error("profiling kernel '" + n.name() + "': " + exe.message());
    KILN_ASSIGN(NamedTensors feeds, randomFeeds(g, /*seed=*/1));
    std::vector<double> ms;
    auto start = Clock::now();
    while (ms.size() < 5 ||
           (std::chrono::duration<double>(Clock::now() - start).count() < secondsEach &&
            ms.size() < 100000)) {
      auto t0 = Clock::now();
      auto r = (*exe)->run(feeds);
      if (!r.ok())
        return Status::error("profiling kernel '" + n.name() + "': " + r.message());
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    KernelTime k;
    k.name = n.name();
    k.kind = kindOf(n);
    k.ms = ms[ms.size() / 2];
    k.flops = flopCount(n);
    for (const TensorType &t : n.resultTypes())
      k.outBytes += t.numElements() * int64_t(dtypeSize(t.dtype));
    out.push_back(std::move(k));
  }
  return out;
}

void printKernelProfile(const std::string &sample, std::vector<KernelTime> kernels, int top,
                        double stepMs) {
  double sum = 0;
  for (const KernelTime &k : kernels)
    sum += k.ms;
  std::sort(kernels.begin(), kernels.end(),
            [](const KernelTime &a, const KernelTime &b) { return a.ms > b.ms; });
  std::printf("  kernel profile of %s: %zu kernels, each run alone (1 thread, results copied "
              "out): sum %.3f ms",
              sample.c_str(), kernels.size(), sum);
  if (stepMs > 0)
    std::printf(" vs %.3f ms for the whole entry", stepMs);
  std::printf("\n  %-44s %-28s %9s %6s %9s %8s %9s\n", "kernel", "kind", "ms", "share", "MFLOP",
              "GFLOP/s", "out KiB");
  for (size_t i = 0; i < kernels.size() && int(i) < top; ++i) {
    const KernelTime &k = kernels[i];
    std::printf("  %-44s %-28s %9.4f %5.1f%% %9.3f %8.2f %9.1f\n", k.name.substr(0, 44).c_str(),
                k.kind.substr(0, 28).c_str(), k.ms, sum > 0 ? 100 * k.ms / sum : 0.0,
                k.flops / 1e6, k.ms > 0 ? k.flops / (k.ms * 1e6) : 0.0,
                double(k.outBytes) / 1024);
  }
}

} // namespace kiln::bench
