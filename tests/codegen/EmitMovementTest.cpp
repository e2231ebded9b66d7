// Tests of the LLVM kernels of the data-movement ops: each bit for bit against evalOp, over
// several shapes, axes (negative included) and every dtype the op accepts.
#include "KernelCheck.h"

#include <gtest/gtest.h>

namespace kiln::codegen {
namespace {

using namespace kernelcheck;

const DType kAllTypes[] = {DType::F32, DType::F64, DType::I32, DType::I64, DType::Bool};

TEST(EmitMovement, ReshapeAndFlattenCopyBytes) {
  for (DType dt : kAllTypes) {
    checkOp(Op::Reshape, {{dt, {6, 4}}}, {{"shape", std::vector<int64_t>{3, -1, 2}}});
    checkOp(Op::Flatten, {{dt, {3, 4, 5}}}, {});
  }
  // Large enough for the threaded chunked copy (4 MiB).
  checkOp(Op::Reshape, {{DType::F64, {512, 1024}}}, {{"shape", std::vector<int64_t>{-1}}});
}

TEST(EmitMovement, TransposeEveryPermutationKind) {
  struct Case {
    Shape shape;
    std::vector<int64_t> perm; // empty: the default reversal
  };
  const Case cases[] = {{{3, 5}, {}},
                        {{2, 3, 4}, {0, 2, 1}},
                        {{2, 3, 4}, {2, 0, 1}},
                        {{2, 3, 4}, {-1, -3, -2}},
                        {{2, 3, 4, 5}, {1, 0, 3, 2}},
                        {{7}, {0}},
                        {{1, 9, 1}, {2, 1, 0}},
                        {{100, 70}, {1, 0}},       // tiled, partial tiles
                        {{3, 64, 33}, {0, 2, 1}},  // tiled with an outer dim
                        {{40, 2, 50}, {2, 1, 0}}}; // tiled with a middle dim
  for (DType dt : kAllTypes)
    for (const Case &c : cases) {
      AttrMap attrs;
      if (!c.perm.empty())
        attrs["perm"] = c.perm;
      checkOp(Op::Transpose, {{dt, c.shape}}, attrs);
    }
  checkOp(Op::Transpose, {{DType::F32, {300, 500}}}, {}, -1, 2);
  checkOp(Op::Transpose, {{DType::F32, {300, 500}}}, {}, -1, 1);
}

TEST(EmitMovement, ConcatAlongEveryAxis) {
  for (DType dt : kAllTypes) {
    checkOp(Op::Concat, {{dt, {2, 3}}, {dt, {4, 3}}}, {{"axis", int64_t(0)}});
    checkOp(Op::Concat, {{dt, {2, 3}}, {dt, {2, 1}}, {dt, {2, 5}}}, {{"axis", int64_t(-1)}});
    checkOp(Op::Concat, {{dt, {2, 3, 4}}, {dt, {2, 2, 4}}}, {{"axis", int64_t(1)}});
    checkOp(Op::Concat, {{dt, {5}}}, {{"axis", int64_t(0)}});
  }
  checkOp(Op::Concat, {{DType::F32, {200, 300}}, {DType::F32, {200, 100}}}, {{"axis", int64_t(1)}},
          -1, 2);
}

TEST(EmitMovement, SliceAndItsGradient) {
  struct Case {
    Shape shape;
    std::vector<int64_t> begin, end, strides;
  };
  const Case cases[] = {{{10}, {2}, {8}, {}},
                        {{10}, {-7}, {100}, {3}},
                        {{4, 6}, {1, 0}, {3, 6}, {}},
                        {{4, 6}, {0, 1}, {4, 6}, {2, 2}},
                        {{3, 4, 5}, {-2, 1, -5}, {3, 4, -1}, {1, 2, 3}},
                        {{64, 40}, {3, 5}, {60, 39}, {1, 1}}};
  for (const Case &c : cases) {
    AttrMap attrs{{"begin", c.begin}, {"end", c.end}};
    if (!c.strides.empty())
      attrs["strides"] = c.strides;
    for (DType dt : kAllTypes)
      checkOp(Op::Slice, {{dt, c.shape}}, attrs);
    for (DType dt : {DType::F32, DType::F64}) {
      // slice_grad's dy has the slice's shape.
      Graph g;
      Node *fwd = makeOp(g, Op::Slice, {{dt, c.shape}}, attrs, "fwd");
      ASSERT_NE(fwd, nullptr);
      AttrMap gradAttrs = attrs;
      gradAttrs["input_shape"] = std::vector<int64_t>(c.shape.begin(), c.shape.end());
      checkOp(Op::SliceGrad, {fwd->type()}, gradAttrs);
    }
  }
}

TEST(EmitMovement, SliceGradTurnsNegativeZeroPositive) {
  Graph g;
  Node *n = makeOp(g, Op::SliceGrad, {{DType::F32, {2}}},
                   {{"input_shape", std::vector<int64_t>{4}},
                    {"begin", std::vector<int64_t>{1}},
                    {"end", std::vector<int64_t>{3}}});
  ASSERT_NE(n, nullptr);
  std::vector<Tensor> operands{Tensor::fromF32({2}, std::vector<float>{-0.0f, -2.0f})};
  std::vector<Tensor> got = runKernel(*n, operands);
  expectIdentical(got, reference(*n, operands));
  EXPECT_FALSE(std::signbit(got[0].data<float>()[1]));
  EXPECT_EQ(got[0].data<float>()[2], -2.0f);
}

TEST(EmitMovement, BroadcastTo) {
  for (DType dt : kAllTypes) {
    checkOp(Op::BroadcastTo, {{dt, {3}}}, {{"shape", std::vector<int64_t>{4, 3}}});
    checkOp(Op::BroadcastTo, {{dt, {3, 1}}}, {{"shape", std::vector<int64_t>{2, 3, 5}}});
    checkOp(Op::BroadcastTo, {{dt, {1, 4, 1}}}, {{"shape", std::vector<int64_t>{3, 4, 2}}});
    checkOp(Op::BroadcastTo, {{dt, {}}}, {{"shape", std::vector<int64_t>{7}}});
  }
}

} // namespace
} // namespace kiln::codegen
