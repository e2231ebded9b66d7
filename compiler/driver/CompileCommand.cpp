// kilnc compile: ahead-of-time compilation of a model to a relocatable object and a C header.
#include "compiler/driver/Commands.h"

#include "compiler/codegen/Aot.h"

#include "kiln/runtime/FileUtil.h"
#include "kiln/runtime/Safetensors.h"

#include <cstdio>
#include <string_view>

namespace kiln::driver {

namespace {

CommandSpec compileSpec() {
  return CommandSpec{
      "compile",
      "MODEL.json -o NAME.o --header NAME.h [--train] [--name NAME] [--target-cpu CPU]",
      "Ahead-of-time compilation: writes a relocatable ELF object with the code the JIT would\n"
      "run (predict; with --train every train step too), the initial params, and one exported\n"
      "descriptor `const kiln_program NAME_program`; and a C header with sizes, shapes, typed\n"
      "accessors and a C++ class. Link with the runtime alone:\n"
      "  cc main.c NAME.o -lkiln_runtime -lm\n"
      "See docs/aot.md.",
      1,
      {{"output", true, false, "NAME.o: the object file (written atomically)"},
       {"header", true, false, "NAME.h: the C header (written atomically)"},
       {"train", false, false, "compile the graph's train steps as entries too"},
       {"name", true, false, "symbol prefix (default: the graph's name as a C identifier)"},
       {"target-cpu", true, false,
        std::string("CPU to generate code for: ") + codegen::kAotTargetCpus +
            " (default native) or any CPU LLVM knows"},
       {"params", true, false, "P.safetensors: initial param values instead of weights/init"},
       {"pipeline", true, false,
        std::string("pass pipeline, ending in plan-memory, without select-dnnl (default ") +
            codegen::kLlvmPipeline + ")"},
       {"time", false, false, "print the compile phases' times to stderr"}}};
}

std::string baseName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

int runCompile(const std::vector<std::string> &argv) {
  CommandSpec spec = compileSpec();
  int exit = 0;
  auto args = parseCommand(spec, argv, exit);
  if (!args)
    return exit;
  if (!args->has("output") || !args->has("header"))
    return reportUsage(spec, "-o NAME.o and --header NAME.h are both required");
  if (*args->get("output") == *args->get("header"))
    return reportUsage(spec, "-o and --header name the same file");

  codegen::AotOptions opts;
  opts.compile.training = args->has("train");
  if (auto p = args->get("pipeline"))
    opts.compile.pipeline = *p;
  if (auto n = args->get("name")) {
    if (!codegen::isAotName(*n))
      return reportUsage(spec, "--name '" + *n +
                                   "' is not a C identifier of at most 64 characters");
    opts.name = *n;
  }
  opts.targetCpu = args->get("target-cpu").value_or("native");
  opts.sourceFile = baseName(args->positionals[0]);
  opts.headerFile = baseName(*args->get("header"));

  auto graph = loadModel(args->positionals[0]);
  if (!graph)
    return reportError(graph.status());
  if (opts.compile.training && graph->trainSteps().empty())
    return reportError(Status::error(args->positionals[0] + ": error: --train: graph '" +
                                     graph->name() + "' has no train section"));
  if (auto p = args->get("params")) {
    auto values = readSafetensors(*p);
    if (!values)
      return reportError(values.status());
    opts.params = values.take();
    opts.paramsFile = *p;
  }
  auto artifacts = codegen::compileAot(*graph, opts);
  if (!artifacts)
    return reportError(artifacts.status());
  const codegen::AotArtifacts &a = *artifacts;
  if (Status st = writeFileAtomic(*args->get("output"),
                                  std::string_view(a.object.data(), a.object.size()));
      !st)
    return reportError(st);
  if (Status st = writeFileAtomic(*args->get("header"), a.header); !st)
    return reportError(st);
  if (args->has("time"))
    std::fprintf(stderr, "%s: %s; arena %lld bytes, state %lld bytes, object %zu bytes\n",
                 a.name.c_str(), a.times.str().c_str(), (long long)a.arenaBytes,
                 (long long)a.stateBytes, a.object.size());
  return kExitOk;
}

} // namespace kiln::driver
