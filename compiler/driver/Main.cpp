// kilnc: the command-line face of Kiln. Dispatches to one function per command.
#include "compiler/driver/Commands.h"

#include <cstdio>
#include <exception>
#include <new>

using namespace kiln::driver;

namespace {

struct CommandEntry {
  const char *name;
  int (*run)(const std::vector<std::string> &);
  const char *summary;
};

constexpr CommandEntry kCommands[] = {
    {"check", runCheck, "load and verify a model; silent and exit 0 when it is valid"},
    {"print", runPrint, "print the graph (text IR) or a later stage of its compilation"},
    {"run", runRun, "one inference run: inputs from a safetensors file, outputs to one"},
    {"train", runTrain, "training steps on batches from a safetensors file"},
    {"dot", runDot, "write the graph as Graphviz DOT (or SVG when Graphviz is installed)"},
    {"make-inputs", runMakeInputs, "write random inputs for a model to a safetensors file"},
    {"fit", runFit, "train on a dataset (Fashion-MNIST, CSV, ...) with progress, then test"},
    {"compile", runCompile, "ahead-of-time: an object file and a C header (docs/aot.md)"},
};

void printUsage(FILE *out) {
  std::fprintf(out, "usage: kilnc COMMAND [ARGS] [--help]\n\ncommands:\n");
  for (auto &c : kCommands)
    std::fprintf(out, "  %-13s %s\n", c.name, c.summary);
  std::fprintf(out, "\nExit status: 0 success, 1 invalid input (the message says where), 2 usage.\n");
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    printUsage(stderr);
    return kExitUsage;
  }
  std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    printUsage(stdout);
    return kExitOk;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (auto &c : kCommands) {
    if (command != c.name)
      continue;
    // No input may crash kilnc. Errors are Status values throughout; this is the last line of
    // defence against an allocation failure on a huge (but in-limits) model.
    try {
      return c.run(args);
    } catch (const std::bad_alloc &) {
      std::fprintf(stderr, "error: out of memory\n");
      return kExitInputError;
    } catch (const std::exception &e) {
      std::fprintf(stderr, "error: internal error: %s\n", e.what());
      return kExitInputError;
    }
  }
  std::fprintf(stderr, "kilnc: unknown command '%s'\n\n", command.c_str());
  printUsage(stderr);
  return kExitUsage;
}
