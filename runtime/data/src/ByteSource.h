// ByteSource: sequential reading of a plain or gzip-compressed file (told apart by the gzip magic
// bytes 1f 8b, never by the name), so every dataset format accepts both transparently.
#pragma once

#include "kiln/runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::data {

class ByteSource {
public:
  ByteSource() = default;
  ByteSource(const ByteSource &) = delete;
  ByteSource &operator=(const ByteSource &) = delete;
  ByteSource(ByteSource &&other) noexcept;
  ByteSource &operator=(ByteSource &&other) noexcept;
  ~ByteSource();

  /// Opens `path`; an error names the file and the system's reason.
  static Expected<ByteSource> open(const std::string &path);

  /// Reads up to `n` bytes into `dst`; returns how many were read (fewer only at the end of the
  /// data) or an error (a corrupt gzip stream, an I/O error) naming the file.
  Expected<size_t> read(void *dst, size_t n);
  /// Reads exactly `n` bytes; at the end of the data, an error "truncated: ... `what`".
  Status readExact(void *dst, size_t n, const std::string &what);
  /// Reads exactly `n` bytes into `out` (resized), growing it as data arrives so that a header
  /// announcing more data than a small (or compressed) file holds fails before a large
  /// allocation.
  Status readGrowing(std::vector<unsigned char> &out, size_t n, const std::string &what);
  /// True if no byte is left (consumes one byte otherwise).
  Expected<bool> atEnd();
  /// Reads everything left, refusing more than `maxBytes`.
  Expected<std::string> readAll(size_t maxBytes);

  bool compressed() const { return gz_ != nullptr; }
  const std::string &path() const { return path_; }

private:
  std::string path_;
  /// Exactly one of the two is open: a gzFile (zlib's gzFile_s*) or a stdio FILE*.
  void *gz_ = nullptr;
  void *file_ = nullptr;
};

} // namespace kiln::data
