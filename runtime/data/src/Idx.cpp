// IDX files (Y. LeCun's MNIST format): magic 00 00 <type> <rank>, rank big-endian u32 dims, then
// the elements big-endian, row-major. Also the MNIST / Fashion-MNIST loader built on them.
#include "ByteSource.h"
#include "kiln/data/Formats.h"

#include <cstdio>
#include <cstring>
#include <filesystem>

namespace kiln::data {

namespace {

/// The largest rank accepted; real files have 1 (labels) or 3 (images).
constexpr int kMaxIdxRank = 8;

/// An IDX file's header and its still-unconverted, big-endian element bytes.
struct IdxRaw {
  uint8_t type = 0;
  Shape shape;
  std::vector<unsigned char> bytes;
};

/// Element size of an IDX type code, 0 for an unknown code.
size_t idxElementSize(uint8_t type) {
  switch (type) {
  case 0x08: // u8
  case 0x09: // i8
    return 1;
  case 0x0B: // i16
    return 2;
  case 0x0C: // i32
  case 0x0D: // f32
    return 4;
  case 0x0E: // f64
    return 8;
  }
  return 0;
}

uint64_t loadBE(const unsigned char *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v = (v << 8) | p[i];
  return v;
}

Expected<IdxRaw> readIdxRaw(const std::string &path) {
  KILN_ASSIGN(ByteSource src, ByteSource::open(path));
  auto fail = [&](const std::string &msg) { return Status::error(path + ": error: idx: " + msg); };
  unsigned char magic[4];
  KILN_TRY(src.readExact(magic, 4, "the 4-byte IDX magic"));
  if (magic[0] != 0 || magic[1] != 0) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%02x %02x", magic[0], magic[1]);
    return fail(std::string("bad magic: the file starts with ") + hex + ", not 00 00");
  }
  IdxRaw raw;
  raw.type = magic[2];
  size_t elem = idxElementSize(raw.type);
  if (elem == 0) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", raw.type);
    return fail(std::string("unknown element type code ") + hex +
                " (expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e)");
  }
  int rank = magic[3];
  if (rank < 1 || rank > kMaxIdxRank)
    return fail("rank " + std::to_string(rank) + " is not in 1.." + std::to_string(kMaxIdxRank));
  unsigned char dims[4 * kMaxIdxRank];
  KILN_TRY(src.readExact(dims, size_t(4 * rank), std::to_string(rank) + " dimensions"));
  for (int i = 0; i < rank; ++i) {
    raw.shape.push_back(int64_t(loadBE(dims + 4 * i, 4)));
    if (raw.shape.back() == 0)
      return fail("dimension " + std::to_string(i) + " is 0");
  }
  int64_t count = checkedNumElements(raw.shape);
  if (count < 0)
    return fail("dimensions " + shapeToString(raw.shape) + " hold more than " +
                std::to_string(kMaxTensorElements) + " elements (overflow or hostile header)");
  KILN_TRY(src.readGrowing(raw.bytes, size_t(count) * elem,
                           "data for dimensions " + shapeToString(raw.shape)));
  KILN_ASSIGN(bool end, src.atEnd());
  if (!end)
    return fail("size mismatch: bytes follow the " + std::to_string(raw.bytes.size()) +
                " data bytes that dimensions " + shapeToString(raw.shape) + " announce");
  return raw;
}

template <typename Out, typename In> void convertBE(const IdxRaw &raw, Out *dst) {
  size_t n = raw.bytes.size() / sizeof(In);
  const unsigned char *p = raw.bytes.data();
  for (size_t i = 0; i < n; ++i) {
    auto bits = loadBE(p + i * sizeof(In), sizeof(In));
    In v;
    if constexpr (sizeof(In) == 1) {
      uint8_t b = uint8_t(bits);
      std::memcpy(&v, &b, 1);
    } else if constexpr (sizeof(In) == 2) {
      uint16_t b = uint16_t(bits);
      std::memcpy(&v, &b, 2);
    } else if constexpr (sizeof(In) == 4) {
      uint32_t b = uint32_t(bits);
      std::memcpy(&v, &b, 4);
    } else {
      std::memcpy(&v, &bits, 8);
    }
    dst[i] = Out(v);
  }
}

Tensor toTensor(const IdxRaw &raw) {
  switch (raw.type) {
  case 0x08: {
    Tensor t(DType::I32, raw.shape);
    convertBE<int32_t, uint8_t>(raw, t.data<int32_t>());
    return t;
  }
  case 0x09: {
    Tensor t(DType::I32, raw.shape);
    convertBE<int32_t, int8_t>(raw, t.data<int32_t>());
    return t;
  }
  case 0x0B: {
    Tensor t(DType::I32, raw.shape);
    convertBE<int32_t, int16_t>(raw, t.data<int32_t>());
    return t;
  }
  case 0x0C: {
    Tensor t(DType::I32, raw.shape);
    convertBE<int32_t, int32_t>(raw, t.data<int32_t>());
    return t;
  }
  case 0x0D: {
    Tensor t(DType::F32, raw.shape);
    convertBE<float, float>(raw, t.data<float>());
    return t;
  }
  }
  Tensor t(DType::F64, raw.shape);
  convertBE<double, double>(raw, t.data<double>());
  return t;
}

/// `dir/name`, or `dir/name.gz` when only that exists.
std::string findFile(const std::string &dir, const std::string &name) {
  namespace fs = std::filesystem;
  fs::path plain = fs::path(dir) / name;
  std::error_code ec;
  if (fs::exists(plain, ec))
    return plain.string();
  fs::path gz = fs::path(dir) / (name + ".gz");
  if (fs::exists(gz, ec))
    return gz.string();
  return plain.string();
}

} // namespace

Expected<Tensor> readIdx(const std::string &path) {
  KILN_ASSIGN(IdxRaw raw, readIdxRaw(path));
  return toTensor(raw);
}

Expected<Dataset> loadMnist(const std::string &dir, const std::string &split,
                            ImageOptions options) {
  std::string prefix;
  if (split == "train")
    prefix = "train";
  else if (split == "test")
    prefix = "t10k";
  else
    return Status::error(dir + ": error: mnist: unknown split '" + split +
                         "' (expected 'train' or 'test')");
  std::string imagesPath = findFile(dir, prefix + "-images-idx3-ubyte");
  std::string labelsPath = findFile(dir, prefix + "-labels-idx1-ubyte");
  if (!std::filesystem::exists(imagesPath))
    return Status::error(imagesPath + ": error: mnist: file not found (nor with .gz)");
  if (!std::filesystem::exists(labelsPath))
    return Status::error(labelsPath + ": error: mnist: file not found (nor with .gz)");

  KILN_ASSIGN(IdxRaw images, readIdxRaw(imagesPath));
  if (images.type != 0x08 || images.shape.size() != 3)
    return Status::error(imagesPath + ": error: mnist: images must be u8 [n,rows,cols], got " +
                         std::to_string(images.shape.size()) + "-d data of type code " +
                         std::to_string(images.type));
  KILN_ASSIGN(Tensor labels, readIdx(labelsPath));
  if (labels.dtype() != DType::I32 || labels.rank() != 1)
    return Status::error(labelsPath + ": error: mnist: labels must be integers of shape [n], got " +
                         shapeToString(labels.shape()));
  int64_t n = images.shape[0], rows = images.shape[1], cols = images.shape[2];
  if (labels.shape()[0] != n)
    return Status::error(labelsPath + ": error: mnist: " + std::to_string(labels.shape()[0]) +
                         " labels for the " + std::to_string(n) + " images of " + imagesPath);

  // One channel, so NHWC and NCHW hold the same bytes; only the shape differs.
  Shape shape =
      options.layout == ImageLayout::NHWC ? Shape{n, rows, cols, 1} : Shape{n, 1, rows, cols};
  KILN_ASSIGN(Tensor image, Tensor::create(DType::F32, shape));
  // A table of the 256 correctly rounded quotients: exact pixel / 255 at the cost of a lookup.
  float scale[256];
  for (int v = 0; v < 256; ++v)
    scale[v] = float(v) / 255.0f;
  float *dst = image.data<float>();
  for (size_t i = 0; i < images.bytes.size(); ++i)
    dst[i] = scale[images.bytes[i]];
  Dataset ds;
  ds.columns.emplace_back("image", std::move(image));
  ds.columns.emplace_back("label", std::move(labels));
  return ds;
}

} // namespace kiln::data
