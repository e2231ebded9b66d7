// Logs and History: the named scalars of a step or an epoch, and their per-epoch record.
#pragma once

#include "kiln/runtime/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kiln::fit {

/// Named scalars in a fixed order: "loss", "acc", "val_loss", "val_acc", ...
using Logs = std::vector<std::pair<std::string, double>>;

/// The value called `name` in `logs`, if present.
std::optional<double> findLog(const Logs &logs, const std::string &name);

/// What fit() returns: one entry per epoch run, like Keras' History.history.
struct History {
  /// Epoch numbers, 1-based (a resumed run starts past 1).
  std::vector<int64_t> epochs;
  /// Wall-clock seconds of each epoch (training and validation).
  std::vector<double> seconds;
  /// One series per name, in first-seen order; a value missing in an epoch is NaN.
  std::vector<std::pair<std::string, std::vector<double>>> series;

  /// Adds one epoch's logs.
  void append(int64_t epoch, double secs, const Logs &logs);
  /// The series called `name`, or null.
  const std::vector<double> *find(const std::string &name) const;
  /// {"epochs": [1, 2], "seconds": [...], "loss": [...], "val_acc": [...]}; NaN becomes null.
  std::string toJson() const;
};

/// Writes history.toJson() to `path` atomically.
Status writeHistoryJson(const std::string &path, const History &history);

} // namespace kiln::fit
