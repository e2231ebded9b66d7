// Shape-rule samples for convolution, pooling, normalisation, randomness, layers and losses.
#include "ShapeRuleCases.h"

#include <cstdint>

namespace kiln::test {

namespace {

void convCases(std::vector<RuleCase> &c) {
  const Op conv = Op::Conv2D;
  c.push_back(ok(conv, {f32({1, 5, 5, 3}), f32({3, 3, 3, 8})}, {}, f32({1, 3, 3, 8})));
  c.push_back(ok(conv, {f32({1, 5, 5, 3}), f32({3, 3, 3, 8})},
                 {{"padding", S("same")}, {"strides", ints({2, 2})}}, f32({1, 3, 3, 8})));
  // Explicit pads with dilation: effective window 5; height 5+1+1-5 -> 3, width 5+2+2-5 -> 5.
  c.push_back(ok(conv, {f32({1, 5, 5, 3}), f32({3, 3, 3, 8})},
                 {{"padding", ints({1, 1, 2, 2})}, {"dilations", ints({2, 2})}}, f32({1, 3, 5, 8})));
  c.push_back(ok(conv, {f64({2, 3, 8, 8}), f64({4, 3, 3, 3}), f64({4})}, {{"data_format", S("NCHW")}},
                 f64({2, 4, 6, 6})));
  c.push_back(ok(conv, {f32({1, 5, 5, 4}), f32({3, 3, 2, 6})}, {{"groups", I(2)}}, f32({1, 3, 3, 6})));
  c.push_back(ok(conv, {f32({1, 7, 6, 1}), f32({2, 2, 1, 1})}, {{"strides", ints({3, 2})}},
                 f32({1, 2, 3, 1})));
  c.push_back(bad(conv, {f32({1, 5, 5, 3}), f32({3, 3, 1, 8})}, {},
                  "input channels 3 do not match filter channels 1", ".inputs[1]"));
  c.push_back(bad(conv, {f32({1, 5, 5, 4}), f32({3, 3, 2, 6})}, {{"groups", I(3)}},
                  "input channels 4 do not match filter channels 2 x groups 3", ".inputs[1]"));
  c.push_back(bad(conv, {f32({1, 5, 5, 4}), f32({3, 3, 2, 5})}, {{"groups", I(2)}},
                  "filter output channels 5 are not divisible by groups 2", ".attrs.groups"));
  c.push_back(bad(conv, {f32({1, 5, 5, 3}), f32({3, 3, 3, 8})}, {{"groups", I(0)}},
                  "groups 0 must be >= 1", ".attrs.groups"));
  c.push_back(bad(conv, {f32({1, 5, 5, 3}), f32({3, 3, 3, 8})}, {{"strides", ints({1})}},
                  "strides must have 2 entries, got [1]", ".attrs.strides"));
  c.push_back(bad(conv, {f32({1, 5, 5, 3}), f32({3, 3, 3, 8})}, {{"dilations", ints({1, 0})}},
                  "dilations [1,0] must be positive", ".attrs.dilations"));
  c.push_back(bad(conv, {f32({1, 5, 5, 3}), f32({3, 3, 3, 8}), f32({3})}, {},
                  "bias must have shape [8], got f32[3]", ".inputs[2]"));
  c.push_back(bad(conv, {f32({1, 2, 2, 3}), f32({3, 3, 3, 8})}, {},
                  "height window 3 is larger than the padded input 2", ".inputs[0]"));
  c.push_back(bad(conv, {f32({1, 5, 5, 3}), f32({3, 3, 3, 8})}, {{"dilations", ints({INT64_MAX, 1})}},
                  "is too large", ".attrs.dilations"));
  c.push_back(bad(conv, {f32({1, 5, 5, 3}), f32({3, 3, 3, 8})},
                  {{"padding", ints({INT64_MAX, INT64_MAX, 0, 0})}}, "padding is too large",
                  ".attrs.padding"));
  c.push_back(bad(conv, {f32({5, 5, 3}), f32({3, 3, 3, 8})}, {}, "input must have rank 4, got f32[5,5,3]",
                  ".inputs[0]"));
  c.push_back(bad(conv, {i32({1, 5, 5, 3}), i32({3, 3, 3, 8})}, {}, "dtype i32", ".inputs[0]"));
  c.push_back(bad(conv, {f32({1, 5, 5, 3}), f32({3, 3, 3, 8})}, {{"padding", S("full")}},
                  "attribute 'padding' must be \"valid\", \"same\" or [top, bottom, left, right]",
                  ".attrs.padding"));

  for (Op pool : {Op::MaxPool2D, Op::AvgPool2D}) {
    c.push_back(ok(pool, {f32({1, 4, 4, 2})}, {{"ksize", ints({2, 2})}}, f32({1, 2, 2, 2})));
    c.push_back(ok(pool, {f32({1, 5, 5, 2})},
                   {{"ksize", ints({3, 3})}, {"strides", ints({2, 2})}, {"padding", S("same")}},
                   f32({1, 3, 3, 2})));
    c.push_back(ok(pool, {f64({1, 2, 6, 4})}, {{"ksize", ints({2, 2})}, {"data_format", S("NCHW")}},
                   f64({1, 2, 3, 2})));
    c.push_back(ok(pool, {f32({1, 4, 4, 1})}, {{"ksize", ints({2, 2})}, {"padding", ints({1, 1, 0, 1})}},
                   f32({1, 3, 2, 1})));
    c.push_back(bad(pool, {f32({1, 4, 4, 2})}, {{"ksize", ints({0, 2})}}, "ksize [0,2] must be positive",
                    ".attrs.ksize"));
    c.push_back(bad(pool, {f32({4, 4, 2})}, {{"ksize", ints({2, 2})}}, "input must have rank 4",
                    ".inputs[0]"));
    c.push_back(bad(pool, {f32({1, 4, 4, 2})}, {{"ksize", ints({2, 2})}, {"padding", ints({2, 0, 0, 0})}},
                    "padding [2,0,0,0] must be smaller than the window [2,2]", ".attrs.padding"));
    c.push_back(bad(pool, {f32({1, 4, 4, 2})}, {{"ksize", ints({2, 2})}, {"strides", ints({1, 1, 1})}},
                    "strides must have 2 entries", ".attrs.strides"));
    c.push_back(bad(pool, {f32({1, 4, 4, 2})}, {}, "missing required attribute 'ksize'"));
  }
}

void normalizationCases(std::vector<RuleCase> &c) {
  for (Op op : {Op::Softmax, Op::LogSoftmax}) {
    c.push_back(ok(op, {f32({2, 3})}, {}, f32({2, 3})));
    c.push_back(ok(op, {f64({2, 3})}, {{"axis", I(-2)}}, f64({2, 3})));
    c.push_back(bad(op, {i32({2, 3})}, {}, "dtype i32", ".inputs[0]"));
    c.push_back(bad(op, {f32({2, 3})}, {{"axis", I(2)}}, "axis 2 is out of range for rank 2", ".attrs.axis"));
  }
  c.push_back(ok(Op::LayerNorm, {f32({2, 3, 4}), f32({3, 4}), f32({3, 4})}, {{"axis", I(-2)}},
                 f32({2, 3, 4})));
  c.push_back(ok(Op::LayerNorm, {f32({2, 3, 4}), f32({4}), f32({4})}, {}, f32({2, 3, 4})));
  c.push_back(bad(Op::LayerNorm, {f32({2, 4}), f32({3}), f32({4})}, {}, "gamma must have shape [4], got f32[3]",
                  ".inputs[1]"));
  c.push_back(bad(Op::LayerNorm, {f32({2, 4}), f32({4}), f64({4})}, {}, "operand dtypes f32 and f64 differ",
                  ".inputs[2]"));
  c.push_back(bad(Op::LayerNorm, {f32({2, 4}), f32({4}), f32({4})}, {{"epsilon", F(-1)}},
                  "epsilon -1.0 must be finite and >= 0", ".attrs.epsilon"));
  c.push_back(bad(Op::LayerNorm, {f32({2, 4}), f32({4}), f32({4})}, {{"axis", I(-3)}},
                  "axis -3 is out of range for rank 2", ".attrs.axis"));
}

void randomCases(std::vector<RuleCase> &c) {
  c.push_back(ok(Op::Dropout, {f32({2, 3})}, {{"rate", F(0.5)}}, f32({2, 3})));
  c.push_back(ok(Op::Dropout, {f64({2})}, {{"rate", I(0)}, {"seed", I(7)}}, f64({2})));
  c.push_back(bad(Op::Dropout, {f32({2})}, {{"rate", I(1)}}, "rate 1.0 must be in [0, 1)", ".attrs.rate"));
  c.push_back(bad(Op::Dropout, {f32({2})}, {{"rate", F(-0.1)}}, "must be in [0, 1)", ".attrs.rate"));
  c.push_back(bad(Op::Dropout, {i32({2})}, {{"rate", F(0.1)}}, "dtype i32", ".inputs[0]"));

  c.push_back(ok(Op::RandomUniform, {}, {{"shape", ints({2, 3})}, {"dtype", S("f64")}}, f64({2, 3})));
  c.push_back(ok(Op::RandomUniform, {}, {{"shape", ints({})}, {"low", I(-1)}}, f32({})));
  c.push_back(bad(Op::RandomUniform, {}, {{"shape", ints({2})}, {"dtype", S("i32")}},
                  "dtype i32 is not supported, expected f32 or f64", ".attrs.dtype"));
  c.push_back(bad(Op::RandomUniform, {}, {{"shape", ints({2, 0})}}, "shape [2,0] has a dimension",
                  ".attrs.shape"));
  c.push_back(bad(Op::RandomUniform, {}, {{"shape", ints({2})}, {"low", F(2)}, {"high", F(1)}},
                  "low 2.0 must be less than high 1.0", ".attrs.high"));
  c.push_back(ok(Op::RandomNormal, {}, {{"shape", ints({4})}}, f32({4})));
  c.push_back(bad(Op::RandomNormal, {}, {{"shape", ints({4})}, {"stddev", F(-1)}},
                  "stddev -1.0 must be finite and >= 0", ".attrs.stddev"));
  c.push_back(bad(Op::RandomNormal, {}, {{"shape", ints({int64_t(1) << 20, int64_t(1) << 20})}},
                  "has too many elements", ".attrs.shape"));
}

void layerCases(std::vector<RuleCase> &c) {
  c.push_back(ok(Op::Dense, {f32({8, 5, 3}), f32({3, 4}), f32({4})}, {{"activation", S("relu")}},
                 f32({8, 5, 4})));
  c.push_back(ok(Op::Dense, {f64({2, 3}), f64({3, 4})}, {}, f64({2, 4})));
  c.push_back(bad(Op::Dense, {f32({2, 3}), f32({4, 4})}, {}, "weight rows 4 do not match input features 3",
                  ".inputs[1]"));
  c.push_back(bad(Op::Dense, {f32({2, 3}), f32({3, 4}), f32({3})}, {}, "bias must have shape [4]",
                  ".inputs[2]"));
  c.push_back(bad(Op::Dense, {f32({2, 3}), f64({3, 4})}, {}, "operand dtypes f32 and f64 differ",
                  ".inputs[1]"));
  c.push_back(ok(Op::Dense, {f32({3}), f32({3, 4}), f32({4})}, {}, f32({4})));
  c.push_back(bad(Op::Dense, {f32({}), f32({1, 4})}, {}, "input must have rank >= 1", ".inputs[0]"));
  c.push_back(bad(Op::Dense, {f32({2, 3}), f32({3, 4})}, {{"activation", S("swish")}},
                  "attribute 'activation' must be one of", ".attrs.activation"));

  c.push_back(ok(Op::SimpleRnn, {f32({2, 5, 3}), f32({3, 4}), f32({4, 4}), f32({4})}, {}, f32({2, 4})));
  c.push_back(ok(Op::SimpleRnn, {f32({2, 5, 3}), f32({3, 4}), f32({4, 4}), f32({4})},
                 {{"return_sequences", true}}, f32({2, 5, 4})));
  c.push_back(bad(Op::SimpleRnn, {f32({2, 5, 3}), f32({3, 4}), f32({4, 3}), f32({4})}, {},
                  "recurrent kernel must have shape [4,4], got f32[4,3]", ".inputs[2]"));
  c.push_back(bad(Op::SimpleRnn, {f32({2, 5, 3}), f32({2, 4}), f32({4, 4}), f32({4})}, {},
                  "kernel rows 2 do not match input features 3", ".inputs[1]"));

  c.push_back(ok(Op::Lstm, {f32({2, 5, 3}), f32({3, 16}), f32({4, 16}), f32({16})}, {}, f32({2, 4})));
  c.push_back(ok(Op::Lstm, {f64({2, 5, 3}), f64({3, 8}), f64({2, 8}), f64({8})},
                 {{"return_sequences", true}}, f64({2, 5, 2})));
  c.push_back(bad(Op::Lstm, {f32({2, 5, 3}), f32({3, 10}), f32({4, 10}), f32({10})}, {},
                  "kernel columns 10 are not a multiple of the 4 gates", ".inputs[1]"));
  c.push_back(bad(Op::Lstm, {f32({2, 5}), f32({3, 16}), f32({4, 16}), f32({16})}, {},
                  "input must have rank 3", ".inputs[0]"));
  c.push_back(bad(Op::Lstm, {f32({2, 5, 3}), f32({3, 16}), f32({4, 16}), f32({4})}, {},
                  "bias must have shape [16], got f32[4]", ".inputs[3]"));

  const Op mha = Op::MultiHeadAttention;
  std::vector<TensorType> base = {f32({2, 4, 8}), f32({2, 6, 8}), f32({2, 6, 8}), f32({8, 8}),
                                  f32({8, 8}),    f32({8, 8}),    f32({8, 8})};
  std::vector<TensorType> withBias = base;
  for (int i = 0; i < 4; ++i)
    withBias.push_back(f32({8}));
  c.push_back(ok(mha, base, {{"heads", I(2)}}, f32({2, 4, 8})));
  c.push_back(ok(mha, withBias, {{"heads", I(8)}}, f32({2, 4, 8})));
  c.push_back(bad(mha, base, {{"heads", I(3)}}, "heads 3 must be >= 1 and divide the model width 8",
                  ".attrs.heads"));
  c.push_back(bad(mha, base, {{"heads", I(0)}}, "heads 0 must be >= 1", ".attrs.heads"));
  c.push_back(bad(mha, base, {{"heads", I(2)}, {"causal", true}},
                  "causal attention needs equal query and key lengths, got 4 and 6", ".attrs.causal"));
  std::vector<TensorType> eight = base;
  eight.push_back(f32({8}));
  c.push_back(bad(mha, eight, {{"heads", I(2)}}, "expects 7 inputs (q, k, v, wq, wk, wv, wo) or 11"));
  std::vector<TensorType> badV = base;
  badV[2] = f32({2, 5, 8});
  c.push_back(bad(mha, badV, {{"heads", I(2)}}, "v must have shape [2,6,8], got f32[2,5,8]", ".inputs[2]"));
  std::vector<TensorType> badBias = withBias;
  badBias[10] = f32({4});
  c.push_back(bad(mha, badBias, {{"heads", I(2)}}, "bo must have shape [8]", ".inputs[10]"));
}

void lossCases(std::vector<RuleCase> &c) {
  for (Op op : {Op::Mse, Op::BinaryCrossEntropy, Op::SigmoidCrossEntropy, Op::BinaryAccuracy}) {
    c.push_back(ok(op, {f32({4, 3}), f32({4, 3})}, {}, f32({})));
    c.push_back(ok(op, {f64({4, 3}), f64({4, 3})}, {{"reduction", S("none")}}, f64({4})));
    c.push_back(ok(op, {f32({5}), f32({5})}, {{"reduction", S("sum")}}, f32({})));
    c.push_back(bad(op, {f32({4, 3}), f32({4, 1})}, {}, "shapes f32[4,3] and f32[4,1] differ", ".inputs[1]"));
    c.push_back(bad(op, {f32({4}), i32({4})}, {}, "operand dtypes f32 and i32 differ", ".inputs[1]"));
    c.push_back(bad(op, {f32({}), f32({})}, {}, "operand 0 must have a batch axis", ".inputs[0]"));
    c.push_back(bad(op, {f32({4}), f32({4})}, {{"reduction", S("avg")}}, "attribute 'reduction' must be one of",
                    ".attrs.reduction"));
  }
  c.push_back(ok(Op::BinaryAccuracy, {f32({4}), f32({4})}, {{"threshold", F(0.3)}}, f32({})));

  const Op sce = Op::SoftmaxCrossEntropy;
  c.push_back(ok(sce, {f32({4, 3}), i32({4})}, {}, f32({})));
  c.push_back(ok(sce, {f64({4, 3}), f64({4, 3})}, {{"reduction", S("none")}}, f64({4})));
  c.push_back(ok(sce, {f32({4, 3}), i64({4})}, {{"reduction", S("sum")}}, f32({})));
  c.push_back(bad(sce, {f32({4, 3}), i32({3})}, {}, "sparse labels must have shape [4], got i32[3]",
                  ".inputs[1]"));
  c.push_back(bad(sce, {f32({4, 3}), f32({4, 2})}, {}, "probability labels must have shape [4,3]",
                  ".inputs[1]"));
  c.push_back(bad(sce, {f32({4, 3}), boolean({4})}, {}, "labels have dtype bool", ".inputs[1]"));
  c.push_back(bad(sce, {f32({2, 4, 3}), i32({2})}, {}, "logits must have rank 2", ".inputs[0]"));

  c.push_back(ok(Op::Accuracy, {f32({4, 3}), i64({4})}, {}, f32({})));
  c.push_back(ok(Op::Accuracy, {f64({4, 3}), i32({4})}, {{"reduction", S("none")}}, f64({4})));
  c.push_back(bad(Op::Accuracy, {f32({4, 3}), f32({4})}, {}, "operand 1 has dtype f32, expected i32 or i64",
                  ".inputs[1]"));
  c.push_back(bad(Op::Accuracy, {f32({4, 3}), i32({4, 1})}, {}, "labels must have shape [4]", ".inputs[1]"));
}

} // namespace

std::vector<RuleCase> compositeCases() {
  std::vector<RuleCase> c;
  convCases(c);
  normalizationCases(c);
  randomCases(c);
  layerCases(c);
  lossCases(c);
  return c;
}

} // namespace kiln::test
