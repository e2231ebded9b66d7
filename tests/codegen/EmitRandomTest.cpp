// Tests of the LLVM kernels of random_uniform, random_normal and dropout: Philox in IR must draw
// the interpreter's numbers bit for bit, for any seed, run counter and size.
#include "KernelCheck.h"

#include "kiln/runtime/Random.h"

#include <gtest/gtest.h>

namespace kiln::codegen {
namespace {

using namespace kernelcheck;

/// A random op with no operands (random_uniform / random_normal) named `name`.
Node *makeSource(Graph &g, Op op, AttrMap attrs, const std::string &name = "r") {
  auto n = g.addNode(op, name, {}, std::move(attrs));
  EXPECT_TRUE(n.ok()) << n.message();
  return n.ok() ? *n : nullptr;
}

void checkDraw(const Node &node, std::vector<Tensor> operands, uint64_t run, uint64_t graphSeed,
               int threads = 0) {
  SCOPED_TRACE(std::string(node.info().mnemonic) + " run " + std::to_string(run));
  EvalContext ctx;
  ctx.training = true;
  ctx.graphSeed = graphSeed;
  ctx.runCounter = run;
  expectIdentical(runKernel(node, operands, run, graphSeed, threads),
                  reference(node, operands, ctx));
}

TEST(EmitRandom, PhiloxMatchesTheRuntimeBitForBit) {
  // The smallest draw: random_normal's f64 result is normal01 itself.
  Graph g;
  Node *n = makeSource(g, Op::RandomNormal,
                       {{"shape", std::vector<int64_t>{5}},
                        {"dtype", DType::F64},
                        {"seed", int64_t(0x123456789abcdefLL)}});
  ASSERT_NE(n, nullptr);
  for (uint64_t run : {0ull, 1ull, 0x100000003ull}) {
    std::vector<Tensor> got = runKernel(*n, {}, run);
    ASSERT_EQ(got.size(), 1u);
    for (int64_t i = 0; i < 5; ++i)
      EXPECT_EQ(got[0].data<double>()[i], normal01(0x123456789abcdefULL, run, uint64_t(i)));
  }
}

TEST(EmitRandom, UniformEveryTypeSeedAndSize) {
  for (DType dt : {DType::F32, DType::F64})
    for (int64_t size : {1, 7, 10000})
      for (bool seeded : {false, true}) {
        Graph g;
        AttrMap attrs{
            {"shape", std::vector<int64_t>{size}}, {"dtype", dt}, {"low", -2.0}, {"high", 3.5}};
        if (seeded)
          attrs["seed"] = int64_t(42);
        Node *n = makeSource(g, Op::RandomUniform, attrs, "noise");
        ASSERT_NE(n, nullptr);
        for (uint64_t run : {0ull, 5ull, (1ull << 32) + 9})
          checkDraw(*n, {}, run, /*graphSeed=*/77);
      }
  Graph g;
  Node *n = makeSource(g, Op::RandomUniform,
                       {{"shape", std::vector<int64_t>{300, 200}}, {"seed", int64_t(3)}});
  ASSERT_NE(n, nullptr);
  checkDraw(*n, {}, 11, 0, 2);
  checkDraw(*n, {}, 11, 0, 1);
}

TEST(EmitRandom, UniformRoundingStaysBelowHigh) {
  // A tiny interval just below 1: f32 rounding of many draws reaches `high`, which must become
  // the largest float below it, as in the interpreter.
  Graph g;
  Node *n = makeSource(g, Op::RandomUniform,
                       {{"shape", std::vector<int64_t>{4000}},
                        {"low", 1.0 - 1e-7},
                        {"high", 1.0},
                        {"seed", int64_t(1)}});
  ASSERT_NE(n, nullptr);
  checkDraw(*n, {}, 0, 0);
  std::vector<Tensor> got = runKernel(*n, {}, 0);
  for (int64_t i = 0; i < 4000; ++i)
    ASSERT_LT(got[0].data<float>()[i], 1.0f);
}

TEST(EmitRandom, NormalEveryTypeSeedAndSize) {
  for (DType dt : {DType::F32, DType::F64})
    for (int64_t size : {1, 9, 5000}) {
      Graph g;
      Node *n = makeSource(
          g, Op::RandomNormal,
          {{"shape", std::vector<int64_t>{size}}, {"dtype", dt}, {"mean", 0.5}, {"stddev", 2.0}},
          "init");
      ASSERT_NE(n, nullptr);
      for (uint64_t run : {0ull, 3ull})
        checkDraw(*n, {}, run, 1234);
    }
}

TEST(EmitRandom, DropoutTrainingMask) {
  for (DType dt : {DType::F32, DType::F64})
    for (double rate : {0.0, 0.3, 0.9})
      for (const Shape &s : {Shape{7}, Shape{40, 300}}) {
        Graph g;
        Node *n = makeOp(g, Op::Dropout, {{dt, s}}, {{"rate", rate}}, "drop");
        ASSERT_NE(n, nullptr);
        std::mt19937 rng(5);
        std::vector<Tensor> operands{randomTensor({dt, s}, rng)};
        for (uint64_t run : {0ull, 1ull, 2ull})
          checkDraw(*n, operands, run, 99);
      }
}

TEST(EmitRandom, DropoutInferenceVariantIsTheIdentity) {
  Graph g;
  Node *n = makeOp(g, Op::Dropout, {{DType::F32, {3, 50}}}, {{"rate", 0.5}}, "drop");
  ASSERT_NE(n, nullptr);
  // jitKernel names its kernel with the JIT's next unique name ("kernel_<k>").
  std::string probe = jit().uniqueName("kernel");
  std::string symbol = "kernel_" + std::to_string(std::stoull(probe.substr(7)) + 1);
  auto fn = jitKernel(jit(), *n);
  ASSERT_TRUE(fn.ok()) << fn.message();
  auto address = jit().lookup(symbol + "_inference");
  ASSERT_TRUE(address.ok()) << address.message();
  auto inference = reinterpret_cast<void (*)(void *, void *, int64_t)>(*address);
  std::mt19937 rng(8);
  Tensor x = randomTensor(n->operand(0).type(), rng);
  Tensor y(DType::F32, {3, 50});
  inference(y.raw(), x.raw(), 7);
  EXPECT_TRUE(y.identical(x));
  auto ref = evalOp(*n, std::vector<Tensor>{x}, EvalContext{}); // not training: identity
  ASSERT_TRUE(ref.ok());
  EXPECT_TRUE((*ref)[0].identical(y));
}

} // namespace
} // namespace kiln::codegen
