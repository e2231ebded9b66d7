// IDX reading: every element type, gzip detected by magic, each malformed-file error, and the
// MNIST loader on generated files and on the installed Fashion-MNIST.
#include "DataTestUtil.h"
#include "kiln/data/Formats.h"

#include <bit>
#include <cstring>
#include <gtest/gtest.h>

using namespace kiln;
using namespace kiln::data;
using namespace kiln::data::testing;

namespace {

TEST(Idx, U8ValuesShapeAndDType) {
  TempDir tmp;
  writeBytes(tmp / "a.idx", idxU8({2, 3}, {0, 1, 127, 128, 200, 255}));
  Expected<Tensor> t = readIdx(tmp / "a.idx");
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->dtype(), DType::I32);
  EXPECT_EQ(t->shape(), (Shape{2, 3}));
  EXPECT_EQ(t->toDoubles(), (std::vector<double>{0, 1, 127, 128, 200, 255}));
}

TEST(Idx, SignedAndFloatTypesAreBigEndian) {
  TempDir tmp;
  // i8: 0xff is -1, 0x80 is -128.
  writeBytes(tmp / "i8", idxHeader(0x09, {3}) + std::string("\xff\x80\x05", 3));
  // i16: 0xfffe is -2, 0x0102 is 258.
  writeBytes(tmp / "i16", idxHeader(0x0B, {2}) + be(0xfffe, 2) + be(0x0102, 2));
  writeBytes(tmp / "i32", idxHeader(0x0C, {2}) + be(0xfffffff9u, 4) + be(70000, 4));
  writeBytes(tmp / "f32", idxHeader(0x0D, {2}) + be(std::bit_cast<uint32_t>(1.5f), 4) +
                              be(std::bit_cast<uint32_t>(-0.25f), 4));
  writeBytes(tmp / "f64", idxHeader(0x0E, {1, 1}) + be(std::bit_cast<uint64_t>(3.125), 8));
  struct Case {
    const char *file;
    DType dtype;
    std::vector<double> values;
  } cases[] = {{"i8", DType::I32, {-1, -128, 5}},
               {"i16", DType::I32, {-2, 258}},
               {"i32", DType::I32, {-7, 70000}},
               {"f32", DType::F32, {1.5, -0.25}},
               {"f64", DType::F64, {3.125}}};
  for (const Case &c : cases) {
    Expected<Tensor> t = readIdx(tmp / c.file);
    ASSERT_TRUE(t.ok()) << t.message();
    EXPECT_EQ(t->dtype(), c.dtype) << c.file;
    EXPECT_EQ(t->toDoubles(), c.values) << c.file;
  }
}

TEST(Idx, GzipIsDetectedByMagicNotName) {
  TempDir tmp;
  std::vector<uint8_t> px(2 * 4 * 5);
  for (size_t i = 0; i < px.size(); ++i)
    px[i] = uint8_t(i * 7 % 256);
  std::string image = idxU8({2, 4, 5}, px);
  writeBytes(tmp / "plain", image);
  writeGzip(tmp / "compressed.idx", image); // no .gz suffix on purpose
  writeBytes(tmp / "plain.gz", image);      // a .gz name on a plain file
  Expected<Tensor> a = readIdx(tmp / "plain");
  Expected<Tensor> b = readIdx(tmp / "compressed.idx");
  Expected<Tensor> c = readIdx(tmp / "plain.gz");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.message() << b.message() << c.message();
  EXPECT_EQ(uint8_t(readBytes(tmp / "compressed.idx")[0]), 0x1f);
  EXPECT_TRUE(a->identical(*b));
  EXPECT_TRUE(a->identical(*c));
  EXPECT_EQ(b->at(39), double(39 * 7 % 256));
}

/// The error message for a file holding `bytes`, written plain (or gzip-compressed).
std::string errorFor(const TempDir &tmp, const std::string &bytes, bool gzip = false) {
  std::string path = tmp / (gzip ? "bad.gz" : "bad");
  gzip ? writeGzip(path, bytes) : writeBytes(path, bytes);
  Expected<Tensor> t = readIdx(path);
  EXPECT_FALSE(t.ok());
  return t.ok() ? "" : t.message();
}

TEST(Idx, MalformedFilesGiveExactMessages) {
  TempDir tmp;
  std::string p = tmp / "bad", g = tmp / "bad.gz";
  EXPECT_EQ(errorFor(tmp, std::string("\x01\x02\x08\x01", 4) + be(1, 4) + "x"),
            p + ": error: idx: bad magic: the file starts with 01 02, not 00 00");
  EXPECT_EQ(errorFor(tmp, idxHeader(0x0A, {1}) + "x"),
            p + ": error: idx: unknown element type code 0x0a (expected 0x08, 0x09, 0x0b, 0x0c, "
                "0x0d or 0x0e)");
  EXPECT_EQ(errorFor(tmp, std::string("\0\0", 2)),
            p + ": error: truncated: the file ends after 2 of the 4 bytes of the 4-byte IDX magic");
  EXPECT_EQ(errorFor(tmp, std::string("\0\0\x08\x03", 4) + be(2, 4)),
            p + ": error: truncated: the file ends after 4 of the 12 bytes of 3 dimensions");
  EXPECT_EQ(errorFor(tmp, std::string("\0\0\x08\x00", 4)),
            p + ": error: idx: rank 0 is not in 1..8");
  EXPECT_EQ(errorFor(tmp, idxU8({2, 0}, {})), p + ": error: idx: dimension 1 is 0");
  EXPECT_EQ(errorFor(tmp, idxHeader(0x08, {0xffffffffu, 0xffffffffu, 0xffffffffu})),
            p + ": error: idx: dimensions [4294967295,4294967295,4294967295] hold more than "
                "268435456 elements (overflow or hostile header)");
  EXPECT_EQ(errorFor(tmp, idxU8({2, 3}, {1, 2, 3, 4})),
            p + ": error: truncated: the file ends after 4 of the 6 bytes of data for dimensions "
                "[2,3]");
  EXPECT_EQ(errorFor(tmp, idxU8({2, 2}, {1, 2, 3, 4, 5})),
            p + ": error: idx: size mismatch: bytes follow the 4 data bytes that dimensions [2,2] "
                "announce");
  // A header announcing 256 MiB over a 10-byte body fails on the data, not on an allocation.
  EXPECT_EQ(errorFor(tmp, idxHeader(0x08, {16384, 16384}) + std::string(10, 'x')),
            p + ": error: truncated: the file ends after 10 of the 268435456 bytes of data for "
                "dimensions [16384,16384]");
  // The same faults inside a gzip stream.
  EXPECT_EQ(errorFor(tmp, idxU8({2, 3}, {1, 2, 3, 4}), true),
            g + ": error: truncated: the file ends after 4 of the 6 bytes of data for dimensions "
                "[2,3]");
  EXPECT_EQ(errorFor(tmp, idxU8({2, 2}, {1, 2, 3, 4, 5}), true),
            g + ": error: idx: size mismatch: bytes follow the 4 data bytes that dimensions [2,2] "
                "announce");
}

TEST(Idx, CutGzipStreamAndMissingFile) {
  TempDir tmp;
  std::vector<uint8_t> px(4000);
  for (size_t i = 0; i < px.size(); ++i)
    px[i] = uint8_t((i * 2654435761u) >> 13);
  writeGzip(tmp / "full.gz", idxU8({4000}, px));
  std::string gz = readBytes(tmp / "full.gz");
  writeBytes(tmp / "cut.gz", gz.substr(0, gz.size() / 2));
  Expected<Tensor> t = readIdx(tmp / "cut.gz");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.message(), tmp / "cut.gz" + ": error: truncated gzip stream");

  // A valid gzip header followed by a body that is not deflate data.
  writeBytes(tmp / "garbage.gz",
             std::string("\x1f\x8b\x08\x00\0\0\0\0\0\x03", 10) + std::string(64, '\xff'));
  Expected<Tensor> garbage = readIdx(tmp / "garbage.gz");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.message(),
            tmp / "garbage.gz" + ": error: corrupt gzip data: invalid block type");

  Expected<Tensor> missing = readIdx(tmp / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.message(),
            tmp / "nope" + ": error: cannot open file: No such file or directory");
}

/// Writes an MNIST-format split of `n` images of rows x cols with pixel (i, k) = (i * 31 + k) %
/// 256.
void writeMnist(const TempDir &tmp, const std::string &prefix, uint32_t n, uint32_t rows,
                uint32_t cols, bool gzip) {
  std::vector<uint8_t> px(n * rows * cols), labels(n);
  for (uint32_t i = 0; i < n; ++i) {
    labels[i] = uint8_t((i * 3) % 10);
    for (uint32_t k = 0; k < rows * cols; ++k)
      px[i * rows * cols + k] = uint8_t((i * 31 + k) % 256);
  }
  auto put = gzip ? writeGzip : writeBytes;
  std::string ext = gzip ? ".gz" : "";
  put(tmp / (prefix + "-images-idx3-ubyte" + ext), idxU8({n, rows, cols}, px));
  put(tmp / (prefix + "-labels-idx1-ubyte" + ext), idxU8({n}, labels));
}

TEST(Mnist, GeneratedFilesBothLayoutsAndCompressions) {
  TempDir tmp;
  writeMnist(tmp, "train", 5, 4, 3, /*gzip=*/true);
  writeMnist(tmp, "t10k", 5, 4, 3, /*gzip=*/false);
  Expected<Dataset> train = loadMnist(tmp.str(), "train");
  Expected<Dataset> test = loadMnist(tmp.str(), "test", {ImageLayout::NCHW});
  ASSERT_TRUE(train.ok()) << train.message();
  ASSERT_TRUE(test.ok()) << test.message();
  ASSERT_EQ(train->columns.size(), 2u);
  EXPECT_EQ(train->columns[0].first, "image");
  EXPECT_EQ(train->columns[1].first, "label");
  EXPECT_EQ(train->size(), 5);
  const Tensor &img = *train->column("image");
  EXPECT_EQ(img.dtype(), DType::F32);
  EXPECT_EQ(img.shape(), (Shape{5, 4, 3, 1}));
  EXPECT_EQ(test->column("image")->shape(), (Shape{5, 1, 4, 3}));
  // Image 2, pixel 5: (2*31+5) % 256 = 67 -> 67/255 exactly as f32 division rounds it.
  EXPECT_EQ(img.data<float>()[2 * 12 + 5], 67.0f / 255.0f);
  EXPECT_EQ(img.data<float>()[0], 0.0f);
  const Tensor &lab = *train->column("label");
  EXPECT_EQ(lab.dtype(), DType::I32);
  EXPECT_EQ(lab.shape(), (Shape{5}));
  EXPECT_EQ(lab.toDoubles(), (std::vector<double>{0, 3, 6, 9, 2}));
  // Plain and gzip files of the same data load to identical tensors.
  EXPECT_EQ(std::memcmp(img.raw(), test->column("image")->raw(), img.byteSize()), 0);
}

TEST(Mnist, Errors) {
  TempDir tmp;
  Expected<Dataset> bad = loadMnist(tmp.str(), "validation");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(), tmp.str() + ": error: mnist: unknown split 'validation' (expected "
                                       "'train' or 'test')");
  Expected<Dataset> none = loadMnist(tmp.str(), "train");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.message(),
            tmp / "train-images-idx3-ubyte" + ": error: mnist: file not found (nor with .gz)");
  writeMnist(tmp, "train", 4, 2, 2, false);
  writeBytes(tmp / "train-labels-idx1-ubyte", idxU8({3}, {1, 2, 3}));
  Expected<Dataset> mismatch = loadMnist(tmp.str(), "train");
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.message(), tmp / "train-labels-idx1-ubyte" +
                                    ": error: mnist: 3 labels for "
                                    "the 4 images of " +
                                    tmp / "train-images-idx3-ubyte");
}

TEST(Mnist, InstalledFashionMnist) {
  // make test installs the Debian package (scripts/bootstrap.sh): its absence is a failure,
  // not a reason to skip, since the demo and the fit tests depend on it.
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  ASSERT_TRUE(std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz"))
      << "Fashion-MNIST is not installed under " << dir
      << " (apt-get install dataset-fashion-mnist)";
  Expected<Dataset> train = loadMnist(dir, "train");
  Expected<Dataset> test = loadMnist(dir, "test");
  ASSERT_TRUE(train.ok()) << train.message();
  ASSERT_TRUE(test.ok()) << test.message();
  EXPECT_EQ(train->column("image")->shape(), (Shape{60000, 28, 28, 1}));
  EXPECT_EQ(test->column("image")->shape(), (Shape{10000, 28, 28, 1}));
  // Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
  for (const auto &[ds, perClass] : {std::pair{&*train, 6000}, std::pair{&*test, 1000}}) {
    std::vector<int> counts(10, 0);
    const Tensor &lab = *ds->column("label");
    for (int64_t i = 0; i < lab.numElements(); ++i) {
      int32_t l = lab.data<int32_t>()[i];
      ASSERT_TRUE(l >= 0 && l < 10) << l;
      ++counts[size_t(l)];
    }
    for (int c = 0; c < 10; ++c)
      EXPECT_EQ(counts[size_t(c)], perClass) << "class " << c;
  }
  // The published mean pixel intensity of the training set is 0.2860 (std 0.3530).
  const Tensor &img = *train->column("image");
  double sum = 0, lo = 1, hi = 0;
  for (int64_t i = 0; i < img.numElements(); ++i) {
    double v = img.data<float>()[i];
    sum += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_NEAR(sum / double(img.numElements()), 0.2860, 5e-4);
  EXPECT_EQ(lo, 0.0);
  EXPECT_EQ(hi, 1.0);
  // The first training image is an ankle boot (class 9).
  EXPECT_EQ(train->column("label")->data<int32_t>()[0], 9);
}

} // namespace
