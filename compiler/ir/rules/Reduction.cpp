// Shape rules of reductions (reduce_sum/mean/max/min) and argmax.
#include "compiler/ir/rules/RuleUtil.h"

#include <cstdint>

namespace kiln::rules {

Types inferReduce(Op op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &x = in[0];
  if (op == Op::ReduceMean ? !requireFloat(x, 0, err) : !requireNumeric(x, 0, err))
    return std::nullopt;
  int64_t rank = x.rank();
  std::vector<bool> reduced(size_t(rank), false);
  if (const std::vector<int64_t> *axes = intsAttr(attrs, "axes")) {
    // An explicit list, even an empty one, reduces exactly the axes it names (TensorFlow's rule);
    // only an absent `axes` means "all axes".
    for (int64_t a : *axes) {
      int64_t n;
      if (!axisAttr(a, rank, "axis", err, n))
        return fail(err, err.message, "axes");
      if (reduced[size_t(n)])
        return fail(err, "axes " + shapeStr(*axes) + " name axis " + std::to_string(n) + " twice",
                    "axes");
      reduced[size_t(n)] = true;
    }
  } else {
    reduced.assign(size_t(rank), true);
  }
  bool keepdims = boolAttr(attrs, "keepdims");
  Shape out;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced[size_t(i)])
      out.push_back(x.shape[size_t(i)]);
    else if (keepdims)
      out.push_back(1);
  }
  return one({x.dtype, out});
}

Types inferArgmax(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &x = in[0];
  if (!requireNumeric(x, 0, err))
    return std::nullopt;
  int64_t axis;
  if (!axisAttr(intAttr(attrs, "axis"), x.rank(), "axis", err, axis))
    return std::nullopt;
  if (x.shape[size_t(axis)] > int64_t(INT32_MAX))
    return fail(err, "axis " + std::to_string(axis) + " is too long for an i32 index", "axis");
  Shape out = x.shape;
  out.erase(out.begin() + axis);
  return one({DType::I32, out});
}

} // namespace kiln::rules
