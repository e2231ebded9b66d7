// CIFAR-10 binary batches: records of 1 label byte (0..9) and 3072 pixel bytes (1024 red, 1024
// green, 1024 blue, each 32x32 row-major), concatenated with no header.
#include "ByteSource.h"
#include "kiln/data/Formats.h"

#include <cstring>
#include <filesystem>

namespace kiln::data {

namespace {

constexpr int64_t kSide = 32;
constexpr int64_t kChannels = 3;
constexpr int64_t kPixels = kSide * kSide * kChannels;
constexpr int64_t kRecord = 1 + kPixels;
/// One CIFAR-10 batch file is 30,730,000 bytes; anything past 2^28 bytes is not a batch file.
constexpr size_t kMaxFileBytes = size_t(1) << 28;

} // namespace

Expected<Dataset> loadCifar10Files(const std::vector<std::string> &files, ImageOptions options) {
  if (files.empty())
    return Status::error("error: cifar10: no batch files given");
  std::vector<std::string> contents;
  int64_t n = 0;
  for (const std::string &path : files) {
    KILN_ASSIGN(ByteSource src, ByteSource::open(path));
    KILN_ASSIGN(std::string bytes, src.readAll(kMaxFileBytes));
    if (bytes.empty() || bytes.size() % size_t(kRecord) != 0)
      return Status::error(path + ": error: cifar10: size " + std::to_string(bytes.size()) +
                           " is not a positive multiple of the 3073-byte record (1 label byte + "
                           "3072 pixel bytes)");
    int64_t records = int64_t(bytes.size()) / kRecord;
    for (int64_t r = 0; r < records; ++r) {
      auto label = uint8_t(bytes[size_t(r * kRecord)]);
      if (label > 9)
        return Status::error(path + ": error: cifar10: record " + std::to_string(r) +
                             " (byte offset " + std::to_string(r * kRecord) + ") has label " +
                             std::to_string(label) + ", not in 0..9");
    }
    n += records;
    if (n * kPixels > kMaxTensorElements)
      return Status::error(path + ": error: cifar10: more images than one tensor may hold");
    contents.push_back(std::move(bytes));
  }

  Shape shape = options.layout == ImageLayout::NHWC ? Shape{n, kSide, kSide, kChannels}
                                                    : Shape{n, kChannels, kSide, kSide};
  KILN_ASSIGN(Tensor image, Tensor::create(DType::F32, shape));
  KILN_ASSIGN(Tensor label, Tensor::create(DType::I32, {n}));
  float scale[256];
  for (int v = 0; v < 256; ++v)
    scale[v] = float(v) / 255.0f;
  float *img = image.data<float>();
  int32_t *lab = label.data<int32_t>();
  int64_t row = 0;
  for (const std::string &bytes : contents) {
    const auto *p = reinterpret_cast<const unsigned char *>(bytes.data());
    for (size_t off = 0; off < bytes.size(); off += size_t(kRecord), ++row) {
      lab[row] = p[off];
      const unsigned char *px = p + off + 1;
      float *dst = img + row * kPixels;
      if (options.layout == ImageLayout::NCHW) {
        for (int64_t i = 0; i < kPixels; ++i)
          dst[i] = scale[px[i]];
        continue;
      }
      // CHW in the file -> HWC in the tensor.
      for (int64_t c = 0; c < kChannels; ++c)
        for (int64_t i = 0; i < kSide * kSide; ++i)
          dst[i * kChannels + c] = scale[px[c * kSide * kSide + i]];
    }
  }
  Dataset ds;
  ds.columns.emplace_back("image", std::move(image));
  ds.columns.emplace_back("label", std::move(label));
  return ds;
}

Expected<Dataset> loadCifar10(const std::string &dir, const std::string &split,
                              ImageOptions options) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  if (split == "train") {
    for (int i = 1; i <= 5; ++i)
      files.push_back((fs::path(dir) / ("data_batch_" + std::to_string(i) + ".bin")).string());
  } else if (split == "test") {
    files.push_back((fs::path(dir) / "test_batch.bin").string());
  } else {
    return Status::error(dir + ": error: cifar10: unknown split '" + split +
                         "' (expected 'train' or 'test')");
  }
  for (const std::string &f : files) {
    std::error_code ec;
    if (!fs::exists(f, ec))
      return Status::error(f + ": error: cifar10: file not found");
  }
  return loadCifar10Files(files, options);
}

} // namespace kiln::data
