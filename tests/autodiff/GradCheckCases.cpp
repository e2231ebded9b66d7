// The gradient-check sample table (see GradCheckCases.h). Value ranges keep every sample away
// from kinks and ties (relu/abs/leaky_relu at 0, log/sqrt/pow at or below 0), because central
// differences across a kink measure neither side's derivative. Binary-op shapes broadcast both
// operands, so every reduction back to an operand's shape is exercised.
#include "GradCheckCases.h"

namespace kiln::test {

namespace {

using Ints = std::vector<int64_t>;

OperandSpec f64(Shape s, double lo = -1, double hi = 1) {
  return OperandSpec{TensorType{DType::F64, std::move(s)}, lo, hi, false};
}
OperandSpec away(Shape s, double lo = 0.1, double hi = 1) {
  return OperandSpec{TensorType{DType::F64, std::move(s)}, lo, hi, true};
}
OperandSpec ints(DType dt, Shape s, double lo, double hi) {
  return OperandSpec{TensorType{dt, std::move(s)}, lo, hi, false};
}
OperandSpec boolean(Shape s) { return OperandSpec{TensorType{DType::Bool, std::move(s)}, 0, 2}; }

GradSample num(Op op, std::string label, std::vector<OperandSpec> operands, AttrMap attrs = {}) {
  return GradSample{op, std::move(label), std::move(operands), std::move(attrs),
                    GradCheck::Numeric};
}
GradSample none(Op op, std::string label, std::vector<OperandSpec> operands, AttrMap attrs = {}) {
  return GradSample{op, std::move(label), std::move(operands), std::move(attrs),
                    GradCheck::NotDifferentiable};
}

void unarySamples(std::vector<GradSample> &s) {
  Shape x = {2, 3};
  s.push_back(num(Op::Neg, "", {f64(x)}));
  s.push_back(num(Op::Abs, "", {away(x)}));
  s.push_back(num(Op::Exp, "", {f64(x, -2, 2)}));
  s.push_back(num(Op::Log, "", {f64(x, 0.5, 2)}));
  s.push_back(num(Op::Sqrt, "", {f64(x, 0.5, 2)}));
  s.push_back(num(Op::Rsqrt, "", {f64(x, 0.5, 2)}));
  s.push_back(num(Op::Square, "", {f64(x, -2, 2)}));
  s.push_back(none(Op::Sign, "", {away(x)}));
  s.push_back(num(Op::Relu, "", {away(x)}));
  s.push_back(num(Op::Sigmoid, "", {f64(x, -3, 3)}));
  s.push_back(num(Op::Tanh, "", {f64(x, -2, 2)}));
  s.push_back(num(Op::Softplus, "", {f64(x, -3, 3)}));
  s.push_back(num(Op::LeakyRelu, "", {away(x)}, {{"alpha", 0.1}}));
  s.push_back(num(Op::Gelu, "exact", {f64(x, -3, 3)}));
  s.push_back(num(Op::Gelu, "tanh", {f64(x, -3, 3)}, {{"approximate", std::string("tanh")}}));
  s.push_back(num(Op::Cast, "f64", {f64(x)}, {{"dtype", DType::F64}}));
  s.push_back(none(Op::Cast, "to_i32", {f64(x, -5, 5)}, {{"dtype", DType::I32}}));
  s.push_back(none(Op::StopGradient, "", {f64(x)}));
}

void binarySamples(std::vector<GradSample> &s) {
  // [2,1,4] with [3,1] -> [2,3,4]: each operand is stretched along an axis, and b also gains
  // a leading axis.
  Shape a = {2, 1, 4}, b = {3, 1};
  s.push_back(num(Op::Add, "", {f64(a), f64(b)}));
  s.push_back(num(Op::Sub, "", {f64(a), f64(b)}));
  s.push_back(num(Op::Mul, "", {f64(a), f64(b)}));
  s.push_back(num(Op::Mul, "scalar", {f64({2, 3}), f64({})}));
  s.push_back(num(Op::Div, "", {f64(a), away(b, 0.5, 2)}));
  s.push_back(num(Op::Pow, "", {f64(a, 0.5, 2), f64(b, -2, 2)}));
  s.push_back(num(Op::Maximum, "", {f64(a), f64(b)}));
  s.push_back(num(Op::Minimum, "", {f64(a), f64(b)}));
  for (Op op : {Op::Equal, Op::NotEqual, Op::Less, Op::LessEqual, Op::Greater, Op::GreaterEqual})
    s.push_back(none(op, "", {f64(a), f64(b)}));
  s.push_back(num(Op::Select, "", {boolean({2, 3, 1}), f64({3, 4}), f64({4})}));
}

void reductionSamples(std::vector<GradSample> &s) {
  Shape x = {2, 3, 4};
  s.push_back(num(Op::ReduceSum, "all", {f64(x)}));
  s.push_back(num(Op::ReduceSum, "axis1", {f64(x)}, {{"axes", Ints{1}}}));
  s.push_back(
      num(Op::ReduceMean, "keepdims", {f64(x)}, {{"axes", Ints{0, -1}}, {"keepdims", true}}));
  s.push_back(num(Op::ReduceMean, "all", {f64(x)}));
  s.push_back(num(Op::ReduceMax, "last", {f64(x)}, {{"axes", Ints{-1}}}));
  s.push_back(num(Op::ReduceMax, "keepdims", {f64(x)}, {{"axes", Ints{0, 2}}, {"keepdims", true}}));
  s.push_back(num(Op::ReduceMin, "all", {f64(x)}));
  s.push_back(num(Op::ReduceMin, "axis1", {f64(x)}, {{"axes", Ints{1}}}));
  s.push_back(none(Op::Argmax, "", {f64({3, 4})}));
}

void linalgSamples(std::vector<GradSample> &s) {
  s.push_back(num(Op::Matmul, "plain", {f64({3, 4}), f64({4, 5})}));
  s.push_back(num(Op::Matmul, "transpose_a", {f64({4, 3}), f64({4, 5})}, {{"transpose_a", true}}));
  s.push_back(num(Op::Matmul, "transpose_b", {f64({3, 4}), f64({5, 4})}, {{"transpose_b", true}}));
  s.push_back(num(Op::Matmul, "batch_broadcast", {f64({2, 1, 3, 4}), f64({3, 4, 2})}));
  s.push_back(num(Op::Matmul, "batch_both_transposed", {f64({2, 2, 4, 3}), f64({1, 5, 4})},
                  {{"transpose_a", true}, {"transpose_b", true}}));
  s.push_back(num(Op::Matmul, "matrix_times_batch", {f64({3, 4}), f64({2, 4, 2})}));
}

void movementSamples(std::vector<GradSample> &s) {
  Shape x = {2, 3, 4};
  s.push_back(num(Op::Reshape, "", {f64(x)}, {{"shape", Ints{4, -1}}}));
  s.push_back(num(Op::Flatten, "", {f64(x)}));
  s.push_back(num(Op::Transpose, "perm", {f64(x)}, {{"perm", Ints{2, 0, -2}}}));
  s.push_back(num(Op::Transpose, "default", {f64(x)}));
  s.push_back(num(Op::Concat, "", {f64({2, 1, 3}), f64({2, 2, 3}), f64({2, 3, 3})},
                  {{"axis", int64_t(-2)}}));
  s.push_back(num(Op::Slice, "strided", {f64({4, 5, 6})},
                  {{"begin", Ints{1, -4, 0}}, {"end", Ints{4, 5, 6}}, {"strides", Ints{2, 1, 4}}}));
  s.push_back(num(Op::Slice, "plain", {f64({3, 4})}, {{"begin", Ints{0, 1}}, {"end", Ints{2, 3}}}));
  s.push_back(num(Op::BroadcastTo, "", {f64({3, 1})}, {{"shape", Ints{2, 3, 4}}}));
  // Five indices into three rows: rows repeat, so the scatter must add.
  s.push_back(num(Op::Gather, "axis0", {f64({3, 2}), ints(DType::I32, {5}, 0, 3)}));
  s.push_back(num(Op::Gather, "axis1", {f64({2, 4, 3}), ints(DType::I64, {2, 3}, 0, 4)},
                  {{"axis", int64_t(1)}}));
  s.push_back(none(Op::OneHot, "", {ints(DType::I32, {3}, 0, 4)},
                   {{"depth", int64_t(4)}, {"dtype", DType::F64}}));
}

void convSamples(std::vector<GradSample> &s) {
  using Str = std::string;
  s.push_back(num(Op::Conv2D, "nhwc_same_strided", {f64({2, 5, 5, 3}), f64({3, 3, 3, 4}), f64({4})},
                  {{"strides", Ints{2, 2}}, {"padding", Str("same")}}));
  s.push_back(num(Op::Conv2D, "nchw_groups_dilated", {f64({1, 4, 5, 6}), f64({4, 2, 2, 2})},
                  {{"groups", int64_t(2)},
                   {"dilations", Ints{2, 1}},
                   {"padding", Ints{1, 0, 1, 2}},
                   {"data_format", Str("NCHW")}}));
  s.push_back(num(Op::MaxPool2D, "nhwc_overlapping", {f64({1, 4, 4, 2})},
                  {{"ksize", Ints{2, 2}}, {"strides", Ints{1, 1}}}));
  s.push_back(num(Op::MaxPool2D, "nchw_same", {f64({1, 2, 5, 5})},
                  {{"ksize", Ints{3, 3}},
                   {"strides", Ints{2, 2}},
                   {"padding", Str("same")},
                   {"data_format", Str("NCHW")}}));
  s.push_back(num(Op::AvgPool2D, "nhwc_same", {f64({2, 5, 5, 2})},
                  {{"ksize", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"padding", Str("same")}}));
  s.push_back(num(Op::AvgPool2D, "nchw_valid", {f64({1, 2, 4, 5})},
                  {{"ksize", Ints{2, 2}}, {"data_format", Str("NCHW")}}));
}

void normSamples(std::vector<GradSample> &s) {
  s.push_back(num(Op::Softmax, "last", {f64({3, 4}, -2, 2)}));
  s.push_back(num(Op::Softmax, "axis0", {f64({3, 4}, -2, 2)}, {{"axis", int64_t(0)}}));
  s.push_back(num(Op::LogSoftmax, "axis1", {f64({2, 3, 4}, -2, 2)}, {{"axis", int64_t(1)}}));
  s.push_back(num(Op::LayerNorm, "last", {f64({2, 3, 4}, -2, 2), f64({4}), f64({4})}));
  s.push_back(num(Op::LayerNorm, "axis1", {f64({2, 3, 4}, -2, 2), f64({3, 4}), f64({3, 4})},
                  {{"axis", int64_t(1)}, {"epsilon", 1e-3}}));
}

void randomSamples(std::vector<GradSample> &s) {
  GradSample seeded =
      num(Op::Dropout, "seeded", {f64({4, 5}, 0.5, 1.5)}, {{"rate", 0.3}, {"seed", int64_t(7)}});
  seeded.check = GradCheck::DropoutMask;
  s.push_back(seeded);
  GradSample graphSeed = num(Op::Dropout, "graph_seed", {f64({6, 5}, 0.5, 1.5)}, {{"rate", 0.5}});
  graphSeed.check = GradCheck::DropoutMask;
  s.push_back(graphSeed);
  s.push_back(none(Op::RandomUniform, "", {}, {{"shape", Ints{2, 3}}, {"dtype", DType::F64}}));
  s.push_back(none(Op::RandomNormal, "", {}, {{"shape", Ints{2, 3}}, {"dtype", DType::F64}}));
}

void gradientKernelSamples(std::vector<GradSample> &s) {
  s.push_back(none(Op::Conv2DBackpropInput, "", {f64({1, 2, 2, 3}), f64({3, 3, 2, 3})},
                   {{"input_shape", Ints{1, 4, 4, 2}}}));
  s.push_back(none(Op::Conv2DBackpropFilter, "", {f64({1, 4, 4, 2}), f64({1, 2, 2, 3})},
                   {{"filter_shape", Ints{3, 3, 2, 3}}}));
  s.push_back(
      none(Op::MaxPool2DGrad, "", {f64({1, 4, 4, 2}), f64({1, 2, 2, 2})}, {{"ksize", Ints{2, 2}}}));
  s.push_back(none(Op::AvgPool2DGrad, "", {f64({1, 2, 2, 2})},
                   {{"input_shape", Ints{1, 4, 4, 2}}, {"ksize", Ints{2, 2}}}));
  s.push_back(none(Op::GatherGrad, "", {ints(DType::I32, {3}, 0, 5), f64({3, 2})},
                   {{"table_shape", Ints{5, 2}}}));
  s.push_back(none(Op::SliceGrad, "", {f64({2, 2})},
                   {{"input_shape", Ints{4, 3}}, {"begin", Ints{1, 0}}, {"end", Ints{3, 2}}}));
  s.push_back(none(Op::GeluGrad, "", {f64({2, 3}), f64({2, 3})}));
}

void layerSamples(std::vector<GradSample> &s) {
  using Str = std::string;
  for (const char *act : {"none", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "gelu"})
    s.push_back(
        num(Op::Dense, act, {f64({2, 3}), f64({3, 4}), f64({4})}, {{"activation", Str(act)}}));
  s.push_back(num(Op::Dense, "batched_no_bias", {f64({2, 2, 3}), f64({3, 4})}));
  s.push_back(num(Op::SimpleRnn, "last", {f64({2, 3, 2}), f64({2, 3}), f64({3, 3}), f64({3})}));
  s.push_back(num(Op::SimpleRnn, "sequences_sigmoid",
                  {f64({2, 3, 2}), f64({2, 3}), f64({3, 3}), f64({3})},
                  {{"activation", Str("sigmoid")}, {"return_sequences", true}}));
  s.push_back(num(Op::Lstm, "last", {f64({2, 3, 2}), f64({2, 8}), f64({2, 8}), f64({8})}));
  s.push_back(num(Op::Lstm, "sequences", {f64({1, 3, 2}), f64({2, 8}), f64({2, 8}), f64({8})},
                  {{"return_sequences", true}}));
  std::vector<OperandSpec> mha = {f64({1, 3, 4}), f64({1, 3, 4}), f64({1, 3, 4}), f64({4, 4}),
                                  f64({4, 4}),    f64({4, 4}),    f64({4, 4})};
  s.push_back(num(Op::MultiHeadAttention, "no_bias", mha, {{"heads", int64_t(2)}}));
  for (int i = 0; i < 4; ++i)
    mha.push_back(f64({4}));
  s.push_back(
      num(Op::MultiHeadAttention, "bias_causal", mha, {{"heads", int64_t(2)}, {"causal", true}}));
}

void lossSamples(std::vector<GradSample> &s) {
  using Str = std::string;
  s.push_back(num(Op::Mse, "mean", {f64({3, 4}), f64({3, 4})}));
  s.push_back(num(Op::Mse, "none", {f64({3, 4}), f64({3, 4})}, {{"reduction", Str("none")}}));
  s.push_back(num(Op::BinaryCrossEntropy, "sum", {f64({3, 2}, 0.1, 0.9), f64({3, 2}, 0, 1)},
                  {{"reduction", Str("sum")}}));
  s.push_back(num(Op::SigmoidCrossEntropy, "mean", {f64({3, 2}, -3, 3), f64({3, 2}, 0, 1)}));
  s.push_back(
      num(Op::SoftmaxCrossEntropy, "sparse", {f64({3, 4}, -2, 2), ints(DType::I32, {3}, 0, 4)}));
  s.push_back(num(Op::SoftmaxCrossEntropy, "dense_none", {f64({3, 4}, -2, 2), f64({3, 4}, 0, 1)},
                  {{"reduction", Str("none")}}));
  s.push_back(none(Op::Accuracy, "", {f64({3, 4}), ints(DType::I64, {3}, 0, 4)}));
  s.push_back(none(Op::BinaryAccuracy, "", {f64({3, 2}, 0, 1), f64({3, 2}, 0, 1)}));
}

} // namespace

const std::vector<GradSample> &gradSamples() {
  static const std::vector<GradSample> samples = [] {
    std::vector<GradSample> s;
    unarySamples(s);
    binarySamples(s);
    reductionSamples(s);
    linalgSamples(s);
    movementSamples(s);
    convSamples(s);
    normSamples(s);
    randomSamples(s);
    gradientKernelSamples(s);
    layerSamples(s);
    lossSamples(s);
    return s;
  }();
  return samples;
}

std::string sampleName(const GradSample &s) {
  std::string name(opName(s.op));
  return s.label.empty() ? name : name + "/" + s.label;
}

} // namespace kiln::test
