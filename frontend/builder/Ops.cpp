// Builder functions of the primitive ops: one per row of Ops.def, attributes from options structs.
#include "frontend/builder/BuilderInternal.h"

namespace kiln::builder {

namespace {

Tensor unaryOp(Op op, const Tensor &x, const SrcLoc &loc, AttrMap attrs = {}) {
  return build(op, {x}, std::move(attrs), loc);
}

/// Turns numbers into scalar constants of the dtype of the first tensor among `ops` (f32 if
/// there is none: select(cond, 1.0, 0.0)), then builds `op` on prefix + ops.
Tensor elementwise(Op op, std::vector<const Operand *> ops, const std::vector<Tensor> &prefix,
                   const SrcLoc &loc) {
  // Numbers have no builder: only the tensor operands decide (and are checked).
  std::vector<Tensor> given = prefix;
  const Tensor *typed = nullptr;
  for (const Operand *o : ops) {
    if (o->number)
      continue;
    given.push_back(o->tensor);
    if (!typed)
      typed = &o->tensor;
  }
  BuilderState *state = stateOf(opName(op), given, loc);
  if (!state)
    return {};
  DType dtype = typed ? typed->dtype() : DType::F32;
  std::vector<Tensor> operands = prefix;
  for (const Operand *o : ops)
    operands.push_back(o->number ? state->scalar(*o->number, dtype, loc) : o->tensor);
  return state->make(op, operands, {}, loc);
}

Tensor binaryOp(Op op, const Operand &a, const Operand &b, const SrcLoc &loc) {
  return elementwise(op, {&a, &b}, {}, loc);
}

AttrValue padValue(const Padding &p) {
  if (!p.pads.empty())
    return p.pads;
  return p.mode;
}

} // namespace

Tensor neg(const Tensor &x, SrcLoc loc) { return unaryOp(Op::Neg, x, loc); }
Tensor abs(const Tensor &x, SrcLoc loc) { return unaryOp(Op::Abs, x, loc); }
Tensor exp(const Tensor &x, SrcLoc loc) { return unaryOp(Op::Exp, x, loc); }
Tensor log(const Tensor &x, SrcLoc loc) { return unaryOp(Op::Log, x, loc); }
Tensor sqrt(const Tensor &x, SrcLoc loc) { return unaryOp(Op::Sqrt, x, loc); }
Tensor rsqrt(const Tensor &x, SrcLoc loc) { return unaryOp(Op::Rsqrt, x, loc); }
Tensor square(const Tensor &x, SrcLoc loc) { return unaryOp(Op::Square, x, loc); }
Tensor sign(const Tensor &x, SrcLoc loc) { return unaryOp(Op::Sign, x, loc); }
Tensor relu(const Tensor &x, SrcLoc loc) { return unaryOp(Op::Relu, x, loc); }
Tensor sigmoid(const Tensor &x, SrcLoc loc) { return unaryOp(Op::Sigmoid, x, loc); }
Tensor tanh(const Tensor &x, SrcLoc loc) { return unaryOp(Op::Tanh, x, loc); }
Tensor softplus(const Tensor &x, SrcLoc loc) { return unaryOp(Op::Softplus, x, loc); }
Tensor stopGradient(const Tensor &x, SrcLoc loc) { return unaryOp(Op::StopGradient, x, loc); }

Tensor leakyRelu(const Tensor &x, double alpha, SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::LeakyRelu, "alpha", alpha);
  return unaryOp(Op::LeakyRelu, x, loc, std::move(attrs));
}

Tensor gelu(const Tensor &x, const std::string &approximate, SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::Gelu, "approximate", approximate);
  return unaryOp(Op::Gelu, x, loc, std::move(attrs));
}

Tensor cast(const Tensor &x, DType dtype, SrcLoc loc) {
  return unaryOp(Op::Cast, x, loc, {{"dtype", dtype}});
}

Tensor add(const Operand &a, const Operand &b, SrcLoc loc) { return binaryOp(Op::Add, a, b, loc); }
Tensor sub(const Operand &a, const Operand &b, SrcLoc loc) { return binaryOp(Op::Sub, a, b, loc); }
Tensor mul(const Operand &a, const Operand &b, SrcLoc loc) { return binaryOp(Op::Mul, a, b, loc); }
Tensor div(const Operand &a, const Operand &b, SrcLoc loc) { return binaryOp(Op::Div, a, b, loc); }
Tensor pow(const Operand &a, const Operand &b, SrcLoc loc) { return binaryOp(Op::Pow, a, b, loc); }
Tensor maximum(const Operand &a, const Operand &b, SrcLoc loc) {
  return binaryOp(Op::Maximum, a, b, loc);
}
Tensor minimum(const Operand &a, const Operand &b, SrcLoc loc) {
  return binaryOp(Op::Minimum, a, b, loc);
}
Tensor equal(const Operand &a, const Operand &b, SrcLoc loc) {
  return binaryOp(Op::Equal, a, b, loc);
}
Tensor notEqual(const Operand &a, const Operand &b, SrcLoc loc) {
  return binaryOp(Op::NotEqual, a, b, loc);
}
Tensor less(const Operand &a, const Operand &b, SrcLoc loc) { return binaryOp(Op::Less, a, b, loc); }
Tensor lessEqual(const Operand &a, const Operand &b, SrcLoc loc) {
  return binaryOp(Op::LessEqual, a, b, loc);
}
Tensor greater(const Operand &a, const Operand &b, SrcLoc loc) {
  return binaryOp(Op::Greater, a, b, loc);
}
Tensor greaterEqual(const Operand &a, const Operand &b, SrcLoc loc) {
  return binaryOp(Op::GreaterEqual, a, b, loc);
}
Tensor select(const Tensor &cond, const Operand &a, const Operand &b, SrcLoc loc) {
  return elementwise(Op::Select, {&a, &b}, {cond}, loc);
}

Tensor operator+(const Operand &a, const Operand &b) { return binaryOp(Op::Add, a, b, a.loc); }
Tensor operator-(const Operand &a, const Operand &b) { return binaryOp(Op::Sub, a, b, a.loc); }
Tensor operator*(const Operand &a, const Operand &b) { return binaryOp(Op::Mul, a, b, a.loc); }
Tensor operator/(const Operand &a, const Operand &b) { return binaryOp(Op::Div, a, b, a.loc); }
Tensor operator-(const NegOperand &x) { return unaryOp(Op::Neg, x.tensor, x.loc); }

static Tensor reduction(Op op, const Tensor &x, const ReduceOptions &o, const SrcLoc &loc) {
  AttrMap attrs;
  if (o.axes)
    attrs["axes"] = *o.axes;
  setAttr(attrs, op, "keepdims", o.keepdims);
  return unaryOp(op, x, loc, std::move(attrs));
}
Tensor reduceSum(const Tensor &x, ReduceOptions o, SrcLoc loc) {
  return reduction(Op::ReduceSum, x, o, loc);
}
Tensor reduceMean(const Tensor &x, ReduceOptions o, SrcLoc loc) {
  return reduction(Op::ReduceMean, x, o, loc);
}
Tensor reduceMax(const Tensor &x, ReduceOptions o, SrcLoc loc) {
  return reduction(Op::ReduceMax, x, o, loc);
}
Tensor reduceMin(const Tensor &x, ReduceOptions o, SrcLoc loc) {
  return reduction(Op::ReduceMin, x, o, loc);
}
Tensor argmax(const Tensor &x, int64_t axis, SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::Argmax, "axis", axis);
  return unaryOp(Op::Argmax, x, loc, std::move(attrs));
}

Tensor matmul(const Tensor &a, const Tensor &b, MatmulOptions o, SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::Matmul, "transpose_a", o.transposeA);
  setAttr(attrs, Op::Matmul, "transpose_b", o.transposeB);
  return build(Op::Matmul, {a, b}, std::move(attrs), loc);
}
Tensor reshape(const Tensor &x, Shape shape, SrcLoc loc) {
  return unaryOp(Op::Reshape, x, loc, {{"shape", std::move(shape)}});
}
Tensor flatten(const Tensor &x, SrcLoc loc) { return unaryOp(Op::Flatten, x, loc); }
Tensor transpose(const Tensor &x, std::optional<std::vector<int64_t>> perm, SrcLoc loc) {
  AttrMap attrs;
  if (perm)
    attrs["perm"] = *perm;
  return unaryOp(Op::Transpose, x, loc, std::move(attrs));
}
Tensor concat(const std::vector<Tensor> &xs, int64_t axis, SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::Concat, "axis", axis);
  return build(Op::Concat, xs, std::move(attrs), loc);
}
Tensor slice(const Tensor &x, std::vector<int64_t> begin, std::vector<int64_t> end,
             std::optional<std::vector<int64_t>> strides, SrcLoc loc) {
  AttrMap attrs{{"begin", std::move(begin)}, {"end", std::move(end)}};
  if (strides)
    attrs["strides"] = *strides;
  return unaryOp(Op::Slice, x, loc, std::move(attrs));
}
Tensor broadcastTo(const Tensor &x, Shape shape, SrcLoc loc) {
  return unaryOp(Op::BroadcastTo, x, loc, {{"shape", std::move(shape)}});
}
Tensor gather(const Tensor &table, const Tensor &indices, int64_t axis, SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::Gather, "axis", axis);
  return build(Op::Gather, {table, indices}, std::move(attrs), loc);
}
Tensor oneHot(const Tensor &indices, int64_t depth, DType dtype, SrcLoc loc) {
  AttrMap attrs{{"depth", depth}};
  setAttr(attrs, Op::OneHot, "dtype", dtype);
  return unaryOp(Op::OneHot, indices, loc, std::move(attrs));
}

// The gradient kernels share conv2d's and the pools' attributes and defaults.
static AttrMap convAttrs(const Conv2DOptions &o, AttrMap attrs = {}) {
  setAttr(attrs, Op::Conv2D, "strides", o.strides);
  setAttr(attrs, Op::Conv2D, "padding", padValue(o.padding));
  setAttr(attrs, Op::Conv2D, "dilations", o.dilations);
  setAttr(attrs, Op::Conv2D, "groups", o.groups);
  setAttr(attrs, Op::Conv2D, "data_format", o.dataFormat);
  return attrs;
}
Tensor conv2d(const Tensor &x, const Tensor &w, Conv2DOptions o, SrcLoc loc) {
  return build(Op::Conv2D, {x, w}, convAttrs(o), loc);
}
Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor &b, Conv2DOptions o, SrcLoc loc) {
  return build(Op::Conv2D, {x, w, b}, convAttrs(o), loc);
}

static AttrMap poolAttrs(Op op, const PoolOptions &o, AttrMap attrs = {}) {
  attrs["ksize"] = o.ksize;
  if (o.strides)
    attrs["strides"] = *o.strides;
  setAttr(attrs, op, "padding", padValue(o.padding));
  setAttr(attrs, op, "data_format", o.dataFormat);
  return attrs;
}
static Tensor pool(Op op, const Tensor &x, const PoolOptions &o, const SrcLoc &loc) {
  return unaryOp(op, x, loc, poolAttrs(op, o));
}
Tensor maxPool2d(const Tensor &x, PoolOptions o, SrcLoc loc) { return pool(Op::MaxPool2D, x, o, loc); }
Tensor avgPool2d(const Tensor &x, PoolOptions o, SrcLoc loc) { return pool(Op::AvgPool2D, x, o, loc); }

Tensor softmax(const Tensor &x, int64_t axis, SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::Softmax, "axis", axis);
  return unaryOp(Op::Softmax, x, loc, std::move(attrs));
}
Tensor logSoftmax(const Tensor &x, int64_t axis, SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::LogSoftmax, "axis", axis);
  return unaryOp(Op::LogSoftmax, x, loc, std::move(attrs));
}
Tensor layerNorm(const Tensor &x, const Tensor &gamma, const Tensor &beta, LayerNormOptions o,
                 SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::LayerNorm, "axis", o.axis);
  setAttr(attrs, Op::LayerNorm, "epsilon", o.epsilon);
  return build(Op::LayerNorm, {x, gamma, beta}, std::move(attrs), loc);
}
Tensor dropout(const Tensor &x, double rate, std::optional<int64_t> seed, SrcLoc loc) {
  AttrMap attrs{{"rate", rate}};
  if (seed)
    attrs["seed"] = *seed;
  return unaryOp(Op::Dropout, x, loc, std::move(attrs));
}


Tensor conv2dBackpropInput(const Tensor &dy, const Tensor &w, Shape inputShape, Conv2DOptions o,
                           SrcLoc loc) {
  return build(Op::Conv2DBackpropInput, {dy, w},
               convAttrs(o, {{"input_shape", std::move(inputShape)}}), loc);
}
Tensor conv2dBackpropFilter(const Tensor &x, const Tensor &dy, Shape filterShape, Conv2DOptions o,
                            SrcLoc loc) {
  return build(Op::Conv2DBackpropFilter, {x, dy},
               convAttrs(o, {{"filter_shape", std::move(filterShape)}}), loc);
}
Tensor maxPool2dGrad(const Tensor &x, const Tensor &dy, PoolOptions o, SrcLoc loc) {
  return build(Op::MaxPool2DGrad, {x, dy}, poolAttrs(Op::MaxPool2DGrad, o), loc);
}
Tensor avgPool2dGrad(const Tensor &dy, Shape inputShape, PoolOptions o, SrcLoc loc) {
  return unaryOp(Op::AvgPool2DGrad, dy, loc,
                 poolAttrs(Op::AvgPool2DGrad, o, {{"input_shape", std::move(inputShape)}}));
}
Tensor gatherGrad(const Tensor &indices, const Tensor &dy, Shape tableShape, int64_t axis,
                  SrcLoc loc) {
  AttrMap attrs{{"table_shape", std::move(tableShape)}};
  setAttr(attrs, Op::GatherGrad, "axis", axis);
  return build(Op::GatherGrad, {indices, dy}, std::move(attrs), loc);
}
Tensor sliceGrad(const Tensor &dy, Shape inputShape, std::vector<int64_t> begin,
                 std::vector<int64_t> end, std::optional<std::vector<int64_t>> strides,
                 SrcLoc loc) {
  AttrMap attrs{{"input_shape", std::move(inputShape)},
                {"begin", std::move(begin)},
                {"end", std::move(end)}};
  if (strides)
    attrs["strides"] = *strides;
  return unaryOp(Op::SliceGrad, dy, loc, std::move(attrs));
}
Tensor geluGrad(const Tensor &x, const Tensor &dy, const std::string &approximate, SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::GeluGrad, "approximate", approximate);
  return build(Op::GeluGrad, {x, dy}, std::move(attrs), loc);
}

} // namespace kiln::builder
