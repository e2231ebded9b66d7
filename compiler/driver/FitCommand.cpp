// kilnc fit: trains a model on a real dataset (Fashion-MNIST, MNIST, CIFAR-10, CSV,
// safetensors) with the fit loop (runtime/fit), then evaluates it on the test split.
#include "compiler/driver/Commands.h"

#include "compiler/codegen/Compile.h"
#include "kiln/data/Formats.h"
#include "kiln/fit/Fit.h"
#include "kiln/fit/Plot.h"

#include <chrono>
#include <cstdio>
#include <optional>

namespace kiln::driver {

namespace {

/// Where the Debian package dataset-fashion-mnist installs the files.
constexpr const char *kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

CommandSpec fitSpec() {
  CommandSpec s{
      "fit",
      "MODEL.json --dataset SPEC [--map COLUMN=INPUT,...] [--epochs N] [--validation-split F | "
      "--validation test] [--seed S] [--save-checkpoint C] [--resume C] [--plot F.svg] "
      "[--history F.json]",
      "Trains MODEL on a dataset with the fit loop, one epoch = every full batch of the\n"
      "shuffled training data (the tail that does not fill a batch is dropped, a different one\n"
      "each epoch), then evaluates on the test split: every test example counted exactly once.\n"
      "SPEC is fashion-mnist (the Debian package's files), fashion-mnist:DIR, mnist:DIR,\n"
      "cifar10:DIR, csv:FILE or safetensors:FILE. Image datasets have columns 'image' and\n"
      "'label'; CSV gives 'features' and 'label'; safetensors one column per tensor. --map says\n"
      "which column feeds which graph input; without it each input takes the column of its name\n"
      "or the only column of its dtype and size, and the mapping is printed.",
      1,
      {{"dataset", true, false, "the training data (see above)"},
       {"map", true, false, "COLUMN=INPUT,...: e.g. image=x,label=labels"},
       {"epochs", true, false, "number of epochs (default 1)"},
       {"validation-split", true, false, "F in (0,1): hold out the last F of the training data"},
       {"validation", true, false, "test: validate on the test split after every epoch"},
       {"test-data", true, false,
        "FILE: test data for csv: and safetensors: datasets (same format)"},
       {"seed", true, false, "shuffle seed (default 0)"},
       {"limit", true, false, "N: train on the first N examples only"},
       {"normalize", true, false,
        "COLUMN: standardise this f32 column with the training data's mean and std (also the "
        "test data's)"},
       {"label-column", true, false, "csv: the label's header name (default label)"},
       {"label-dtype", true, false, "csv: i32 (classes, default) or f32 (regression targets)"},
       {"patience", true, false, "N: stop when --monitor has not improved for N epochs"},
       {"monitor", true, false, "what --patience watches (default val_loss, else loss)"},
       {"progress", true, false, "auto|bar|lines|off (auto: a live bar on a terminal)"},
       {"save-checkpoint", true, false, "C.safetensors: written atomically after every epoch"},
       {"resume", true, false, "C.safetensors: continue a run saved with --save-checkpoint"},
       {"plot", true, false, "F.svg: loss and metric curves, train and validation"},
       {"history", true, false, "F.json: the per-epoch losses and metrics"}}};
  for (auto &f : commonRunFlags())
    if (f.name != "params")
      s.flags.push_back(f);
  return s;
}

/// The training and (if any) test datasets named by --dataset.
struct LoadedData {
  std::string description;
  data::Dataset train;
  std::optional<data::Dataset> test;
};

Expected<data::Dataset> loadFileDataset(const std::string &kind, const std::string &path,
                                        const ParsedArgs &args) {
  if (kind == "safetensors")
    return data::readSafetensorsDataset(path);
  data::CsvOptions csv;
  csv.label = args.get("label-column").value_or("label");
  std::string dtype = args.get("label-dtype").value_or("i32");
  if (dtype != "i32" && dtype != "f32")
    return Status::error("kilnc fit: --label-dtype takes i32 or f32, got '" + dtype + "'");
  csv.labelDType = dtype == "i32" ? DType::I32 : DType::F32;
  return data::readCsv(path, csv);
}

Expected<LoadedData> loadData(const std::string &spec, const ParsedArgs &args) {
  size_t colon = spec.find(':');
  std::string kind = spec.substr(0, colon);
  std::string where = colon == std::string::npos ? "" : spec.substr(colon + 1);
  LoadedData out;
  if (kind == "fashion-mnist" || kind == "mnist" || kind == "cifar10") {
    if (where.empty() && kind == "fashion-mnist")
      where = kFashionMnistDir;
    if (where.empty())
      return Status::error("kilnc fit: --dataset '" + spec + "': say where the files are (" + kind +
                           ":DIR)");
    auto load = [&](const std::string &split) {
      return kind == "cifar10" ? data::loadCifar10(where, split) : data::loadMnist(where, split);
    };
    KILN_ASSIGN(out.train, load("train"));
    KILN_ASSIGN(out.test, load("test"));
    out.description = kind + " (" + where + ")";
    return out;
  }
  if (kind == "csv" || kind == "safetensors") {
    if (where.empty())
      return Status::error("kilnc fit: --dataset '" + spec + "': name the file (" + kind +
                           ":FILE)");
    KILN_ASSIGN(out.train, loadFileDataset(kind, where, args));
    if (auto t = args.get("test-data")) {
      KILN_ASSIGN(out.test, loadFileDataset(kind, *t, args));
    }
    out.description = kind + " (" + where + ")";
    return out;
  }
  return Status::error("kilnc fit: --dataset '" + spec +
                       "': unknown dataset (expected "
                       "fashion-mnist, fashion-mnist:DIR, mnist:DIR, cifar10:DIR, csv:FILE or "
                       "safetensors:FILE)");
}

/// Parses --map COLUMN=INPUT,...; nullopt on a malformed entry.
std::optional<fit::InputMap> parseMap(const std::string &text) {
  fit::InputMap map;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      return std::nullopt;
    map.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return map;
}

std::optional<double> parseFraction(const std::string &s) {
  char *end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v > 0 && v < 1))
    return std::nullopt;
  return v;
}

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

int runFit(const std::vector<std::string> &argv) {
  CommandSpec spec = fitSpec();
  int exit = 0;
  auto args = parseCommand(spec, argv, exit);
  if (!args)
    return exit;
  if (!args->has("dataset"))
    return reportUsage(spec, "--dataset is required");
  auto epochs = intFlag(spec, *args, "epochs", 1, 1'000'000, exit);
  auto seed = epochs ? intFlag(spec, *args, "seed", 0, int64_t(1) << 53, exit) : std::nullopt;
  auto limit = seed ? intFlag(spec, *args, "limit", 0, int64_t(1) << 40, exit) : std::nullopt;
  auto patience = limit ? intFlag(spec, *args, "patience", -1, 1'000'000, exit) : std::nullopt;
  if (!patience)
    return exit;
  auto backend = resolveBackend(spec, *args, exit);
  if (!backend)
    return exit;
  if (*backend == Backend::Interp)
    return reportUsage(spec, "fit runs compiled code; --backend=interp is not supported");
  std::optional<fit::InputMap> map = fit::InputMap{};
  if (auto m = args->get("map"); m && !(map = parseMap(*m)))
    return reportUsage(spec,
                       "--map takes COLUMN=INPUT pairs separated by commas, got '" + *m + "'");
  std::optional<double> split;
  if (auto v = args->get("validation-split"); v && !(split = parseFraction(*v)))
    return reportUsage(spec, "--validation-split takes a fraction in (0,1), got '" + *v + "'");
  std::string validation = args->get("validation").value_or("");
  if (!validation.empty() && validation != "test")
    return reportUsage(spec, "--validation takes 'test', got '" + validation + "'");
  if (split && !validation.empty())
    return reportUsage(spec, "--validation-split and --validation exclude each other");
  std::string progress = args->get("progress").value_or("auto");
  if (progress != "auto" && progress != "bar" && progress != "lines" && progress != "off")
    return reportUsage(spec, "--progress takes auto, bar, lines or off, got '" + progress + "'");

  const std::string &modelPath = args->positionals[0];
  auto model = loadModel(modelPath);
  if (!model)
    return reportError(model.status());
  if (model->trainSteps().empty())
    return reportError(
        Status::error(modelPath + ": error: graph '" + model->name() + "' has no train steps"));
  auto loaded = loadData(*args->get("dataset"), *args);
  if (!loaded)
    return reportError(loaded.status());
  if (*limit > 0 && *limit < loaded->train.size()) {
    std::vector<int64_t> rows(static_cast<size_t>(*limit));
    for (int64_t i = 0; i < *limit; ++i)
      rows[size_t(i)] = i;
    auto cut = data::selectRows(loaded->train, rows);
    if (!cut)
      return reportError(cut.status());
    loaded->train = cut.take();
  }
  if (auto column = args->get("normalize")) {
    // One mean and std over every element, from the training data only, applied to both splits
    // (the test data must not inform preprocessing).
    auto stats = data::computeStats(loaded->train, *column);
    if (!stats)
      return reportError(Status::error("kilnc fit: --normalize: " + stats.message()));
    for (data::Dataset *ds : {&loaded->train, loaded->test ? &*loaded->test : nullptr})
      if (ds)
        if (Status st = data::normalize(*ds, *column, *stats); !st)
          return reportError(Status::error("kilnc fit: --normalize: " + st.message()));
    std::printf("normalized '%s': mean %.4f, std %.4f\n", column->c_str(), stats->mean[0],
                stats->std[0]);
  }
  if (validation == "test" && !loaded->test)
    return reportError(Status::error("kilnc fit: --validation test: dataset " +
                                     loaded->description + " has no test split (--test-data)"));

  auto start = std::chrono::steady_clock::now();
  codegen::CompileOptions copts;
  copts.threads = std::stoi(args->get("threads").value_or("0"));
  copts.pipeline = backendPipeline(*backend);
  copts.checkNumerics = args->has("check-numerics");
  auto exe = codegen::compile(*model, copts);
  if (!exe)
    return reportError(exe.status());
  double compileSecs = secondsSince(start);

  // The mapping, checked (and, when not given, chosen) before any training starts.
  bool defaulted = map->empty();
  if (defaulted) {
    auto chosen = fit::defaultInputMap(**exe, loaded->train);
    if (!chosen)
      return reportError(Status::error("kilnc fit: " + modelPath + ": " + chosen.message()));
    map = *chosen;
  }
  auto batch = fit::batchSizeOf(**exe, *map);
  if (!batch)
    return reportError(
        Status::error("kilnc fit: --map: " + batch.message() + " (" + modelPath + ")"));
  for (auto &[column, input] : *map)
    if (!loaded->train.column(column))
      return reportError(Status::error("kilnc fit: --map '" + column + "=" + input + "': dataset " +
                                       loaded->description + " has no column '" + column + "'"));
  std::printf("model %s: graph '%s', batch %lld, compiled in %.2f s\n", modelPath.c_str(),
              model->name().c_str(), (long long)*batch, compileSecs);
  std::printf("data %s: %lld training examples%s\n", loaded->description.c_str(),
              (long long)loaded->train.size(),
              loaded->test ? (", " + std::to_string(loaded->test->size()) + " test").c_str() : "");
  std::printf("mapping %s%s\n", fit::inputMapString(*map).c_str(),
              defaulted ? " (default: pass --map to choose)" : "");
  std::fflush(stdout);

  fit::FitOptions opts;
  opts.epochs = *epochs;
  opts.seed = uint64_t(*seed);
  opts.validationSplit = split.value_or(0);
  if (validation == "test")
    opts.validationData = &*loaded->test;
  opts.checkpointPath = args->get("save-checkpoint").value_or("");
  opts.resumeFrom = args->get("resume").value_or("");
  fit::ProgressBar bar(stdout, progress == "bar"     ? fit::ProgressBar::Mode::Live
                               : progress == "lines" ? fit::ProgressBar::Mode::Lines
                                                     : fit::ProgressBar::Mode::Auto);
  if (progress != "off")
    opts.callbacks.push_back(&bar);
  bool hasValidation = split || !validation.empty();
  std::optional<fit::EarlyStopping> stopper;
  if (*patience >= 0) {
    stopper.emplace(fit::EarlyStoppingOptions{
        .monitor = args->get("monitor").value_or(hasValidation ? "val_loss" : "loss"),
        .patience = *patience});
    opts.callbacks.push_back(&*stopper);
  }

  start = std::chrono::steady_clock::now();
  auto history = fit::fit(**exe, std::move(loaded->train), *map, opts);
  if (!history)
    return reportError(Status::error("kilnc fit: " + history.message()));
  std::printf("trained %zu epoch%s in %.2f s%s\n", history->epochs.size(),
              history->epochs.size() == 1 ? "" : "s", secondsSince(start),
              stopper && stopper->stoppedEpoch() ? " (stopped early)" : "");
  if (auto p = args->get("plot")) {
    std::vector<fit::PlotPanel> panels = fit::historyPanels(*history);
    if (Status st = fit::writeSvg(*p, panels); !st)
      return reportError(st);
  }
  if (auto h = args->get("history"))
    if (Status st = fit::writeHistoryJson(*h, *history); !st)
      return reportError(st);

  if (loaded->test) {
    start = std::chrono::steady_clock::now();
    auto ev = fit::evaluate(**exe, std::move(*loaded->test), *map);
    if (!ev)
      return reportError(Status::error("kilnc fit: test data: " + ev.message()));
    std::printf("test: %s  (%lld examples, %.2f s)\n", fit::formatLogs(ev->values).c_str(),
                (long long)ev->examples, secondsSince(start));
  }
  return kExitOk;
}

} // namespace kiln::driver
