// Callbacks of the fit loop: the interface, a progress bar, and early stopping.
#pragma once

#include "kiln/fit/History.h"
#include "kiln/runtime/Executable.h"
#include "kiln/runtime/Safetensors.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

namespace kiln::fit {

/// What a callback sees of the running fit, and how it talks back.
struct FitContext {
  /// The executable being trained (null when a callback is driven by hand, as in tests).
  Executable *exe = nullptr;
  int64_t epochs = 0;        ///< total epochs of the run (the last epoch's number)
  int64_t initialEpoch = 0;  ///< epochs already done before this call (a resumed run)
  int64_t stepsPerEpoch = 0; ///< batches per epoch
  int64_t batchSize = 0;
  int64_t examples = 0; ///< training examples
  /// Set by a callback to end training after the current epoch.
  bool stopTraining = false;
  /// Set by a callback that cannot do its job (a monitored value that does not exist): fit
  /// stops and returns it.
  Status error;
};

/// Observes a fit. Every hook has an empty default. Epoch numbers are 1-based; `step` is the
/// 1-based batch index within the epoch.
class Callback {
public:
  virtual ~Callback() = default;
  virtual void onTrainBegin(FitContext &ctx) {}
  virtual void onEpochBegin(FitContext &ctx, int64_t epoch) {}
  /// `running` holds the means so far in this epoch of the loss and metrics.
  virtual void onBatchEnd(FitContext &ctx, int64_t step, const Logs &running) {}
  /// `logs` holds the epoch's training means and, with validation, the "val_" values.
  virtual void onEpochEnd(FitContext &ctx, int64_t epoch, const Logs &logs) {}
  virtual void onTrainEnd(FitContext &ctx, const History &history) {}
};

/// Keras-style progress. On a terminal, a bar redrawn in place (at most 10 times a second, and
/// at every epoch end) with step, loss, metrics, steps/s and ETA; otherwise (a pipe, a log file)
/// one plain line per epoch, so logs stay readable.
class ProgressBar : public Callback {
public:
  enum class Mode { Auto, Live, Lines };
  /// `out` is borrowed. Auto picks Live when `out` is a terminal.
  explicit ProgressBar(std::FILE *out = stdout, Mode mode = Mode::Auto);

  void onEpochBegin(FitContext &ctx, int64_t epoch) override;
  void onBatchEnd(FitContext &ctx, int64_t step, const Logs &running) override;
  void onEpochEnd(FitContext &ctx, int64_t epoch, const Logs &logs) override;

  bool live() const { return live_; }

private:
  using Clock = std::chrono::steady_clock;
  void drawLive(const FitContext &ctx, int64_t step, const Logs &running, bool final);

  std::FILE *out_;
  bool live_;
  int64_t epoch_ = 0;
  Clock::time_point epochStart_, lastDraw_;
};

/// "loss 0.4123  acc 0.8512" (4 decimals; 3 significant digits below 0.001), the format every
/// progress line uses.
std::string formatLogs(const Logs &logs);

/// Stops training when a monitored value has not improved for `patience` epochs.
struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  /// Epochs with no improvement after which training stops, as in Keras (0 acts as 1: stop at
  /// the first epoch that does not improve).
  int64_t patience = 0;
  /// An improvement must beat the best value by more than this.
  double minDelta = 0;
  /// At the end of training, put back the params of the best epoch (needs ctx.exe).
  bool restoreBest = false;
  /// Whether larger is better. Auto: max for names containing "acc", else min (Keras' rule).
  enum class Mode { Auto, Min, Max } mode = Mode::Auto;
};

class EarlyStopping : public Callback {
public:
  explicit EarlyStopping(EarlyStoppingOptions options);

  void onTrainBegin(FitContext &ctx) override;
  void onEpochEnd(FitContext &ctx, int64_t epoch, const Logs &logs) override;
  void onTrainEnd(FitContext &ctx, const History &history) override;

  /// The epoch that stopped training (0 when it ran to the end).
  int64_t stoppedEpoch() const { return stoppedEpoch_; }
  /// The epoch with the best monitored value so far (0 before the first).
  int64_t bestEpoch() const { return bestEpoch_; }
  double best() const { return best_; }

private:
  EarlyStoppingOptions options_;
  bool maximize_ = false;
  double best_ = std::numeric_limits<double>::quiet_NaN();
  int64_t bestEpoch_ = 0, wait_ = 0, stoppedEpoch_ = 0;
  NamedTensors bestParams_;
};

} // namespace kiln::fit
