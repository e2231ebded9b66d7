// CIFAR-10 binary batches on generated files: labels, the CHW -> HWC transpose, both layouts,
// the train/test file sets, and malformed files.
#include "DataTestUtil.h"
#include "kiln/data/Formats.h"

#include <gtest/gtest.h>

using namespace kiln;
using namespace kiln::data;
using namespace kiln::data::testing;

namespace {

/// Pixel byte of record `r`, channel c, row h, column w: distinct enough to catch any mix-up of
/// the three axes or of records.
uint8_t pixel(int r, int c, int h, int w) { return uint8_t((r * 97 + c * 61 + h * 7 + w) % 256); }

/// `count` records starting at record index `first`, label (first + i) % 10.
std::string records(int first, int count) {
  std::string s;
  for (int r = first; r < first + count; ++r) {
    s += char(r % 10);
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 32; ++h)
        for (int w = 0; w < 32; ++w)
          s += char(pixel(r, c, h, w));
  }
  return s;
}

TEST(Cifar10, FilesConcatenateInOrderNhwc) {
  TempDir tmp;
  writeBytes(tmp / "a.bin", records(0, 3));
  writeGzip(tmp / "b.bin", records(3, 2)); // gzip is detected by magic here too
  Expected<Dataset> ds = loadCifar10Files({tmp / "a.bin", tmp / "b.bin"});
  ASSERT_TRUE(ds.ok()) << ds.message();
  const Tensor &img = *ds->column("image");
  const Tensor &lab = *ds->column("label");
  EXPECT_EQ(img.dtype(), DType::F32);
  EXPECT_EQ(img.shape(), (Shape{5, 32, 32, 3}));
  EXPECT_EQ(lab.dtype(), DType::I32);
  EXPECT_EQ(lab.toDoubles(), (std::vector<double>{0, 1, 2, 3, 4}));
  const float *p = img.data<float>();
  for (int r : {0, 2, 4})
    for (auto [c, h, w] : {std::tuple{0, 0, 0}, {1, 5, 9}, {2, 31, 30}, {2, 0, 31}})
      EXPECT_EQ(p[((r * 32 + h) * 32 + w) * 3 + c], float(pixel(r, c, h, w)) / 255.0f)
          << r << " " << c << " " << h << " " << w;
}

TEST(Cifar10, NchwKeepsTheFileOrder) {
  TempDir tmp;
  writeBytes(tmp / "a.bin", records(0, 2));
  Expected<Dataset> ds = loadCifar10Files({tmp / "a.bin"}, {ImageLayout::NCHW});
  ASSERT_TRUE(ds.ok()) << ds.message();
  const Tensor &img = *ds->column("image");
  EXPECT_EQ(img.shape(), (Shape{2, 3, 32, 32}));
  const float *p = img.data<float>();
  EXPECT_EQ(p[((1 * 3 + 2) * 32 + 17) * 32 + 3], float(pixel(1, 2, 17, 3)) / 255.0f);
  EXPECT_EQ(p[((0 * 3 + 1) * 32 + 0) * 32 + 31], float(pixel(0, 1, 0, 31)) / 255.0f);
}

TEST(Cifar10, DirectorySplits) {
  TempDir tmp;
  for (int i = 1; i <= 5; ++i)
    writeBytes(tmp / ("data_batch_" + std::to_string(i) + ".bin"), records((i - 1) * 2, 2));
  writeBytes(tmp / "test_batch.bin", records(100, 3));
  Expected<Dataset> train = loadCifar10(tmp.str(), "train");
  Expected<Dataset> test = loadCifar10(tmp.str(), "test");
  ASSERT_TRUE(train.ok()) << train.message();
  ASSERT_TRUE(test.ok()) << test.message();
  EXPECT_EQ(train->size(), 10);
  EXPECT_EQ(test->size(), 3);
  EXPECT_EQ(train->column("label")->toDoubles(),
            (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  // Record 7 lives in data_batch_4.bin; its first red pixel.
  EXPECT_EQ(train->column("image")->data<float>()[7 * 3072], float(pixel(7, 0, 0, 0)) / 255.0f);

  std::filesystem::remove(tmp / "data_batch_3.bin");
  Expected<Dataset> missing = loadCifar10(tmp.str(), "train");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.message(), tmp / "data_batch_3.bin" + ": error: cifar10: file not found");
  Expected<Dataset> split = loadCifar10(tmp.str(), "dev");
  ASSERT_FALSE(split.ok());
  EXPECT_EQ(split.message(),
            tmp.str() + ": error: cifar10: unknown split 'dev' (expected 'train' or 'test')");
}

TEST(Cifar10, MalformedFiles) {
  TempDir tmp;
  writeBytes(tmp / "short.bin", records(0, 2).substr(0, 3073 + 100));
  Expected<Dataset> a = loadCifar10Files({tmp / "short.bin"});
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.message(), tmp / "short.bin" + ": error: cifar10: size 3173 is not a positive "
                                             "multiple of the 3073-byte record (1 label byte + "
                                             "3072 pixel bytes)");
  std::string bad = records(0, 3);
  bad[2 * 3073] = char(10);
  writeBytes(tmp / "label.bin", bad);
  Expected<Dataset> b = loadCifar10Files({tmp / "label.bin"});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.message(), tmp / "label.bin" + ": error: cifar10: record 2 (byte offset 6146) has "
                                             "label 10, not in 0..9");
  writeBytes(tmp / "empty.bin", "");
  EXPECT_FALSE(loadCifar10Files({tmp / "empty.bin"}).ok());
  Expected<Dataset> none = loadCifar10Files({});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.message(), "error: cifar10: no batch files given");
}

} // namespace
