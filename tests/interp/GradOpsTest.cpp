// Hand-checked cases for the gradient kernels (conv2d_backprop_*, *_pool2d_grad, gather_grad,
// slice_grad, gelu_grad), in f32 and f64. GradKernelsAdjointTest.cpp checks them at scale.
#include "InterpTestUtil.h"

using namespace kiln;
using namespace kiln::test;

namespace {
using Ints = std::vector<int64_t>;
std::vector<double> iota(int n) {
  std::vector<double> v;
  for (int i = 1; i <= n; ++i)
    v.push_back(i);
  return v;
}
} // namespace

OP_TEST(Conv2DBackpropInput, ScattersThroughTheFilter) {
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    // Forward y[i][j] = x[i][j] + x[i+1][j+1], so dx[i][j] = dy[i][j] + dy[i-1][j-1].
    expectTensor(
        evalOk(Op::Conv2DBackpropInput,
               {tensorOf(dt, {1, 2, 2, 1}, {1, 2, 3, 4}), tensorOf(dt, {2, 2, 1, 1}, {1, 0, 0, 1})},
               {{"input_shape", Ints{1, 3, 3, 1}}}),
        dt, {1, 3, 3, 1}, {1, 2, 0, 3, 5, 2, 0, 3, 4});
    // 1x1 filter 2, stride 2 on 3x3: only even positions were read.
    expectTensor(evalOk(Op::Conv2DBackpropInput,
                        {tensorOf(dt, {1, 2, 2, 1}, {1, 2, 3, 4}), tensorOf(dt, {1, 1, 1, 1}, {2})},
                        {{"input_shape", Ints{1, 3, 3, 1}}, {"strides", Ints{2, 2}}}),
                 dt, {1, 3, 3, 1}, {2, 0, 4, 0, 0, 0, 6, 0, 8});
  }
}

OP_TEST(Conv2DBackpropInput, SamePaddingNchw) {
  // 1 channel, 3x3 ones, same, on 2x2: every output reads every input, so dx = sum(dy).
  for (DType dt : kFloatTypes)
    expectTensor(evalOk(Op::Conv2DBackpropInput,
                        {tensorOf(dt, {1, 1, 2, 2}, {1, 2, 3, 4}),
                         tensorOf(dt, {1, 1, 3, 3}, std::vector<double>(9, 1))},
                        {{"input_shape", Ints{1, 1, 2, 2}},
                         {"padding", std::string("same")},
                         {"data_format", std::string("NCHW")}}),
                 dt, {1, 1, 2, 2}, {10, 10, 10, 10});
}

OP_TEST(Conv2DBackpropFilter, CorrelatesInputWithGradient) {
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    // dw[ky][kx] = x[ky][kx]*dy00 + x[ky+1][kx+1]*dy11 with x = 1..9.
    expectTensor(
        evalOk(Op::Conv2DBackpropFilter,
               {tensorOf(dt, {1, 3, 3, 1}, iota(9)), tensorOf(dt, {1, 2, 2, 1}, {1, 0, 0, 1})},
               {{"filter_shape", Ints{2, 2, 1, 1}}}),
        dt, {2, 2, 1, 1}, {6, 8, 12, 14});
    // 1x1: dw[i][o] = x_i * dy_o (HWIO order).
    expectTensor(evalOk(Op::Conv2DBackpropFilter,
                        {tensorOf(dt, {1, 1, 1, 2}, {3, 5}), tensorOf(dt, {1, 1, 1, 2}, {1, 2})},
                        {{"filter_shape", Ints{1, 1, 2, 2}}}),
                 dt, {1, 1, 2, 2}, {3, 6, 5, 10});
    // Two groups: output o sees only input channel o.
    expectTensor(evalOk(Op::Conv2DBackpropFilter,
                        {tensorOf(dt, {1, 1, 1, 2}, {3, 5}), tensorOf(dt, {1, 1, 1, 2}, {1, 2})},
                        {{"filter_shape", Ints{1, 1, 1, 2}}, {"groups", int64_t(2)}}),
                 dt, {1, 1, 1, 2}, {3, 10});
  }
}

OP_TEST(MaxPool2DGrad, FirstMaximumTakesTheGradient) {
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    // Windows {1,5,3,4} (max at 5) and {2,2,2,0} (tie: the first 2, at row 0 col 2).
    expectTensor(evalOk(Op::MaxPool2DGrad,
                        {tensorOf(dt, {1, 2, 4, 1}, {1, 5, 2, 2, 3, 4, 2, 0}),
                         tensorOf(dt, {1, 1, 2, 1}, {10, 20})},
                        {{"ksize", Ints{2, 2}}}),
                 dt, {1, 2, 4, 1}, {0, 10, 20, 0, 0, 0, 0, 0});
    // Overlapping windows {1,3} and {3,2} share their maximum: its gradients add.
    expectTensor(evalOk(Op::MaxPool2DGrad,
                        {tensorOf(dt, {1, 1, 3, 1}, {1, 3, 2}), tensorOf(dt, {1, 1, 2, 1}, {1, 2})},
                        {{"ksize", Ints{1, 2}}, {"strides", Ints{1, 1}}}),
                 dt, {1, 1, 3, 1}, {0, 3, 0});
  }
}

OP_TEST(AvgPool2DGrad, SpreadsOverTheCountedElements) {
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    expectTensor(evalOk(Op::AvgPool2DGrad, {tensorOf(dt, {1, 1, 1, 1}, {8})},
                        {{"input_shape", Ints{1, 2, 2, 1}}, {"ksize", Ints{2, 2}}}),
                 dt, {1, 2, 2, 1}, {2, 2, 2, 2});
    // 3x3, 2x2 windows, stride 2, same (pad bottom/right 1): windows hold 4, 2, 2, 1 elements.
    expectTensor(evalOk(Op::AvgPool2DGrad, {tensorOf(dt, {1, 2, 2, 1}, {4, 2, 6, 5})},
                        {{"input_shape", Ints{1, 3, 3, 1}},
                         {"ksize", Ints{2, 2}},
                         {"strides", Ints{2, 2}},
                         {"padding", std::string("same")}}),
                 dt, {1, 3, 3, 1}, {1, 1, 1, 1, 1, 1, 3, 3, 5});
  }
}

OP_TEST(GatherGrad, ScatterAddsRepeatedIndices) {
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    expectTensor(evalOk(Op::GatherGrad,
                        {tensorOf(DType::I32, {3}, {2, 0, 2}), tensorOf(dt, {3, 2}, iota(6))},
                        {{"table_shape", Ints{4, 2}}}),
                 dt, {4, 2}, {3, 4, 0, 0, 6, 8, 0, 0});
    expectTensor(evalOk(Op::GatherGrad,
                        {tensorOf(DType::I64, {2}, {1, 1}), tensorOf(dt, {2, 2}, {1, 2, 3, 4})},
                        {{"table_shape", Ints{2, 3}}, {"axis", int64_t(1)}}),
                 dt, {2, 3}, {0, 3, 0, 0, 7, 0});
  }
}

OP_TEST(GatherGrad, OutOfRangeIndexIsARunTimeError) {
  for (double bad : {4.0, -1.0}) {
    auto r =
        runOp(Op::GatherGrad,
              {tensorOf(DType::I32, {2}, {0, bad}), tensorOf(DType::F32, {2, 2}, {1, 2, 3, 4})},
              {{"table_shape", Ints{4, 2}}}, {}, "emb_grad");
    ASSERT_FALSE(r.ok());
    std::string want =
        "gather_grad 'emb_grad': index " + std::to_string(int(bad)) + " is out of range [0, 4)";
    EXPECT_NE(r.message().find(want), std::string::npos) << r.message();
  }
}

OP_TEST(SliceGrad, ZerosOutsideTheSlice) {
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    expectTensor(evalOk(Op::SliceGrad, {tensorOf(dt, {3}, {7, 8, 9})},
                        {{"input_shape", Ints{5}}, {"begin", Ints{1}}, {"end", Ints{-1}}}),
                 dt, {5}, {0, 7, 8, 9, 0});
    expectTensor(evalOk(Op::SliceGrad, {tensorOf(dt, {2, 2}, {1, 2, 3, 4})},
                        {{"input_shape", Ints{3, 4}},
                         {"begin", Ints{0, 1}},
                         {"end", Ints{3, 4}},
                         {"strides", Ints{2, 2}}}),
                 dt, {3, 4}, {0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4});
  }
}

OP_TEST(GeluGrad, ExactAndTanh) {
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    Tensor x = tensorOf(dt, {4}, {0, 1, -1, 2.5}), dy = tensorOf(dt, {4}, {1, 2, 3, -1});
    // (Phi(x) + x phi(x)) * dy.
    expectTensor(evalOk(Op::GeluGrad, {x, dy}), dt, {4},
                 {0.5, 2.166630941175373, -0.24994641176305887, -1.037611085908145});
    expectTensor(evalOk(Op::GeluGrad, {x, dy}, {{"approximate", std::string("tanh")}}), dt, {4},
                 {0.5, 2.165928167691565, -0.24889225153734765, -1.037951576212666});
  }
}
