// The table of shape-rule samples (valid and invalid per op), shared by ShapeRulesTest.cpp.
#pragma once

#include "compiler/ir/Attr.h"
#include "compiler/ir/OpInfo.h"
#include "compiler/ir/Types.h"

#include <initializer_list>
#include <string>
#include <vector>

namespace kiln::test {

/// One sample: operand types and attributes, and either the result type or the error expected.
struct RuleCase {
  Op op;
  std::vector<TensorType> operands;
  AttrMap attrs;
  bool valid = true;
  TensorType result;  ///< valid: the expected (single) result type
  std::string error;  ///< invalid: a substring of the message
  std::string at;     ///< invalid: what the error points at: ".attrs.axis", ".inputs[1]" or ""
};

inline TensorType f32(Shape s) { return {DType::F32, std::move(s)}; }
inline TensorType f64(Shape s) { return {DType::F64, std::move(s)}; }
inline TensorType i32(Shape s) { return {DType::I32, std::move(s)}; }
inline TensorType i64(Shape s) { return {DType::I64, std::move(s)}; }
inline TensorType boolean(Shape s) { return {DType::Bool, std::move(s)}; }
inline AttrValue ints(std::initializer_list<int64_t> v) { return std::vector<int64_t>(v); }
inline AttrValue I(int64_t v) { return v; }
inline AttrValue F(double v) { return v; }
inline AttrValue S(const char *v) { return std::string(v); }

inline RuleCase ok(Op op, std::vector<TensorType> in, AttrMap attrs, TensorType out) {
  return RuleCase{op, std::move(in), std::move(attrs), true, std::move(out), {}, {}};
}
inline RuleCase bad(Op op, std::vector<TensorType> in, AttrMap attrs, std::string error,
                    std::string at = {}) {
  return RuleCase{op, std::move(in), std::move(attrs), false, {}, std::move(error), std::move(at)};
}

/// Elementwise, reductions, matmul and data movement.
std::vector<RuleCase> primitiveCases();
/// Convolution, pooling, normalisation, randomness, layers, losses.
std::vector<RuleCase> compositeCases();
/// The gradient kernels autodiff emits (conv2d_backprop_*, *_pool2d_grad, ...).
std::vector<RuleCase> gradKernelCases();

} // namespace kiln::test
