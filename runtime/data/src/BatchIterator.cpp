// BatchIterator: per-epoch orders from Philox words of (seed, epoch), batches gathered by memcpy
// of whole rows into reused tensors.
#include "kiln/data/BatchIterator.h"

#include "kiln/runtime/Random.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <numeric>

namespace kiln::data {

std::vector<int64_t> shuffledOrder(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t(0));
  // Fisher-Yates from the back. Each swap draws one 64-bit Philox value of stream
  // (seed, epoch) at index i, so the permutation is a pure function of (seed, epoch, n) on every
  // platform; the multiply-high maps it onto [0, i] with a bias below 2^-32 for any real n.
  for (int64_t i = n - 1; i > 0; --i) {
    auto w = randomWords(seed, uint64_t(epoch), uint64_t(i));
    uint64_t r = (uint64_t(w[0]) << 32) | w[1];
    auto j = int64_t((unsigned __int128)r * uint64_t(i + 1) >> 64);
    std::swap(order[size_t(i)], order[size_t(j)]);
  }
  return order;
}

BatchIterator::BatchIterator(const Dataset &ds, BatchOptions options)
    : ds_(&ds), options_(options), size_(ds.size()) {
  for (const auto &col : ds.columns)
    rowBytes_.push_back(rowBytes(col.second));
  startEpoch(0);
}

Expected<BatchIterator> BatchIterator::create(const Dataset &ds, BatchOptions options) {
  KILN_TRY(checkDataset(ds, "batches"));
  if (options.batchSize < 1)
    return Status::error("batches: error: batch size " + std::to_string(options.batchSize) +
                         " must be at least 1");
  if (options.lastBatch == LastBatch::Drop && ds.size() < options.batchSize)
    return Status::error("batches: error: the dataset has " + std::to_string(ds.size()) +
                         " examples, fewer than one batch of " + std::to_string(options.batchSize) +
                         ", and LastBatch::Drop would give no batch at all (use Pad)");
  for (const auto &[name, t] : ds.columns) {
    Shape shape = t.shape();
    shape[0] = options.batchSize;
    if (checkedNumElements(shape) < 0)
      return Status::error("batches: error: a batch of column '" + name + "' would be " +
                           shapeToString(shape) + ", more than one tensor may hold");
  }
  return BatchIterator(ds, options);
}

int64_t BatchIterator::batchesPerEpoch() const {
  int64_t b = options_.batchSize;
  return options_.lastBatch == LastBatch::Drop ? size_ / b : (size_ + b - 1) / b;
}

void BatchIterator::startEpoch(int64_t epoch) {
  epoch_ = epoch;
  batch_ = 0;
  if (options_.shuffle) {
    order_ = shuffledOrder(size_, options_.seed, epoch);
    return;
  }
  order_.resize(size_t(size_));
  std::iota(order_.begin(), order_.end(), int64_t(0));
}

bool BatchIterator::next(NamedTensors &batch, int64_t *realRows) {
  assert(ds_->size() == size_ && "dataset changed under its BatchIterator");
  if (batch_ >= batchesPerEpoch())
    return false;
  int64_t b = options_.batchSize;
  int64_t start = batch_ * b;
  int64_t real = std::min(b, size_ - start);
  if (realRows)
    *realRows = real;

  const auto &cols = ds_->columns;
  bool reuse = batch.size() == cols.size();
  for (size_t c = 0; reuse && c < cols.size(); ++c) {
    const Tensor &t = batch[c].second;
    const Tensor &src = cols[c].second;
    reuse = batch[c].first == cols[c].first && t.dtype() == src.dtype() && t.rank() == src.rank() &&
            t.shape()[0] == b &&
            std::equal(t.shape().begin() + 1, t.shape().end(), src.shape().begin() + 1);
  }
  if (!reuse) {
    batch.clear();
    for (const auto &[name, src] : cols) {
      Shape shape = src.shape();
      shape[0] = b;
      batch.emplace_back(name, Tensor(src.dtype(), shape));
    }
  }

  for (size_t c = 0; c < cols.size(); ++c) {
    size_t rb = rowBytes_[c];
    const char *src = static_cast<const char *>(cols[c].second.raw());
    char *dst = static_cast<char *>(batch[c].second.raw());
    for (int64_t r = 0; r < b; ++r) {
      // Pad rows wrap around to the start of this epoch's order (modulo, for datasets smaller
      // than one batch).
      int64_t pos = start + r < size_ ? start + r : (start + r - size_) % size_;
      std::memcpy(dst + size_t(r) * rb, src + size_t(order_[size_t(pos)]) * rb, rb);
    }
  }
  ++batch_;
  return true;
}

} // namespace kiln::data
