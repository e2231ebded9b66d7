// ByteSource: plain files through stdio, gzip files through zlib's gz* stream functions.
#include "ByteSource.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>
#include <zlib.h>

namespace kiln::data {

namespace {
Status sysErr(const std::string &path, const std::string &what) {
  return Status::error(path + ": error: " + what + ": " + std::strerror(errno));
}
/// zlib's message without the "path: " prefix it adds itself, so the path appears once.
Status gzErr(const std::string &path, const char *msg) {
  std::string m = msg ? msg : "unknown error";
  if (m.rfind(path + ": ", 0) == 0)
    m.erase(0, path.size() + 2);
  return Status::error(path + ": error: corrupt gzip data: " + m);
}

} // namespace

ByteSource::ByteSource(ByteSource &&other) noexcept
    : path_(std::move(other.path_)), gz_(std::exchange(other.gz_, nullptr)),
      file_(std::exchange(other.file_, nullptr)) {}

ByteSource &ByteSource::operator=(ByteSource &&other) noexcept {
  if (this != &other) {
    this->~ByteSource();
    path_ = std::move(other.path_);
    gz_ = std::exchange(other.gz_, nullptr);
    file_ = std::exchange(other.file_, nullptr);
  }
  return *this;
}

ByteSource::~ByteSource() {
  if (gz_)
    gzclose(static_cast<gzFile>(gz_));
  if (file_)
    std::fclose(static_cast<FILE *>(file_));
  gz_ = file_ = nullptr;
}

Expected<ByteSource> ByteSource::open(const std::string &path) {
  ByteSource src;
  src.path_ = path;
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return sysErr(path, "cannot open file");
  unsigned char magic[2] = {0, 0};
  size_t got = std::fread(magic, 1, 2, f);
  bool isGzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (!isGzip) {
    std::rewind(f);
    src.file_ = f;
    return src;
  }
  std::fclose(f);
  gzFile gz = gzopen(path.c_str(), "rb");
  if (!gz)
    return sysErr(path, "cannot open gzip file");
  // Larger than zlib's 8 KiB default: fewer inflate calls on a 26 MB MNIST file.
  gzbuffer(gz, 1 << 17);
  src.gz_ = gz;
  return src;
}

Expected<size_t> ByteSource::read(void *dst, size_t n) {
  size_t total = 0;
  auto *out = static_cast<unsigned char *>(dst);
  while (total < n) {
    // gzread takes an unsigned count, so large reads go in chunks of 1 GiB.
    size_t chunk = std::min(n - total, size_t(1) << 30);
    if (gz_) {
      int r = gzread(static_cast<gzFile>(gz_), out + total, unsigned(chunk));
      if (r < 0) {
        int code = 0;
        const char *msg = gzerror(static_cast<gzFile>(gz_), &code);
        return gzErr(path_, msg);
      }
      if (r == 0) {
        // A gzip stream cut short reports Z_BUF_ERROR at its end instead of a clean EOF.
        int code = 0;
        const char *msg = gzerror(static_cast<gzFile>(gz_), &code);
        if (code != Z_OK && code != Z_BUF_ERROR)
          return gzErr(path_, msg);
        if (code == Z_BUF_ERROR)
          return Status::error(path_ + ": error: truncated gzip stream");
        break;
      }
      total += size_t(r);
    } else {
      size_t r = std::fread(out + total, 1, chunk, static_cast<FILE *>(file_));
      total += r;
      if (r < chunk) {
        if (std::ferror(static_cast<FILE *>(file_)))
          return sysErr(path_, "cannot read file");
        break;
      }
    }
  }
  return total;
}

Status ByteSource::readExact(void *dst, size_t n, const std::string &what) {
  KILN_ASSIGN(size_t got, read(dst, n));
  if (got != n)
    return Status::error(path_ + ": error: truncated: the file ends after " + std::to_string(got) +
                         " of the " + std::to_string(n) + " bytes of " + what);
  return Status::ok();
}

Status ByteSource::readGrowing(std::vector<unsigned char> &out, size_t n, const std::string &what) {
  constexpr size_t kChunk = size_t(16) << 20;
  out.clear();
  while (out.size() < n) {
    size_t have = out.size(), chunk = std::min(n - have, kChunk);
    out.resize(have + chunk);
    KILN_ASSIGN(size_t got, read(out.data() + have, chunk));
    if (got != chunk)
      return Status::error(path_ + ": error: truncated: the file ends after " +
                           std::to_string(have + got) + " of the " + std::to_string(n) +
                           " bytes of " + what);
  }
  return Status::ok();
}

Expected<bool> ByteSource::atEnd() {
  unsigned char b;
  KILN_ASSIGN(size_t got, read(&b, 1));
  return got == 0;
}

Expected<std::string> ByteSource::readAll(size_t maxBytes) {
  std::string out;
  char buf[1 << 16];
  for (;;) {
    KILN_ASSIGN(size_t got, read(buf, sizeof buf));
    if (got == 0)
      break;
    if (out.size() + got > maxBytes)
      return Status::error(path_ + ": error: file is larger than " + std::to_string(maxBytes) +
                           " bytes");
    out.append(buf, got);
  }
  return out;
}

} // namespace kiln::data
