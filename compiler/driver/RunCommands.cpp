// kilnc run (one inference run on safetensors in and out) and kilnc make-inputs (random feeds).
#include "compiler/driver/Commands.h"

#include "kiln/runtime/Safetensors.h"

#include <cstdio>
#include <random>
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

/// The exclusive upper bound for an integer input: class count, table size or 2.
int64_t integerRange(const Node &input) {
  // Not a switch over Op: only three ops give a hint, the rest deliberately none.
  for (const Use &u : input.uses()) {
    const Node &user = *u.user;
    bool labels = user.op() == Op::SoftmaxCrossEntropy || user.op() == Op::Accuracy;
    if (labels && u.operand == 1)
      return user.operand(0).type().shape.back();
    if (user.op() == Op::Gather && u.operand == 1) {
      auto &shape = user.operand(0).type().shape;
      auto axis = normalizeAxis(user.attrInt("axis"), int64_t(shape.size()));
      return axis ? shape[size_t(*axis)] : 1;
    }
    if (user.op() == Op::OneHot)
      return user.attrInt("depth");
  }
  return 2;
}

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
  auto engine = Engine::create(*backend, *graph, int(std::stoi(args->get("threads").value_or("0"))));
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
  // mt19937_64 is fully specified by the standard; converting its bits by hand (rather than
  // through <random> distributions) keeps the files identical across standard libraries.
  std::mt19937_64 rng{static_cast<uint64_t>(*seed)};
  NamedTensors out;
  for (Node *in : graph->inputs()) {
    Shape shape = in->type().shape;
    if (*batches > 0)
      shape.insert(shape.begin(), *batches);
    auto t = Tensor::create(in->type().dtype, shape);
    if (!t)
      return reportError(Status::error("input '" + in->name() + "': " + t.message()));
    int64_t range = isInteger(in->type().dtype) ? integerRange(*in) : 2;
    for (int64_t i = 0; i < t->numElements(); ++i) {
      uint64_t bits = rng();
      if (isFloat(t->dtype()))
        t->set(i, double(bits >> 11) * 0x1.0p-53);
      else
        t->set(i, double(bits % uint64_t(range)));
    }
    out.emplace_back(in->name(), t.take());
  }
  Status st = writeSafetensors(*args->get("output"), out);
  return st ? kExitOk : reportError(st);
}

} // namespace kiln::driver
