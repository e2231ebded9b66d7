// Shape rules of the gradient kernels autodiff emits (conv2d_backprop_*, *_pool2d_grad,
// gather_grad, slice_grad, gelu_grad). Each result is the forward operand's type, taken from a
// *_shape attribute; consistency is checked by running the forward op's own rule on that shape
// and comparing its result with the incoming gradient, so the two can never disagree.
#include "compiler/ir/rules/RuleUtil.h"

#include <array>

namespace kiln::rules {

namespace {

/// Where a forward operand came from in the gradient op: an operand of it (its index) or a
/// *_shape attribute (operand -1, `attr` named).
struct Origin {
  int operand = -1;
  const char *attr = nullptr;
};

/// Runs the forward rule `rule` of `fwdOp` on `fwdOperands`. Errors about forward operand i
/// are re-pointed at `origins[i]`, so that a user sees the attribute or operand they wrote.
template <size_t N>
Types forward(Types (*rule)(Op, Operands, const AttrMap &, TypeError &), Op fwdOp,
              const std::array<TensorType, N> &fwdOperands, const std::array<Origin, N> &origins,
              const AttrMap &attrs, TypeError &err) {
  Types r = rule(fwdOp, fwdOperands, attrs, err);
  if (!r && err.operand >= 0 && size_t(err.operand) < N) {
    const Origin &o = origins[size_t(err.operand)];
    err.operand = o.operand;
    if (o.attr)
      err.attr = o.attr;
  }
  return r;
}

/// The *_shape attribute as a type of `dtype`; checks it is a valid shape of rank `rank`
/// (-1: any rank).
bool shapeOperand(const AttrMap &attrs, const char *attr, DType dtype, int64_t rank, TypeError &err,
                  TensorType &out) {
  const auto &shape = *intsAttr(attrs, attr);
  if (!shapeAttr(shape, attr, err))
    return false;
  if (rank >= 0 && int64_t(shape.size()) != rank)
    return failed(
        err, std::string(attr) + " " + shapeStr(shape) + " must have rank " + std::to_string(rank),
        attr);
  out = TensorType{dtype, shape};
  return true;
}

/// The incoming gradient must have exactly the forward result's shape.
Types matchGradient(const Types &fwd, const TensorType &dy, int dyOperand, const char *fwdName,
                    const std::string &from, TensorType result, TypeError &err) {
  if (!fwd)
    return std::nullopt;
  const Shape &expect = (*fwd)[0].shape;
  if (dy.shape != expect)
    return fail(err,
                "gradient " + dy.str() + " does not match the " + std::string(fwdName) +
                    " result shape " + shapeStr(expect) + " of " + from,
                {}, dyOperand);
  return one(std::move(result));
}

} // namespace

Types inferConv2DBackpropInput(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &dy = in[0], &w = in[1];
  TensorType x;
  if (!requireFloat(dy, 0, err) || !shapeOperand(attrs, "input_shape", dy.dtype, 4, err, x))
    return std::nullopt;
  auto fwd = forward<2>(inferConv2D, Op::Conv2D, {x, w}, {Origin{-1, "input_shape"}, Origin{1}},
                        attrs, err);
  return matchGradient(fwd, dy, 0, "conv2d", "input_shape " + shapeStr(x.shape), x, err);
}

Types inferConv2DBackpropFilter(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &x = in[0], &dy = in[1];
  TensorType w;
  if (!requireFloat(x, 0, err) || !requireSameDType(x, dy, 1, err) ||
      !shapeOperand(attrs, "filter_shape", x.dtype, 4, err, w))
    return std::nullopt;
  auto fwd = forward<2>(inferConv2D, Op::Conv2D, {x, w}, {Origin{0}, Origin{-1, "filter_shape"}},
                        attrs, err);
  return matchGradient(fwd, dy, 1, "conv2d", "filter_shape " + shapeStr(w.shape), w, err);
}

Types inferPool2DGrad(Op op, Operands in, const AttrMap &attrs, TypeError &err) {
  bool isMax = op == Op::MaxPool2DGrad;
  Op fwdOp = isMax ? Op::MaxPool2D : Op::AvgPool2D;
  const char *fwdName = isMax ? "max_pool2d" : "avg_pool2d";
  if (isMax) {
    // (x, dy): the forward input is an operand, needed to find each window's maximum.
    const TensorType &x = in[0], &dy = in[1];
    if (!requireSameDType(x, dy, 1, err))
      return std::nullopt;
    auto fwd = forward<1>(inferPool2D, fwdOp, {x}, {Origin{0}}, attrs, err);
    return matchGradient(fwd, dy, 1, fwdName, "input " + x.str(), x, err);
  }
  const TensorType &dy = in[0];
  TensorType x;
  if (!requireFloat(dy, 0, err) || !shapeOperand(attrs, "input_shape", dy.dtype, 4, err, x))
    return std::nullopt;
  auto fwd = forward<1>(inferPool2D, fwdOp, {x}, {Origin{-1, "input_shape"}}, attrs, err);
  return matchGradient(fwd, dy, 0, fwdName, "input_shape " + shapeStr(x.shape), x, err);
}

Types inferGatherGrad(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &indices = in[0], &dy = in[1];
  TensorType table;
  if (!requireFloat(dy, 1, err) || !shapeOperand(attrs, "table_shape", dy.dtype, -1, err, table))
    return std::nullopt;
  auto fwd = forward<2>(inferGather, Op::Gather, {table, indices},
                        {Origin{-1, "table_shape"}, Origin{0}}, attrs, err);
  return matchGradient(fwd, dy, 1, "gather", "table_shape " + shapeStr(table.shape), table, err);
}

Types inferSliceGrad(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &dy = in[0];
  TensorType x;
  if (!requireFloat(dy, 0, err) || !shapeOperand(attrs, "input_shape", dy.dtype, -1, err, x))
    return std::nullopt;
  auto fwd = forward<1>(inferSlice, Op::Slice, {x}, {Origin{-1, "input_shape"}}, attrs, err);
  return matchGradient(fwd, dy, 0, "slice", "input_shape " + shapeStr(x.shape), x, err);
}

Types inferGeluGrad(Op, Operands in, const AttrMap &, TypeError &err) {
  const TensorType &x = in[0], &dy = in[1];
  if (!requireFloat(x, 0, err) || !requireSameDType(x, dy, 1, err) ||
      !requireShape(dy, x.shape, 1, "gradient", err))
    return std::nullopt;
  return one(x);
}

} // namespace kiln::rules
