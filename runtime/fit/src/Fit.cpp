// The fit loop and the column -> input mapping it starts from.
#include "kiln/fit/Fit.h"

#include "FitInternal.h"
#include "kiln/data/BatchIterator.h"
#include "kiln/runtime/Checkpoint.h"

#include <algorithm>
#include <chrono>
#include <set>

namespace kiln::fit {

std::string inputMapString(const InputMap &map) {
  std::string out;
  for (auto &[column, input] : map)
    out += (out.empty() ? "" : ", ") + column + " -> " + input;
  return out;
}

namespace detail {

std::vector<const BufferSlot *> readInputs(const Executable &exe) {
  std::set<std::string> read;
  for (const std::string &name : exe.entryNames())
    for (const std::string &in : exe.findEntry(name)->requiredInputs)
      read.insert(in);
  std::vector<const BufferSlot *> out;
  for (const BufferSlot &s : exe.inputs())
    if (read.count(s.name))
      out.push_back(&s);
  return out;
}

const BufferSlot *findInput(const Executable &exe, const std::string &name) {
  for (const BufferSlot &s : exe.inputs())
    if (s.name == name)
      return &s;
  return nullptr;
}

Expected<std::vector<std::string>> stepNames(const Executable &exe,
                                             const std::vector<std::string> &wanted) {
  std::vector<std::string> all;
  for (const std::string &name : exe.entryNames())
    if (name != "predict")
      all.push_back(name);
  if (all.empty())
    return Status::error("graph '" + exe.graphName() + "' has no train steps");
  if (wanted.empty())
    return all;
  for (const std::string &w : wanted)
    if (std::find(all.begin(), all.end(), w) == all.end())
      return Status::error("graph '" + exe.graphName() + "' has no train step '" + w + "'");
  return wanted;
}

std::string logName(const std::string &step, const std::string &value, bool several) {
  return several ? step + "/" + value : value;
}

} // namespace detail

Expected<InputMap> defaultInputMap(const Executable &exe, const data::Dataset &ds) {
  InputMap map;
  std::set<std::string> used;
  std::vector<const BufferSlot *> pending;
  for (const BufferSlot *s : detail::readInputs(exe)) {
    if (ds.column(s->name)) {
      map.emplace_back(s->name, s->name);
      used.insert(s->name);
    } else {
      pending.push_back(s);
    }
  }
  for (const BufferSlot *s : pending) {
    int64_t elems = 1;
    for (size_t i = 1; i < s->shape.size(); ++i)
      elems *= s->shape[i];
    std::vector<std::string> fits;
    for (auto &[name, t] : ds.columns) {
      if (used.count(name) || t.dtype() != s->dtype || t.rank() < 1)
        continue;
      int64_t n = 1;
      for (int64_t i = 1; i < t.rank(); ++i)
        n *= t.shape()[size_t(i)];
      if (n == elems)
        fits.push_back(name);
    }
    if (fits.size() != 1) {
      std::string cols;
      for (auto &[name, t] : ds.columns)
        cols += (cols.empty() ? "" : ", ") + name;
      return Status::error(
          "input '" + s->name + "' (" + std::string(dtypeName(s->dtype)) + shapeToString(s->shape) +
          "): " + (fits.empty() ? "no dataset column fits it" : "several dataset columns fit it") +
          " (columns: " + cols + "); give the mapping explicitly");
    }
    map.emplace_back(fits[0], s->name);
    used.insert(fits[0]);
  }
  return map;
}

Expected<int64_t> batchSizeOf(const Executable &exe, const InputMap &map) {
  int64_t batch = -1;
  std::string first;
  for (auto &[column, input] : map) {
    const BufferSlot *s = detail::findInput(exe, input);
    if (!s)
      return Status::error("'" + input + "' is not an input of graph '" + exe.graphName() + "'");
    if (s->shape.empty())
      return Status::error("input '" + input + "' is a scalar: it has no batch dimension");
    if (batch >= 0 && s->shape[0] != batch)
      return Status::error("inputs '" + first + "' and '" + input +
                           "' have different batch sizes (" + std::to_string(batch) + " and " +
                           std::to_string(s->shape[0]) + ")");
    if (batch < 0)
      batch = s->shape[0], first = input;
  }
  if (batch < 0)
    return Status::error("the input mapping is empty");
  return batch;
}

Expected<data::Dataset> bindDataset(const Executable &exe, data::Dataset ds, const InputMap &map) {
  std::vector<data::InputBinding> bindings;
  for (auto &[column, input] : map) {
    const BufferSlot *s = detail::findInput(exe, input);
    if (!s)
      return Status::error("mapping '" + column + " -> " + input + "': '" + input +
                           "' is not an input of graph '" + exe.graphName() + "'");
    if (s->shape.empty())
      return Status::error("mapping '" + column + " -> " + input + "': input '" + input +
                           "' is a scalar and cannot take batches");
    bindings.push_back({column, input, s->dtype, Shape(s->shape.begin() + 1, s->shape.end())});
  }
  KILN_TRY(batchSizeOf(exe, map).status());
  return data::bindInputs(std::move(ds), bindings);
}

namespace {

/// Restores a fit checkpoint; returns the number of epochs it had completed.
Expected<int64_t> resume(Executable &exe, const FitOptions &options, int64_t &globalStep) {
  const std::string &path = options.resumeFrom;
  KILN_ASSIGN(Checkpoint ckpt, readCheckpoint(path));
  KILN_TRY(checkCheckpoint(ckpt, exe.graphName(), exe.params(), path));
  const std::string *epoch = ckpt.find("fit.epoch");
  const std::string *seed = ckpt.find("fit.seed");
  if (!epoch || !seed || epoch->empty() || epoch->size() > 12 ||
      epoch->find_first_not_of("0123456789") != std::string::npos)
    return Status::error(path + ": error: not a checkpoint written by fit (no valid 'fit.epoch' "
                                "and 'fit.seed' metadata)");
  // Epoch e's batch order is a function of (seed, e): another seed cannot continue the run.
  if (*seed != std::to_string(options.seed))
    return Status::error(path + ": error: the checkpoint was trained with seed " + *seed +
                         ", this run uses seed " + std::to_string(options.seed));
  if (Status st = exe.setParams(ckpt.state); !st)
    return Status::error(path + ": error: " + st.message());
  exe.setRunCount(ckpt.runCount);
  globalStep = ckpt.step;
  return int64_t(std::stoll(*epoch));
}

Status saveCheckpoint(Executable &exe, const FitOptions &options, int64_t epoch, int64_t step) {
  Checkpoint ckpt;
  ckpt.graph = exe.graphName();
  ckpt.runCount = exe.runCount();
  ckpt.step = step;
  ckpt.state = exe.params();
  ckpt.extra = {{"fit.epoch", std::to_string(epoch)}, {"fit.seed", std::to_string(options.seed)}};
  return writeCheckpoint(options.checkpointPath, ckpt);
}

} // namespace

Expected<History> fit(Executable &exe, data::Dataset train, const InputMap &givenMap,
                      const FitOptions &options) {
  if (options.epochs < 0)
    return Status::error("fit: epochs must be >= 0, got " + std::to_string(options.epochs));
  KILN_ASSIGN(std::vector<std::string> steps, detail::stepNames(exe, options.steps));
  InputMap map = givenMap;
  if (map.empty()) {
    KILN_ASSIGN(map, defaultInputMap(exe, train));
  }
  KILN_ASSIGN(int64_t batch, batchSizeOf(exe, map));

  // Validation data is bound once, not at every epoch.
  std::optional<data::Dataset> validation;
  if (options.validationData) {
    KILN_ASSIGN(validation, bindDataset(exe, *options.validationData, map));
  } else if (options.validationSplit > 0) {
    KILN_ASSIGN(auto parts, data::split(train, options.validationSplit));
    train = std::move(parts.first);
    KILN_ASSIGN(validation, bindDataset(exe, std::move(parts.second), map));
  }
  KILN_ASSIGN(data::Dataset bound, bindDataset(exe, std::move(train), map));
  KILN_ASSIGN(data::BatchIterator it,
              data::BatchIterator::create(
                  bound, {batch, options.shuffle, options.seed, data::LastBatch::Drop}));

  int64_t globalStep = 0, initialEpoch = 0;
  if (!options.resumeFrom.empty()) {
    KILN_ASSIGN(initialEpoch, resume(exe, options, globalStep));
  }
  FitContext ctx;
  ctx.exe = &exe;
  ctx.epochs = options.epochs;
  ctx.initialEpoch = initialEpoch;
  ctx.stepsPerEpoch = it.batchesPerEpoch();
  ctx.batchSize = batch;
  ctx.examples = bound.size();

  History history;
  auto notify = [&](auto &&hook) -> Status {
    for (Callback *cb : options.callbacks) {
      hook(*cb);
      if (!ctx.error.isOk())
        return ctx.error;
    }
    return Status::ok();
  };
  KILN_TRY(notify([&](Callback &cb) { cb.onTrainBegin(ctx); }));

  bool several = steps.size() > 1;
  NamedTensors feeds;
  for (int64_t epoch = initialEpoch + 1; epoch <= options.epochs && !ctx.stopTraining; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    KILN_TRY(notify([&](Callback &cb) { cb.onEpochBegin(ctx, epoch); }));
    it.startEpoch(epoch - 1);
    Logs sums;
    int64_t done = 0;
    while (it.next(feeds)) {
      Logs stepLogs;
      for (const std::string &step : steps) {
        KILN_ASSIGN(NamedTensors result, exe.trainStep(step, feeds));
        for (size_t i = 0; i < result.size(); ++i)
          stepLogs.emplace_back(detail::logName(step, i == 0 ? "loss" : result[i].first, several),
                                result[i].second.at(0));
      }
      if (sums.empty())
        sums = Logs(stepLogs.size(), {"", 0.0});
      for (size_t i = 0; i < stepLogs.size(); ++i)
        sums[i] = {stepLogs[i].first, sums[i].second + stepLogs[i].second};
      ++done;
      ++globalStep;
      Logs running = sums;
      for (auto &[name, v] : running)
        v /= double(done);
      KILN_TRY(notify([&](Callback &cb) { cb.onBatchEnd(ctx, done, running); }));
    }
    Logs logs = sums;
    for (auto &[name, v] : logs)
      v /= double(std::max<int64_t>(1, done));
    if (validation) {
      KILN_ASSIGN(Evaluation val, detail::evaluateBound(exe, *validation, batch, steps));
      for (auto &[name, v] : val.values)
        logs.emplace_back("val_" + name, v);
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    history.append(epoch, secs, logs);
    KILN_TRY(notify([&](Callback &cb) { cb.onEpochEnd(ctx, epoch, logs); }));
    if (!options.checkpointPath.empty())
      KILN_TRY(saveCheckpoint(exe, options, epoch, globalStep));
  }
  KILN_TRY(notify([&](Callback &cb) { cb.onTrainEnd(ctx, history); }));
  return history;
}

} // namespace kiln::fit
