// benchSample: compiles, plans and times one sample for sample_bench (see SampleMeasure.h).
#include "SampleMeasure.h"

#include "compiler/autodiff/TrainGraph.h"
#include "compiler/interp/RandomFeeds.h"
#include "compiler/ir/FlopCount.h"
#include "compiler/passes/MemoryPlan.h"
#include "compiler/passes/PassManager.h"
#include "frontend/json/JsonImporter.h"
#include "kiln/runtime/Parallel.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace kiln::bench {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

/// The seed workload a sample stands for (../shared/bench/README.md), or "" for the extras.
std::string workloadOf(const std::string &sample) {
  static const char *kSame[] = {"linreg",    "mlp_binary", "mnist_mlp",   "cnn_mnist",
                                "cnn_cifar", "lstm",       "autoencoder", "gan"};
  for (const char *w : kSame)
    if (sample == w)
      return w;
  return sample == "transformer" ? "attention" : "";
}

struct Compiled {
  std::unique_ptr<Executable> exe;
  CompileInfo info;
};

Expected<Compiled> compileTimed(const Graph &g, bool training, const std::string &pipeline,
                                int threads = 0) {
  Compiled c;
  codegen::CompileOptions opts;
  opts.training = training;
  opts.pipeline = pipeline;
  opts.threads = threads;
  opts.times = &c.info.times;
  auto t0 = Clock::now();
  KILN_ASSIGN(c.exe, codegen::compile(g, opts));
  c.info.wallMs = msSince(t0);
  return c;
}

/// The graph compile() builds internally (training graph, then the default pipeline), rebuilt
/// here because compile() keeps it to itself: the plan and the FLOP count are read from it.
Expected<Graph> optimizedGraph(const Graph &source, bool training, const std::string &pipeline) {
  Graph g = source.clone();
  if (training && !g.trainSteps().empty()) {
    KILN_ASSIGN(g, buildTrainingGraph(source));
  }
  PassManagerOptions pmOpts;
  pmOpts.verifyEach = false;
  KILN_ASSIGN(PassManager pm, PassManager::create(pipeline, pmOpts));
  KILN_TRY(pm.run(g).status());
  return g;
}

/// CPU seconds all processes and this one have used so far, and when that was read.
struct CpuSample {
  double allBusy = -1;
  double self = 0;
  Clock::time_point at;
};

CpuSample sampleCpu() {
  CpuSample c;
  c.at = Clock::now();
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  c.self = double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
  std::ifstream in("/proc/stat");
  std::string cpu;
  // user nice system idle iowait irq softirq steal: all but idle and iowait are taken cycles.
  double f[8] = {};
  if (!(in >> cpu) || cpu != "cpu")
    return c;
  for (double &x : f)
    if (!(in >> x))
      return c;
  c.allBusy = (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / double(sysconf(_SC_CLK_TCK));
  return c;
}

/// Average number of cores others used between two samples (-1 if /proc/stat is unreadable).
double otherCores(const CpuSample &a, const CpuSample &b) {
  double wall = std::chrono::duration<double>(b.at - a.at).count();
  if (a.allBusy < 0 || b.allBusy < 0 || wall <= 0)
    return -1;
  return std::max(0.0, ((b.allBusy - a.allBusy) - (b.self - a.self)) / wall);
}

/// Times `call` (a Status-returning run): warm-up of at least 3 calls and 10% of the budget,
/// then enough individually timed calls for about `seconds` (at least 5).
template <typename Call> Expected<Timing> timeCalls(Call call, double seconds) {
  auto w0 = Clock::now();
  int64_t warm = 0;
  do {
    KILN_TRY(call());
    ++warm;
  } while (warm < 3 || (msSince(w0) < seconds * 100 && warm < 100000));
  double estimateMs = msSince(w0) / double(warm);
  int64_t runs = std::clamp<int64_t>(int64_t(seconds * 1e3 / std::max(estimateMs, 1e-6)), 5,
                                     1000000);
  std::vector<double> ms;
  ms.reserve(size_t(runs));
  CpuSample before = sampleCpu();
  for (int64_t i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    KILN_TRY(call());
    ms.push_back(msSince(t0));
  }
  double others = otherCores(before, sampleCpu());
  std::sort(ms.begin(), ms.end());
  return Timing{ms[ms.size() / 2], ms.front(), runs, others};
}

std::string planNote(const char *what, const Graph &g, const Executable &exe) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s plan: arena %s, peak live %s (arena/peak %.2fx), state %s",
                what, formatBytes(g.arenaBytes()).c_str(), formatBytes(g.peakLiveBytes()).c_str(),
                g.peakLiveBytes() > 0 ? double(g.arenaBytes()) / double(g.peakLiveBytes()) : 0.0,
                formatBytes(exe.stateBytes()).c_str());
  return buf;
}

} // namespace

std::string pipelineOf(const std::string &backend) {
  return backend == "dnnl"   ? codegen::kDnnlPipeline
         : backend == "auto" ? codegen::kAutoPipeline
                             : codegen::kLlvmPipeline;
}

Expected<SampleResult> benchSample(const std::string &file, const std::vector<int> &threads,
                                   double seconds, const std::map<int, PeakFlops> &peaks,
                                   const std::string &backend) {
  const std::string pipeline = pipelineOf(backend);
  KILN_ASSIGN(Graph source, importJsonFile(file));
  SampleResult res;
  res.name = std::filesystem::path(file).stem().string();
  const bool training = !source.trainSteps().empty();

  KILN_ASSIGN(Compiled inf, compileTimed(source, /*training=*/false, pipeline));
  KILN_ASSIGN(Graph infGraph, optimizedGraph(source, false, pipeline));
  res.notes.push_back("compile inference: " + inf.info.times.str());
  res.notes.push_back(planNote("inference", infGraph, *inf.exe));

  Compiled train;
  Graph trainGraph;
  if (training) {
    KILN_ASSIGN(train, compileTimed(source, /*training=*/true, pipeline));
    KILN_ASSIGN(trainGraph, optimizedGraph(source, true, pipeline));
    res.notes.push_back("compile training: " + train.info.times.str());
    res.notes.push_back(planNote("training", trainGraph, *train.exe));
  }
  res.gemmShapes = gemmShapes(training ? trainGraph : infGraph);

  KILN_ASSIGN(NamedTensors feeds, randomFeeds(source, /*seed=*/1));
  auto makeRow = [&](const std::string &entry, int t, const Compiled &c, const Graph &g) {
    Row r;
    r.sample = res.name;
    r.workload = workloadOf(res.name);
    r.entry = entry;
    r.backend = backend;
    r.threads = t;
    r.compile = c.info;
    r.plan = PlanBytes{g.arenaBytes(), g.peakLiveBytes()};
    r.stateBytes = c.exe->stateBytes();
    auto it = peaks.find(t);
    r.peakGflops = it == peaks.end() ? 0 : it->second.measuredGflops;
    return r;
  };
  for (int t : threads) {
    runtime::setNumThreads(t);
    // oneDNN primitives keep the thread count they were created with: measure each thread count
    // with executables compiled for it (generated code follows the setting at run time).
    if (backend != "llvm") {
      KILN_ASSIGN(inf, compileTimed(source, /*training=*/false, pipeline, t));
      if (training) {
        KILN_ASSIGN(train, compileTimed(source, /*training=*/true, pipeline, t));
      }
    }
    Row p = makeRow("predict", t, inf, infGraph);
    KILN_ASSIGN(p.flops, flopCount(infGraph, "predict"));
    KILN_ASSIGN(p.timing, timeCalls([&] { return inf.exe->run(feeds).status(); }, seconds));
    res.rows.push_back(p);
    if (t == 1 && !training)
      res.entriesMs1 += p.timing.medianMs;
    if (!training)
      continue;
    for (const std::string &step : train.exe->entryNames()) {
      if (step == "predict")
        continue;
      Row s = makeRow(step, t, train, trainGraph);
      KILN_ASSIGN(s.flops, flopCount(trainGraph, step));
      KILN_ASSIGN(s.timing,
                  timeCalls([&] { return train.exe->trainStep(step, feeds).status(); }, seconds));
      if (t == 1)
        res.entriesMs1 += s.timing.medianMs;
      res.rows.push_back(s);
    }
  }
  res.optimized = training ? std::move(trainGraph) : std::move(infGraph);
  return res;
}

std::string rowJson(const Row &r) {
  const codegen::CompileTimes &c = r.compile.times;
  std::string workload = r.workload.empty() ? "null" : "\"" + r.workload + "\"";
  char buf[1024];
  std::snprintf(
      buf, sizeof buf,
      "{\"bench\":\"sample\",\"sample\":\"%s\",\"workload\":%s,\"backend\":\"%s\","
      "\"entry\":\"%s\",\"threads\":%d,\"compile_ms\":%.2f,\"compile_passes_ms\":%.2f,"
      "\"compile_emit_ms\":%.2f,\"compile_o3_ms\":%.2f,\"compile_codegen_ms\":%.2f,"
      "\"step_ms\":%.5f,\"step_min_ms\":%.5f,\"step_us\":%.2f,\"runs\":%ld,\"flops\":%.0f,"
      "\"gflops\":%.3f,\"peak_gflops\":%.2f,\"peak_fraction\":%.4f,\"arena_bytes\":%ld,"
      "\"peak_live_bytes\":%ld,\"state_bytes\":%ld,\"host_other_cores\":%.2f}",
      r.sample.c_str(), workload.c_str(), r.backend.c_str(), r.entry.c_str(), r.threads, r.compile.wallMs,
      c.passesMs, c.emitMs, c.optimizeMs, c.codegenMs, r.timing.medianMs, r.timing.minMs,
      r.timing.medianMs * 1e3, long(r.timing.runs), r.flops, r.gflops(), r.peakGflops,
      r.peakFraction(), long(r.plan.arenaBytes), long(r.plan.peakLiveBytes), long(r.stateBytes), r.timing.otherCores);
  return buf;
}

} // namespace kiln::bench
