// What the kilnc commands share: model loading, error reporting, backend choice.
#include "compiler/driver/Commands.h"

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

Status applyParamsFlag(const ParsedArgs &args, Interpreter &interp) {
  auto p = args.get("params");
  if (!p)
    return Status::ok();
  KILN_ASSIGN(NamedTensors params, readSafetensors(*p));
  if (Status st = interp.setParams(params); !st)
    return Status::error(*p + ": error: " + st.message());
  return Status::ok();
}

std::vector<FlagSpec> commonRunFlags() {
  return {
      {"backend", true, false, "auto|llvm|dnnl|interp (default auto; this build runs interp)"},
      {"threads", true, false, "worker threads (the interpreter is single-threaded)"},
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
  // Until the LLVM backend lands, `auto` can only mean the interpreter.
  if (b == "auto" || b == "interp")
    return Backend::Interp;
  if (b == "llvm" || b == "dnnl") {
    std::fprintf(stderr, "kilnc %s: backend '%s' is not available yet in this build; use "
                         "--backend=interp\n", spec.name.c_str(), b.c_str());
    exitCode = kExitUsage;
    return std::nullopt;
  }
  exitCode = reportUsage(spec, "unknown backend '" + b + "' (expected auto, llvm, dnnl or interp)");
  return std::nullopt;
}

} // namespace kiln::driver
