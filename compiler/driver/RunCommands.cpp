// kilnc run (one inference run on safetensors in and out) and kilnc make-inputs (random feeds).
#include "compiler/driver/Commands.h"

#include "compiler/interp/RandomFeeds.h"

#include "kiln/runtime/Safetensors.h"

#include <cstdio>
#include <set>

namespace kiln::driver {

namespace {

CommandSpec runSpec() {
  CommandSpec s{"run", "MODEL.json --inputs IN.safetensors --output OUT.safetensors",
                "One inference run: every graph input is read from IN by name, every graph output\n"
                "is written to OUT by name. Dropout is the identity; random ops draw as at run 0.",
                1,
                {{"inputs", true, false, "IN.safetensors: one tensor per graph input"},
                 {"output", true, false, "OUT.safetensors: written atomically"}}};
  for (auto &f : commonRunFlags())
    s.flags.push_back(f);
  return s;
}

const CommandSpec kMakeInputsSpec{
    "make-inputs", "MODEL.json -o IN.safetensors [--seed N] [--batches N]",
    "Writes random values for every graph input: floats uniform in [0, 1); integer inputs that\n"
    "feed a loss or metric as labels are valid class indices, those that feed gather or one_hot\n"
    "valid indices, other integers 0 or 1. --batches N adds a leading batch dimension of N\n"
    "(the layout `kilnc train --inputs` reads).",
    1,
    {{"output", true, false, "OUT.safetensors"},
     {"seed", true, false, "random seed (default 0)"},
     {"batches", true, false, "add a leading dimension of this many batches"}}};

} // namespace

int runRun(const std::vector<std::string> &argv) {
  CommandSpec spec = runSpec();
  int exit = 0;
  auto args = parseCommand(spec, argv, exit);
  if (!args)
    return exit;
  if (!args->has("inputs") || !args->has("output"))
    return reportUsage(spec, "--inputs and --output are required");
  auto backend = resolveBackend(spec, *args, exit);
  if (!backend)
    return exit;

  auto graph = loadModel(args->positionals[0]);
  if (!graph)
    return reportError(graph.status());
  auto feeds = readSafetensors(*args->get("inputs"));
  if (!feeds)
    return reportError(feeds.status());
  for (auto &[name, t] : *feeds) {
    Node *n = graph->find(name);
    if (!n || !n->isInput())
      return reportError(Status::error(*args->get("inputs") + ": error: tensor '" + name +
                                       "' matches no input of graph '" + graph->name() + "'"));
  }
  auto engine = Engine::create(*backend, *graph, int(std::stoi(args->get("threads").value_or("0"))),
                                args->has("check-numerics"));
  if (!engine)
    return reportError(engine.status());
  if (Status st = applyParamsFlag(*args, **engine); !st)
    return reportError(st);
  auto outputs = (*engine)->run(*feeds);
  if (!outputs)
    return reportError(outputs.status());
  Status st = writeSafetensors(*args->get("output"), *outputs);
  return st ? kExitOk : reportError(st);
}

int runMakeInputs(const std::vector<std::string> &argv) {
  int exit = 0;
  auto args = parseCommand(kMakeInputsSpec, argv, exit);
  if (!args)
    return exit;
  if (!args->has("output"))
    return reportUsage(kMakeInputsSpec, "-o OUT.safetensors is required");
  auto seed = intFlag(kMakeInputsSpec, *args, "seed", 0, int64_t(1) << 62, exit);
  if (!seed)
    return exit;
  auto batches = intFlag(kMakeInputsSpec, *args, "batches", 0, 1 << 20, exit);
  if (!batches)
    return exit;

  auto graph = loadModel(args->positionals[0]);
  if (!graph)
    return reportError(graph.status());
  auto out = randomFeeds(*graph, uint64_t(*seed), *batches);
  if (!out)
    return reportError(out.status());
  Status st = writeSafetensors(*args->get("output"), *out);
  return st ? kExitOk : reportError(st);
}

} // namespace kiln::driver
