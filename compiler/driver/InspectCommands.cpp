// kilnc check, print and dot: commands that load a model and show it without running it.
#include "compiler/driver/Commands.h"

#include "compiler/autodiff/TrainGraph.h"
#include "compiler/ir/Decompose.h"
#include "compiler/ir/Dot.h"
#include "compiler/ir/Printer.h"
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
    {{"emit", true, false, "graph (default); opt, kernels, llvm, asm arrive with the LLVM backend"},
     {"train", false, false, "print the whole train-step graph: forward, backward, updates"},
     {"decompose", false, false, "show layers and losses expanded into primitive ops"},
     {"no-locations", false, false, "leave out loc(...) annotations"},
     {"full-values", false, false, "print every element of large constants and weights"}}};

const CommandSpec kDotSpec{
    "dot", "MODEL.json [-o OUT.dot|OUT.svg] [--decompose]",
    "Writes the graph as Graphviz DOT (to stdout without -o); an .svg output runs Graphviz's\n"
    "`dot -Tsvg`.",
    1,
    {{"output", true, false, "output file (.dot, or .svg rendered with Graphviz)"},
     {"decompose", false, false, "show layers and losses expanded into primitive ops"}}};

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
  if (emit == "opt" || emit == "kernels" || emit == "llvm" || emit == "asm") {
    std::fprintf(stderr, "kilnc print: --emit=%s is not available yet in this build (it arrives "
                         "with the LLVM backend)\n", emit.c_str());
    return kExitUsage;
  }
  if (emit != "graph")
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
