// BatchIterator: batch counts and real rows under Drop and Pad, padding content, shuffles that
// are permutations reproducible from (seed, epoch), buffer reuse, and option errors.
#include "kiln/data/BatchIterator.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <numeric>
#include <set>

using namespace kiln;
using namespace kiln::data;

namespace {

/// n examples: "img" f32 [n,2,3] with every element of example i equal to i + 0.5, and
/// "label" i32 [n] = i.
Dataset makeDataset(int64_t n) {
  std::vector<float> img;
  std::vector<int32_t> lab;
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 6; ++k)
      img.push_back(float(i) + 0.5f);
    lab.push_back(int32_t(i));
  }
  Dataset ds;
  ds.columns.emplace_back("img", Tensor::fromF32({n, 2, 3}, img));
  ds.columns.emplace_back("label", Tensor::fromI32({n}, lab));
  return ds;
}

/// The labels of every batch of one epoch, and each batch's real row count.
std::vector<int32_t> epochLabels(BatchIterator &it, int64_t epoch, std::vector<int64_t> *reals) {
  it.startEpoch(epoch);
  NamedTensors batch;
  std::vector<int32_t> out;
  int64_t real = -1;
  while (it.next(batch, &real)) {
    const Tensor &img = batch[0].second, &lab = batch[1].second;
    for (int64_t r = 0; r < lab.numElements(); ++r) {
      out.push_back(lab.data<int32_t>()[r]);
      // The image rows travel with their labels.
      for (int k = 0; k < 6; ++k)
        EXPECT_EQ(img.data<float>()[r * 6 + k], float(lab.data<int32_t>()[r]) + 0.5f);
    }
    if (reals)
      reals->push_back(real);
  }
  return out;
}

TEST(BatchIterator, DropSkipsTheTail) {
  Dataset ds = makeDataset(10);
  auto it = BatchIterator::create(ds, {4, false, 0, LastBatch::Drop});
  ASSERT_TRUE(it.ok()) << it.message();
  EXPECT_EQ(it->batchesPerEpoch(), 2);
  std::vector<int64_t> reals;
  EXPECT_EQ(epochLabels(*it, 0, &reals), (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(reals, (std::vector<int64_t>{4, 4}));
}

TEST(BatchIterator, PadWrapsToTheEpochStartAndCountsRealRows) {
  Dataset ds = makeDataset(10);
  auto it = BatchIterator::create(ds, {4, false, 0, LastBatch::Pad});
  ASSERT_TRUE(it.ok());
  EXPECT_EQ(it->batchesPerEpoch(), 3);
  std::vector<int64_t> reals;
  EXPECT_EQ(epochLabels(*it, 0, &reals),
            (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1}));
  EXPECT_EQ(reals, (std::vector<int64_t>{4, 4, 2}));

  // Shuffled: the padding repeats the first rows of this epoch's order.
  auto sh = BatchIterator::create(ds, {4, true, 9, LastBatch::Pad});
  std::vector<int32_t> l = epochLabels(*sh, 3, nullptr);
  ASSERT_EQ(l.size(), 12u);
  EXPECT_EQ(l[10], l[0]);
  EXPECT_EQ(l[11], l[1]);

  // A dataset smaller than one batch wraps more than once.
  Dataset small = makeDataset(3);
  auto tiny = BatchIterator::create(small, {8, false, 0, LastBatch::Pad});
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->batchesPerEpoch(), 1);
  std::vector<int64_t> tr;
  EXPECT_EQ(epochLabels(*tiny, 0, &tr), (std::vector<int32_t>{0, 1, 2, 0, 1, 2, 0, 1}));
  EXPECT_EQ(tr, (std::vector<int64_t>{3}));
}

TEST(BatchIterator, ShuffleIsAPermutationReproducibleFromSeedAndEpoch) {
  Dataset ds = makeDataset(100);
  auto a = BatchIterator::create(ds, {10, true, 1234, LastBatch::Drop});
  auto b = BatchIterator::create(ds, {10, true, 1234, LastBatch::Drop});
  auto c = BatchIterator::create(ds, {10, true, 1235, LastBatch::Drop});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  std::vector<int32_t> e0 = epochLabels(*a, 0, nullptr);
  std::vector<int32_t> e1 = epochLabels(*a, 1, nullptr);
  std::vector<int32_t> sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int32_t> iota(100);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);
  EXPECT_NE(e0, iota);
  EXPECT_NE(e0, e1);
  EXPECT_NE(e0, epochLabels(*c, 0, nullptr));
  // Resuming: a fresh iterator that starts at epoch 1 sees epoch 1's order; so does going back.
  EXPECT_EQ(epochLabels(*b, 1, nullptr), e1);
  EXPECT_EQ(epochLabels(*a, 0, nullptr), e0);
  EXPECT_EQ(std::vector<int64_t>(a->order().begin(), a->order().end()),
            shuffledOrder(100, 1234, 0));

  // Fisher-Yates over Philox is uniform: over 2000 epochs each of 4 examples lands in slot 0
  // about 500 times (binomial sd ~19; 120 is over 6 sd).
  std::vector<int> first(4, 0);
  for (int64_t e = 0; e < 2000; ++e)
    ++first[size_t(shuffledOrder(4, 7, e)[0])];
  for (int k = 0; k < 4; ++k)
    EXPECT_NEAR(first[size_t(k)], 500, 120) << k;
}

TEST(BatchIterator, ReusesBatchTensorsAndStopsAtEpochEnd) {
  Dataset ds = makeDataset(9);
  auto it = BatchIterator::create(ds, {3, true, 5, LastBatch::Drop});
  ASSERT_TRUE(it.ok());
  NamedTensors batch;
  ASSERT_TRUE(it->next(batch));
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].first, "img");
  EXPECT_EQ(batch[0].second.shape(), (Shape{3, 2, 3}));
  EXPECT_EQ(batch[1].second.shape(), (Shape{3}));
  const void *buf = batch[0].second.raw();
  EXPECT_EQ(it->batchIndex(), 1);
  ASSERT_TRUE(it->next(batch));
  ASSERT_TRUE(it->next(batch));
  EXPECT_EQ(batch[0].second.raw(), buf);
  EXPECT_FALSE(it->next(batch));
  EXPECT_FALSE(it->next(batch));
  it->startEpoch(1);
  EXPECT_EQ(it->epoch(), 1);
  EXPECT_TRUE(it->next(batch));
}

TEST(BatchIterator, OptionErrors) {
  Dataset ds = makeDataset(5);
  EXPECT_EQ(BatchIterator::create(ds, {0, false, 0, LastBatch::Drop}).message(),
            "batches: error: batch size 0 must be at least 1");
  EXPECT_EQ(BatchIterator::create(ds, {8, false, 0, LastBatch::Drop}).message(),
            "batches: error: the dataset has 5 examples, fewer than one batch of 8, and "
            "LastBatch::Drop would give no batch at all (use Pad)");
  EXPECT_EQ(BatchIterator::create(ds, {int64_t(1) << 40, false, 0, LastBatch::Pad}).message(),
            "batches: error: a batch of column 'img' would be [1099511627776,2,3], more than one "
            "tensor may hold");
  ds.columns.emplace_back("bad", Tensor::fromF32({2}, std::vector<float>{1, 2}));
  EXPECT_EQ(BatchIterator::create(ds, {1, false, 0, LastBatch::Drop}).message(),
            "batches: error: dataset column 'bad' has 2 examples but column 'img' has 5");
}

} // namespace
