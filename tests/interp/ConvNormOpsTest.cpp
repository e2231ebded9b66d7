// Hand-checked cases for conv2d, pooling, softmax, log_softmax and layer_norm, in f32 and f64.
#include "InterpTestUtil.h"

using namespace kiln;
using namespace kiln::test;

namespace {
using Ints = std::vector<int64_t>;
std::vector<double> iota(int n, double start = 1, double step = 1) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i)
    v.push_back(start + step * i);
  return v;
}
AttrValue same() { return std::string("same"); }
} // namespace

OP_TEST(Conv2D, ValidAndSamePadding) {
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    Tensor x = tensorOf(dt, {1, 3, 3, 1}, iota(9));
    // Filter [[1,0],[0,1]]: x[i][j] + x[i+1][j+1].
    expectTensor(evalOk(Op::Conv2D, {x, tensorOf(dt, {2, 2, 1, 1}, {1, 0, 0, 1})}), dt,
                 {1, 2, 2, 1}, {6, 8, 12, 14});
    // 3x3 ones, same: sums of each 3x3 neighbourhood.
    expectTensor(evalOk(Op::Conv2D, {x, tensorOf(dt, {3, 3, 1, 1}, std::vector<double>(9, 1))},
                        {{"padding", same()}}),
                 dt, {1, 3, 3, 1}, {12, 21, 16, 27, 45, 33, 24, 39, 28});
  }
}

OP_TEST(Conv2D, SameStridedPadsBottomRight) {
  // 4x4 = 1..16, 3x3 ones, stride 2, same: out 2x2, total pad 1 goes to bottom/right.
  for (DType dt : kFloatTypes)
    expectTensor(evalOk(Op::Conv2D,
                        {tensorOf(dt, {1, 4, 4, 1}, iota(16)),
                         tensorOf(dt, {3, 3, 1, 1}, std::vector<double>(9, 1))},
                        {{"padding", same()}, {"strides", Ints{2, 2}}}),
                 dt, {1, 2, 2, 1}, {54, 45, 72, 54});
}

OP_TEST(Conv2D, DilationExplicitPadding) {
  for (DType dt : kFloatTypes) {
    // 2x2 ones dilated by 2 on 3x3: the four corners 1+3+7+9.
    expectTensor(
        evalOk(Op::Conv2D,
               {tensorOf(dt, {1, 3, 3, 1}, iota(9)), tensorOf(dt, {2, 2, 1, 1}, {1, 1, 1, 1})},
               {{"dilations", Ints{2, 2}}}),
        dt, {1, 1, 1, 1}, {20});
    // [top, bottom, left, right] = [1, 0, 0, 1] around [[1,2],[3,4]], 2x2 ones.
    expectTensor(
        evalOk(Op::Conv2D,
               {tensorOf(dt, {1, 2, 2, 1}, {1, 2, 3, 4}), tensorOf(dt, {2, 2, 1, 1}, {1, 1, 1, 1})},
               {{"padding", Ints{1, 0, 0, 1}}}),
        dt, {1, 2, 2, 1}, {3, 2, 10, 6});
  }
}

OP_TEST(Conv2D, GroupsAndBias) {
  // Channels [1,2,3,4], 2 groups: out0 = 1*1 + 2*2 + 0.5, out1 = 3*10 + 4*20 - 1.
  for (DType dt : kFloatTypes)
    expectTensor(evalOk(Op::Conv2D,
                        {tensorOf(dt, {1, 1, 1, 4}, {1, 2, 3, 4}),
                         tensorOf(dt, {1, 1, 2, 2}, {1, 10, 2, 20}), tensorOf(dt, {2}, {0.5, -1})},
                        {{"groups", int64_t(2)}}),
                 dt, {1, 1, 1, 2}, {5.5, 109});
}

OP_TEST(Conv2D, NCHW) {
  AttrMap nchw = {{"data_format", std::string("NCHW")}};
  for (DType dt : kFloatTypes) {
    // 1x1 filter OIHW [1,2,1,1] = [1,10]: c0 + 10*c1.
    expectTensor(evalOk(Op::Conv2D,
                        {tensorOf(dt, {1, 2, 2, 2}, iota(8)), tensorOf(dt, {1, 2, 1, 1}, {1, 10})},
                        nchw),
                 dt, {1, 1, 2, 2}, {51, 62, 73, 84});
    expectTensor(
        evalOk(Op::Conv2D,
               {tensorOf(dt, {1, 1, 3, 3}, iota(9)), tensorOf(dt, {1, 1, 2, 2}, {1, 0, 0, 1})},
               nchw),
        dt, {1, 1, 2, 2}, {6, 8, 12, 14});
  }
}

OP_TEST(MaxPool2D, ValidSameAndNCHW) {
  for (DType dt : kFloatTypes) {
    expectTensor(
        evalOk(Op::MaxPool2D, {tensorOf(dt, {1, 4, 4, 1}, iota(16))}, {{"ksize", Ints{2, 2}}}), dt,
        {1, 2, 2, 1}, {6, 8, 14, 16});
    // Padding is ignored, not read as 0: all values negative.
    expectTensor(evalOk(Op::MaxPool2D, {tensorOf(dt, {1, 3, 3, 1}, iota(9, -1, -1))},
                        {{"ksize", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"padding", same()}}),
                 dt, {1, 2, 2, 1}, {-1, -3, -7, -9});
    expectTensor(evalOk(Op::MaxPool2D, {tensorOf(dt, {1, 2, 2, 2}, iota(8))},
                        {{"ksize", Ints{2, 2}}, {"data_format", std::string("NCHW")}}),
                 dt, {1, 2, 1, 1}, {4, 8});
  }
}

OP_TEST(AvgPool2D, PaddingExcludedFromCount) {
  for (DType dt : kFloatTypes) {
    expectTensor(
        evalOk(Op::AvgPool2D, {tensorOf(dt, {1, 4, 4, 1}, iota(16))}, {{"ksize", Ints{2, 2}}}), dt,
        {1, 2, 2, 1}, {3.5, 5.5, 11.5, 13.5});
    expectTensor(evalOk(Op::AvgPool2D, {tensorOf(dt, {1, 3, 3, 1}, iota(9))},
                        {{"ksize", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"padding", same()}}),
                 dt, {1, 2, 2, 1}, {3, 4.5, 7.5, 9});
    expectTensor(
        evalOk(Op::AvgPool2D, {tensorOf(dt, {1, 2, 2, 1}, {1, 2, 3, 4})},
               {{"ksize", Ints{2, 2}}, {"strides", Ints{1, 1}}, {"padding", Ints{1, 1, 1, 1}}}),
        dt, {1, 3, 3, 1}, {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
    expectTensor(evalOk(Op::AvgPool2D, {tensorOf(dt, {1, 2, 2, 2}, iota(8))},
                        {{"ksize", Ints{2, 2}}, {"data_format", std::string("NCHW")}}),
                 dt, {1, 2, 1, 1}, {2.5, 6.5});
  }
}

OP_TEST(Softmax, StableAndAxis) {
  std::vector<double> want = {0.09003057317038046, 0.24472847105479767, 0.6652409557748219};
  for (DType dt : kFloatTypes) {
    expectTensor(evalOk(Op::Softmax, {tensorOf(dt, {1, 3}, {1, 2, 3})}), dt, {1, 3}, want);
    expectTensor(evalOk(Op::Softmax, {tensorOf(dt, {1, 3}, {1000, 1001, 1002})}), dt, {1, 3}, want);
    // Axis 0: column 0 is softmax(0, ln 3) = [1/4, 3/4], column 1 is [1/2, 1/2].
    expectTensor(evalOk(Op::Softmax, {tensorOf(dt, {2, 2}, {0, 0, 1.0986122886681098, 0})},
                        {{"axis", int64_t(0)}}),
                 dt, {2, 2}, {0.25, 0.5, 0.75, 0.5});
  }
}

OP_TEST(LogSoftmax, Stable) {
  // log_softmax(x) = x - logsumexp(x); logsumexp(1,2,3) = 3.40760596444438.
  std::vector<double> want = {-2.40760596444438, -1.40760596444438, -0.40760596444438};
  for (DType dt : kFloatTypes) {
    expectTensor(evalOk(Op::LogSoftmax, {tensorOf(dt, {3}, {1, 2, 3})}), dt, {3}, want);
    expectTensor(evalOk(Op::LogSoftmax, {tensorOf(dt, {3}, {1000, 1001, 1002})}), dt, {3}, want);
  }
}

OP_TEST(LayerNorm, LastAxisAndTrailingAxes) {
  // [1,2,3,4]: mean 2.5, biased variance 1.25; eps 0; gamma [1,2,1,2], beta [0,0,1,1].
  std::vector<double> want = {-1.3416407864998738, -0.8944271909999159, 1.4472135954999579,
                              3.6832815729997477};
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    expectTensor(evalOk(Op::LayerNorm,
                        {tensorOf(dt, {1, 4}, {1, 2, 3, 4}), tensorOf(dt, {4}, {1, 2, 1, 2}),
                         tensorOf(dt, {4}, {0, 0, 1, 1})},
                        {{"epsilon", 0.0}}),
                 dt, {1, 4}, want);
    expectTensor(evalOk(Op::LayerNorm,
                        {tensorOf(dt, {1, 2, 2}, {1, 2, 3, 4}), tensorOf(dt, {2, 2}, {1, 2, 1, 2}),
                         tensorOf(dt, {2, 2}, {0, 0, 1, 1})},
                        {{"axis", int64_t(1)}, {"epsilon", 0.0}}),
                 dt, {1, 2, 2}, want);
    // Per row, default eps 1e-5: [0,2] -> +-1/sqrt(1 + 1e-5); a constant row -> 0.
    expectTensor(evalOk(Op::LayerNorm, {tensorOf(dt, {2, 2}, {0, 2, 10, 10}),
                                        tensorOf(dt, {2}, {1, 1}), tensorOf(dt, {2}, {0, 0})}),
                 dt, {2, 2}, {-0.9999950000374997, 0.9999950000374997, 0, 0});
  }
}
