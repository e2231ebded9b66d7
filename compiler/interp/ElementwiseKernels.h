// Internal to the interpreter: templates for elementwise kernels (unary maps, broadcasting binary
// maps) and two's-complement integer arithmetic (signed overflow wraps instead of being UB).
#pragma once

#include "compiler/interp/Kernels.h"

#include <type_traits>

namespace kiln::interp {

template <typename T> inline constexpr bool kIsBool = std::is_same_v<T, uint8_t>;

template <typename T> T wrapAdd(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return T(std::make_unsigned_t<T>(a) + std::make_unsigned_t<T>(b));
  else
    return a + b;
}
template <typename T> T wrapSub(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return T(std::make_unsigned_t<T>(a) - std::make_unsigned_t<T>(b));
  else
    return a - b;
}
template <typename T> T wrapMul(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return T(std::make_unsigned_t<T>(a) * std::make_unsigned_t<T>(b));
  else
    return a * b;
}
template <typename T> T wrapNeg(T a) { return wrapSub(T(0), a); }

/// out[i] = f(x[i]) for f32/f64 and, unless FloatOnly, i32/i64; bool operands are an error.
template <bool FloatOnly, typename F>
Expected<Tensor> unaryMap(const Node &node, const Tensor &x, F f) {
  Tensor out = makeResult(node);
  return dispatchAny(x.dtype(), [&]<typename T>() -> Expected<Tensor> {
    if constexpr (kIsBool<T>) {
      return internalError(node, "bool operand");
    } else if constexpr (FloatOnly && !std::is_floating_point_v<T>) {
      return internalError(node, "integer operand to a float-only op");
    } else {
      const T *a = x.data<T>();
      T *o = out.data<T>();
      for (int64_t i = 0; i < x.numElements(); ++i)
        o[i] = T(f(a[i]));
      return out;
    }
  });
}

/// out[i] = f(a[ia], b[ib]) with NumPy broadcasting; the result dtype is the node's (the
/// operands' for arithmetic, uint8_t for comparisons). Bool operands only if AllowBool.
template <bool AllowBool, bool FloatOnly, typename F>
Expected<Tensor> binaryMap(const Node &node, const Tensor &a, const Tensor &b, F f) {
  if (a.dtype() != b.dtype())
    return internalError(node, "operand dtypes differ");
  Tensor out = makeResult(node);
  BroadcastMap ma(a.shape(), out.shape()), mb(b.shape(), out.shape());
  return dispatchAny(a.dtype(), [&]<typename T>() -> Expected<Tensor> {
    if constexpr (kIsBool<T> && !AllowBool) {
      return internalError(node, "bool operand");
    } else if constexpr (FloatOnly && !std::is_floating_point_v<T>) {
      return internalError(node, "integer operand to a float-only op");
    } else {
      const T *pa = a.data<T>();
      const T *pb = b.data<T>();
      using R = decltype(f(pa[0], pb[0]));
      if (dtypeSize(out.dtype()) != sizeof(R))
        return internalError(node, "result dtype does not match the kernel");
      R *o = out.data<R>();
      for (int64_t i = 0; i < out.numElements(); ++i)
        o[i] = f(pa[ma(i)], pb[mb(i)]);
      return out;
    }
  });
}

} // namespace kiln::interp
