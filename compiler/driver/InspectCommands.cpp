// kilnc check, print and dot: commands that load a model and show it without running it.
#include "compiler/driver/Commands.h"

#include "compiler/autodiff/TrainGraph.h"
#include "compiler/codegen/Compile.h"
#include "compiler/ir/Decompose.h"
#include "compiler/ir/Dot.h"
#include "compiler/ir/Printer.h"
#include "compiler/passes/PassManager.h"
#include "kiln/runtime/FileUtil.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

namespace kiln::driver {

namespace {

const CommandSpec kCheckSpec{"check", "MODEL.json",
                             "Loads and verifies a model. Prints nothing and exits 0 when it is valid;\n"
                             "otherwise prints one located error and exits 1.",
                             1, {}};

const CommandSpec kPrintSpec{
    "print", "MODEL.json [--emit=graph|opt|kernels|llvm|asm] [--train]",
    "Prints the graph in Kiln's text IR (parse it back with kiln tools; .kir files load too).", 1,
    {{"emit", true, false,
      "graph (default); opt: after the pass pipeline; kernels: the LLVM kernels and entries;\n"
      "llvm: the LLVM IR before O3; asm: host assembly after O3"},
     {"train", false, false, "print the whole train-step graph: forward, backward, updates"},
     {"decompose", false, false, "show layers and losses expanded into primitive ops"},
     {"no-locations", false, false, "leave out loc(...) annotations"},
     {"full-values", false, false, "print every element of large constants and weights"},
     {"backend", true, false,
      "auto|llvm|dnnl: the pipeline --emit=opt|kernels|llvm|asm shows (default auto)"}}};

const CommandSpec kDotSpec{
    "dot", "MODEL.json [-o OUT.dot|OUT.svg] [--decompose] [--optimized]",
    "Writes the graph as Graphviz DOT (to stdout without -o); an .svg output runs Graphviz's\n"
    "`dot -Tsvg`.",
    1,
    {{"output", true, false, "output file (.dot, or .svg rendered with Graphviz)"},
     {"decompose", false, false, "show layers and losses expanded into primitive ops"},
     {"optimized", false, false,
      "the graph after compile's pass pipeline (auto backend): fusion groups, oneDNN nodes"}}};

/// Loads the model and, if asked, expands layers so that the primitives show.
Expected<Graph> loadForDisplay(const std::string &path, bool decompose) {
  KILN_ASSIGN(Graph g, loadModel(path));
  if (decompose)
    KILN_TRY(decomposeLayers(g));
  return g;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Runs Graphviz on `dotText` and writes SVG to `out` atomically (through a temporary file).
Status renderSvg(const std::string &dotText, const std::string &out) {
  std::string dotFile = out + ".dot-XXXXXX";
  int fd = ::mkstemp(dotFile.data());
  if (fd < 0)
    return Status::error(out + ": error: cannot create temporary file: " + std::strerror(errno));
  ::close(fd);
  std::string svgTmp = out + ".tmp-svg";
  Status st = writeFileAtomic(dotFile, dotText);
  if (st) {
    pid_t pid = ::fork();
    if (pid == 0) {
      const char *argv[] = {"dot", "-Tsvg", dotFile.c_str(), "-o", svgTmp.c_str(), nullptr};
      ::execvp("dot", const_cast<char **>(argv));
      ::_exit(127);
    }
    int wstatus = 0;
    if (pid < 0 || ::waitpid(pid, &wstatus, 0) < 0)
      st = Status::error(out + ": error: cannot run Graphviz 'dot'");
    else if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
      st = Status::error(out + ": error: Graphviz 'dot' failed" +
                         (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127
                              ? std::string(" (is graphviz installed?)")
                              : std::string()));
    else if (::rename(svgTmp.c_str(), out.c_str()) != 0)
      st = Status::error(out + ": error: cannot write file: " + std::strerror(errno));
  }
  ::unlink(dotFile.c_str());
  ::unlink(svgTmp.c_str());
  return st;
}

} // namespace

int runCheck(const std::vector<std::string> &argv) {
  int exit = 0;
  auto args = parseCommand(kCheckSpec, argv, exit);
  if (!args)
    return exit;
  auto g = loadModel(args->positionals[0]);
  return g ? kExitOk : reportError(g.status());
}

int runPrint(const std::vector<std::string> &argv) {
  int exit = 0;
  auto args = parseCommand(kPrintSpec, argv, exit);
  if (!args)
    return exit;
  std::string emit = args->get("emit").value_or("graph");
  bool compiled = emit == "kernels" || emit == "llvm" || emit == "asm";
  if (emit != "graph" && emit != "opt" && !compiled)
    return reportUsage(kPrintSpec, "unknown --emit value '" + emit + "'");
  auto g = loadForDisplay(args->positionals[0], args->has("decompose"));
  if (!g)
    return reportError(g.status());
  if (args->has("train")) {
    // The whole train-step graph: forward, backward and optimizer updates of every step.
    auto training = buildTrainingGraph(*g);
    if (!training)
      return reportError(training.status());
    *g = training.take();
  }
  PrintOptions opts;
  opts.locations = !args->has("no-locations");
  opts.elideValuesOver = args->has("full-values") ? -1 : 32;
  // The backend's pipeline: `auto` shows which ops go to oneDNN (fused nodes of kind "dnnl").
  std::string pipeline = codegen::kAutoPipeline;
  if (auto b = args->get("backend")) {
    if (*b != "auto" && *b != "llvm" && *b != "dnnl")
      return reportUsage(kPrintSpec, "--backend for print is auto, llvm or dnnl, got '" + *b + "'");
    pipeline = *b == "llvm" ? codegen::kLlvmPipeline
               : *b == "dnnl" ? codegen::kDnnlPipeline
                              : codegen::kAutoPipeline;
  }
  if (emit == "opt") {
    // The backend's pipeline, without code generation.
    auto pm = PassManager::create(pipeline);
    if (!pm)
      return reportError(pm.status());
    if (auto changed = pm->run(*g); !changed)
      return reportError(changed.status());
  }
  if (compiled) {
    // Predict only, unless --train asked for the step programs too (built above).
    codegen::CompileDumps dumps;
    codegen::CompileOptions copts;
    copts.training = false;
    copts.pipeline = pipeline;
    copts.dumps = &dumps;
    copts.dumpKernels = emit == "kernels";
    copts.dumpLlvm = emit == "llvm";
    copts.dumpAsm = emit == "asm";
    auto exe = codegen::compile(*g, copts);
    if (!exe)
      return reportError(exe.status());
    const std::string &text = emit == "kernels" ? dumps.kernels
                              : emit == "llvm"  ? dumps.llvm
                                                : dumps.assembly;
    std::fputs(text.c_str(), stdout);
    return kExitOk;
  }
  std::fputs(printGraph(*g, opts).c_str(), stdout);
  return kExitOk;
}

int runDot(const std::vector<std::string> &argv) {
  int exit = 0;
  auto args = parseCommand(kDotSpec, argv, exit);
  if (!args)
    return exit;
  auto g = loadForDisplay(args->positionals[0], args->has("decompose"));
  if (!g)
    return reportError(g.status());
  if (args->has("optimized")) {
    // Before and after optimisation side by side: run dot with and without this flag.
    auto pm = PassManager::create(codegen::kAutoPipeline);
    if (!pm)
      return reportError(pm.status());
    if (auto changed = pm->run(*g); !changed)
      return reportError(changed.status());
  }
  std::string dot = writeDot(*g);
  auto out = args->get("output");
  if (!out) {
    std::fputs(dot.c_str(), stdout);
    return kExitOk;
  }
  Status st = endsWith(*out, ".svg") ? renderSvg(dot, *out) : writeFileAtomic(*out, dot);
  return st ? kExitOk : reportError(st);
}

} // namespace kiln::driver
