// The kilnc commands (spec/cli.md) and what they share: loading a model, choosing a backend.
#pragma once

#include "compiler/driver/Args.h"
#include "compiler/ir/Graph.h"

#include <string>

#include "kiln/runtime/Safetensors.h"

#include <memory>

namespace kiln::driver {

/// Exit statuses of kilnc (spec/cli.md).
enum ExitCode { kExitOk = 0, kExitInputError = 1, kExitUsage = 2 };

/// Loads a model: a graph-format JSON file, or a `.kir` text-IR file.
Expected<Graph> loadModel(const std::string &path);

/// Prints a located error to stderr; returns kExitInputError.
int reportError(const Status &status);
/// Prints a usage error and the command's usage line; returns kExitUsage.
int reportUsage(const CommandSpec &spec, const std::string &message);

/// The backends kilnc knows: the reference interpreter, LLVM-generated code (JIT), generated
/// code with every op oneDNN supports sent to oneDNN (`dnnl`), and `auto` (the default), which
/// sends to oneDNN only the ops where it is measured faster (docs/dnnl.md).
enum class Backend { Interp, Llvm, Dnnl, Auto };
/// The pass pipeline a compiled backend runs (codegen::kLlvmPipeline, ...); "" for Interp.
std::string backendPipeline(Backend backend);
/// Resolves --backend (default auto). Sets `exitCode` and returns nullopt when unusable.
std::optional<Backend> resolveBackend(const CommandSpec &spec, const ParsedArgs &args, int &exitCode);

/// Flags every command that runs a model accepts (--backend, --threads, --params).
std::vector<FlagSpec> commonRunFlags();

/// Parses a command line. Returns nullopt after printing --help (exit 0) or a usage error
/// (exit 2), with `exitCode` set; otherwise the arguments.
std::optional<ParsedArgs> parseCommand(const CommandSpec &spec, const std::vector<std::string> &argv,
                                       int &exitCode);
/// An integer flag in [0, max] (default `dflt` when absent); nullopt after a usage error.
std::optional<int64_t> intFlag(const CommandSpec &spec, const ParsedArgs &args,
                               const std::string &name, int64_t dflt, int64_t max, int &exitCode);

/// What run and train execute a graph with: the interpreter or a compiled executable, behind
/// the API they share (compiler/interp/Interpreter.h, kiln/runtime/Executable.h).
class Engine {
public:
  virtual ~Engine() = default;
  /// Prepares `g` for `backend` (a training graph keeps its step programs); `threads` <= 0 is
  /// the default. With `checkNumerics`, a run stops at the first NaN or Inf (--check-numerics).
  static Expected<std::unique_ptr<Engine>> create(Backend backend, const Graph &g, int threads,
                                                  bool checkNumerics = false);
  virtual Expected<NamedTensors> run(const NamedTensors &feeds) = 0;
  virtual Expected<NamedTensors> trainStep(const std::string &step, const NamedTensors &feeds) = 0;
  virtual NamedTensors params() const = 0;
  virtual Status setParams(const NamedTensors &values) = 0;
  virtual uint64_t runCount() const = 0;
  virtual void setRunCount(uint64_t count) = 0;
};

/// Applies --params P.safetensors, if given, to the engine's state.
Status applyParamsFlag(const ParsedArgs &args, Engine &engine);

int runCheck(const std::vector<std::string> &args);
int runPrint(const std::vector<std::string> &args);
int runDot(const std::vector<std::string> &args);
int runRun(const std::vector<std::string> &args);
int runTrain(const std::vector<std::string> &args);
int runMakeInputs(const std::vector<std::string> &args);
/// kilnc fit: the fit loop on a real dataset, then the test split (FitCommand.cpp, docs/fit.md).
int runFit(const std::vector<std::string> &args);
/// kilnc compile: ahead-of-time object and C header (CompileCommand.cpp, docs/aot.md).
int runCompile(const std::vector<std::string> &args);

} // namespace kiln::driver
