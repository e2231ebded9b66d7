// Interpreter kernels of the elementwise unary ops, cast and stop_gradient.
#include "compiler/interp/ElementwiseKernels.h"
#include "compiler/support/FloatMath.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>

namespace kiln::interp {

namespace {
constexpr bool kFloatOnly = true;
constexpr bool kNumeric = false;

/// tanh as Kiln defines it: f32 by kiln::math::tanhF32 (generated code computes the same), f64
/// by libm.
float tanhOf(float x) { return math::tanhF32(x); }
double tanhOf(double x) { return std::tanh(x); }

/// Float to integer conversion with a defined result everywhere: truncation toward zero,
/// saturation at the integer range, NaN gives 0 (C++ leaves these cases undefined).
template <typename To, typename From> To convertElement(From v) {
  if constexpr (kIsBool<To>) {
    return v != From(0) ? 1 : 0;
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    if (std::isnan(v))
      return 0;
    double d = std::trunc(double(v));
    if (d <= double(std::numeric_limits<To>::min()))
      return std::numeric_limits<To>::min();
    if (d >= double(std::numeric_limits<To>::max()))
      return std::numeric_limits<To>::max();
    return To(d);
  } else {
    return To(v);
  }
}
} // namespace

Expected<Tensor> evalNeg(const Node &node, Operands in, const EvalContext &) {
  return unaryMap<kNumeric>(node, in[0], [](auto x) { return wrapNeg(x); });
}

Expected<Tensor> evalAbs(const Node &node, Operands in, const EvalContext &) {
  return unaryMap<kNumeric>(node, in[0], [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>)
      return std::fabs(x);
    else
      return x < 0 ? wrapNeg(x) : x;
  });
}

Expected<Tensor> evalExp(const Node &node, Operands in, const EvalContext &) {
  return unaryMap<kFloatOnly>(node, in[0], [](auto x) { return std::exp(x); });
}

Expected<Tensor> evalLog(const Node &node, Operands in, const EvalContext &) {
  return unaryMap<kFloatOnly>(node, in[0], [](auto x) { return std::log(x); });
}

Expected<Tensor> evalSqrt(const Node &node, Operands in, const EvalContext &) {
  return unaryMap<kFloatOnly>(node, in[0], [](auto x) { return std::sqrt(x); });
}

Expected<Tensor> evalRsqrt(const Node &node, Operands in, const EvalContext &) {
  return unaryMap<kFloatOnly>(node, in[0], [](auto x) { return decltype(x)(1) / std::sqrt(x); });
}

Expected<Tensor> evalSquare(const Node &node, Operands in, const EvalContext &) {
  return unaryMap<kNumeric>(node, in[0], [](auto x) { return wrapMul(x, x); });
}

Expected<Tensor> evalSign(const Node &node, Operands in, const EvalContext &) {
  return unaryMap<kNumeric>(node, in[0], [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(x))
        return x;
    return T((x > T(0)) - (x < T(0)));
  });
}

Expected<Tensor> evalRelu(const Node &node, Operands in, const EvalContext &) {
  return unaryMap<kNumeric>(node, in[0],
                            [](auto x) { return x > decltype(x)(0) ? x : decltype(x)(0); });
}

Expected<Tensor> evalSigmoid(const Node &node, Operands in, const EvalContext &) {
  // Two branches so that exp never overflows.
  return unaryMap<kFloatOnly>(node, in[0], [](auto x) {
    using T = decltype(x);
    if (x >= T(0))
      return T(1) / (T(1) + std::exp(-x));
    T e = std::exp(x);
    return e / (T(1) + e);
  });
}

Expected<Tensor> evalTanh(const Node &node, Operands in, const EvalContext &) {
  return unaryMap<kFloatOnly>(node, in[0], [](auto x) { return tanhOf(x); });
}

Expected<Tensor> evalSoftplus(const Node &node, Operands in, const EvalContext &) {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): finite for every finite x.
  return unaryMap<kFloatOnly>(node, in[0], [](auto x) {
    using T = decltype(x);
    return std::max(x, T(0)) + std::log1p(std::exp(-std::fabs(x)));
  });
}

Expected<Tensor> evalLeakyRelu(const Node &node, Operands in, const EvalContext &) {
  double alpha = node.attrFloat("alpha");
  return unaryMap<kFloatOnly>(node, in[0], [alpha](auto x) {
    using T = decltype(x);
    return x > T(0) ? x : T(alpha) * x;
  });
}

Expected<Tensor> evalGelu(const Node &node, Operands in, const EvalContext &) {
  bool approximate = node.attrStr("approximate") == "tanh";
  return unaryMap<kFloatOnly>(node, in[0], [approximate](auto x) {
    using T = decltype(x);
    if (approximate) {
      T k = T(std::sqrt(2.0 / std::numbers::pi));
      return T(0.5) * x * (T(1) + tanhOf(k * (x + T(0.044715) * x * x * x)));
    }
    return T(0.5) * x * (T(1) + std::erf(x / T(std::numbers::sqrt2)));
  });
}

Expected<Tensor> evalCast(const Node &node, Operands in, const EvalContext &) {
  const Tensor &x = in[0];
  Tensor out = makeResult(node);
  dispatchAny(x.dtype(), [&]<typename From>() {
    dispatchAny(out.dtype(), [&]<typename To>() {
      const From *a = x.data<From>();
      To *o = out.data<To>();
      for (int64_t i = 0; i < x.numElements(); ++i)
        o[i] = convertElement<To>(kIsBool<From> ? From(a[i] != 0) : a[i]);
    });
  });
  return out;
}

Expected<Tensor> evalStopGradient(const Node &node, Operands in, const EvalContext &) {
  return Tensor(in[0]);
}

} // namespace kiln::interp
