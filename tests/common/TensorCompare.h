// Comparing tensors in the differential tests (backends against the interpreter, oneDNN against
// generated code, the CLI's outputs): one error measure and one bit-for-bit check for all.
#pragma once

#include "kiln/runtime/Safetensors.h"
#include "kiln/runtime/Tensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace kiln::test {

/// The worst err = |a - b| / max(1, |a|, |b|) over all elements: relative for large values,
/// absolute below 1. +inf for a dtype or shape mismatch, any integer or bool difference, or a
/// NaN against a number; equal values (infinities included) and NaN against NaN count 0.
/// `where`, if given, receives the index of the worst element.
inline double worstError(const Tensor &a, const Tensor &b, int64_t *where = nullptr) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape())
    return INFINITY;
  double worst = 0;
  for (int64_t i = 0; i < a.numElements(); ++i) {
    double x = a.at(i), y = b.at(i);
    if (x == y || (std::isnan(x) && std::isnan(y)))
      continue;
    double err = std::fabs(x - y) / std::max({1.0, std::fabs(x), std::fabs(y)});
    if (!isFloat(a.dtype()) || std::isnan(err))
      err = INFINITY;
    if (err > worst) {
      worst = err;
      if (where)
        *where = i;
    }
  }
  return worst;
}

/// worstError over named tensors, pair by pair; +inf if the names or counts differ.
inline double worstError(const NamedTensors &a, const NamedTensors &b) {
  if (a.size() != b.size())
    return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].first != b[i].first)
      return INFINITY;
    worst = std::max(worst, worstError(a[i].second, b[i].second));
  }
  return worst;
}

/// True if both hold the same names, dtypes, shapes and bytes.
inline bool sameBits(const NamedTensors &a, const NamedTensors &b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].first != b[i].first || a[i].second.dtype() != b[i].second.dtype() ||
        a[i].second.shape() != b[i].second.shape() ||
        std::memcmp(a[i].second.raw(), b[i].second.raw(), a[i].second.byteSize()) != 0)
      return false;
  return true;
}

} // namespace kiln::test
