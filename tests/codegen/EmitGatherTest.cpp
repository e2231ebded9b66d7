// Tests of the LLVM kernels of gather, gather_grad and one_hot against evalOp (bit for bit), and
// of the run-time index error they report through kiln_runtime_error.
#include "KernelCheck.h"

#include <gtest/gtest.h>

namespace kiln::codegen {
namespace {

using namespace kernelcheck;

/// Indices of `type` uniform in [lo, hi).
Tensor indexTensor(const TensorType &type, int64_t lo, int64_t hi, std::mt19937 &rng) {
  return randomTensor(type, rng, lo, hi);
}

void checkGather(DType dt, DType it, const Shape &table, const Shape &indices, int64_t axis,
                 int threads = 0) {
  Graph g;
  Node *n = makeOp(g, Op::Gather, {{dt, table}, {it, indices}}, {{"axis", axis}});
  ASSERT_NE(n, nullptr);
  SCOPED_TRACE("gather " + n->operand(0).type().str() + " axis " + std::to_string(axis));
  std::mt19937 rng(unsigned(table.size() * 31 + indices.size()));
  int64_t ax = axis < 0 ? axis + int64_t(table.size()) : axis;
  std::vector<Tensor> operands{randomTensor({dt, table}, rng),
                               indexTensor({it, indices}, 0, table[size_t(ax)], rng)};
  expectIdentical(runKernel(*n, operands, 0, 0, threads), reference(*n, operands));
}

TEST(EmitGather, GatherRowsAlongAnyAxis) {
  for (DType dt : {DType::F32, DType::F64, DType::I32, DType::I64, DType::Bool})
    for (DType it : {DType::I32, DType::I64}) {
      checkGather(dt, it, {10, 4}, {7}, 0);
      checkGather(dt, it, {10, 4}, {2, 3}, 0);
      checkGather(dt, it, {3, 5, 2}, {4}, 1);
      checkGather(dt, it, {3, 5, 2}, {2, 2}, -1);
      checkGather(dt, it, {6}, {}, 0);
    }
  checkGather(DType::F32, DType::I32, {1000, 64}, {3000}, 0, 2);
}

TEST(EmitGather, OutOfRangeIndexIsARuntimeErrorAndZeroes) {
  Graph g;
  Node *n = makeOp(g, Op::Gather, {{DType::F32, {10, 2}}, {DType::I64, {3}}}, {}, "emb");
  ASSERT_NE(n, nullptr);
  std::vector<Tensor> operands{Tensor(DType::F32, {10, 2}),
                               Tensor::fromI64({3}, std::vector<int64_t>{1, 12, -1})};
  operands[0].set(2, 5.0);
  (void)runtime::takeKernelError();
  std::vector<Tensor> got = runKernel(*n, operands);
  std::string error = runtime::takeKernelError();
  auto ref = evalOp(*n, operands, EvalContext{});
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(error, ref.message());
  EXPECT_NE(error.find("gather 'emb': index 12 is out of range [0, 10)"), std::string::npos);
  for (int64_t i = 0; i < got[0].numElements(); ++i)
    EXPECT_EQ(got[0].at(i), 0.0) << i;
  EXPECT_EQ(runtime::takeKernelError(), ""); // taken once
}

void checkGatherGrad(DType dt, DType it, const Shape &table, const Shape &indices, int64_t axis,
                     int64_t hi, int threads = 0) {
  Graph g;
  Node *fwd = makeOp(g, Op::Gather, {{dt, table}, {it, indices}}, {{"axis", axis}}, "fwd");
  ASSERT_NE(fwd, nullptr);
  auto n = g.addNode(
      Op::GatherGrad, "grad", {fwd->operand(1), fwd->result()},
      {{"table_shape", std::vector<int64_t>(table.begin(), table.end())}, {"axis", axis}});
  ASSERT_TRUE(n.ok()) << n.message();
  SCOPED_TRACE("gather_grad " + fwd->operand(0).type().str() + " axis " + std::to_string(axis));
  std::mt19937 rng(unsigned(table.size() * 131 + indices.size()));
  // Few distinct indices (hi small), so rows repeat and the scatter adds up.
  std::vector<Tensor> operands{indexTensor({it, indices}, 0, hi, rng),
                               randomTensor(fwd->type(), rng)};
  expectIdentical(runKernel(**n, operands, 0, 0, threads), reference(**n, operands));
}

TEST(EmitGather, GatherGradScatterAddsRepeatedIndices) {
  for (DType dt : {DType::F32, DType::F64})
    for (DType it : {DType::I32, DType::I64}) {
      checkGatherGrad(dt, it, {10, 4}, {25}, 0, 3);
      checkGatherGrad(dt, it, {3, 5, 2}, {2, 4}, 1, 5);
      checkGatherGrad(dt, it, {3, 5, 2}, {9}, -1, 2);
      checkGatherGrad(dt, it, {8, 1100}, {6}, 0, 8); // several column blocks
    }
  checkGatherGrad(DType::F32, DType::I32, {50, 64}, {4000}, 0, 50, 2);
  // A big table: the f32 accumulator narrows to a few columns per task (7 of 40 here).
  checkGatherGrad(DType::F32, DType::I64, {70000, 40}, {300}, 0, 70000);
}

TEST(EmitGather, OneHotEveryOutputType) {
  for (DType out : {DType::F32, DType::F64, DType::I32, DType::I64, DType::Bool})
    for (DType it : {DType::I32, DType::I64}) {
      Graph g;
      Node *n = makeOp(g, Op::OneHot, {{it, {4, 3}}}, {{"depth", int64_t(4)}, {"dtype", out}});
      ASSERT_NE(n, nullptr);
      std::mt19937 rng(7);
      // Some indices fall outside [0, 4): their rows stay zero.
      std::vector<Tensor> operands{indexTensor({it, {4, 3}}, -2, 6, rng)};
      expectIdentical(runKernel(*n, operands), reference(*n, operands));
    }
}

} // namespace
} // namespace kiln::codegen
