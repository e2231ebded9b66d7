// Hand-checked cases for reshape, flatten, transpose, concat, slice, broadcast_to, gather, one_hot.
#include "InterpTestUtil.h"

using namespace kiln;
using namespace kiln::test;

namespace {
using Ints = std::vector<int64_t>;
const std::vector<double> k123456 = {1, 2, 3, 4, 5, 6};
} // namespace

OP_TEST(Reshape, InferredDimAndBool) {
  for (DType dt : kFloatTypes)
    expectTensor(evalOk(Op::Reshape, {tensorOf(dt, {2, 3}, k123456)}, {{"shape", Ints{3, -1}}}), dt,
                 {3, 2}, k123456);
  expectTensor(
      evalOk(Op::Reshape, {tensorOf(DType::Bool, {4}, {1, 0, 0, 1})}, {{"shape", Ints{2, 2}}}),
      DType::Bool, {2, 2}, {1, 0, 0, 1});
}

OP_TEST(Flatten, RankThreeAndOne) {
  std::vector<double> twelve = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  for (DType dt : kFloatTypes) {
    expectTensor(evalOk(Op::Flatten, {tensorOf(dt, {2, 3, 2}, twelve)}), dt, {2, 6}, twelve);
    expectTensor(evalOk(Op::Flatten, {tensorOf(dt, {3}, {1, 2, 3})}), dt, {3, 1}, {1, 2, 3});
  }
}

OP_TEST(Transpose, DefaultAndPerm) {
  for (DType dt : kFloatTypes) {
    expectTensor(evalOk(Op::Transpose, {tensorOf(dt, {2, 3}, k123456)}), dt, {3, 2},
                 {1, 4, 2, 5, 3, 6});
    // out[k][i][j] = x[i][j][k] for perm [2,0,1].
    expectTensor(
        evalOk(Op::Transpose, {tensorOf(dt, {2, 1, 3}, k123456)}, {{"perm", Ints{2, 0, 1}}}), dt,
        {3, 2, 1}, {1, 4, 2, 5, 3, 6});
    // Negative entries count from the end: [-1, 0, -2] is [2, 0, 1]. (Regression: the kernel
    // once indexed strides with the raw negative value and read out of bounds.)
    expectTensor(
        evalOk(Op::Transpose, {tensorOf(dt, {2, 1, 3}, k123456)}, {{"perm", Ints{-1, 0, -2}}}), dt,
        {3, 2, 1}, {1, 4, 2, 5, 3, 6});
  }
  expectTensor(evalOk(Op::Transpose, {tensorOf(DType::I32, {1, 2}, {7, 8})}), DType::I32, {2, 1},
               {7, 8});
}

OP_TEST(Concat, Axes) {
  for (DType dt : kFloatTypes) {
    Tensor a = tensorOf(dt, {2, 1}, {1, 2}), b = tensorOf(dt, {2, 2}, {3, 4, 5, 6});
    expectTensor(evalOk(Op::Concat, {a, b}, {{"axis", int64_t(1)}}), dt, {2, 3},
                 {1, 3, 4, 2, 5, 6});
    expectTensor(evalOk(Op::Concat, {a, b}, {{"axis", int64_t(-1)}}), dt, {2, 3},
                 {1, 3, 4, 2, 5, 6});
    expectTensor(
        evalOk(Op::Concat, {tensorOf(dt, {1, 2}, {1, 2}), b, tensorOf(dt, {1, 2}, {7, 8})}), dt,
        {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  }
}

OP_TEST(Slice, NegativeIndicesStridesAndClamping) {
  std::vector<double> ten = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  for (DType dt : kFloatTypes) {
    Tensor x = tensorOf(dt, {2, 5}, ten);
    // Columns from -4 (= 1) to 5 step 2: 1 and 3.
    expectTensor(evalOk(Op::Slice, {x},
                        {{"begin", Ints{0, -4}}, {"end", Ints{2, 5}}, {"strides", Ints{1, 2}}}),
                 dt, {2, 2}, {1, 3, 6, 8});
    // Row -1 (= 1) to 100 (clamped to 2); columns 0 to -1 (= 4).
    expectTensor(evalOk(Op::Slice, {x}, {{"begin", Ints{-1, 0}}, {"end", Ints{100, -1}}}), dt,
                 {1, 4}, {5, 6, 7, 8});
  }
}

OP_TEST(BroadcastTo, RowAndColumn) {
  for (DType dt : kFloatTypes) {
    expectTensor(evalOk(Op::BroadcastTo, {tensorOf(dt, {3}, {1, 2, 3})}, {{"shape", Ints{2, 3}}}),
                 dt, {2, 3}, {1, 2, 3, 1, 2, 3});
    expectTensor(evalOk(Op::BroadcastTo, {tensorOf(dt, {2, 1}, {1, 2})}, {{"shape", Ints{2, 3}}}),
                 dt, {2, 3}, {1, 1, 1, 2, 2, 2});
  }
}

OP_TEST(Gather, Axis0Axis1) {
  for (DType dt : kFloatTypes) {
    Tensor table = tensorOf(dt, {3, 2}, k123456);
    expectTensor(evalOk(Op::Gather, {table, tensorOf(DType::I32, {2, 2}, {2, 0, 1, 2})}), dt,
                 {2, 2, 2}, {5, 6, 1, 2, 3, 4, 5, 6});
    expectTensor(evalOk(Op::Gather,
                        {tensorOf(dt, {2, 3}, k123456), tensorOf(DType::I64, {2}, {2, 0})},
                        {{"axis", int64_t(1)}}),
                 dt, {2, 2}, {3, 1, 6, 4});
  }
}

OP_TEST(Gather, OutOfRangeIsARunTimeError) {
  Tensor table = tensorOf(DType::F32, {3, 2}, k123456);
  auto r = runOp(Op::Gather, {table, tensorOf(DType::I32, {2}, {0, 3})}, {}, {}, "emb");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("gather 'emb': index 3 is out of range [0, 3)"), std::string::npos)
      << r.message();
  auto neg = runOp(Op::Gather, {table, tensorOf(DType::I64, {1}, {-1})}, {}, {}, "emb");
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.message().find("index -1 is out of range"), std::string::npos) << neg.message();
}

OP_TEST(OneHot, OutOfRangeGivesZeroRow) {
  expectTensor(evalOk(Op::OneHot, {tensorOf(DType::I32, {3}, {0, 2, 5})}, {{"depth", int64_t(3)}}),
               DType::F32, {3, 3}, {1, 0, 0, 0, 0, 1, 0, 0, 0});
  expectTensor(evalOk(Op::OneHot, {tensorOf(DType::I64, {2, 1}, {-1, 1})},
                      {{"depth", int64_t(2)}, {"dtype", DType::F64}}),
               DType::F64, {2, 1, 2}, {0, 0, 0, 1});
}
