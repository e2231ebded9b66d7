// aot_bench: the train-step time of an ahead-of-time object against the JIT's on the same graph
// and feeds, in one process: the object is linked into a shared library and dlopen'ed, and its
// kernel ABI calls resolve to this binary's runtime (exported with -rdynamic), so both run the
// same runtime on the same machine state. Numbers for docs/aot.md.
//
// usage: aot_bench [MODEL...] [--steps N] [--rounds R] [--threads T] [--json]
//        (defaults: mnist_mlp cnn_mnist, 20 steps, 8 rounds, the OpenMP default threads)
// --json: also one JSON line per model (bench/run's AOT row): best and median ms of both, the
// AOT compile's wall ms, the loss check.
#include "compiler/codegen/Aot.h"
#include "compiler/interp/RandomFeeds.h"
#include "frontend/json/JsonImporter.h"
#include "kiln/runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace kiln;
namespace fs = std::filesystem;

namespace {

double nowMs() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

/// CPU time of the whole process (all threads): with OMP_NUM_THREADS=1 it is the step's work
/// alone, not inflated by other processes on a loaded machine as wall time is.
double cpuMs() { return 1000.0 * double(std::clock()) / CLOCKS_PER_SEC; }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// The AOT object of `g` (train steps included) as a dlopen'ed library; its descriptor.
const kiln_program *loadAot(const Graph &g, const fs::path &dir, int threads, double &compileMs,
                            std::string &error) {
  codegen::AotOptions opts;
  opts.compile.training = true;
  opts.compile.threads = threads;
  opts.name = codegen::aotNameFor(g.name());
  double start = nowMs();
  auto art = codegen::compileAot(g, opts);
  compileMs = nowMs() - start;
  if (!art) {
    error = art.status().message();
    return nullptr;
  }
  fs::path object = dir / (art->name + ".o"), library = dir / (art->name + ".so");
  std::ofstream(object, std::ios::binary).write(art->object.data(), std::streamsize(art->object.size()));
  std::string link = "cc -shared -o " + library.string() + " " + object.string() + " -lm";
  if (std::system(link.c_str()) != 0) {
    error = "cannot link " + object.string() + " into a shared library";
    return nullptr;
  }
  void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    error = dlerror();
    return nullptr;
  }
  return static_cast<const kiln_program *>(dlsym(handle, (art->name + "_program").c_str()));
}

struct BenchOptions {
  int steps = 20, rounds = 8, threads = 0;
  bool json = false;
};

int benchModel(const std::string &model, const BenchOptions &o, const fs::path &dir) {
  const int steps = o.steps, rounds = o.rounds;
  auto g = importJsonFile(std::string(KILN_SOURCE_DIR) + "/samples/" + model + ".json");
  if (!g || g->trainSteps().empty()) {
    std::fprintf(stderr, "%s: %s\n", model.c_str(), g ? "no train step" : g.status().message().c_str());
    return 1;
  }
  std::string step = g->trainSteps()[0].name, lossName = g->trainSteps()[0].loss.node->name();
  auto feeds = randomFeeds(*g, 7);
  codegen::CompileOptions jitOpts;
  jitOpts.training = true;
  jitOpts.threads = o.threads;
  auto exe = codegen::compile(*g, jitOpts);
  std::string error;
  double aotCompileMs = 0;
  const kiln_program *program = loadAot(*g, dir, o.threads, aotCompileMs, error);
  if (!feeds || !exe || !program) {
    std::fprintf(stderr, "%s: %s\n", model.c_str(),
                 !feeds ? feeds.status().message().c_str()
                 : !exe ? exe.status().message().c_str()
                        : error.c_str());
    return 1;
  }
  kiln_model *m = kiln_model_create(program);
  if (!m) {
    std::fprintf(stderr, "%s: %s\n", model.c_str(), kiln_model_error(nullptr));
    return 1;
  }
  if (o.threads > 0)
    kiln_model_set_threads(m, o.threads);
  // Both write the same inputs every step (the JIT's trainStep copies its feeds in).
  auto aotStep = [&] {
    for (const auto &[name, t] : *feeds)
      std::memcpy(kiln_model_buffer(m, name.c_str()), t.raw(), t.byteSize());
    return kiln_model_run(m, step.c_str()) == 0;
  };
  float jitLoss = 0;
  auto jitStep = [&] {
    auto r = (*exe)->trainStep(step, *feeds);
    if (r)
      for (const auto &[name, t] : *r)
        if (name == lossName)
          std::memcpy(&jitLoss, t.raw(), 4);
    return r.ok();
  };
  // Rounds alternate between the two so that the machine's load drifts over both alike.
  std::vector<double> jitMs, aotMs, jitCpu, aotCpu;
  bool ok = true;
  for (int r = 0; r <= rounds && ok; ++r) {
    // Which one runs first alternates too: the second of a pair finds the caches warmed.
    bool jitFirst = r % 2 == 0;
    double start = nowMs(), startCpu = cpuMs();
    for (int s = 0; s < steps && ok; ++s)
      ok = jitFirst ? jitStep() : aotStep();
    double mid = nowMs(), midCpu = cpuMs();
    for (int s = 0; s < steps && ok; ++s)
      ok = jitFirst ? aotStep() : jitStep();
    double end = nowMs(), endCpu = cpuMs();
    if (std::getenv("KILN_AOT_BENCH_VERBOSE"))
      std::fprintf(stderr, "round %d %s first: %.3f then %.3f cpu ms/step\n", r, jitFirst ? "jit" : "aot",
                   (midCpu - startCpu) / steps, (endCpu - midCpu) / steps);
    if (r > 0) { // round 0 warms caches and pages
      (jitFirst ? jitMs : aotMs).push_back((mid - start) / steps);
      (jitFirst ? aotMs : jitMs).push_back((end - mid) / steps);
      (jitFirst ? jitCpu : aotCpu).push_back((midCpu - startCpu) / steps);
      (jitFirst ? aotCpu : jitCpu).push_back((endCpu - midCpu) / steps);
    }
  }
  if (!ok) {
    std::fprintf(stderr, "%s: a step failed: %s\n", model.c_str(), kiln_model_error(m));
    return 1;
  }
  float aotLoss = *kiln_model_buffer(m, lossName.c_str());
  // The best round estimates the code's own cost (interference only ever adds time); the
  // median shows how noisy the machine was.
  auto best = [](const std::vector<double> &v) { return *std::min_element(v.begin(), v.end()); };
  std::printf("%-10s  best ms/step: jit %8.3f aot %8.3f aot/jit %.3f | median: jit %8.3f aot "
              "%8.3f | cpu best: jit %8.3f aot %8.3f  (%d rounds of %d steps; same loss after "
              "%d steps: %s)\n",
              model.c_str(), best(jitMs), best(aotMs), best(aotMs) / best(jitMs), median(jitMs),
              median(aotMs), best(jitCpu), best(aotCpu), rounds, steps, (rounds + 1) * steps,
              std::memcmp(&jitLoss, &aotLoss, 4) == 0 ? "yes" : "NO");
  bool sameLoss = std::memcmp(&jitLoss, &aotLoss, 4) == 0;
  if (o.json)
    std::printf("{\"bench\":\"aot\",\"sample\":\"%s\",\"threads\":%d,\"aot_compile_ms\":%.1f,"
                "\"jit_best_ms\":%.5f,\"aot_best_ms\":%.5f,\"jit_median_ms\":%.5f,"
                "\"aot_median_ms\":%.5f,\"same_loss\":%s}\n",
                model.c_str(), o.threads, aotCompileMs, best(jitMs), best(aotMs), median(jitMs),
                median(aotMs), sameLoss ? "true" : "false");
  kiln_model_destroy(m);
  return sameLoss ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> models;
  BenchOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--steps" && i + 1 < argc)
      o.steps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--rounds" && i + 1 < argc)
      o.rounds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--threads" && i + 1 < argc)
      o.threads = std::max(0, std::atoi(argv[++i]));
    else if (a == "--json")
      o.json = true;
    else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "aot_bench: unknown option '%s'\n", a.c_str());
      return 1;
    } else
      models.push_back(a);
  }
  if (models.empty())
    models = {"mnist_mlp", "cnn_mnist"};
  fs::path dir = fs::temp_directory_path() / ("kiln-aot-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  int status = 0;
  for (const std::string &m : models)
    status |= benchModel(m, o, dir);
  fs::remove_all(dir);
  return status;
}
