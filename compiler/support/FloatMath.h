// f32 transcendental functions that both the interpreter and generated code compute the same way.
//
// glibc's tanhf is a scalar call the loop vectoriser cannot widen: an unrolled LSTM spent most of
// its step in it (~9 ns per element). Kiln's f32 tanh is instead a branch-free evaluation in
// double, rounded once to f32, which LLVM vectorises. The interpreter calls the C++ function below
// and codegen emits the same operations in the same order (emitTanhF32 in
// compiler/codegen/EmitUtil.cpp), so the two agree bit for bit; both are correctly rounded except
// where the exact value lies within ~1e-12 (relative) of a rounding boundary.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>

namespace kiln::math {

/// The coefficients 1/(k+1)! of expm1(y)/y = sum_k y^k/(k+1)!, k = 0..12 (Horner from the top).
inline constexpr int kExpm1Terms = 13;

/// 1/(k+1)!, the k-th coefficient above.
constexpr double expm1Coefficient(int k) {
  double f = 1;
  for (int i = 2; i <= k + 1; ++i)
    f *= i;
  return 1.0 / f;
}

/// log2(e) and ln 2 split in two (hi has trailing zero bits, so n * hi is exact).
inline constexpr double kLog2e = 1.4426950408889634;
inline constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
/// The Taylor coefficients 1/k! of e^r, k = 11 down to 0 (Horner order).
inline constexpr double kExpTaylor[] = {1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                                        1.0 / 40320.0,    1.0 / 5040.0,    1.0 / 720.0,
                                        1.0 / 120.0,      1.0 / 24.0,      1.0 / 6.0,
                                        0.5,              1.0,             1.0};

/// e^x in double (emitExpDouble in compiler/codegen/EmitUtil.cpp emits the same operations):
/// x clamped to [-110, 100] (so 2^n below stays a normal double; enough for any f32 result),
/// x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor polynomial to r^11 (relative error below
/// 3e-13), times 2^n built in the exponent bits; NaN passes through.
inline double expDouble(double x) {
  if (std::isnan(x))
    return x;
  double xc = std::fmin(std::fmax(x, -110.0), 100.0);
  double n = std::nearbyint(xc * kLog2e);
  double r = (xc - n * kLn2Hi) - n * kLn2Lo;
  double p = kExpTaylor[0];
  for (size_t k = 1; k < std::size(kExpTaylor); ++k)
    p = p * r + kExpTaylor[k];
  uint64_t bits = uint64_t(int64_t(n) + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

/// tanh(x) for f32 x, computed in double:
///   a = min(|x|, 10) (tanh rounds to 1 in f32 from |x| ~ 9.01 on), y = 2a,
///   m = expm1(y): for y < 0.5 y * sum_k y^k/(k+1)! (13 terms, error < 2e-15); otherwise
///       expDouble(y) - 1 (error < 1e-12 relative, since e^y - 1 >= 0.65 e^y there),
///   tanh = m / (m + 2), rounded to f32, with x's sign (so -0 stays -0); NaN passes through.
inline float tanhF32(float x) {
  if (std::isnan(x))
    return x;
  double a = std::fmin(std::fabs(double(x)), 10.0);
  double y = 2 * a;
  // Small y: the series of expm1(y) / y.
  double p = expm1Coefficient(kExpm1Terms - 1);
  for (int k = kExpm1Terms - 2; k >= 0; --k)
    p = p * y + expm1Coefficient(k);
  double small = p * y;
  double m = y < 0.5 ? small : expDouble(y) - 1.0;
  float t = float(m / (m + 2.0));
  return std::copysign(t, x);
}

} // namespace kiln::math
