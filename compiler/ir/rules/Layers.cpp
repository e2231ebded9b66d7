// Shape rules of the layers: dense, simple_rnn, lstm and multi_head_attention.
#include "compiler/ir/rules/RuleUtil.h"

namespace kiln::rules {

namespace {

/// All operands float and of operand 0's dtype.
bool requireFloatOperands(Operands in, TypeError &err) {
  if (!requireFloat(in[0], 0, err))
    return false;
  for (size_t i = 1; i < in.size(); ++i)
    if (!requireSameDType(in[0], in[i], int(i), err))
      return false;
  return true;
}

/// Shared by simple_rnn and lstm: x [B,T,I], kernel [I,G*U], recurrent [U,G*U], bias [G*U],
/// with G gates (1 or 4).
Types inferRecurrent(Operands in, const AttrMap &attrs, int64_t gates, TypeError &err) {
  if (!requireFloatOperands(in, err) || !requireRank(in[0], 3, 0, "input", err) ||
      !requireRank(in[1], 2, 1, "kernel", err))
    return std::nullopt;
  const TensorType &x = in[0], &kernel = in[1];
  int64_t b = x.shape[0], t = x.shape[1], i = x.shape[2];
  if (kernel.shape[0] != i)
    return fail(err, "kernel rows " + std::to_string(kernel.shape[0]) +
                         " do not match input features " + std::to_string(i) + " of " + x.str(),
                {}, 1);
  if (kernel.shape[1] % gates != 0)
    return fail(err, "kernel columns " + std::to_string(kernel.shape[1]) +
                         " are not a multiple of the " + std::to_string(gates) + " gates",
                {}, 1);
  int64_t width = kernel.shape[1], u = width / gates;
  if (!requireShape(in[2], {u, width}, 2, "recurrent kernel", err) ||
      !requireShape(in[3], {width}, 3, "bias", err))
    return std::nullopt;
  if (boolAttr(attrs, "return_sequences"))
    return one({x.dtype, {b, t, u}});
  return one({x.dtype, {b, u}});
}

} // namespace

Types inferDense(Op, Operands in, const AttrMap &, TypeError &err) {
  if (!requireFloatOperands(in, err))
    return std::nullopt;
  const TensorType &x = in[0], &w = in[1];
  // x is [..., in]: leading dims are folded into one batch dim when the layer is decomposed.
  if (x.rank() < 1)
    return fail(err, "input must have rank >= 1 ([..., in]), got " + x.str(), {}, 0);
  if (!requireRank(w, 2, 1, "weights", err))
    return std::nullopt;
  int64_t inDim = x.shape.back();
  if (w.shape[0] != inDim)
    return fail(err, "weight rows " + std::to_string(w.shape[0]) + " do not match input features " +
                         std::to_string(inDim) + " of " + x.str(),
                {}, 1);
  int64_t outDim = w.shape[1];
  if (in.size() == 3 && !requireShape(in[2], {outDim}, 2, "bias", err))
    return std::nullopt;
  Shape out = x.shape;
  out.back() = outDim;
  return one({x.dtype, out});
}

Types inferSimpleRnn(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  return inferRecurrent(in, attrs, 1, err);
}

Types inferLstm(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  return inferRecurrent(in, attrs, 4, err);
}

Types inferMultiHeadAttention(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  if (in.size() != 7 && in.size() != 11)
    return fail(err, "expects 7 inputs (q, k, v, wq, wk, wv, wo) or 11 (with bq, bk, bv, bo), got " +
                         std::to_string(in.size()),
                {}, -2);
  if (!requireFloatOperands(in, err))
    return std::nullopt;
  const char *names[] = {"q", "k", "v", "wq", "wk", "wv", "wo", "bq", "bk", "bv", "bo"};
  for (int i = 0; i < 3; ++i)
    if (!requireRank(in[size_t(i)], 3, i, names[i], err))
      return std::nullopt;
  const TensorType &q = in[0], &k = in[1], &v = in[2];
  int64_t b = q.shape[0], s = q.shape[1], d = q.shape[2];
  int64_t t = k.shape[1];
  if (!requireShape(k, {b, t, d}, 1, "k", err) || !requireShape(v, {b, t, d}, 2, "v", err))
    return std::nullopt;
  for (size_t i = 3; i < in.size(); ++i) {
    Shape want = i < 7 ? Shape{d, d} : Shape{d};
    if (!requireShape(in[i], want, int(i), names[i], err))
      return std::nullopt;
  }
  int64_t heads = intAttr(attrs, "heads");
  if (heads < 1 || d % heads != 0)
    return fail(err, "heads " + std::to_string(heads) + " must be >= 1 and divide the model width " +
                         std::to_string(d),
                "heads");
  if (boolAttr(attrs, "causal") && s != t)
    return fail(err, "causal attention needs equal query and key lengths, got " +
                         std::to_string(s) + " and " + std::to_string(t),
                "causal");
  return one({q.dtype, {b, s, d}});
}

} // namespace kiln::rules
