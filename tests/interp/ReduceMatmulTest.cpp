// Hand-checked cases for the reductions, argmax and matmul, in f32 and f64.
#include "InterpTestUtil.h"

using namespace kiln;
using namespace kiln::test;

namespace {
using Ints = std::vector<int64_t>;
const std::vector<double> k123456 = {1, 2, 3, 4, 5, 6};
} // namespace

OP_TEST(ReduceSum, AxesNegativeKeepdimsAll) {
  for (DType dt : {DType::F32, DType::F64, DType::I32}) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    Tensor x = tensorOf(dt, {2, 3}, k123456);
    expectTensor(evalOk(Op::ReduceSum, {x}), dt, {}, {21});
    expectTensor(evalOk(Op::ReduceSum, {x}, {{"axes", Ints{1}}}), dt, {2}, {6, 15});
    expectTensor(evalOk(Op::ReduceSum, {x}, {{"axes", Ints{-2}}, {"keepdims", true}}), dt, {1, 3},
                 {5, 7, 9});
  }
  // [2,2,2] = 1..8 over axes 0 and 2: middle index 0 sums 1+2+5+6, index 1 sums 3+4+7+8.
  for (DType dt : kFloatTypes)
    expectTensor(evalOk(Op::ReduceSum, {tensorOf(dt, {2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8})},
                        {{"axes", Ints{0, -1}}}),
                 dt, {2}, {14, 22});
}

OP_TEST(ReduceMean, AxesAndKeepdims) {
  for (DType dt : kFloatTypes) {
    Tensor x = tensorOf(dt, {2, 3}, k123456);
    expectTensor(evalOk(Op::ReduceMean, {x}, {{"axes", Ints{0}}}), dt, {3}, {2.5, 3.5, 4.5});
    expectTensor(evalOk(Op::ReduceMean, {x}, {{"keepdims", true}}), dt, {1, 1}, {3.5});
  }
}

OP_TEST(ReduceMax, Values) {
  for (DType dt : {DType::F32, DType::F64, DType::I64}) {
    Tensor x = tensorOf(dt, {2, 3}, {-1, -5, 2, 0, 7, -3});
    expectTensor(evalOk(Op::ReduceMax, {x}, {{"axes", Ints{1}}}), dt, {2}, {2, 7});
    expectTensor(evalOk(Op::ReduceMax, {x}, {{"axes", Ints{0}}, {"keepdims", true}}), dt, {1, 3},
                 {0, 7, 2});
  }
}

OP_TEST(ReduceMin, Values) {
  for (DType dt : {DType::F32, DType::F64, DType::I32}) {
    Tensor x = tensorOf(dt, {2, 3}, {-1, -5, 2, 0, 7, -3});
    expectTensor(evalOk(Op::ReduceMin, {x}, {{"axes", Ints{-1}}}), dt, {2}, {-5, -3});
    expectTensor(evalOk(Op::ReduceMin, {x}), dt, {}, {-5});
  }
}

OP_TEST(Argmax, TiesPickFirst) {
  for (DType dt : {DType::F32, DType::F64, DType::I32}) {
    Tensor x = tensorOf(dt, {2, 3}, {1, 3, 3, 5, 2, 5});
    expectTensor(evalOk(Op::Argmax, {x}), DType::I32, {2}, {1, 0});
    expectTensor(evalOk(Op::Argmax, {x}, {{"axis", int64_t(0)}}), DType::I32, {3}, {1, 0, 1});
  }
}

OP_TEST(Matmul, PlainAndTransposed) {
  // [[1,2,3],[4,5,6]] @ [[7,8],[9,10],[11,12]] = [[58,64],[139,154]].
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    Tensor a = tensorOf(dt, {2, 3}, k123456), b = tensorOf(dt, {3, 2}, {7, 8, 9, 10, 11, 12});
    Tensor aT = tensorOf(dt, {3, 2}, {1, 4, 2, 5, 3, 6}),
           bT = tensorOf(dt, {2, 3}, {7, 9, 11, 8, 10, 12});
    std::vector<double> want = {58, 64, 139, 154};
    expectTensor(evalOk(Op::Matmul, {a, b}), dt, {2, 2}, want);
    expectTensor(evalOk(Op::Matmul, {aT, b}, {{"transpose_a", true}}), dt, {2, 2}, want);
    expectTensor(evalOk(Op::Matmul, {a, bT}, {{"transpose_b", true}}), dt, {2, 2}, want);
    expectTensor(evalOk(Op::Matmul, {aT, bT}, {{"transpose_a", true}, {"transpose_b", true}}), dt,
                 {2, 2}, want);
  }
}

OP_TEST(Matmul, BatchBroadcastWithTransposes) {
  // a [2,1,2,2] = [I, 2I]; b [3,2,2] holds B0^T, B1^T, B2^T; result[i][j] = (i+1) * Bj.
  // B0 = [[5,0],[0,0]], B1 = [[0,1],[2,0]], B2 = [[1,2],[3,4]].
  for (DType dt : kFloatTypes) {
    Tensor a = tensorOf(dt, {2, 1, 2, 2}, {1, 0, 0, 1, 2, 0, 0, 2});
    Tensor bT = tensorOf(dt, {3, 2, 2}, {5, 0, 0, 0, 0, 2, 1, 0, 1, 3, 2, 4});
    expectTensor(evalOk(Op::Matmul, {a, bT}, {{"transpose_a", true}, {"transpose_b", true}}), dt,
                 {2, 3, 2, 2},
                 {5, 0, 0, 0, 0, 1, 2, 0, 1, 2, 3, 4, 10, 0, 0, 0, 0, 2, 4, 0, 2, 4, 6, 8});
    // Rank 3 against rank 2: b is shared by both batches.
    Tensor a3 = tensorOf(dt, {2, 2, 2}, {1, 0, 0, 1, 2, 0, 0, 2});
    expectTensor(evalOk(Op::Matmul, {a3, tensorOf(dt, {2, 2}, {1, 2, 3, 4})}), dt, {2, 2, 2},
                 {1, 2, 3, 4, 2, 4, 6, 8});
  }
}
