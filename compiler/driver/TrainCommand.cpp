// kilnc train: N training steps on batches from a safetensors file, with a JSON-lines log and
// the final params written out (spec/cli.md).
#include "compiler/driver/Commands.h"

#include "compiler/autodiff/TrainGraph.h"
#include "kiln/fit/Plot.h"
#include "kiln/runtime/Checkpoint.h"
#include "kiln/runtime/FileUtil.h"
#include "kiln/runtime/Safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace kiln::driver {

namespace {

CommandSpec trainSpec() {
  CommandSpec s{"train",
                "MODEL.json --inputs BATCHES.safetensors --steps N [--step NAME]... [--log LOG.jsonl] "
                "[--save-params P.safetensors] [--save-checkpoint C.safetensors] [--resume C.safetensors]",
                "Runs N training steps. Each tensor in BATCHES has one more leading dimension than\n"
                "its graph input: the batches; step i uses batch i mod count. With several --step\n"
                "flags every training step runs them in the order given; without any, every train\n"
                "step of the graph runs, in the order the graph declares them. --resume continues a\n"
                "run from its checkpoint: N counts the steps of the whole run, so a run of 10 steps\n"
                "equals one of 4 steps, saved, then resumed with --steps 10, bit for bit.",
                1,
                {{"inputs", true, false, "BATCHES.safetensors"},
                 {"steps", true, false, "number of training steps"},
                 {"step", true, true, "a named train step to run (repeatable)"},
                 {"log", true, false, "LOG.jsonl: one JSON object per step and named step"},
                 {"save-params", true, false, "P.safetensors: every param after the last step"},
                 {"save-checkpoint", true, false,
                  "C.safetensors: params, optimizer slots, counters and the step reached, after the "
                  "last step (written atomically)"},
                 {"checkpoint-every", true, false,
                  "K: also write the checkpoint after every K steps (needs --save-checkpoint)"},
                 {"resume", true, false, "C.safetensors: a checkpoint of this model to continue from"},
                 {"plot", true, false, "F.svg: loss and metric curves over the steps run (fit.md)"}}};
  for (auto &f : commonRunFlags())
    s.flags.push_back(f);
  return s;
}

/// A JSON number, or null for NaN and infinities (which JSON cannot spell).
std::string jsonNumber(double v) {
  if (!std::isfinite(v))
    return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

/// The batch `i mod count` of every tensor: the leading dimension sliced away.
Expected<NamedTensors> sliceBatch(const NamedTensors &batches, int64_t step) {
  NamedTensors out;
  for (auto &[name, t] : batches) {
    int64_t count = t.shape()[0];
    Shape shape(t.shape().begin() + 1, t.shape().end());
    KILN_ASSIGN(Tensor b, Tensor::create(t.dtype(), shape));
    size_t bytes = b.byteSize();
    std::memcpy(b.raw(), static_cast<const char *>(t.raw()) + size_t(step % count) * bytes, bytes);
    out.emplace_back(name, std::move(b));
  }
  return out;
}

/// Checks that every tensor of the batches file is a graph input with one extra leading dim.
Status checkBatches(const Graph &g, const NamedTensors &batches, const std::string &file) {
  for (auto &[name, t] : batches) {
    Node *n = g.find(name);
    if (!n || !n->isInput())
      return Status::error(file + ": error: tensor '" + name + "' matches no input of graph '" +
                           g.name() + "'");
    Shape want = n->type().shape;
    Shape got = t.shape();
    if (got.empty() || Shape(got.begin() + 1, got.end()) != want || t.dtype() != n->type().dtype)
      return Status::error(file + ": error: tensor '" + name + "' is " +
                           std::string(dtypeName(t.dtype())) + shapeToString(got) +
                           " but batches of input '" + name + "' must be [count] + " +
                           n->type().str());
  }
  return Status::ok();
}

/// Writes the engine's whole state (every param of the training graph: the model's params,
/// optimizer slots and step counters) with the run counter and the steps done.
Status saveCheckpoint(const std::string &path, const Graph &training, Engine &engine,
                      int64_t stepsDone) {
  Checkpoint ckpt;
  ckpt.graph = training.name();
  ckpt.runCount = engine.runCount();
  ckpt.step = stepsDone;
  ckpt.state = engine.params();
  return writeCheckpoint(path, ckpt);
}

/// Loads a checkpoint into the engine after checking it fits; returns the steps it had done.
Expected<int64_t> resumeFrom(const std::string &path, const Graph &training, Engine &engine) {
  KILN_ASSIGN(Checkpoint ckpt, readCheckpoint(path));
  KILN_TRY(checkCheckpoint(ckpt, training.name(), engine.params(), path));
  if (Status st = engine.setParams(ckpt.state); !st)
    return Status::error(path + ": error: " + st.message());
  engine.setRunCount(ckpt.runCount);
  return ckpt.step;
}

} // namespace

int runTrain(const std::vector<std::string> &argv) {
  CommandSpec spec = trainSpec();
  int exit = 0;
  auto args = parseCommand(spec, argv, exit);
  if (!args)
    return exit;
  if (!args->has("inputs") || !args->has("steps"))
    return reportUsage(spec, "--inputs and --steps are required");
  auto steps = intFlag(spec, *args, "steps", 0, 1'000'000'000, exit);
  if (!steps)
    return exit;
  auto backend = resolveBackend(spec, *args, exit);
  if (!backend)
    return exit;

  auto model = loadModel(args->positionals[0]);
  if (!model)
    return reportError(model.status());
  if (model->trainSteps().empty())
    return reportError(Status::error(args->positionals[0] + ": error: graph '" + model->name() +
                                     "' has no train steps"));
  std::vector<std::string> stepNames = args->all("step");
  for (auto &name : stepNames)
    if (!model->findTrainStep(name)) {
      std::string known;
      for (auto &s : model->trainSteps())
        known += (known.empty() ? "" : ", ") + s.name;
      return reportUsage(spec, "graph '" + model->name() + "' has no train step '" + name +
                                   "' (it has " + known + ")");
    }
  if (stepNames.empty())
    for (auto &s : model->trainSteps())
      stepNames.push_back(s.name);

  std::string inputsFile = *args->get("inputs");
  auto batches = readSafetensors(inputsFile);
  if (!batches)
    return reportError(batches.status());
  if (Status st = checkBatches(*model, *batches, inputsFile); !st)
    return reportError(st);

  auto training = buildTrainingGraph(*model);
  if (!training)
    return reportError(training.status());
  auto engine =
      Engine::create(*backend, *training, int(std::stoi(args->get("threads").value_or("0"))),
                                args->has("check-numerics"));
  if (!engine)
    return reportError(engine.status());
  Engine &interp = **engine;
  if (Status st = applyParamsFlag(*args, interp); !st)
    return reportError(st);
  auto every = intFlag(spec, *args, "checkpoint-every", 0, 1'000'000'000, exit);
  if (!every)
    return exit;
  auto checkpointFile = args->get("save-checkpoint");
  if (*every > 0 && !checkpointFile)
    return reportUsage(spec, "--checkpoint-every needs --save-checkpoint");
  int64_t first = 0;
  if (auto r = args->get("resume")) {
    auto resumed = resumeFrom(*r, *training, interp);
    if (!resumed)
      return reportError(resumed.status());
    first = *resumed;
    if (first > *steps)
      return reportError(Status::error(*r + ": error: the checkpoint is at step " +
                                       std::to_string(first) + ", past --steps " +
                                       std::to_string(*steps)));
  }

  std::string log;
  // --plot: one panel per value (loss, each metric), one curve per train step, x = step.
  std::vector<fit::PlotPanel> curves;
  auto addPoint = [&](const std::string &value, const std::string &step, double x, double y) {
    auto panel =
        std::find_if(curves.begin(), curves.end(), [&](auto &p) { return p.title == value; });
    if (panel == curves.end())
      panel = curves.insert(curves.end(), fit::PlotPanel{value, "step", {}});
    auto curve = std::find_if(panel->series.begin(), panel->series.end(),
                              [&](auto &c) { return c.name == step; });
    if (curve == panel->series.end())
      curve = panel->series.insert(panel->series.end(), fit::PlotSeries{step, {}, {}});
    curve->x.push_back(x);
    curve->y.push_back(y);
  };
  for (int64_t i = first; i < *steps; ++i) {
    auto feeds = sliceBatch(*batches, i);
    if (!feeds)
      return reportError(feeds.status());
    for (auto &name : stepNames) {
      auto result = interp.trainStep(name, *feeds);
      if (!result)
        return reportError(result.status());
      const StepProgram *program = training->findStepProgram(name);
      std::string line = "{\"step\": " + std::to_string(i + 1) + ", \"name\": \"" + name + "\"";
      for (auto &[key, t] : *result) {
        std::string field = key == program->loss.name() ? "loss" : key;
        line += ", \"" + field + "\": " + jsonNumber(t.at(0));
        addPoint(field, name, double(i + 1), t.at(0));
      }
      line += "}\n";
      log += line;
      if (i + 1 == *steps || (i + 1) % std::max<int64_t>(1, *steps / 10) == 0)
        std::fputs(line.c_str(), stdout);
    }
    bool last = i + 1 == *steps;
    if (checkpointFile && (last || (*every > 0 && (i + 1) % *every == 0)))
      if (Status st = saveCheckpoint(*checkpointFile, *training, interp, i + 1); !st)
        return reportError(st);
  }
  if (checkpointFile && first == *steps) // resumed at the end: nothing ran, keep it anyway
    if (Status st = saveCheckpoint(*checkpointFile, *training, interp, first); !st)
      return reportError(st);
  if (auto l = args->get("log"))
    if (Status st = writeFileAtomic(*l, log); !st)
      return reportError(st);
  if (auto p = args->get("plot"))
    if (Status st = fit::writeSvg(*p, curves); !st)
      return reportError(st);
  if (auto p = args->get("save-params")) {
    // The user's params only: optimizer slots and counters belong in checkpoints.
    NamedTensors out;
    for (auto &[name, t] : interp.params())
      if (Node *n = model->find(name); n && n->isParam())
        out.emplace_back(name, t);
    if (Status st = writeSafetensors(*p, out); !st)
      return reportError(st);
  }
  return kExitOk;
}

} // namespace kiln::driver
