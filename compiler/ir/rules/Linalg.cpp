// Shape rule of matmul: batched matrix products with NumPy-broadcast batch dims.
#include "compiler/ir/rules/RuleUtil.h"

namespace kiln::rules {

Types inferMatmul(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &a = in[0], &b = in[1];
  for (int i = 0; i < 2; ++i) {
    if (in[size_t(i)].rank() < 2)
      return fail(err, "operand " + std::to_string(i) + " must have rank >= 2, got " +
                           in[size_t(i)].str(),
                  {}, i);
    if (!requireFloat(in[size_t(i)], i, err))
      return std::nullopt;
  }
  if (!requireSameDType(a, b, 1, err))
    return std::nullopt;
  bool ta = boolAttr(attrs, "transpose_a"), tb = boolAttr(attrs, "transpose_b");
  size_t ra = a.shape.size(), rb = b.shape.size();
  int64_t m = ta ? a.shape[ra - 1] : a.shape[ra - 2];
  int64_t ka = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  int64_t kb = tb ? b.shape[rb - 1] : b.shape[rb - 2];
  int64_t n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  if (ka != kb)
    return fail(err, "contraction dims " + std::to_string(ka) + " and " + std::to_string(kb) +
                         " do not match (" + a.str() + (ta ? "^T" : "") + " x " + b.str() +
                         (tb ? "^T" : "") + ")",
                {}, 1);
  Shape batchA(a.shape.begin(), a.shape.end() - 2), batchB(b.shape.begin(), b.shape.end() - 2);
  auto batch = broadcastShapes(batchA, batchB);
  if (!batch)
    return fail(err, "batch dims " + shapeStr(batchA) + " and " + shapeStr(batchB) +
                         " do not broadcast (" + a.str() + " x " + b.str() + ")",
                {}, 1);
  Shape out = *batch;
  out.push_back(m);
  out.push_back(n);
  return one({a.dtype, out});
}

} // namespace kiln::rules
