// Fuzz samplers of matmul, convolution and pooling, normalisation, random ops, layers, losses
// and the gradient kernels: operand shapes that fit, attributes drawn from the values the
// gradient-check table (tests/autodiff/GradCheckCases.cpp) shows valid, and result bounds.
#include "GraphFuzzBuilder.h"

#include <algorithm>
#include <cmath>

namespace kiln::test {

namespace {

using Ints = std::vector<int64_t>;
using Str = std::string;

/// Bounds of a sum of `k` products of elements bounded by `a` and `b` magnitudes.
double dotBound(double k, double a, double b) { return k * a * b; }

/// Random conv/pool window attrs for a rank-4 input of spatial dims h, w.
void windowAttrs(FuzzBuilder &b, AttrMap &attrs, bool nchw) {
  if (nchw)
    attrs["data_format"] = Str("NCHW");
  int64_t pad = b.below(3);
  if (pad == 1)
    attrs["padding"] = Str("same");
  if (pad == 2)
    attrs["padding"] = Ints{b.below(2), b.below(2), b.below(2), b.below(2)};
  if (b.chance(0.5))
    attrs["strides"] = Ints{b.range(1, 2), b.range(1, 2)};
}

} // namespace

bool sampleMatmul(FuzzBuilder &b, Op op) {
  auto a = b.pickFloat(2, 4);
  if (!a)
    return false;
  bool ta = b.chance(0.3), tb = b.chance(0.3);
  const Shape &s = a->shape();
  int64_t k = s[s.size() - (ta ? 2 : 1)];
  int64_t n = b.dim();
  Shape bs(s.begin(), s.end() - 2);
  bs = b.chance(0.5) ? b.broadcastableTo(bs) : bs; // batch broadcast, or a plain matrix
  bs.push_back(tb ? n : k);
  bs.push_back(tb ? k : n);
  auto w = b.valueOfType(TensorType{a->dtype(), bs});
  if (!w)
    return false;
  AttrMap attrs;
  if (ta)
    attrs["transpose_a"] = true;
  if (tb)
    attrs["transpose_b"] = true;
  double m = dotBound(double(k), a->mag(), w->mag());
  bool swap = b.chance(0.2) && !ta && !tb && bs.size() == 2 && bs[0] == bs[1];
  return b
      .add(op, swap ? std::vector<FuzzValue>{*w, *a} : std::vector<FuzzValue>{*a, *w}, attrs, -m, m)
      .has_value();
}

bool sampleConv(FuzzBuilder &b, Op op) {
  auto x = b.pickFloat(4, 4);
  if (!x)
    x = b.input(
        TensorType{b.floatType(), {b.range(1, 2), b.range(3, 7), b.range(3, 7), b.range(1, 4)}});
  bool nchw = b.chance(0.4);
  int64_t c = x->shape()[nchw ? 1 : 3];
  int64_t groups = c % 2 == 0 && b.chance(0.3) ? 2 : 1;
  int64_t cout = groups * b.range(1, 3);
  int64_t kh = b.range(1, 3), kw = b.range(1, 3);
  AttrMap attrs;
  windowAttrs(b, attrs, nchw);
  if (groups > 1)
    attrs["groups"] = groups;
  if (b.chance(0.2))
    attrs["dilations"] = Ints{b.range(1, 2), b.range(1, 2)};
  Shape ws = nchw ? Shape{cout, c / groups, kh, kw} : Shape{kh, kw, c / groups, cout};
  auto w = b.valueOfType(TensorType{x->dtype(), ws});
  if (!w)
    return false;
  std::vector<FuzzValue> ops = {*x, *w};
  double m = dotBound(double(kh * kw * c / groups), x->mag(), w->mag());
  if (b.chance(0.5)) {
    auto bias = b.param(TensorType{x->dtype(), {cout}});
    ops.push_back(*bias);
    m += bias->mag();
  }
  return b.add(op, ops, attrs, -m, m).has_value();
}

bool samplePool(FuzzBuilder &b, Op op) {
  auto x = b.pickFloat(4, 4);
  if (!x)
    return false;
  AttrMap attrs{{"ksize", Ints{b.range(1, 3), b.range(1, 3)}}};
  windowAttrs(b, attrs, b.chance(0.4));
  return b.add(op, {*x}, attrs, x->lo, x->hi).has_value();
}

bool sampleNorm(FuzzBuilder &b, Op op) {
  auto x = b.pickFloat(1, 4);
  if (!x)
    return false;
  int64_t axis = b.range(-x->rank(), x->rank() - 1);
  AttrMap attrs;
  if (axis != -1 || b.chance(0.5))
    attrs["axis"] = axis;
  if (op == Op::Softmax)
    return b.add(op, {*x}, attrs, 0, 1).has_value();
  int64_t a = axis < 0 ? axis + x->rank() : axis;
  if (op == Op::LogSoftmax) {
    double n = double(x->shape()[size_t(a)]);
    return b.add(op, {*x}, attrs, -(x->hi - x->lo) - std::log(n), 0).has_value();
  }
  // layer_norm over axes a..end: |normalised| <= sqrt(count). A larger epsilon keeps rows
  // with (nearly) equal elements, whose normalised values are rounding noise, well conditioned.
  Shape tail(x->shape().begin() + a, x->shape().end());
  double count = 1;
  for (int64_t d : tail)
    count *= double(d);
  attrs["epsilon"] = b.oneOf(std::vector<double>{1e-5, 1e-3, 0.1});
  auto gamma = b.param(TensorType{x->dtype(), tail}, 1.0);
  auto beta = b.param(TensorType{x->dtype(), tail});
  double m = std::sqrt(count) * gamma->mag() + beta->mag();
  return b.add(op, {*x, *gamma, *beta}, attrs, -m, m).has_value();
}

bool sampleRandom(FuzzBuilder &b, Op op) {
  // Inference: dropout is the identity, and random_* draw Philox numbers from the graph seed
  // and the run counter, identical in both backends (a mismatch is a real bug).
  AttrMap attrs;
  if (b.chance(0.5))
    attrs["seed"] = b.range(0, 1000);
  if (op == Op::Dropout) {
    auto x = b.pickFloat();
    attrs["rate"] = b.oneOf(std::vector<double>{0.0, 0.3, 0.5});
    return x && b.add(op, {*x}, attrs, x->lo, x->hi);
  }
  Ints shape;
  for (int64_t d : b.randomShape(0, 3))
    shape.push_back(d);
  attrs["shape"] = shape;
  if (b.floatType() == DType::F64 || b.chance(0.2))
    attrs["dtype"] = b.floatType();
  if (op == Op::RandomUniform) {
    double lo = b.chance(0.5) ? -1 : 0;
    attrs["low"] = lo;
    attrs["high"] = 2.0;
    return b.add(op, {}, attrs, lo, 2).has_value();
  }
  attrs["stddev"] = 0.5;
  return b.add(op, {}, attrs, -5, 5).has_value(); // Box-Muller of 32-bit uniforms: < 7 sigma
}

bool sampleLayer(FuzzBuilder &b, Op op) {
  using V = std::vector<FuzzValue>;
  if (op == Op::Dense) {
    auto x = b.pickFloat(1, 3);
    if (!x)
      return false;
    int64_t in = x->shape().back(), out = b.dim();
    auto w = b.param(TensorType{x->dtype(), {in, out}});
    V ops = {*x, *w};
    double m = dotBound(double(in), x->mag(), w->mag());
    if (b.chance(0.5)) {
      ops.push_back(*b.param(TensorType{x->dtype(), {out}}));
      m += 0.5;
    }
    Str act = b.oneOf(
        std::vector<Str>{"none", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "gelu"});
    double lo = act == "relu" || act == "sigmoid" || act == "softmax" ? 0 : -m;
    double hi = act == "sigmoid" || act == "softmax" || act == "tanh" ? 1 : m;
    return b.add(op, ops, {{"activation", act}}, lo, hi).has_value();
  }
  // Sequence layers take [B, T, I] (a pool value, or a new input) and fresh weights.
  auto x = b.pickFloat(3, 3);
  if (!x || b.chance(0.3))
    x = b.input(TensorType{b.floatType(), {b.range(1, 3), b.range(1, 4), b.range(1, 4)}});
  int64_t in = x->shape()[2], h = b.range(1, 4);
  DType dt = x->dtype();
  if (op == Op::MultiHeadAttention) {
    int64_t heads = in % 2 == 0 && b.chance(0.5) ? 2 : 1;
    bool self = b.chance(0.6);
    auto kv = self ? x : b.valueOfType(TensorType{dt, {x->shape()[0], b.range(1, 4), in}});
    V ops = {*x, *kv, *kv};
    for (int i = 0; i < 4; ++i)
      ops.push_back(*b.param(TensorType{dt, {in, in}}));
    bool bias = b.chance(0.5);
    for (int i = 0; bias && i < 4; ++i)
      ops.push_back(*b.param(TensorType{dt, {in}}));
    AttrMap attrs{{"heads", heads}};
    if (self && b.chance(0.5))
      attrs["causal"] = true;
    double v = dotBound(double(in), kv->mag(), 0.5) + (bias ? 0.5 : 0);
    double m = dotBound(double(in), v, 0.5) + (bias ? 0.5 : 0);
    return b.add(op, ops, attrs, -m, m).has_value();
  }
  int64_t gates = op == Op::Lstm ? 4 : 1;
  V ops = {*x, *b.param(TensorType{dt, {in, gates * h}}), *b.param(TensorType{dt, {h, gates * h}}),
           *b.param(TensorType{dt, {gates * h}})};
  AttrMap attrs;
  if (b.chance(0.5))
    attrs["return_sequences"] = true;
  if (op == Op::Lstm)
    return b.add(op, ops, attrs, -1, 1).has_value();
  Str act = b.oneOf(std::vector<Str>{"tanh", "relu", "sigmoid", "none"});
  attrs["activation"] = act;
  // h_t = act(x W + h_{t-1} U + b): bound it step by step (relu and none may grow).
  double m = 0;
  for (int64_t t = 0; t < x->shape()[1]; ++t)
    m = std::min(dotBound(double(in), x->mag(), 0.5) + dotBound(double(h), m, 0.5) + 0.5,
                 act == "tanh" || act == "sigmoid" ? 1.0 : 1e9);
  return b.add(op, ops, attrs, act == "relu" || act == "sigmoid" ? 0 : -m, m).has_value();
}

bool sampleLoss(FuzzBuilder &b, Op op) {
  AttrMap attrs;
  int64_t red = b.below(3);
  Str reduction = red == 0 ? "mean" : red == 1 ? "sum" : "none";
  if (red > 0)
    attrs["reduction"] = reduction;
  if (op == Op::SoftmaxCrossEntropy || op == Op::Accuracy) {
    auto logits = b.pickFloat(2, 2);
    if (!logits)
      return false;
    std::optional<FuzzValue> labels;
    if (op == Op::SoftmaxCrossEntropy && b.chance(0.4))
      labels = b.valueOfType(logits->value.type()); // dense labels in [0, 1) or params
    else
      labels = b.indexInput(b.chance(0.5) ? DType::I32 : DType::I64, {logits->shape()[0]});
    double rows = reduction == "sum" ? double(logits->shape()[0]) : 1;
    double per = op == Op::Accuracy
                     ? 1
                     : double(logits->shape()[1]) * labels->mag() *
                           (2 * logits->mag() + std::log(double(logits->shape()[1])));
    return b.add(op, {*logits, *labels}, attrs, op == Op::Accuracy ? 0 : -per * rows, per * rows)
        .has_value();
  }
  auto p = b.pickFloat(1, 4);
  if (!p)
    return false;
  std::optional<FuzzValue> t = b.valueOfType(p->value.type());
  double rows = reduction == "sum" ? double(p->shape()[0]) : 1;
  if (op == Op::Mse) {
    double d = p->mag() + t->mag();
    return b.add(op, {*p, *t}, attrs, 0, d * d * rows).has_value();
  }
  if (op == Op::BinaryAccuracy) {
    if (b.chance(0.5))
      attrs["threshold"] = 0.3;
    return b.add(op, {*p, *t}, attrs, 0, rows).has_value();
  }
  // Cross entropies: targets within [0, 1]; binary_cross_entropy also wants probabilities,
  // made by a sigmoid of a moderate value so that log(p) stays moderate.
  if (t->lo < 0 || t->hi > 1)
    t = b.add(Op::Sigmoid, {*t}, {}, 0, 1);
  if (!t)
    return false;
  double bound = (p->mag() + 1) * rows;
  if (op == Op::BinaryCrossEntropy) {
    if (p->mag() > 6)
      return false;
    p = b.add(Op::Sigmoid, {*p}, {}, 0, 1);
    bound = (p ? 8 : 0) * rows;
  }
  return p && b.add(op, {*p, *t}, attrs, -bound, bound);
}

bool sampleGradKernel(FuzzBuilder &b, Op op) {
  using V = std::vector<FuzzValue>;
  DType dt = b.floatType();
  if (op == Op::GeluGrad) {
    auto x = b.pickFloat();
    if (!x)
      return false;
    auto dy = b.valueOfType(x->value.type());
    AttrMap attrs;
    if (b.chance(0.5))
      attrs["approximate"] = Str("tanh");
    double m = dy->mag() * 1.2;
    return b.add(op, {*x, *dy}, attrs, -m, m).has_value();
  }
  if (op == Op::SliceGrad || op == Op::GatherGrad) {
    Shape in = b.randomShape(1, 3);
    AttrMap fwd;
    Op fwdOp = op == Op::SliceGrad ? Op::Slice : Op::Gather;
    std::vector<TensorType> fwdOperands = {{dt, in}};
    Tensor idx(DType::I32, b.randomShape(0, 2));
    int64_t axis = b.below(int64_t(in.size()));
    if (op == Op::SliceGrad) {
      Ints begin, end;
      for (int64_t d : in) {
        begin.push_back(b.below(d));
        end.push_back(b.range(begin.back() + 1, d));
      }
      fwd = {{"begin", begin}, {"end", end}};
    } else {
      for (int64_t i = 0; i < idx.numElements(); ++i)
        idx.set(i, double(b.below(in[size_t(axis)])));
      fwd = {{"axis", axis}};
      fwdOperands.push_back(TensorType{DType::I32, idx.shape()});
    }
    auto y = b.probe(fwdOp, fwdOperands, fwd);
    if (!y)
      return false;
    auto dy = b.valueOfType(*y);
    AttrMap attrs = fwd;
    attrs[op == Op::SliceGrad ? "input_shape" : "table_shape"] = Ints(in.begin(), in.end());
    if (op == Op::SliceGrad)
      return b.add(op, {*dy}, attrs, std::min(dy->lo, 0.0), std::max(dy->hi, 0.0)).has_value();
    double n = double(idx.numElements());
    auto indices = b.constant(std::move(idx));
    b.pool().pop_back(); // in-range indices only for this op
    return b.add(op, {*indices, *dy}, attrs, -n * dy->mag(), n * dy->mag()).has_value();
  }
  // Convolution and pooling adjoints: a forward configuration, its output type by probing, and
  // dy of that type.
  bool nchw = b.chance(0.4);
  int64_t c = b.range(1, 3);
  Shape xs = nchw ? Shape{b.range(1, 2), c, b.range(3, 6), b.range(3, 6)}
                  : Shape{b.range(1, 2), b.range(3, 6), b.range(3, 6), c};
  AttrMap attrs;
  windowAttrs(b, attrs, nchw);
  int64_t kh = b.range(1, 3), kw = b.range(1, 3), cout = b.range(1, 3);
  Shape ws = nchw ? Shape{cout, c, kh, kw} : Shape{kh, kw, c, cout};
  bool isConv = op == Op::Conv2DBackpropInput || op == Op::Conv2DBackpropFilter;
  if (!isConv)
    attrs["ksize"] = Ints{kh, kw};
  auto y = isConv ? b.probe(Op::Conv2D, {{dt, xs}, {dt, ws}}, attrs)
                  : b.probe(Op::MaxPool2D, {{dt, xs}}, attrs);
  if (!y)
    return false;
  auto dy = b.valueOfType(*y);
  double windows = double(kh * kw);
  if (op == Op::Conv2DBackpropInput) {
    auto w = b.valueOfType(TensorType{dt, ws});
    attrs["input_shape"] = Ints(xs.begin(), xs.end());
    double m = dotBound(windows * double(cout), dy->mag(), w->mag());
    return b.add(op, V{*dy, *w}, attrs, -m, m).has_value();
  }
  auto x = b.valueOfType(TensorType{dt, xs});
  if (op == Op::MaxPool2DGrad && x && !x->exact) // the routing is an argmax: FuzzValue::exact
    x = b.input(TensorType{dt, xs});
  if (op == Op::Conv2DBackpropFilter) {
    attrs["filter_shape"] = Ints(ws.begin(), ws.end());
    double m = dotBound(double(y->numElements() / cout), x->mag(), dy->mag());
    return b.add(op, V{*x, *dy}, attrs, -m, m).has_value();
  }
  double m = windows * dy->mag();
  if (op == Op::MaxPool2DGrad)
    return b.add(op, V{*x, *dy}, attrs, -m, m).has_value();
  attrs["input_shape"] = Ints(xs.begin(), xs.end());
  return b.add(op, V{*dy}, attrs, -m, m).has_value();
}

} // namespace kiln::test
