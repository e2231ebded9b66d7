// BatchIterator: fixed-size mini-batches of a Dataset for a static-shape graph, in an order that
// is a pure function of (seed, epoch), so a resumed run sees exactly the batches it would have.
#pragma once

#include "kiln/data/Dataset.h"

#include <cstdint>
#include <span>
#include <vector>

namespace kiln::data {

/// What happens to the examples left over when the dataset size is not a multiple of the batch
/// size. A compiled graph has one batch size, so a short batch is never produced.
enum class LastBatch {
  /// Skip the tail (training: every step sees a full, distinct batch).
  Drop,
  /// Fill the last batch by wrapping around to the start of this epoch's order and report how
  /// many rows are real (evaluation: every example is seen exactly once as a real row).
  Pad,
};

struct BatchOptions {
  int64_t batchSize = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  LastBatch lastBatch = LastBatch::Drop;
};

/// Iterates over mini-batches of a dataset. The dataset is borrowed: it must outlive the
/// iterator and not change while the iterator is used. Typical loop:
///
///   KILN_ASSIGN(auto it, BatchIterator::create(ds, {64, true, seed, LastBatch::Drop}));
///   for (int e = 0; e < epochs; ++e) {
///     it.startEpoch(e);
///     while (it.next(batch, &real)) { ... }
///   }
class BatchIterator {
public:
  /// Checks the dataset and the options: batch size >= 1, and with Drop at least one full
  /// batch. The iterator starts at epoch 0.
  static Expected<BatchIterator> create(const Dataset &ds, BatchOptions options);

  /// Batches per epoch: floor(n / B) with Drop, ceil(n / B) with Pad.
  int64_t batchesPerEpoch() const;
  /// Restarts at the first batch of epoch `epoch`. With shuffle on, the order is a Fisher-Yates
  /// permutation drawn from Philox words of (seed, epoch), so it depends on nothing else.
  void startEpoch(int64_t epoch);
  /// Fills `batch` with the next batch: one tensor per dataset column, same names and order,
  /// shape [B, ...]. Tensors already in `batch` with the right name, dtype and shape are reused
  /// (no allocation per step). Sets *realRows (if given) to the number of rows that are not
  /// padding: B except in a Pad epoch's last batch. Returns false at the end of the epoch.
  bool next(NamedTensors &batch, int64_t *realRows = nullptr);

  /// This epoch's order of example indices (n entries).
  std::span<const int64_t> order() const { return order_; }
  /// Index of the next batch within the epoch (0 after startEpoch).
  int64_t batchIndex() const { return batch_; }
  int64_t epoch() const { return epoch_; }
  const BatchOptions &options() const { return options_; }

private:
  BatchIterator(const Dataset &ds, BatchOptions options);

  const Dataset *ds_;
  BatchOptions options_;
  int64_t size_ = 0;
  int64_t epoch_ = 0;
  int64_t batch_ = 0;
  std::vector<int64_t> order_;
  /// Per column: bytes of one example, cached so next() does no shape arithmetic.
  std::vector<size_t> rowBytes_;
};

/// The permutation of [0, n) used for epoch `epoch` of a shuffled iterator with `seed`.
std::vector<int64_t> shuffledOrder(int64_t n, uint64_t seed, int64_t epoch);

} // namespace kiln::data
