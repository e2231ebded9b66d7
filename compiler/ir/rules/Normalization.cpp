// Shape rules of softmax, log_softmax and layer_norm.
#include "compiler/ir/rules/RuleUtil.h"

#include <cmath>

namespace kiln::rules {

Types inferSoftmax(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &x = in[0];
  int64_t axis;
  if (!requireFloat(x, 0, err) || !axisAttr(intAttr(attrs, "axis"), x.rank(), "axis", err, axis))
    return std::nullopt;
  return one(x);
}

Types inferLayerNorm(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &x = in[0];
  int64_t axis;
  if (!requireFloat(x, 0, err) || !axisAttr(intAttr(attrs, "axis"), x.rank(), "axis", err, axis))
    return std::nullopt;
  double eps = floatAttr(attrs, "epsilon");
  if (!(eps >= 0) || !std::isfinite(eps))
    return fail(err, "epsilon " + attrValueToString(eps) + " must be finite and >= 0", "epsilon");
  Shape normalized(x.shape.begin() + axis, x.shape.end());
  const char *names[] = {"", "gamma", "beta"};
  for (int i = 1; i < 3; ++i)
    if (!requireSameDType(x, in[size_t(i)], i, err) ||
        !requireShape(in[size_t(i)], normalized, i, names[i], err))
      return std::nullopt;
  return one(x);
}

} // namespace kiln::rules
