// Callbacks: EarlyStopping on scripted metric sequences, restoring the best params, and the
// progress output in both modes (one plain line per epoch when not on a terminal).
#include "FitTestUtil.h"

#include "kiln/fit/Fit.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace kiln::fit {
namespace {

/// Feeds `values` of `monitor` as epochs 1..n; returns the epoch that stopped (0: none).
int64_t runScript(EarlyStopping &es, const std::string &monitor, const std::vector<double> &values,
                  int64_t *epochsRun = nullptr) {
  FitContext ctx;
  es.onTrainBegin(ctx);
  int64_t e = 0;
  while (e < int64_t(values.size()) && !ctx.stopTraining) {
    ++e;
    es.onEpochEnd(ctx, e, {{"loss", 1.0}, {monitor, values[size_t(e - 1)]}});
    EXPECT_TRUE(ctx.error.isOk()) << ctx.error.message();
  }
  if (epochsRun)
    *epochsRun = e;
  return es.stoppedEpoch();
}

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovement) {
  std::vector<double> loss = {1.0, 0.8, 0.85, 0.79, 0.9, 0.95, 0.5};
  EarlyStopping es({.monitor = "val_loss", .patience = 2});
  int64_t ran = 0;
  // 0.79 improves on 0.8; then 0.9 and 0.95 are two epochs without improvement.
  EXPECT_EQ(runScript(es, "val_loss", loss, &ran), 6);
  EXPECT_EQ(ran, 6);
  EXPECT_EQ(es.bestEpoch(), 4);
  EXPECT_DOUBLE_EQ(es.best(), 0.79);
}

TEST(EarlyStopping, MinDeltaDecidesWhatCountsAsImprovement) {
  std::vector<double> loss = {1.0, 0.8, 0.85, 0.79, 0.9, 0.95, 0.5};
  EarlyStopping es({.monitor = "val_loss", .patience = 2, .minDelta = 0.02});
  // 0.79 is not 0.02 better than 0.8: epochs 3 and 4 both fail to improve.
  EXPECT_EQ(runScript(es, "val_loss", loss), 4);
  EXPECT_EQ(es.bestEpoch(), 2);
}

TEST(EarlyStopping, AccuracyIsMaximisedAndPatienceZeroStopsAtOnce) {
  EarlyStopping es({.monitor = "val_acc", .patience = 0});
  EXPECT_EQ(runScript(es, "val_acc", {0.5, 0.7, 0.9, 0.85, 0.95}), 4);
  EXPECT_EQ(es.bestEpoch(), 3);
  EarlyStopping never({.monitor = "val_acc", .patience = 1});
  EXPECT_EQ(runScript(never, "val_acc", {0.5, 0.6, 0.7}), 0);
}

TEST(EarlyStopping, MissingMonitorIsAnError) {
  EarlyStopping es({.monitor = "val_loss"});
  FitContext ctx;
  es.onTrainBegin(ctx);
  es.onEpochEnd(ctx, 1, {{"loss", 1.0}, {"acc", 0.5}});
  ASSERT_FALSE(ctx.error.isOk());
  EXPECT_EQ(ctx.error.message(),
            "early stopping: the monitored value 'val_loss' is not in the epoch's logs (they "
            "have loss, acc)");
}

TEST(EarlyStopping, FitStopsAndRestoresTheBestParams) {
  auto exe = testing::compiledClassifier(16, 0.05);
  ASSERT_TRUE(exe);
  // Monitoring the training loss "maximised" makes every epoch after the first a
  // non-improvement, so with patience 2 training stops at epoch 3 and restores epoch 1's params.
  EarlyStopping es({.monitor = "loss",
                    .patience = 2,
                    .restoreBest = true,
                    .mode = EarlyStoppingOptions::Mode::Max});
  struct Snapshot : Callback {
    NamedTensors first;
    void onEpochEnd(FitContext &ctx, int64_t epoch, const Logs &) override {
      if (epoch == 1)
        first = ctx.exe->params();
    }
  } snap;
  auto h = fit(*exe, testing::blobs(96), {{"point", "x"}, {"class", "labels"}},
               {.epochs = 10, .callbacks = {&snap, &es}});
  ASSERT_TRUE(h.ok()) << h.message();
  EXPECT_EQ(h->epochs.size(), 3u);
  EXPECT_EQ(es.stoppedEpoch(), 3);
  NamedTensors now = exe->params();
  ASSERT_EQ(now.size(), snap.first.size());
  for (size_t i = 0; i < now.size(); ++i)
    EXPECT_TRUE(now[i].second.identical(snap.first[i].second)) << now[i].first;
}

/// Runs a 3-epoch fit printing progress to a memory stream (never a terminal).
std::string progressOutput(ProgressBar::Mode mode) {
  auto exe = testing::compiledClassifier(16);
  if (!exe)
    return {};
  char *buf = nullptr;
  size_t len = 0;
  std::FILE *out = open_memstream(&buf, &len);
  ProgressBar bar(out, mode);
  data::Dataset val = testing::blobs(40, 3);
  auto h = fit(*exe, testing::blobs(64), {{"point", "x"}, {"class", "labels"}},
               {.epochs = 3, .validationData = &val, .callbacks = {&bar}});
  EXPECT_TRUE(h.ok()) << h.message();
  std::fclose(out);
  std::string text(buf, len);
  std::free(buf);
  return text;
}

TEST(ProgressBar, OnePlainLinePerEpochWhenNotATerminal) {
  std::string text = progressOutput(ProgressBar::Mode::Auto);
  EXPECT_EQ(text.find('\r'), std::string::npos) << text;
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u) << text;
  for (int e = 1; e <= 3; ++e) {
    const std::string &l = lines[size_t(e - 1)];
    EXPECT_EQ(l.rfind("epoch " + std::to_string(e) + "/3: 4 steps in ", 0), 0u) << l;
    for (const char *key : {"steps/s", "  loss ", "  acc ", "  val_loss ", "  val_acc "})
      EXPECT_NE(l.find(key), std::string::npos) << key << " in " << l;
  }
}

TEST(ProgressBar, LiveModeRedrawsInPlaceWithEta) {
  std::string text = progressOutput(ProgressBar::Mode::Live);
  EXPECT_NE(text.find("\rEpoch 1/3 ["), std::string::npos) << text;
  EXPECT_NE(text.find("ETA"), std::string::npos);
  EXPECT_NE(text.find("] 4/4  loss "), std::string::npos) << text;
  // Each epoch ends its live line with one newline.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
}

} // namespace
} // namespace kiln::fit
