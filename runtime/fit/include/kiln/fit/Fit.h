// The fit loop: Keras-style fit, evaluate and predict over a compiled Executable and a Dataset,
// with an explicit mapping from dataset columns to graph inputs.
#pragma once

#include "kiln/data/Dataset.h"
#include "kiln/fit/Callbacks.h"
#include "kiln/fit/History.h"
#include "kiln/runtime/Executable.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kiln::fit {

/// Which dataset column feeds which graph input: {{"image", "x"}, {"label", "labels"}}.
using InputMap = std::vector<std::pair<std::string, std::string>>;

/// "image -> x, label -> labels", for printing the mapping in use.
std::string inputMapString(const InputMap &map);

/// The mapping used when none is given, or an error when it is ambiguous. Every input the
/// executable's entries read is fed by the column of the same name if there is one; otherwise
/// by the only remaining column whose dtype and per-example element count match the input's
/// (so "image" f32 [28,28,1] -> x f32 [B,28,28] and "label" i32 [] -> labels i32 [B]).
Expected<InputMap> defaultInputMap(const Executable &exe, const data::Dataset &ds);

/// The dataset reshaped for the executable: exactly the mapped inputs as columns, named after
/// them (data::bindInputs with dtypes and example shapes taken from the executable). An unknown
/// column or input, or a dtype mismatch, is an error naming both.
Expected<data::Dataset> bindDataset(const Executable &exe, data::Dataset ds, const InputMap &map);

/// The batch size of the executable: the leading dimension every mapped input shares.
Expected<int64_t> batchSizeOf(const Executable &exe, const InputMap &map);

/// Options of fit(). Plain data: designated initialisers read like Keras' keyword arguments.
struct FitOptions {
  int64_t epochs = 1;
  /// Seed of the per-epoch shuffles (epoch e's order depends only on (seed, e)).
  uint64_t seed = 0;
  bool shuffle = true;
  /// Train steps run on every batch, in this order; empty: every step of the executable in
  /// declaration order (the GAN's d_step then g_step).
  std::vector<std::string> steps = {};
  /// Validation data (unbound: mapped with the same InputMap); evaluated after every epoch.
  const data::Dataset *validationData = nullptr;
  /// Without validationData: the fraction of the training data held out for validation (the
  /// last rows, like Keras' validation_split); 0 for none.
  double validationSplit = 0;
  /// Observers, called in order (borrowed; they must outlive the call).
  std::vector<Callback *> callbacks = {};
  /// When non-empty, a checkpoint (kiln/runtime/Checkpoint.h) is written here atomically after
  /// every epoch: every param, optimizer slot and counter, the run counter, the steps done and
  /// "fit.epoch"/"fit.seed".
  std::string checkpointPath = {};
  /// When non-empty, training continues from this checkpoint (written by fit with the same
  /// seed): state and run counter are restored and the loop starts at its next epoch, so the
  /// remaining epochs equal those of an uninterrupted run bit for bit.
  std::string resumeFrom = {};
};

/// Trains `exe` on `train` (columns mapped by `map`; empty: defaultInputMap) for
/// `options.epochs` epochs of floor(n / B) shuffled batches (the tail is dropped: a static
/// batch size never sees a short batch; with shuffling a different tail each epoch). Returns
/// the per-epoch means of every step's loss and metrics ("loss", "acc"; "<step>/loss" when
/// several steps run) and, with validation, "val_"-prefixed evaluate() results.
Expected<History> fit(Executable &exe, data::Dataset train, const InputMap &map,
                      const FitOptions &options);

/// The result of evaluate(): the mean of the loss and every metric over every example, and
/// the number of examples.
struct Evaluation {
  Logs values; ///< "loss", then metrics by name ("<step>/loss" with several steps)
  int64_t examples = 0;
  /// The value called `name`, or NaN.
  double get(const std::string &name) const;
};

/// Evaluates the train steps' losses and metrics with the inference entry over every example
/// of `ds` exactly once. Those values must be outputs of the graph (every sample's are) and
/// means over the batch of per-example terms, plus terms that do not depend on the batch.
///
/// The last partial batch (n not a multiple of B): its r real rows are padded with copies of
/// its first row e, giving mean m1, and one more batch of B copies of e gives m2 = f(e); the
/// real rows' sum is B*m1 - (B-r)*m2. So every example counts exactly once, with one extra
/// run per evaluation and no second executable.
Expected<Evaluation> evaluate(Executable &exe, data::Dataset ds, const InputMap &map,
                              const std::vector<std::string> &steps = {});

/// Runs inference over every example and returns each graph output whose leading dimension is
/// the batch size, concatenated to n rows in dataset order (padding rows removed). Inputs the
/// map does not feed (labels, when predicting) are fed zeros. Scalar outputs are left out.
Expected<NamedTensors> predict(Executable &exe, data::Dataset ds, const InputMap &map);

} // namespace kiln::fit
