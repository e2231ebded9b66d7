// What the kilnc commands share: model loading, error reporting, backend choice.
#include "compiler/driver/Commands.h"

#include "compiler/codegen/Compile.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Parser.h"
#include "frontend/json/JsonImporter.h"
#include "kiln/runtime/FileUtil.h"
#include "kiln/runtime/Safetensors.h"

#include <cstdio>

namespace kiln::driver {

Expected<Graph> loadModel(const std::string &path) {
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".kir") == 0) {
    KILN_ASSIGN(std::string text, readFile(path, size_t(256) << 20));
    return parseGraph(text, path);
  }
  return importJsonFile(path);
}

int reportError(const Status &status) {
  std::fprintf(stderr, "%s\n", status.message().c_str());
  return kExitInputError;
}

int reportUsage(const CommandSpec &spec, const std::string &message) {
  std::fprintf(stderr, "kilnc %s: %s\nusage: kilnc %s %s\n(see 'kilnc %s --help')\n",
               spec.name.c_str(), message.c_str(), spec.name.c_str(), spec.usage.c_str(),
               spec.name.c_str());
  return kExitUsage;
}

std::optional<ParsedArgs> parseCommand(const CommandSpec &spec, const std::vector<std::string> &argv,
                                       int &exitCode) {
  std::string err;
  auto args = parseArgs(spec, argv, err);
  if (!args) {
    exitCode = reportUsage(spec, err);
    return std::nullopt;
  }
  if (args->help) {
    std::printf("%s", commandHelp(spec).c_str());
    exitCode = kExitOk;
    return std::nullopt;
  }
  return args;
}

std::optional<int64_t> intFlag(const CommandSpec &spec, const ParsedArgs &args,
                               const std::string &name, int64_t dflt, int64_t max, int &exitCode) {
  auto v = args.get(name);
  if (!v)
    return dflt;
  if (v->empty() || v->size() > 18 || v->find_first_not_of("0123456789") != std::string::npos ||
      std::stoll(*v) > max) {
    exitCode = reportUsage(spec, "--" + name + " takes an integer from 0 to " +
                                     std::to_string(max) + ", got '" + *v + "'");
    return std::nullopt;
  }
  return std::stoll(*v);
}

namespace {

/// An Engine over the Interpreter or an Executable (same member names).
template <typename T> class EngineOf final : public Engine {
public:
  explicit EngineOf(std::unique_ptr<T> impl) : impl_(std::move(impl)) {}
  Expected<NamedTensors> run(const NamedTensors &feeds) override { return impl_->run(feeds); }
  Expected<NamedTensors> trainStep(const std::string &step, const NamedTensors &feeds) override {
    return impl_->trainStep(step, feeds);
  }
  NamedTensors params() const override { return impl_->params(); }
  Status setParams(const NamedTensors &values) override { return impl_->setParams(values); }
  uint64_t runCount() const override { return impl_->runCount(); }
  void setRunCount(uint64_t count) override { impl_->setRunCount(count); }

private:
  std::unique_ptr<T> impl_;
};

} // namespace

Expected<std::unique_ptr<Engine>> Engine::create(Backend backend, const Graph &g, int threads,
                                                 bool checkNumerics) {
  switch (backend) {
  case Backend::Interp: {
    KILN_ASSIGN(Interpreter interp, Interpreter::create(g));
    interp.setCheckNumerics(checkNumerics);
    return std::unique_ptr<Engine>(
        new EngineOf<Interpreter>(std::make_unique<Interpreter>(std::move(interp))));
  }
  case Backend::Llvm:
  case Backend::Dnnl:
  case Backend::Auto: {
    codegen::CompileOptions opts;
    opts.threads = threads;
    opts.checkNumerics = checkNumerics;
    opts.pipeline = backendPipeline(backend);
    KILN_ASSIGN(std::unique_ptr<Executable> exe, codegen::compile(g, opts));
    return std::unique_ptr<Engine>(new EngineOf<Executable>(std::move(exe)));
  }
  }
  return Status::error("internal error: unknown backend");
}

Status applyParamsFlag(const ParsedArgs &args, Engine &engine) {
  auto p = args.get("params");
  if (!p)
    return Status::ok();
  KILN_ASSIGN(NamedTensors params, readSafetensors(*p));
  if (Status st = engine.setParams(params); !st)
    return Status::error(*p + ": error: " + st.message());
  return Status::ok();
}

std::string backendPipeline(Backend backend) {
  switch (backend) {
  case Backend::Interp:
    return "";
  case Backend::Llvm:
    return codegen::kLlvmPipeline;
  case Backend::Dnnl:
    return codegen::kDnnlPipeline;
  case Backend::Auto:
    return codegen::kAutoPipeline;
  }
  return "";
}

std::vector<FlagSpec> commonRunFlags() {
  return {
      {"backend", true, false, "auto|llvm|dnnl|interp (default auto: llvm plus oneDNN where it is faster, docs/dnnl.md)"},
      {"threads", true, false, "worker threads of llvm's parallel loops (interp: single-threaded)"},
      {"check-numerics", false, false,
       "stop at the first NaN or Inf a node produces, naming the node (slower: debugging)"},
      {"params", true, false, "P.safetensors: start from these param values"},
  };
}

std::optional<Backend> resolveBackend(const CommandSpec &spec, const ParsedArgs &args,
                                      int &exitCode) {
  std::string b = args.get("backend").value_or("auto");
  if (auto t = args.get("threads")) {
    bool digits = !t->empty() && t->size() < 5 && t->find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoi(*t) < 1) {
      exitCode = reportUsage(spec, "--threads takes a positive integer, got '" + *t + "'");
      return std::nullopt;
    }
  }
  // `auto` is generated code plus oneDNN for the ops where it is measured faster (docs/dnnl.md).
  if (b == "interp")
    return Backend::Interp;
  if (b == "llvm")
    return Backend::Llvm;
  if (b == "dnnl")
    return Backend::Dnnl;
  if (b == "auto")
    return Backend::Auto;
  exitCode = reportUsage(spec, "unknown backend '" + b + "' (expected auto, llvm, dnnl or interp)");
  return std::nullopt;
}

} // namespace kiln::driver
