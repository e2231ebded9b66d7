// ProgressBar (live on a terminal, one line per epoch elsewhere) and EarlyStopping.
#include "kiln/fit/Callbacks.h"

#include <algorithm>
#include <cmath>
#include <unistd.h>

namespace kiln::fit {

std::string formatLogs(const Logs &logs) {
  std::string out;
  for (auto &[name, value] : logs) {
    char buf[64];
    // Fixed 4 decimals keep columns steady; a small nonzero value (a regression's mse) would
    // print as 0.0000, so it gets 3 significant digits instead.
    double mag = std::fabs(value);
    std::snprintf(buf, sizeof buf, mag > 0 && mag < 1e-3 ? "%.3e" : "%.4f", value);
    out += (out.empty() ? "" : "  ") + name + " " + buf;
  }
  return out;
}

namespace {

/// "3s", "1m05s", "1h02m": short enough for a progress line.
std::string formatDuration(double secs) {
  if (!std::isfinite(secs) || secs < 0)
    secs = 0;
  long s = std::lround(secs);
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%lds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  return buf;
}

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

ProgressBar::ProgressBar(std::FILE *out, Mode mode) : out_(out) {
  live_ = mode == Mode::Live || (mode == Mode::Auto && isatty(fileno(out)));
}

void ProgressBar::onEpochBegin(FitContext &ctx, int64_t epoch) {
  epoch_ = epoch;
  epochStart_ = lastDraw_ = Clock::now();
  if (live_)
    drawLive(ctx, 0, {}, false);
}

void ProgressBar::onBatchEnd(FitContext &ctx, int64_t step, const Logs &running) {
  // Redrawing costs a write system call; at 100 ms intervals it is invisible in step time even
  // for the 0.1 ms MLP step.
  if (!live_ || std::chrono::duration<double>(Clock::now() - lastDraw_).count() < 0.1)
    return;
  drawLive(ctx, step, running, false);
}

void ProgressBar::drawLive(const FitContext &ctx, int64_t step, const Logs &running, bool final) {
  lastDraw_ = Clock::now();
  constexpr int kWidth = 30;
  int64_t total = std::max<int64_t>(1, ctx.stepsPerEpoch);
  int filled = int(kWidth * step / total);
  std::string bar(size_t(filled), '=');
  if (filled < kWidth)
    bar += step > 0 ? ">" : ".";
  bar.resize(kWidth, '.');
  double secs = secondsSince(epochStart_);
  double rate = secs > 0 ? double(step) / secs : 0;
  std::string tail = final ? formatDuration(secs)
                           : "ETA " + formatDuration(rate > 0 ? double(total - step) / rate : 0);
  // \r returns to the line start and \x1b[K clears what a longer previous line left behind.
  std::fprintf(out_, "\rEpoch %lld/%lld [%s] %lld/%lld  %s%s%.1f steps/s  %s\x1b[K",
               (long long)epoch_, (long long)ctx.epochs, bar.c_str(), (long long)step,
               (long long)total, formatLogs(running).c_str(), running.empty() ? "" : "  ", rate,
               tail.c_str());
  if (final)
    std::fputc('\n', out_);
  std::fflush(out_);
}

void ProgressBar::onEpochEnd(FitContext &ctx, int64_t epoch, const Logs &logs) {
  if (live_) {
    drawLive(ctx, ctx.stepsPerEpoch, logs, true);
    return;
  }
  double secs = secondsSince(epochStart_);
  std::fprintf(out_, "epoch %lld/%lld: %lld steps in %.1f s (%.1f steps/s)  %s\n", (long long)epoch,
               (long long)ctx.epochs, (long long)ctx.stepsPerEpoch, secs,
               secs > 0 ? double(ctx.stepsPerEpoch) / secs : 0.0, formatLogs(logs).c_str());
  std::fflush(out_);
}

EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : options_(std::move(options)) {
  using Mode = EarlyStoppingOptions::Mode;
  maximize_ = options_.mode == Mode::Max ||
              (options_.mode == Mode::Auto && options_.monitor.find("acc") != std::string::npos);
}

void EarlyStopping::onTrainBegin(FitContext &ctx) {
  best_ = std::numeric_limits<double>::quiet_NaN();
  bestEpoch_ = wait_ = stoppedEpoch_ = 0;
  bestParams_.clear();
  if (options_.restoreBest && !ctx.exe)
    ctx.error = Status::error("early stopping: restore_best needs the executable being trained");
}

void EarlyStopping::onEpochEnd(FitContext &ctx, int64_t epoch, const Logs &logs) {
  std::optional<double> value = findLog(logs, options_.monitor);
  if (!value) {
    std::string have;
    for (auto &[name, v] : logs)
      have += (have.empty() ? "" : ", ") + name;
    ctx.error = Status::error("early stopping: the monitored value '" + options_.monitor +
                              "' is not in the epoch's logs (they have " + have + ")");
    return;
  }
  // A NaN never improves on anything, so a diverging run stops after `patience` epochs.
  bool improved = false;
  if (!std::isnan(*value))
    improved = std::isnan(best_) || (maximize_ ? *value - options_.minDelta > best_
                                               : *value + options_.minDelta < best_);
  if (improved) {
    best_ = *value;
    bestEpoch_ = epoch;
    wait_ = 0;
    if (options_.restoreBest && ctx.exe)
      bestParams_ = ctx.exe->params();
    return;
  }
  if (++wait_ >= std::max<int64_t>(1, options_.patience)) {
    stoppedEpoch_ = epoch;
    ctx.stopTraining = true;
  }
}

void EarlyStopping::onTrainEnd(FitContext &ctx, const History &history) {
  if (!options_.restoreBest || !ctx.exe || bestParams_.empty())
    return;
  if (Status st = ctx.exe->setParams(bestParams_); !st)
    ctx.error = st;
}

} // namespace kiln::fit
