// Expansions of the losses and metrics into primitives: per-element or per-row values, then the
// reduction ("none" keeps one value per row, "sum" adds the rows, "mean" averages them).
#include "compiler/ir/DecomposeInternal.h"

#include <cassert>

namespace kiln::detail {

namespace {

/// Which granularity an expansion's raw values have before the reduction.
enum class Grain { Element, Row };

/// -(t log p + (1-t) log(1-p)) with p clamped to [1e-7, 1-1e-7] so that log never sees 0.
Value binaryCrossEntropy(Expander &e, Value p, Value t, DType dt) {
  Value lo = e.scalar("eps", dt, 1e-7), hi = e.scalar("one_minus_eps", dt, 1.0 - 1e-7);
  Value one = e.scalar("one", dt, 1.0);
  Value pc = e.op(Op::Minimum, "clamped", {e.op(Op::Maximum, "clamp_low", {p, lo}), hi});
  Value pos = e.op(Op::Mul, "pos", {t, e.unary(Op::Log, pc)});
  Value negTerm = e.op(Op::Mul, "neg_term", {e.op(Op::Sub, "one_minus_t", {one, t}),
                                        e.unary(Op::Log, e.op(Op::Sub, "one_minus_p", {one, pc}))});
  return e.op(Op::Neg, "elementwise", {e.binary(Op::Add, pos, negTerm)});
}

/// max(x,0) - x*t + log(1 + exp(-|x|)): never exponentiates a positive number.
Value sigmoidCrossEntropy(Expander &e, Value x, Value t) {
  Value lin = e.op(Op::Sub, "linear", {e.unary(Op::Relu, x), e.op(Op::Mul, "xt", {x, t})});
  Value tail = e.unary(Op::Softplus, e.unary(Op::Neg, e.unary(Op::Abs, x)));
  return e.op(Op::Add, "elementwise", {lin, tail});
}

/// -sum(labels * log_softmax(logits)) per row; sparse labels become one-hot rows first.
Value softmaxCrossEntropy(Expander &e, Value logits, Value labels, DType dt) {
  if (isInteger(labels.type().dtype))
    labels = e.op(Op::OneHot, "one_hot", {labels},
                  {{"depth", logits.type().shape[1]}, {"dtype", dt}});
  Value logp = e.op(Op::LogSoftmax, "log_softmax", {logits}, {{"axis", int64_t(-1)}});
  Value picked = e.op(Op::Mul, "picked", {labels, logp});
  return e.op(Op::Neg, "per_row", {e.reduce(Op::ReduceSum, picked, {1})});
}

/// 1 where argmax(logits) equals the label, else 0, in the logits' dtype.
Value accuracy(Expander &e, Value logits, Value labels, DType dt) {
  Value guess = e.op(Op::Argmax, "argmax", {logits}, {{"axis", int64_t(-1)}});
  if (labels.type().dtype != DType::I32)
    labels = e.op(Op::Cast, "labels_i32", {labels}, {{"dtype", DType::I32}});
  Value hit = e.op(Op::Equal, "hit", {guess, labels});
  return e.op(Op::Cast, "per_row", {hit}, {{"dtype", dt}});
}

/// (prob > threshold) == (target > 0.5), as 0/1 in the probabilities' dtype.
Value binaryAccuracy(Expander &e, Value p, Value t, double threshold, DType dt) {
  Value predicted = e.op(Op::Greater, "predicted", {p, e.scalar("threshold", p.type().dtype, threshold)});
  Value actual = e.op(Op::Greater, "actual", {t, e.scalar("half", t.type().dtype, 0.5)});
  Value hit = e.op(Op::Equal, "hit", {predicted, actual});
  return e.op(Op::Cast, "elementwise", {hit}, {{"dtype", dt}});
}

/// Applies the reduction. Element-grain values first become per-row means (every axis but the
/// first); "mean" of element-grain values is taken over all elements at once, which equals the
/// mean of the row means because every row has the same count.
Value reduce(Expander &e, Value v, Grain grain, const std::string &reduction) {
  int64_t rank = v.type().rank();
  if (rank == 0)
    return v; // a scalar is its own row, sum and mean
  if (reduction == "mean")
    return e.op(Op::ReduceMean, "mean", {v});
  if (grain == Grain::Element && rank > 1) {
    std::vector<int64_t> rowAxes;
    for (int64_t a = 1; a < rank; ++a)
      rowAxes.push_back(a);
    v = e.op(Op::ReduceMean, "row_mean", {v}, {{"axes", rowAxes}});
  }
  if (reduction == "none")
    return v;
  assert(reduction == "sum" && "reduction not in the schema");
  return e.op(Op::ReduceSum, "sum", {v});
}

} // namespace

Status expandLoss(Expander &e) {
  Node *layer = e.layer();
  Value a = e.operand(0), b = e.operand(1);
  DType dt = layer->type().dtype;
  Value raw;
  Grain grain = Grain::Element;
  switch (layer->op()) {
  case Op::Mse:
    raw = e.op(Op::Square, "elementwise", {e.binary(Op::Sub, a, b)});
    break;
  case Op::BinaryCrossEntropy: raw = binaryCrossEntropy(e, a, b, dt); break;
  case Op::SigmoidCrossEntropy: raw = sigmoidCrossEntropy(e, a, b); break;
  case Op::SoftmaxCrossEntropy:
    raw = softmaxCrossEntropy(e, a, b, dt);
    grain = Grain::Row;
    break;
  case Op::Accuracy:
    raw = accuracy(e, a, b, dt);
    grain = Grain::Row;
    break;
  case Op::BinaryAccuracy: raw = binaryAccuracy(e, a, b, layer->attrFloat("threshold"), dt); break;
  // Not losses: decomposeLayers sends only the six ops above here.
  case Op::Input: case Op::Param: case Op::Constant:
  case Op::Neg: case Op::Abs: case Op::Exp: case Op::Log: case Op::Sqrt: case Op::Rsqrt:
  case Op::Square: case Op::Sign: case Op::Relu: case Op::Sigmoid: case Op::Tanh:
  case Op::Softplus: case Op::LeakyRelu: case Op::Gelu: case Op::Cast: case Op::StopGradient:
  case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Pow: case Op::Maximum:
  case Op::Minimum: case Op::Equal: case Op::NotEqual: case Op::Less: case Op::LessEqual:
  case Op::Greater: case Op::GreaterEqual: case Op::Select: case Op::ReduceSum:
  case Op::ReduceMean: case Op::ReduceMax: case Op::ReduceMin: case Op::Argmax:
  case Op::Matmul: case Op::Reshape: case Op::Flatten: case Op::Transpose: case Op::Concat:
  case Op::Slice: case Op::BroadcastTo: case Op::Gather: case Op::OneHot: case Op::Conv2D:
  case Op::MaxPool2D: case Op::AvgPool2D: case Op::Softmax: case Op::LogSoftmax:
  case Op::LayerNorm: case Op::Dropout: case Op::RandomUniform: case Op::RandomNormal:
  case Op::Dense: case Op::SimpleRnn: case Op::Lstm: case Op::MultiHeadAttention:
  case Op::Conv2DBackpropInput: case Op::Conv2DBackpropFilter: case Op::MaxPool2DGrad:
  case Op::AvgPool2DGrad: case Op::GatherGrad: case Op::SliceGrad: case Op::GeluGrad:
  case Op::Fused:
    assert(false && "not a loss or metric");
    return Status::error("internal error: not a loss");
  }
  return e.finish(reduce(e, raw, grain, layer->attrStr("reduction")));
}

} // namespace kiln::detail
