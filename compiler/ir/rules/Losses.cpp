// Shape rules of the losses and metrics: a scalar of the input's float dtype, or the per-row
// values [B] when reduction is "none" (Keras behaviour).
#include "compiler/ir/rules/RuleUtil.h"

namespace kiln::rules {

namespace {

Types lossResult(DType dtype, int64_t batch, const AttrMap &attrs) {
  if (strAttr(attrs, "reduction") == "none")
    return one({dtype, {batch}});
  return one({dtype, {}});
}

/// The first operand must have a batch axis, because a per-row loss averages every other axis.
bool requireBatch(const TensorType &t, TypeError &err) {
  if (t.rank() >= 1)
    return true;
  return failed(err, "operand 0 must have a batch axis (rank >= 1), got " + t.str(), {}, 0);
}

} // namespace

Types inferElementwiseLoss(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &p = in[0], &t = in[1];
  if (!requireFloat(p, 0, err) || !requireSameDType(p, t, 1, err) || !requireBatch(p, err))
    return std::nullopt;
  if (p.shape != t.shape)
    return fail(err, "shapes " + p.str() + " and " + t.str() + " differ (no broadcasting here)",
                {}, 1);
  return lossResult(p.dtype, p.shape[0], attrs);
}

Types inferSoftmaxCrossEntropy(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &logits = in[0], &labels = in[1];
  if (!requireFloat(logits, 0, err) || !requireRank(logits, 2, 0, "logits", err))
    return std::nullopt;
  int64_t b = logits.shape[0];
  if (isInteger(labels.dtype)) {
    if (!requireShape(labels, {b}, 1, "sparse labels", err))
      return std::nullopt;
  } else if (isFloat(labels.dtype)) {
    if (!requireSameDType(logits, labels, 1, err) ||
        !requireShape(labels, logits.shape, 1, "probability labels", err))
      return std::nullopt;
  } else {
    return fail(err, "labels have dtype bool, expected i32/i64 (sparse) or f32/f64 (probabilities)",
                {}, 1);
  }
  return lossResult(logits.dtype, b, attrs);
}

Types inferAccuracy(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &logits = in[0], &labels = in[1];
  if (!requireFloat(logits, 0, err) || !requireRank(logits, 2, 0, "logits", err) ||
      !requireIndex(labels, 1, err) || !requireShape(labels, {logits.shape[0]}, 1, "labels", err))
    return std::nullopt;
  return lossResult(logits.dtype, logits.shape[0], attrs);
}

} // namespace kiln::rules
