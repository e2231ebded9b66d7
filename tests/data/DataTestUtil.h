// Helpers shared by the data tests: a self-deleting temporary directory and writers of small
// IDX, CIFAR and text files (plain or gzip) with known contents.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>
#include <zlib.h>

namespace kiln::data::testing {

/// A directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("kiln-data-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  std::string operator/(const std::string &name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

private:
  std::filesystem::path path_;
};

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

inline void writeGzip(const std::string &path, const std::string &bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
}

inline std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Big-endian bytes of the low `n` bytes of `v`.
inline std::string be(uint64_t v, int n) {
  std::string s;
  for (int i = n - 1; i >= 0; --i)
    s += char((v >> (8 * i)) & 0xff);
  return s;
}

/// An IDX header: 00 00 type rank, then the dims as big-endian u32.
inline std::string idxHeader(uint8_t type, const std::vector<uint32_t> &dims) {
  std::string s{char(0), char(0), char(type), char(dims.size())};
  for (uint32_t d : dims)
    s += be(d, 4);
  return s;
}

/// A u8 IDX file image.
inline std::string idxU8(const std::vector<uint32_t> &dims, const std::vector<uint8_t> &values) {
  std::string s = idxHeader(0x08, dims);
  s.append(values.begin(), values.end());
  return s;
}

} // namespace kiln::data::testing
