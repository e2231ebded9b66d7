// Helpers shared by the fit loop (Fit.cpp) and evaluation/prediction (Evaluate.cpp).
#pragma once

#include "kiln/data/Dataset.h"
#include "kiln/fit/Fit.h"
#include "kiln/runtime/Executable.h"

#include <string>
#include <vector>

namespace kiln::fit::detail {

/// The inputs some entry of `exe` reads, in graph order.
std::vector<const BufferSlot *> readInputs(const Executable &exe);
/// The input slot called `name`, or null.
const BufferSlot *findInput(const Executable &exe, const std::string &name);
/// `wanted` checked against the executable's train steps; empty: all of them, in order.
Expected<std::vector<std::string>> stepNames(const Executable &exe,
                                             const std::vector<std::string> &wanted);
/// The key of a step's value in Logs: `value`, or "step/value" when several steps run.
std::string logName(const std::string &step, const std::string &value, bool several);

/// evaluate() on a dataset already bound to the executable (columns = inputs, batch `batch`);
/// `steps` already checked by stepNames.
Expected<Evaluation> evaluateBound(Executable &exe, const data::Dataset &bound, int64_t batch,
                                   const std::vector<std::string> &steps);

} // namespace kiln::fit::detail
