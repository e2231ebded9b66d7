// Tensor: a dense, row-major, owning n-d array with a runtime dtype. Value semantics (copies deep).
#pragma once

#include "kiln/runtime/DType.h"
#include "kiln/runtime/Status.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kiln {

using Shape = std::vector<int64_t>;

/// The largest number of elements Kiln accepts in one tensor (2^28, 1 GiB of f32). Anything
/// larger in a user's file is treated as hostile and rejected before anything is allocated.
inline constexpr int64_t kMaxTensorElements = int64_t(1) << 28;

/// Number of elements of `shape`, or -1 if a dimension is not positive or the count exceeds
/// kMaxTensorElements (checked without overflow). A scalar ([]) has one element.
int64_t checkedNumElements(std::span<const int64_t> shape);

/// "[2,3]"-style rendering of a shape.
std::string shapeToString(std::span<const int64_t> shape);

class Tensor {
public:
  Tensor() = default;
  /// A zero-filled tensor. The shape must be valid (see checkedNumElements).
  Tensor(DType dtype, Shape shape);
  Tensor(const Tensor &other);
  Tensor &operator=(const Tensor &other);
  Tensor(Tensor &&) noexcept = default;
  Tensor &operator=(Tensor &&) noexcept = default;

  /// A zero-filled tensor, or an error if the shape is invalid or too large.
  static Expected<Tensor> create(DType dtype, Shape shape);
  /// Convenience constructors for tests and constants.
  static Tensor fromF32(Shape shape, std::span<const float> values);
  static Tensor fromF64(Shape shape, std::span<const double> values);
  static Tensor fromI32(Shape shape, std::span<const int32_t> values);
  static Tensor fromI64(Shape shape, std::span<const int64_t> values);
  static Tensor scalar(DType dtype, double value);

  DType dtype() const { return dtype_; }
  const Shape &shape() const { return shape_; }
  int64_t rank() const { return int64_t(shape_.size()); }
  int64_t numElements() const { return numElements_; }
  size_t byteSize() const { return size_t(numElements_) * dtypeSize(dtype_); }

  void *raw() { return data_.get(); }
  const void *raw() const { return data_.get(); }
  template <typename T> T *data() { return static_cast<T *>(raw()); }
  template <typename T> const T *data() const { return static_cast<const T *>(raw()); }

  /// Element i (flat, row-major) converted to double; bool is 0 or 1.
  double at(int64_t i) const;
  /// Stores `v` converted to the tensor's dtype (truncation toward zero for integers).
  void set(int64_t i, double v);
  /// All elements converted to double (for tests and printing).
  std::vector<double> toDoubles() const;

  /// Same dtype, shape and bytes.
  bool identical(const Tensor &other) const;
  /// A copy converted to another dtype.
  Tensor cast(DType to) const;

private:
  struct FreeDeleter {
    void operator()(void *p) const;
  };
  DType dtype_ = DType::F32;
  Shape shape_;
  int64_t numElements_ = 0;
  std::unique_ptr<void, FreeDeleter> data_;
};

} // namespace kiln
