// TensorType (dtype + static shape) and NumPy broadcasting.
#pragma once

#include "kiln/runtime/DType.h"
#include "kiln/runtime/Tensor.h"

#include <optional>
#include <string>

namespace kiln {

/// The static type of an SSA value: element type and shape ([] is a scalar).
struct TensorType {
  DType dtype = DType::F32;
  Shape shape;

  int64_t rank() const { return int64_t(shape.size()); }
  /// Element count (1 for a scalar). Shapes in a verified graph are always valid.
  int64_t numElements() const;
  bool isScalar() const { return shape.empty(); }
  /// "f32[2,3]", "i32[]".
  std::string str() const;
  bool operator==(const TensorType &) const = default;
};

/// The NumPy broadcast of two shapes (aligned on the right, 1 stretches), or nullopt.
std::optional<Shape> broadcastShapes(const Shape &a, const Shape &b);
/// Normalises a possibly negative axis for a given rank, or nullopt if out of range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

} // namespace kiln
