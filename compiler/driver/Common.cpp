// What the kilnc commands share: model loading, error reporting, backend choice.
#include "compiler/driver/Commands.h"

#include "compiler/ir/Parser.h"
#include "frontend/json/JsonImporter.h"
#include "kiln/runtime/FileUtil.h"

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
