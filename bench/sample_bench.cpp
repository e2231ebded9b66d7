// sample_bench: compile time, step time, GFLOP/s against the machine's peak, and arena use of
// every sample under the LLVM backend, as an aligned table and one JSON line per measurement.
//
// Usage: sample_bench [--quick] [--threads=1,2] [--no-gemm] [samples/x.json ...]
//   (no files: every samples/*.json of the source tree). Output: the peak, per-sample compile
//   and plan notes, the table, the GEMM comparison, then the JSON lines (SampleMeasure.h and
//   GemmCompare.h give their keys). Exit 1 if any sample failed to compile or run.
#include "GemmCompare.h"
#include "KernelProfile.h"
#include "PeakFlops.h"
#include "SampleMeasure.h"

#include "kiln/runtime/Parallel.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace kiln;
using namespace kiln::bench;

struct Options {
  bool quick = false;
  bool gemm = true;
  bool profile = false;
  std::vector<int> threads{1, 2};
  std::vector<std::string> backends{"llvm"};
  std::vector<std::string> files;
};

const char *kUsage =
    "usage: sample_bench [--quick] [--threads=1,2] [--backend=llvm,dnnl,auto] [--no-gemm]\n"
    "                    [--profile] [sample.json ...]\n"
    "  --backend: the pass pipelines to measure each sample under (default llvm; docs/dnnl.md).\n"
    "  Compiles every sample with the LLVM backend (inference only, then with its train steps)\n"
    "  and times predict and each train step at each thread count. Without files: every\n"
    "  samples/*.json. --quick: ~0.05 s per measurement instead of ~0.5 s. --no-gemm: skip the\n"
    "  generated-GEMM vs oneDNN comparison on each sample's matmul and conv shapes.\n"
    "  --profile: also compile and time every kernel of each sample alone (1 thread) and list\n"
    "  the slowest (slow: one compile per kernel; name the samples you want).\n";

/// Parses the command line; false (after a message) on a bad flag.
bool parseArgs(int argc, char **argv, Options &opts) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      opts.quick = true;
    } else if (a == "--no-gemm") {
      opts.gemm = false;
    } else if (a == "--profile") {
      opts.profile = true;
    } else if (a.rfind("--backend=", 0) == 0) {
      opts.backends.clear();
      std::string list = a.substr(10) + ",";
      for (size_t pos = 0, comma; (comma = list.find(',', pos)) != std::string::npos;
           pos = comma + 1) {
        std::string b = list.substr(pos, comma - pos);
        if (b != "llvm" && b != "dnnl" && b != "auto") {
          std::fprintf(stderr, "sample_bench: unknown backend '%s'\n%s", b.c_str(), kUsage);
          return false;
        }
        opts.backends.push_back(b);
      }
    } else if (a.rfind("--threads=", 0) == 0) {
      opts.threads.clear();
      std::string list = a.substr(10);
      size_t pos = 0;
      while (pos <= list.size()) {
        size_t comma = std::min(list.find(',', pos), list.size());
        int t = std::atoi(list.substr(pos, comma - pos).c_str());
        if (t <= 0) {
          std::fprintf(stderr, "sample_bench: bad thread count in '%s'\n%s", a.c_str(), kUsage);
          return false;
        }
        opts.threads.push_back(t);
        pos = comma + 1;
      }
    } else if (a == "--help" || a == "-h") {
      std::printf("%s", kUsage);
      std::exit(0);
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "sample_bench: unknown flag '%s'\n%s", a.c_str(), kUsage);
      return false;
    } else {
      opts.files.push_back(a);
    }
  }
  if (opts.files.empty()) {
    std::error_code ec;
    for (const auto &e :
         std::filesystem::directory_iterator(std::string(KILN_SOURCE_DIR) + "/samples", ec))
      if (e.path().extension() == ".json")
        opts.files.push_back(e.path().string());
    std::sort(opts.files.begin(), opts.files.end());
    if (opts.files.empty()) {
      std::fprintf(stderr, "sample_bench: no samples in %s/samples\n", KILN_SOURCE_DIR);
      return false;
    }
  }
  return true;
}

std::string mib(int64_t bytes) {
  char buf[32];
  if (bytes < 0)
    return "-";
  if (bytes < 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.1fK", double(bytes) / 1024);
  else
    std::snprintf(buf, sizeof buf, "%.2fM", double(bytes) / (1024.0 * 1024));
  return buf;
}

void printHeader() {
  std::printf("\n%-12s %-5s %-8s %3s %8s %6s %6s %6s %7s %9s %9s %6s %9s %8s %6s %8s %8s %8s %5s\n",
              "sample", "back", "entry", "thr", "compile", "passes", "emit", "O3", "codegen", "median ms",
              "min ms", "runs", "MFLOP", "GFLOP/s", "%peak", "arena", "peakLive", "state",
              "other");
}

void printRow(const Row &r) {
  const codegen::CompileTimes &c = r.compile.times;
  std::printf("%-12s %-5s %-8s %3d %8.1f %6.1f %6.1f %6.1f %7.1f %9.4f %9.4f %6ld %9.3f %8.2f %5.1f%% "
              "%8s %8s %8s %5.2f\n",
              r.sample.c_str(), r.backend.c_str(), r.entry.c_str(), r.threads, r.compile.wallMs, c.passesMs,
              c.emitMs, c.optimizeMs, c.codegenMs, r.timing.medianMs, r.timing.minMs,
              long(r.timing.runs), r.flops / 1e6, r.gflops(), 100 * r.peakFraction(),
              mib(r.plan.arenaBytes).c_str(), mib(r.plan.peakLiveBytes).c_str(),
              mib(r.stateBytes).c_str(), r.timing.otherCores);
}

} // namespace

int main(int argc, char **argv) {
  Options opts;
  if (!parseArgs(argc, argv, opts))
    return 2;
  const double measureSeconds = opts.quick ? 0.05 : 0.5;

  // The machine's limit first, at every thread count the samples run with.
  std::map<int, PeakFlops> peaks;
  std::printf("== peak (measured FMA loop; the %%peak column divides by it)\n");
  for (int t : opts.threads) {
    peaks[t] = measurePeakFlops(t, opts.quick ? 0.2 : 1.0);
    std::printf("  %s\n", peaks[t].str().c_str());
  }

  std::vector<Row> rows;
  std::vector<GemmRow> gemmRows;
  std::vector<std::string> failures;
  for (const std::string &file : opts.files) {
    for (size_t bi = 0; bi < opts.backends.size(); ++bi) {
      const std::string &backend = opts.backends[bi];
      std::printf("== %s (%s)\n", file.c_str(), backend.c_str());
      std::fflush(stdout);
      auto sample = benchSample(file, opts.threads, measureSeconds, peaks, backend);
      if (!sample.ok()) {
        // A sample that fails to compile or run is reported, and the run fails at the end.
        std::printf("  FAILED: %s\n", sample.message().c_str());
        failures.push_back(file + " (" + backend + "): " + sample.message());
        continue;
      }
      for (const std::string &line : sample->notes)
        std::printf("  %s\n", line.c_str());
      rows.insert(rows.end(), sample->rows.begin(), sample->rows.end());
      if (opts.profile) {
        runtime::setNumThreads(1);
        auto kernels = profileKernels(sample->optimized, opts.quick ? 0.02 : 0.1);
        if (!kernels.ok()) {
          std::printf("  kernel profile FAILED: %s\n", kernels.message().c_str());
          failures.push_back(file + " (profile): " + kernels.message());
        } else {
          printKernelProfile(sample->name, *kernels, 15, sample->entriesMs1);
        }
      }
      // The GEMM comparison depends on the shapes only: once per sample.
      if (opts.gemm && bi == 0) {
        auto g = compareGemms(sample->name, sample->gemmShapes, opts.threads, opts.quick);
        if (!g.ok()) {
          std::printf("  GEMM comparison FAILED: %s\n", g.message().c_str());
          failures.push_back(file + " (gemm): " + g.message());
        } else {
          gemmRows.insert(gemmRows.end(), g->begin(), g->end());
        }
      }
    }
  }
  runtime::setNumThreads(0);

  printHeader();
  for (const Row &r : rows)
    printRow(r);
  std::printf("compile: wall ms of codegen::compile (inference-only executable for predict, the\n"
              "training executable for steps); passes/emit/O3/codegen: its thread-CPU ms split.\n"
              "median/min ms: per call of Executable::run/trainStep (feed copy included).\n"
              "other: cores other processes kept busy meanwhile (> 0.1: the numbers, 2-thread\n"
              "ones above all, are not this machine's; rerun on a quiet host).\n");
  if (!gemmRows.empty()) {
    printGemmTable(gemmRows);
  }
  std::printf("\n");
  for (const Row &r : rows)
    std::printf("%s\n", rowJson(r).c_str());
  for (const GemmRow &g : gemmRows)
    std::printf("%s\n", gemmJson(g).c_str());
  for (const std::string &f : failures)
    std::fprintf(stderr, "sample_bench: FAILED %s\n", f.c_str());
  return failures.empty() ? 0 : 1;
}
