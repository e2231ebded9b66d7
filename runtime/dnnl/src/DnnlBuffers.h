// DnnlBuffers: the memory a oneDNN call uses besides its tensors (per-thread scratch, cached
// filters).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>

namespace kiln::runtime::dnnl {

struct FreeBuffer {
  void operator()(char *p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<char, FreeBuffer>;

/// One thread's buffer for the temporaries of a oneDNN call (reordered arguments, workspaces,
/// scratchpads), grown and never shrunk: allocating them per call, as oneDNN does for memory
/// objects it owns, cost a fresh multi-megabyte mapping and its page faults on every call.
class CallScratch {
public:
  static size_t rounded(size_t bytes) { return (bytes + 63) / 64 * 64; }
  /// Makes room for `bytes` (the sum of rounded sizes the call will take); false if out of
  /// memory. Call reset() first: earlier takes are then invalid.
  bool reserve(size_t bytes) {
    if (bytes <= capacity_)
      return true;
    void *p = std::aligned_alloc(64, rounded(bytes));
    if (!p)
      return false;
    buffer_.reset(static_cast<char *>(p));
    capacity_ = rounded(bytes);
    return true;
  }
  void reset() { used_ = 0; }
  /// The next `bytes` (rounded) of the buffer.
  char *take(size_t bytes) {
    char *p = buffer_.get() + used_;
    used_ += rounded(bytes);
    return p;
  }

private:
  AlignedBuffer buffer_;
  size_t capacity_ = 0, used_ = 0;
};

/// One node's filter in the layout its convolution wants, reordered once per version of the
/// executable's state instead of in every inference call (docs/dnnl.md, "Layouts").
///
/// Why this is safe with concurrent predicts: an executable changes its state version only
/// under its exclusive lock (Executable.h), so every call that runs at the same time as another
/// sees the same version; the buffer is rewritten only when the version differs from the one it
/// holds, that is when no call that read the old contents can still be running. A call that
/// finds the same version but another source address (not expected: a param's address is
/// fixed) gets null and reorders into its own scratch, so the buffer is never rewritten under a
/// reader.
class FilterCache {
public:
  /// Holds `bytes` of reordered filter; false (and no cache) if out of memory.
  bool allocate(size_t bytes) {
    buffer_.reset(static_cast<char *>(std::aligned_alloc(64, CallScratch::rounded(bytes))));
    return buffer_ != nullptr;
  }
  /// The reordered copy of `source` at state `version`: as cached, or refilled by
  /// `fill(buffer)` (which reorders `source` into it) if the version changed; null if the
  /// caller must reorder per call. `fill` may throw: the cache is then empty.
  template <typename Fill> char *get(const void *source, uint64_t version, Fill &&fill) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (valid_ && version_ == version)
      return source_ == source ? buffer_.get() : nullptr;
    valid_ = false;
    fill(buffer_.get());
    source_ = source;
    version_ = version;
    valid_ = true;
    return buffer_.get();
  }

private:
  std::mutex mutex_;
  AlignedBuffer buffer_;
  const void *source_ = nullptr;
  uint64_t version_ = 0;
  bool valid_ = false;
};

} // namespace kiln::runtime::dnnl
