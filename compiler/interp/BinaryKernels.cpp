// Interpreter kernels of the broadcasting binary ops, comparisons and select.
#include "compiler/interp/ElementwiseKernels.h"

#include <cmath>

namespace kiln::interp {

namespace {
constexpr bool kBool = true; // bool operands accepted
constexpr bool kNoBool = false;
constexpr bool kFloatOnly = true;
constexpr bool kNumeric = false;

/// Equality where any nonzero byte is `true` for bool operands.
template <typename T> bool sameValue(T a, T b) {
  if constexpr (kIsBool<T>)
    return (a != 0) == (b != 0);
  else
    return a == b;
}

template <typename T> bool isNan(T x) {
  if constexpr (std::is_floating_point_v<T>)
    return std::isnan(x);
  else
    return false;
}
} // namespace

Expected<Tensor> evalAdd(const Node &node, Operands in, const EvalContext &) {
  return binaryMap<kNoBool, kNumeric>(node, in[0], in[1],
                                      [](auto a, auto b) { return wrapAdd(a, b); });
}

Expected<Tensor> evalSub(const Node &node, Operands in, const EvalContext &) {
  return binaryMap<kNoBool, kNumeric>(node, in[0], in[1],
                                      [](auto a, auto b) { return wrapSub(a, b); });
}

Expected<Tensor> evalMul(const Node &node, Operands in, const EvalContext &) {
  return binaryMap<kNoBool, kNumeric>(node, in[0], in[1],
                                      [](auto a, auto b) { return wrapMul(a, b); });
}

Expected<Tensor> evalDiv(const Node &node, Operands in, const EvalContext &) {
  // Integer division truncates toward zero (C, ONNX); dividing by zero is a run-time error
  // naming the node, and INT_MIN / -1 wraps like every other integer overflow.
  if (isInteger(in[1].dtype()))
    for (int64_t i = 0; i < in[1].numElements(); ++i)
      if (in[1].at(i) == 0)
        return errorAt(node.loc(), who(node) + ": integer division by zero");
  return binaryMap<kNoBool, kNumeric>(node, in[0], in[1], [](auto a, auto b) {
    using T = decltype(a);
    if constexpr (std::is_integral_v<T>)
      return b == T(-1) ? wrapNeg(a) : T(a / b);
    else
      return a / b;
  });
}

Expected<Tensor> evalPow(const Node &node, Operands in, const EvalContext &) {
  return binaryMap<kNoBool, kFloatOnly>(node, in[0], in[1],
                                        [](auto a, auto b) { return decltype(a)(std::pow(a, b)); });
}

Expected<Tensor> evalMaximum(const Node &node, Operands in, const EvalContext &) {
  // NaN propagates (NumPy's maximum, not fmax).
  return binaryMap<kNoBool, kNumeric>(node, in[0], in[1],
                                      [](auto a, auto b) { return (isNan(a) || a > b) ? a : b; });
}

Expected<Tensor> evalMinimum(const Node &node, Operands in, const EvalContext &) {
  return binaryMap<kNoBool, kNumeric>(node, in[0], in[1],
                                      [](auto a, auto b) { return (isNan(a) || a < b) ? a : b; });
}

Expected<Tensor> evalEqual(const Node &node, Operands in, const EvalContext &) {
  return binaryMap<kBool, kNumeric>(node, in[0], in[1],
                                    [](auto a, auto b) { return uint8_t(sameValue(a, b)); });
}

Expected<Tensor> evalNotEqual(const Node &node, Operands in, const EvalContext &) {
  return binaryMap<kBool, kNumeric>(node, in[0], in[1],
                                    [](auto a, auto b) { return uint8_t(!sameValue(a, b)); });
}

Expected<Tensor> evalLess(const Node &node, Operands in, const EvalContext &) {
  return binaryMap<kBool, kNumeric>(node, in[0], in[1],
                                    [](auto a, auto b) { return uint8_t(a < b); });
}

Expected<Tensor> evalLessEqual(const Node &node, Operands in, const EvalContext &) {
  return binaryMap<kBool, kNumeric>(node, in[0], in[1],
                                    [](auto a, auto b) { return uint8_t(a <= b); });
}

Expected<Tensor> evalGreater(const Node &node, Operands in, const EvalContext &) {
  return binaryMap<kBool, kNumeric>(node, in[0], in[1],
                                    [](auto a, auto b) { return uint8_t(a > b); });
}

Expected<Tensor> evalGreaterEqual(const Node &node, Operands in, const EvalContext &) {
  return binaryMap<kBool, kNumeric>(node, in[0], in[1],
                                    [](auto a, auto b) { return uint8_t(a >= b); });
}

Expected<Tensor> evalSelect(const Node &node, Operands in, const EvalContext &) {
  const Tensor &cond = in[0], &a = in[1], &b = in[2];
  if (cond.dtype() != DType::Bool || a.dtype() != b.dtype())
    return internalError(node, "select needs a bool condition and equal branch dtypes");
  Tensor out = makeResult(node);
  BroadcastMap mc(cond.shape(), out.shape()), ma(a.shape(), out.shape()),
      mb(b.shape(), out.shape());
  const uint8_t *pc = cond.data<uint8_t>();
  dispatchAny(a.dtype(), [&]<typename T>() {
    const T *pa = a.data<T>();
    const T *pb = b.data<T>();
    T *o = out.data<T>();
    for (int64_t i = 0; i < out.numElements(); ++i)
      o[i] = pc[mc(i)] ? pa[ma(i)] : pb[mb(i)];
  });
  return out;
}

} // namespace kiln::interp
