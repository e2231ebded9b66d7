// Tests of flopCount on hand-computed graphs: a dense layer, convolutions and their gradients,
// pools, a fused group, a train step (per entry), and the error for an unknown entry.
#include "compiler/ir/FlopCount.h"
#include "compiler/ir/Parser.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

Graph parse(const std::string &text) {
  auto g = parseGraph(text, "flops.kir");
  EXPECT_TRUE(g.ok()) << g.message();
  return g.ok() ? std::move(*g) : Graph();
}

const Node &node(const Graph &g, const std::string &name) {
  const Node *n = g.find(name);
  EXPECT_NE(n, nullptr) << name;
  return *n;
}

// FLOP counts are exact integers far below 2^53, so equality is the right check.
TEST(FlopCount, DenseLayerPrimitivesAndLayerOpAgree) {
  Graph g = parse(R"(graph @mlp {
    input %x : f32[8,784]
    param %w : f32[784,128]
    param %b : f32[128]
    %m = matmul(%x, %w) : f32[8,128]
    %a = add(%m, %b) : f32[8,128]
    %h = relu(%a) : f32[8,128]
    %d = dense(%x, %w, %b) {activation="relu"} : f32[8,128]
    return %h, %d
  })");
  const double gemm = 2.0 * 8 * 128 * 784;
  EXPECT_EQ(flopCount(node(g, "m")), gemm);
  EXPECT_EQ(flopCount(node(g, "a")), 8.0 * 128);
  EXPECT_EQ(flopCount(node(g, "h")), 8.0 * 128);
  EXPECT_EQ(flopCount(node(g, "x")), 0.0);
  // The layer counts as its decomposition: matmul, bias add, relu.
  EXPECT_EQ(flopCount(node(g, "d")), gemm + 2 * 8.0 * 128);
  EXPECT_EQ(flopCount(g), 2 * (gemm + 2 * 8.0 * 128));
}

TEST(FlopCount, BatchedAndTransposedMatmul) {
  Graph g = parse(R"(graph @bmm {
    input %a : f32[3,5,4]
    input %b : f32[7,5]
    %c = matmul(%a, %b) {transpose_a=true, transpose_b=true} : f32[3,4,7]
    return %c
  })");
  // Per batch element M=4 (a's last dim, transposed), K=5, N=7.
  EXPECT_EQ(flopCount(node(g, "c")), 3 * 2.0 * 4 * 7 * 5);
}

TEST(FlopCount, ConvolutionAndItsGradients) {
  Graph g = parse(R"(graph @conv {
    input %x : f32[2,28,28,3]
    param %w : f32[3,3,3,16]
    param %bias : f32[16]
    %y = conv2d(%x, %w) : f32[2,26,26,16]
    %yb = conv2d(%x, %w, %bias) : f32[2,26,26,16]
    %dx = conv2d_backprop_input(%y, %w) {input_shape=[2,28,28,3]} : f32[2,28,28,3]
    %dw = conv2d_backprop_filter(%x, %y) {filter_shape=[3,3,3,16]} : f32[3,3,3,16]
    input %xc : f32[2,8,10,10]
    param %wg : f32[6,4,3,3]
    %g = conv2d(%xc, %wg) {groups=2, data_format="NCHW"} : f32[2,6,8,8]
    %p = max_pool2d(%y) {ksize=[2,2]} : f32[2,13,13,16]
    %dp = max_pool2d_grad(%y, %p) {ksize=[2,2]} : f32[2,26,26,16]
    return %yb, %dx, %dw, %g, %dp
  })");
  // 2*N*OC*OH*OW*IC*KH*KW: each gradient kernel does the forward's multiply-adds.
  const double fwd = 2.0 * 2 * 16 * 26 * 26 * 3 * 3 * 3;
  EXPECT_EQ(flopCount(node(g, "y")), fwd);
  EXPECT_EQ(flopCount(node(g, "yb")), fwd + 2.0 * 26 * 26 * 16);
  EXPECT_EQ(flopCount(node(g, "dx")), fwd);
  EXPECT_EQ(flopCount(node(g, "dw")), fwd);
  // Grouped NCHW: 8 input channels in 2 groups, so 4 per output channel (OIHW filter).
  EXPECT_EQ(flopCount(node(g, "g")), 2.0 * 2 * 6 * 8 * 8 * 8 * 3 * 3 / 2);
  // Pools: one per window element per output (forward) or per incoming gradient (backward).
  EXPECT_EQ(flopCount(node(g, "p")), 2.0 * 13 * 13 * 16 * 4);
  EXPECT_EQ(flopCount(node(g, "dp")), 2.0 * 13 * 13 * 16 * 4);
}

TEST(FlopCount, ReductionsSoftmaxAndMovement) {
  Graph g = parse(R"(graph @misc {
    input %x : f32[4,10]
    %s = reduce_sum(%x) {axes=[1]} : f32[4]
    %am = argmax(%x) : i32[4]
    %sm = softmax(%x) : f32[4,10]
    %t = transpose(%x) : f32[10,4]
    %r = reshape(%x) {shape=[40]} : f32[40]
    return %s, %am, %sm, %t, %r
  })");
  EXPECT_EQ(flopCount(node(g, "s")), 40.0); // one per input element, not per result
  EXPECT_EQ(flopCount(node(g, "am")), 40.0);
  EXPECT_EQ(flopCount(node(g, "sm")), 5 * 40.0);
  EXPECT_EQ(flopCount(node(g, "t")), 0.0);
  EXPECT_EQ(flopCount(node(g, "r")), 0.0);
}

TEST(FlopCount, FusedGroupIsTheSumOfItsBody) {
  Graph g = parse(R"(graph @fused {
    input %x : f32[16,32]
    param %w : f32[32,64]
    param %b : f32[64]
    %h = fused(%x, %w, %b) {kind="matmul"} : (f32[16,64], f32[16,64]) {
      input %p0 : f32[16,32]
      input %p1 : f32[32,64]
      input %p2 : f32[64]
      %h/matmul = matmul(%p0, %p1) : f32[16,64]
      %h/add = add(%h/matmul, %p2) : f32[16,64]
      %h = tanh(%h/add) : f32[16,64]
      return %h/add, %h
    }
    %l = fused(%h:1) {kind="loop"} : f32[] {
      input %p0 : f32[16,64]
      %sq = square(%p0) : f32[16,64]
      %l = reduce_mean(%sq) : f32[]
      return %l
    }
    return %l
  })");
  const double body = 2.0 * 16 * 64 * 32 + 16 * 64 + 16 * 64;
  EXPECT_EQ(flopCount(node(g, "h")), body);
  EXPECT_EQ(flopCount(node(g, "l")), 2 * 16.0 * 64);
  EXPECT_EQ(flopCount(g), body + 2 * 16.0 * 64);
}

// A linear model y = x.w with loss mean((x.w)^2) and its SGD step written out by hand, the way
// buildTrainingGraph lays it out, plus an output the step does not need.
const char *kTrainGraph = R"(graph @train {
  input %x : f32[4,3]
  param %w : f32[3,2] init=ones
  const %two_over_n : f32[] = dense<0.25>
  const %lr : f32[] = dense<0.1>
  %y = matmul(%x, %w) : f32[4,2]
  %sq = square(%y) : f32[4,2]
  %loss = reduce_mean(%sq) : f32[]
  %extra = exp(%y) : f32[4,2]
  %dy = mul(%y, %two_over_n) : f32[4,2]
  %dw = matmul(%x, %dy) {transpose_a=true} : f32[3,2]
  %step = mul(%dw, %lr) : f32[3,2]
  %w_new = sub(%w, %step) : f32[3,2]
  return %extra
  step @sgd(loss=%loss) {
    %w <- %w_new
  }
})";

TEST(FlopCount, TrainStepCountsForwardBackwardAndUpdate) {
  Graph g = parse(kTrainGraph);
  const double fwdGemm = 2.0 * 4 * 2 * 3, bwdGemm = 2.0 * 3 * 2 * 4;
  // predict: the matmul and the exp that the output needs.
  auto predict = flopCount(g, "predict");
  ASSERT_TRUE(predict.ok()) << predict.message();
  EXPECT_EQ(*predict, fwdGemm + 8);
  // The step: forward matmul, square, mean (8 inputs), dy, dW gemm, lr scale, update; no exp.
  auto step = flopCount(g, "sgd");
  ASSERT_TRUE(step.ok()) << step.message();
  EXPECT_EQ(*step, fwdGemm + 8 + 8 + 8 + bwdGemm + 6 + 6);
  EXPECT_EQ(flopCount(g), *step + 8);
}

TEST(FlopCount, TrainStepWithoutProgramCountsForwardOnly) {
  Graph g = parse(R"(graph @g {
    input %x : f32[4,3]
    input %t : f32[4,2]
    param %w : f32[3,2]
    %y = matmul(%x, %w) : f32[4,2]
    %loss = mse(%y, %t) : f32[]
    return %y
    train @train(loss=%loss, params=[%w], optimizer=sgd{lr=0.1})
  })");
  auto f = flopCount(g, "train");
  ASSERT_TRUE(f.ok()) << f.message();
  // Matmul, then mse's decomposition: subtract, square and a mean over the 8 elements (at
  // least 3 per element; the exact split belongs to Decompose, so bound it from both sides).
  EXPECT_GE(*f, 2.0 * 4 * 2 * 3 + 3 * 8);
  EXPECT_LE(*f, 2.0 * 4 * 2 * 3 + 5 * 8);
}

TEST(FlopCount, UnknownEntryIsAnErrorNamingTheEntries) {
  Graph g = parse(kTrainGraph);
  auto f = flopCount(g, "train");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.message().find("no entry 'train'"), std::string::npos) << f.message();
  EXPECT_NE(f.message().find("predict, sgd"), std::string::npos) << f.message();
}

} // namespace
} // namespace kiln
