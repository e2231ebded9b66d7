// Tests of the LLVM kernels of softmax, log_softmax, layer_norm, argmax and gelu_grad against
// evalOp: 1e-6 relative in f32 and 1e-12 in f64 (argmax exactly), over several shapes and axes.
#include "KernelCheck.h"

#include <gtest/gtest.h>

#include <limits>

namespace kiln::codegen {
namespace {

using namespace kernelcheck;

double tolerance(DType dt) { return dt == DType::F32 ? 1e-6 : 1e-12; }

struct AxisCase {
  Shape shape;
  int64_t axis;
};
const AxisCase kAxisCases[] = {{{7}, 0},       {{4, 9}, -1},    {{4, 9}, 0},
                               {{3, 5, 6}, 1}, {{3, 5, 6}, -3}, {{2, 3, 4, 5}, -2},
                               {{1, 1}, -1},   {{64, 300}, -1}, {{300, 33}, 0}};

TEST(EmitNorm, SoftmaxAndLogSoftmaxOverAnyAxis) {
  for (Op op : {Op::Softmax, Op::LogSoftmax})
    for (DType dt : {DType::F32, DType::F64})
      for (const AxisCase &c : kAxisCases)
        checkOp(op, {{dt, c.shape}}, {{"axis", c.axis}}, tolerance(dt));
  checkOp(Op::Softmax, {{DType::F32, {500, 100}}}, {}, 1e-6, 2);
}

TEST(EmitNorm, SoftmaxOfLargeValuesIsStable) {
  Graph g;
  Node *n = makeOp(g, Op::Softmax, {{DType::F32, {2, 3}}}, {});
  ASSERT_NE(n, nullptr);
  std::vector<Tensor> operands{
      Tensor::fromF32({2, 3}, std::vector<float>{1000, 1001, 1002, -1000, -1000, -1000})};
  std::vector<Tensor> got = runKernel(*n, operands);
  expectClose(got, reference(*n, operands), 1e-6);
  EXPECT_NEAR(got[0].at(2), 0.66524096, 1e-6);
  EXPECT_NEAR(got[0].at(4), 1.0 / 3, 1e-6);
}

TEST(EmitNorm, LayerNormOverTrailingAxes) {
  const AxisCase cases[] = {{{4, 9}, -1}, {{3, 5, 6}, 1}, {{3, 5, 6}, -2},
                            {{7}, 0},     {{2, 3, 4}, 0}, {{128, 768}, -1}};
  for (DType dt : {DType::F32, DType::F64})
    for (const AxisCase &c : cases) {
      size_t ax = size_t(c.axis < 0 ? c.axis + int64_t(c.shape.size()) : c.axis);
      Shape norm(c.shape.begin() + ax, c.shape.end());
      checkOp(Op::LayerNorm, {{dt, c.shape}, {dt, norm}, {dt, norm}},
              {{"axis", c.axis}, {"epsilon", 1e-3}}, tolerance(dt));
    }
}

TEST(EmitNorm, ArgmaxEveryDTypeAndAxis) {
  for (DType dt : {DType::F32, DType::F64, DType::I32, DType::I64})
    for (const AxisCase &c : kAxisCases)
      checkOp(Op::Argmax, {{dt, c.shape}}, {{"axis", c.axis}});
}

TEST(EmitNorm, ArgmaxTiesAndNaNs) {
  Graph g;
  Node *n = makeOp(g, Op::Argmax, {{DType::F32, {5, 4}}}, {{"axis", int64_t(-1)}});
  ASSERT_NE(n, nullptr);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<Tensor> operands{
      Tensor::fromF32({5, 4}, std::vector<float>{1,   3,   3,   2,      // tie: first
                                                 nan, 5,   nan, 9,      // NaN first: 0
                                                 1,   nan, 7,   nan,    // first NaN wins: 1
                                                 -1,  -1,  -1,  -1,     // all equal: 0
                                                 2,   8,   8,   nan})}; // NaN after the max: 3
  std::vector<Tensor> got = runKernel(*n, operands);
  expectIdentical(got, reference(*n, operands));
  const int32_t want[] = {1, 0, 1, 0, 3};
  for (int64_t i = 0; i < 5; ++i)
    EXPECT_EQ(got[0].data<int32_t>()[i], want[i]) << i;
}

TEST(EmitNorm, GeluGradBothForms) {
  for (const char *form : {"none", "tanh"})
    for (DType dt : {DType::F32, DType::F64})
      for (const Shape &s : {Shape{7}, Shape{3, 5}, Shape{20000}})
        checkOp(Op::GeluGrad, {{dt, s}, {dt, s}}, {{"approximate", std::string(form)}},
                tolerance(dt));
}

} // namespace
} // namespace kiln::codegen
