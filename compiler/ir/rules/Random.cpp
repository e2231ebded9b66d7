// Shape rules of the random ops: dropout and the random_uniform / random_normal sources.
#include "compiler/ir/rules/RuleUtil.h"

#include <cmath>

namespace kiln::rules {

Types inferDropout(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &x = in[0];
  if (!requireFloat(x, 0, err))
    return std::nullopt;
  double rate = floatAttr(attrs, "rate");
  // Written so that NaN fails too.
  if (!(rate >= 0 && rate < 1))
    return fail(err, "rate " + attrValueToString(rate) + " must be in [0, 1)", "rate");
  return one(x);
}

Types inferRandom(Op op, Operands, const AttrMap &attrs, TypeError &err) {
  DType dtype = dtypeAttr(attrs, "dtype");
  if (!isFloat(dtype))
    return fail(err, "dtype " + dtypeStr(dtype) + " is not supported, expected f32 or f64",
                "dtype");
  const Shape &shape = *intsAttr(attrs, "shape");
  if (!shapeAttr(shape, "shape", err))
    return std::nullopt;
  if (op == Op::RandomUniform) {
    double low = floatAttr(attrs, "low"), high = floatAttr(attrs, "high");
    if (!std::isfinite(low) || !std::isfinite(high) || !(low < high))
      return fail(err, "low " + attrValueToString(low) + " must be less than high " +
                           attrValueToString(high) + " (both finite)",
                  "high");
  } else {
    double mean = floatAttr(attrs, "mean"), stddev = floatAttr(attrs, "stddev");
    if (!std::isfinite(mean))
      return fail(err, "mean " + attrValueToString(mean) + " must be finite", "mean");
    if (!std::isfinite(stddev) || !(stddev >= 0))
      return fail(err, "stddev " + attrValueToString(stddev) + " must be finite and >= 0",
                  "stddev");
  }
  return one({dtype, shape});
}

} // namespace kiln::rules
