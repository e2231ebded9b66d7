// Tensor storage: 64-byte aligned so that generated vector code can use aligned loads.
#include "kiln/runtime/Tensor.h"

#include <cassert>
#include <cmath>
#include <cstdlib>
#include <new>

namespace kiln {

int64_t checkedNumElements(std::span<const int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0 || d > kMaxTensorElements)
      return -1;
    n *= d; // both factors <= 2^28 before the check below, so no overflow
    if (n > kMaxTensorElements)
      return -1;
  }
  return n;
}

std::string shapeToString(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

void Tensor::FreeDeleter::operator()(void *p) const { std::free(p); }

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  numElements_ = checkedNumElements(shape_);
  assert(numElements_ >= 0 && "invalid tensor shape");
  size_t bytes = (byteSize() + 63) / 64 * 64;
  if (bytes == 0)
    bytes = 64;
  void *p = std::aligned_alloc(64, bytes);
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, bytes);
  data_.reset(p);
}

Tensor::Tensor(const Tensor &other) : Tensor() { *this = other; }

Tensor &Tensor::operator=(const Tensor &other) {
  if (this == &other)
    return *this;
  if (!other.data_) {
    *this = Tensor();
    return *this;
  }
  Tensor t(other.dtype_, other.shape_);
  std::memcpy(t.raw(), other.raw(), other.byteSize());
  *this = std::move(t);
  return *this;
}

Expected<Tensor> Tensor::create(DType dtype, Shape shape) {
  if (checkedNumElements(shape) < 0)
    return Status::error("invalid or too large tensor shape " + shapeToString(shape));
  return Tensor(dtype, std::move(shape));
}

template <typename T> static Tensor fromValues(DType dt, Shape shape, std::span<const T> values) {
  Tensor t(dt, std::move(shape));
  assert(int64_t(values.size()) == t.numElements());
  std::memcpy(t.raw(), values.data(), t.byteSize());
  return t;
}

Tensor Tensor::fromF32(Shape s, std::span<const float> v) { return fromValues(DType::F32, s, v); }
Tensor Tensor::fromF64(Shape s, std::span<const double> v) { return fromValues(DType::F64, s, v); }
Tensor Tensor::fromI32(Shape s, std::span<const int32_t> v) { return fromValues(DType::I32, s, v); }
Tensor Tensor::fromI64(Shape s, std::span<const int64_t> v) { return fromValues(DType::I64, s, v); }

Tensor Tensor::scalar(DType dtype, double value) {
  Tensor t(dtype, {});
  t.set(0, value);
  return t;
}

double Tensor::at(int64_t i) const {
  switch (dtype_) {
  case DType::F32: return data<float>()[i];
  case DType::F64: return data<double>()[i];
  case DType::I32: return data<int32_t>()[i];
  case DType::I64: return double(data<int64_t>()[i]);
  case DType::Bool: return data<uint8_t>()[i] ? 1.0 : 0.0;
  }
  return 0;
}

void Tensor::set(int64_t i, double v) {
  switch (dtype_) {
  case DType::F32: data<float>()[i] = float(v); return;
  case DType::F64: data<double>()[i] = v; return;
  case DType::I32: data<int32_t>()[i] = int32_t(v); return;
  case DType::I64: data<int64_t>()[i] = int64_t(v); return;
  case DType::Bool: data<uint8_t>()[i] = v != 0; return;
  }
}

std::vector<double> Tensor::toDoubles() const {
  std::vector<double> out(static_cast<size_t>(numElements_));
  for (int64_t i = 0; i < numElements_; ++i)
    out[size_t(i)] = at(i);
  return out;
}

bool Tensor::identical(const Tensor &other) const {
  return dtype_ == other.dtype_ && shape_ == other.shape_ &&
         (byteSize() == 0 || std::memcmp(raw(), other.raw(), byteSize()) == 0);
}

Tensor Tensor::cast(DType to) const {
  Tensor t(to, shape_);
  for (int64_t i = 0; i < numElements_; ++i)
    t.set(i, at(i));
  return t;
}

} // namespace kiln
