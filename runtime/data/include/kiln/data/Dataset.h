// Dataset: named columns of examples, and the column-level operations a training loop needs
// (lookup, rename, reshape, row selection, validation splits, safetensors files).
#pragma once

#include "kiln/runtime/Safetensors.h"
#include "kiln/runtime/Status.h"
#include "kiln/runtime/Tensor.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace kiln::data {

/// A table of examples. Every column's leading dimension is the number of examples; the rest of
/// its shape is one example (an image [28,28,1], a label []). Column names are what a fit loop
/// maps to graph inputs ("image" -> "x", "label" -> "labels").
struct Dataset {
  NamedTensors columns;

  /// Number of examples: the leading dimension of the first column (0 when there is none).
  int64_t size() const;
  /// The column called `name`, or nullptr.
  const Tensor *column(std::string_view name) const;
  Tensor *column(std::string_view name);
};

/// Checks the invariants: at least one column, every column of rank >= 1, all leading
/// dimensions equal, names unique and non-empty. `what` names the source in the message.
Status checkDataset(const Dataset &ds, const std::string &what);

/// Renames a column; an error if `from` is missing or `to` already exists.
Status renameColumn(Dataset &ds, std::string_view from, const std::string &to);

/// Gives every example of a column a new shape with the same number of elements (the bytes do
/// not move): e.g. images [n,28,28,1] -> [n,28,28] for an MLP whose input is [B,28,28].
Status reshapeColumn(Dataset &ds, std::string_view name, const Shape &exampleShape);

/// A new dataset holding rows `rows` (in that order, repeats allowed) of every column. Every
/// index must be in [0, ds.size()).
Expected<Dataset> selectRows(const Dataset &ds, std::span<const int64_t> rows);

/// Splits off a validation part: the second dataset holds round(fraction * n) examples, the
/// first the rest. Without a seed the last rows form the second part (Keras' validation_split,
/// so the split is stable); with a seed the rows are first permuted by that seed. `fraction`
/// must be in (0, 1) and both parts non-empty.
Expected<std::pair<Dataset, Dataset>> split(const Dataset &ds, double fraction,
                                            std::optional<uint64_t> shuffleSeed = std::nullopt);

/// Every tensor of a safetensors file becomes a column, in file order. The leading dimensions
/// must agree and no tensor may be a scalar.
Expected<Dataset> readSafetensorsDataset(const std::string &path);

/// One graph input fed from a dataset column: what a fit loop's column -> input mapping holds.
struct InputBinding {
  std::string column;
  std::string input;
  /// The input's element type and the shape of one example (the input's shape without its
  /// leading batch dimension).
  DType dtype = DType::F32;
  Shape exampleShape;
};

/// A dataset whose columns are exactly the bound inputs, in binding order and named after the
/// inputs, ready for a BatchIterator whose batches feed the graph directly. A column whose
/// examples have the input's element count but another shape is reshaped ([28,28,1] -> [28,28]);
/// dtypes must match exactly (no silent casts). Columns are moved out of `ds` (copied when
/// bound twice). Errors name the column and the input.
Expected<Dataset> bindInputs(Dataset ds, std::span<const InputBinding> bindings);

/// Per-channel (or whole-column) statistics of a float column.
struct ColumnStats {
  std::vector<double> mean;
  /// Population standard deviation (divides by the count, like torchvision's recipes).
  std::vector<double> std;
};

/// Mean and standard deviation of an f32/f64 column, computed in double. With `channelAxis`
/// (an axis of the column's full shape, negative counting from the end, never 0 which is the
/// example axis) one value per channel; without it, one value over every element.
Expected<ColumnStats> computeStats(const Dataset &ds, std::string_view column,
                                   std::optional<int64_t> channelAxis = std::nullopt);

/// x <- (x - mean[c]) / std[c] in place on an f32/f64 column. `mean` and `std` have one value
/// (applied to every element) or one per channel along `channelAxis`. Every std must be > 0.
Status normalize(Dataset &ds, std::string_view column, std::span<const double> mean,
                 std::span<const double> std, std::optional<int64_t> channelAxis = std::nullopt);
/// normalize() with the result of computeStats() on the same axis.
Status normalize(Dataset &ds, std::string_view column, const ColumnStats &stats,
                 std::optional<int64_t> channelAxis = std::nullopt);

/// Bytes of one example of `t` (all dims but the first times the element size).
size_t rowBytes(const Tensor &t);

} // namespace kiln::data
