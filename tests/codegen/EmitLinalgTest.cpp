// Tests of the LLVM kernels of matmul, conv2d (and its two gradients), the pools (and their
// gradients) and fused matmul/conv epilogues: each against the interpreter's evalOp.
#include "compiler/codegen/KernelJit.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Graph.h"
#include "compiler/passes/PassManager.h"
#include "kiln/runtime/Parallel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace kiln::codegen {
namespace {

Jit &sharedJit() {
  static std::unique_ptr<Jit> jit = [] {
    auto j = Jit::create();
    EXPECT_TRUE(j.ok()) << j.message();
    return j.take();
  }();
  return *jit;
}

/// A tensor of `type` with values uniform in [-1, 1) (or exact small integers, so that maxima
/// tie, when `ties`).
Tensor randomTensor(const TensorType &type, std::mt19937 &rng, bool ties = false) {
  Tensor t(type.dtype, type.shape);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  for (int64_t i = 0; i < t.numElements(); ++i) {
    double v = ties ? std::floor(dist(rng) * 3) : dist(rng);
    if (type.dtype == DType::F32)
      t.data<float>()[i] = float(v);
    else
      t.data<double>()[i] = v;
  }
  return t;
}

double get(const Tensor &t, int64_t i) {
  return t.dtype() == DType::F32 ? double(t.data<float>()[i]) : t.data<double>()[i];
}

Tensor absOf(const Tensor &t) {
  Tensor r = t;
  for (int64_t i = 0; i < r.numElements(); ++i) {
    if (r.dtype() == DType::F32)
      r.data<float>()[i] = std::fabs(r.data<float>()[i]);
    else
      r.data<double>()[i] = std::fabs(r.data<double>()[i]);
  }
  return r;
}

/// Compiles `node`'s kernel, runs it on random operands with `threads` threads and compares each
/// result with evalOp's: |got - ref| <= tol * (scale + 1e-3), where scale is evalOp on the
/// operands' absolute values (the sum of |terms| for these multilinear ops) plus |ref|.
void checkNode(const Node &node, int threads = 0, bool ties = false) {
  SCOPED_TRACE(node.name() + " (" + std::string(node.info().mnemonic) + ")");
  auto fn = jitKernel(sharedJit(), node);
  ASSERT_TRUE(fn.ok()) << fn.message();
  std::mt19937 rng(unsigned(node.name().size() * 977 + node.numOperands()));
  std::vector<Tensor> operands, absOperands;
  for (const Value &v : node.operands()) {
    operands.push_back(randomTensor(v.type(), rng, ties));
    absOperands.push_back(absOf(operands.back()));
  }
  EvalContext ctx;
  auto ref = evalOp(node, operands, ctx);
  ASSERT_TRUE(ref.ok()) << ref.message();
  auto scale = evalOp(node, absOperands, ctx);
  ASSERT_TRUE(scale.ok()) << scale.message();
  std::vector<Tensor> results;
  std::vector<void *> pointers;
  for (unsigned r = 0; r < node.numResults(); ++r) {
    results.emplace_back(node.type(r).dtype, node.type(r).shape);
    // Poison the results: a kernel must write every element.
    for (int64_t i = 0; i < results.back().numElements(); ++i)
      if (node.type(r).dtype == DType::F32)
        results.back().data<float>()[i] = NAN;
      else
        results.back().data<double>()[i] = NAN;
  }
  for (Tensor &t : results)
    pointers.push_back(t.data<char>());
  for (Tensor &t : operands)
    pointers.push_back(t.data<char>());
  runtime::setNumThreads(threads);
  (*fn)(pointers.data(), 0);
  runtime::setNumThreads(0);
  for (unsigned r = 0; r < node.numResults(); ++r) {
    double tol = node.type(r).dtype == DType::F32 ? 1e-5 : 1e-12;
    int64_t bad = 0;
    for (int64_t i = 0; i < results[r].numElements(); ++i) {
      double got = get(results[r], i), want = get((*ref)[r], i);
      double s = std::fabs(get((*scale)[r], i)) + std::fabs(want) + 1e-3;
      if (!(std::fabs(got - want) <= tol * s) && bad++ < 5)
        ADD_FAILURE() << "result " << r << "[" << i << "] = " << got << ", expected " << want;
    }
    EXPECT_EQ(bad, 0);
  }
}

/// Builds a one-op graph with inputs of the given types and returns its node.
Node *makeOp(Graph &g, Op op, const std::vector<TensorType> &inputs, AttrMap attrs = {}) {
  std::vector<Value> operands;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto in = g.addInput(g.uniqueName("in"), inputs[i]);
    EXPECT_TRUE(in.ok()) << in.message();
    operands.push_back((*in)->result());
  }
  auto n = g.addNode(op, "op" + std::to_string(g.nodes().size()), operands, std::move(attrs));
  EXPECT_TRUE(n.ok()) << n.message();
  return n.ok() ? *n : nullptr;
}

TEST(EmitLinalg, MatmulShapesTransposesAndBatches) {
  struct Case {
    Shape a, b;
    bool ta, tb;
  };
  const Case cases[] = {
      {{7, 13}, {13, 29}, false, false},
      {{64, 128}, {128, 10}, false, false},
      {{13, 7}, {13, 29}, true, false},
      {{7, 13}, {29, 13}, false, true},
      {{13, 7}, {29, 13}, true, true},
      {{3, 5, 17}, {3, 17, 9}, false, false},
      {{2, 3, 5, 17}, {17, 9}, false, false},
      {{4, 1, 6, 8}, {3, 5, 8}, false, true},
      {{1, 1}, {1, 1}, false, false},
      {{33, 385}, {385, 47}, false, false},
      // Large enough that each batch's GEMM is split across threads, not the batches.
      {{2, 64, 80}, {80, 64}, false, false},
      {{2, 1, 80, 64}, {3, 80, 64}, true, false}};
  for (DType dt : {DType::F32, DType::F64})
    for (const Case &c : cases) {
      Graph g;
      Node *n = makeOp(g, Op::Matmul, {{dt, c.a}, {dt, c.b}},
                       {{"transpose_a", c.ta}, {"transpose_b", c.tb}});
      ASSERT_NE(n, nullptr);
      checkNode(*n);
      checkNode(*n, 1);
    }
}

/// conv2d attributes: strides, dilations, padding ("same", "valid" or [t, b, l, r]), groups.
AttrMap convAttrs(int64_t s, int64_t d, AttrValue pad, int64_t groups, bool nchw) {
  return {{"strides", std::vector<int64_t>{s, s}},
          {"dilations", std::vector<int64_t>{d, d}},
          {"padding", std::move(pad)},
          {"groups", groups},
          {"data_format", std::string(nchw ? "NCHW" : "NHWC")}};
}

struct ConvCase {
  int64_t n, h, w, ci, co, kh, kw, s, d, groups;
  AttrValue pad;
  bool nchw, bias;
};

const ConvCase kConvCases[] = {
    {2, 9, 9, 3, 8, 3, 3, 1, 1, 1, std::string("valid"), false, false},
    {2, 9, 8, 3, 8, 3, 3, 2, 1, 1, std::string("same"), false, true},
    {1, 10, 11, 4, 6, 3, 2, 1, 2, 1, std::vector<int64_t>{1, 2, 0, 1}, false, true},
    {2, 7, 7, 4, 6, 3, 3, 1, 1, 2, std::string("same"), false, false},
    {2, 8, 9, 3, 5, 3, 3, 2, 1, 1, std::string("same"), true, true},
    {1, 9, 9, 4, 4, 2, 2, 1, 2, 2, std::vector<int64_t>{1, 1, 1, 1}, true, false},
    {3, 6, 6, 16, 20, 1, 1, 1, 1, 1, std::string("valid"), false, true},
    // Big enough for packed GEMM panels in the scratch buffer, batch 1 (the GEMM splits).
    {1, 14, 14, 32, 48, 3, 3, 1, 1, 1, std::string("same"), false, true},
    {1, 12, 12, 24, 40, 3, 3, 1, 1, 2, std::string("same"), true, true},
    {4, 28, 28, 1, 16, 5, 5, 1, 1, 1, std::string("same"), false, true},
};

/// x, w (and bias) types of a conv case.
std::vector<TensorType> convTypes(const ConvCase &c, DType dt) {
  int64_t cig = c.ci / c.groups;
  Shape x = c.nchw ? Shape{c.n, c.ci, c.h, c.w} : Shape{c.n, c.h, c.w, c.ci};
  Shape w = c.nchw ? Shape{c.co, cig, c.kh, c.kw} : Shape{c.kh, c.kw, cig, c.co};
  std::vector<TensorType> t{{dt, x}, {dt, w}};
  if (c.bias)
    t.push_back({dt, Shape{c.co}});
  return t;
}

TEST(EmitLinalg, Conv2DForwardAndGradients) {
  for (DType dt : {DType::F32, DType::F64})
    for (const ConvCase &c : kConvCases) {
      Graph g;
      std::vector<TensorType> types = convTypes(c, dt);
      Node *conv = makeOp(g, Op::Conv2D, types, convAttrs(c.s, c.d, c.pad, c.groups, c.nchw));
      ASSERT_NE(conv, nullptr);
      checkNode(*conv);
      checkNode(*conv, 1);
      AttrMap in = convAttrs(c.s, c.d, c.pad, c.groups, c.nchw);
      in["input_shape"] = std::vector<int64_t>(types[0].shape.begin(), types[0].shape.end());
      Node *dx = makeOp(g, Op::Conv2DBackpropInput, {conv->type(), types[1]}, in);
      ASSERT_NE(dx, nullptr);
      checkNode(*dx);
      AttrMap fl = convAttrs(c.s, c.d, c.pad, c.groups, c.nchw);
      fl["filter_shape"] = std::vector<int64_t>(types[1].shape.begin(), types[1].shape.end());
      Node *dw = makeOp(g, Op::Conv2DBackpropFilter, {types[0], conv->type()}, fl);
      ASSERT_NE(dw, nullptr);
      checkNode(*dw);
      checkNode(*dw, 1);
    }
}

TEST(EmitLinalg, Conv2DBackpropFilterInSeveralChunks) {
  // 7 images of 48x48 pixels x 144 taps: 9.3 MB of columns, more than one 8 MB chunk, so the
  // f32 kernel runs a loop of full chunks and then a shorter last chunk.
  Graph g;
  AttrMap attrs = convAttrs(1, 1, std::string("same"), 1, false);
  attrs["filter_shape"] = std::vector<int64_t>{3, 3, 16, 8};
  Node *dw = makeOp(g, Op::Conv2DBackpropFilter,
                    {{DType::F32, Shape{7, 48, 48, 16}}, {DType::F32, Shape{7, 48, 48, 8}}}, attrs);
  ASSERT_NE(dw, nullptr);
  checkNode(*dw);
}

TEST(EmitLinalg, PoolsAndGradients) {
  struct Case {
    Shape x;
    int64_t k, s;
    AttrValue pad;
    bool nchw;
  };
  const Case cases[] = {{{2, 8, 8, 3}, 2, 2, std::string("valid"), false},
                        {{2, 7, 9, 4}, 3, 2, std::string("same"), false},
                        {{1, 3, 7, 6}, 3, 1, std::vector<int64_t>{1, 1, 2, 0}, true},
                        {{2, 5, 5, 2}, 2, 1, std::string("same"), false}};
  for (DType dt : {DType::F32, DType::F64})
    for (const Case &c : cases)
      for (bool ties : {false, true}) {
        AttrMap attrs{{"ksize", std::vector<int64_t>{c.k, c.k}},
                      {"strides", std::vector<int64_t>{c.s, c.s}},
                      {"padding", c.pad},
                      {"data_format", std::string(c.nchw ? "NCHW" : "NHWC")}};
        Graph g;
        Node *mx = makeOp(g, Op::MaxPool2D, {{dt, c.x}}, attrs);
        Node *av = makeOp(g, Op::AvgPool2D, {{dt, c.x}}, attrs);
        ASSERT_TRUE(mx && av);
        checkNode(*mx, 0, ties);
        checkNode(*av, 0, ties);
        Node *mg = makeOp(g, Op::MaxPool2DGrad, {{dt, c.x}, mx->type()}, attrs);
        ASSERT_NE(mg, nullptr);
        checkNode(*mg, 0, ties);
        AttrMap ga = attrs;
        ga["input_shape"] = std::vector<int64_t>(c.x.begin(), c.x.end());
        Node *ag = makeOp(g, Op::AvgPool2DGrad, {av->type()}, ga);
        ASSERT_NE(ag, nullptr);
        checkNode(*ag);
      }
}

/// Runs the fuse pass on `g` and checks every fused node of kind matmul/conv it made; returns
/// how many there were.
int checkFusedGroups(Graph &g) {
  auto pm = PassManager::create("fuse");
  EXPECT_TRUE(pm.ok()) << pm.message();
  auto changed = pm->run(g);
  EXPECT_TRUE(changed.ok()) << changed.message();
  int groups = 0;
  for (const auto &n : g.nodes())
    if (n->op() == Op::Fused && n->attrStr("kind") != "loop") {
      ++groups;
      checkNode(*n);
      checkNode(*n, 1);
    }
  return groups;
}

TEST(EmitLinalg, FusedMatmulEpilogues) {
  struct Epilogue {
    Op op; ///< Add: the bias add alone
    AttrMap attrs;
  };
  const Epilogue epilogues[] = {{Op::Relu, {}}, {Op::Sigmoid, {}},
                                {Op::Tanh, {}}, {Op::LeakyRelu, {{"alpha", 0.1}}},
                                {Op::Gelu, {}}, {Op::Gelu, {{"approximate", std::string("tanh")}}},
                                {Op::Add, {}}};
  // K = 400 spreads the pre-activations over about +-20, through every branch of exp and erf.
  for (DType dt : {DType::F32, DType::F64})
    for (const Epilogue &e : epilogues) {
      Graph g;
      auto x = g.addInput("x", {dt, Shape{17, 400}});
      auto w = g.addInput("w", {dt, Shape{400, 33}});
      auto b = g.addInput("b", {dt, Shape{33}});
      ASSERT_TRUE(x.ok() && w.ok() && b.ok());
      auto mm = g.addNode(Op::Matmul, "mm", {(*x)->result(), (*w)->result()});
      ASSERT_TRUE(mm.ok()) << mm.message();
      auto add = g.addNode(Op::Add, "add", {(*b)->result(), (*mm)->result()});
      ASSERT_TRUE(add.ok());
      Value out = (*add)->result();
      if (e.op != Op::Add) {
        auto a = g.addNode(e.op, "act", {out}, e.attrs);
        ASSERT_TRUE(a.ok()) << a.message();
        out = (*a)->result();
      }
      g.addOutput(out);
      EXPECT_EQ(checkFusedGroups(g), 1);
    }
}

TEST(EmitLinalg, FusedBatchedMatmulWithAnActivationOnly) {
  for (DType dt : {DType::F32, DType::F64}) {
    Graph g;
    auto x = g.addInput("x", {dt, Shape{3, 5, 7}});
    auto w = g.addInput("w", {dt, Shape{6, 7}});
    ASSERT_TRUE(x.ok() && w.ok());
    auto mm =
        g.addNode(Op::Matmul, "mm", {(*x)->result(), (*w)->result()}, {{"transpose_b", true}});
    ASSERT_TRUE(mm.ok()) << mm.message();
    auto act = g.addNode(Op::LeakyRelu, "act", {(*mm)->result()}, {{"alpha", 0.3}});
    ASSERT_TRUE(act.ok());
    g.addOutput((*act)->result());
    EXPECT_EQ(checkFusedGroups(g), 1);
  }
}

TEST(EmitLinalg, FusedEpilogueWithTheBiasAddAsAnExtraResult) {
  for (DType dt : {DType::F32, DType::F64}) {
    Graph g;
    auto x = g.addInput("x", {dt, Shape{2, 9, 20}});
    auto w = g.addInput("w", {dt, Shape{20, 24}});
    auto b = g.addInput("b", {dt, Shape{9, 1}});
    ASSERT_TRUE(x.ok() && w.ok() && b.ok());
    auto mm = g.addNode(Op::Matmul, "mm", {(*x)->result(), (*w)->result()});
    ASSERT_TRUE(mm.ok()) << mm.message();
    auto add = g.addNode(Op::Add, "add", {(*mm)->result(), (*b)->result()});
    ASSERT_TRUE(add.ok());
    auto act = g.addNode(Op::Tanh, "act", {(*add)->result()});
    ASSERT_TRUE(act.ok());
    // The add is read after the group, so it becomes the fused node's second result.
    auto sub = g.addNode(Op::Sub, "sub", {(*act)->result(), (*add)->result()});
    ASSERT_TRUE(sub.ok());
    g.addOutput((*sub)->result());
    EXPECT_EQ(checkFusedGroups(g), 1);
    bool twoResults = false;
    for (const auto &n : g.nodes())
      twoResults |= n->op() == Op::Fused && n->numResults() == 2;
    EXPECT_TRUE(twoResults);
  }
}

TEST(EmitLinalg, FusedConvEpilogues) {
  for (DType dt : {DType::F32, DType::F64})
    for (const ConvCase &c : kConvCases) {
      Graph g;
      std::vector<TensorType> types = convTypes(c, dt);
      Node *conv = makeOp(g, Op::Conv2D, types, convAttrs(c.s, c.d, c.pad, c.groups, c.nchw));
      ASSERT_NE(conv, nullptr);
      auto r = g.addNode(Op::Relu, "relu", {conv->result()});
      ASSERT_TRUE(r.ok());
      g.addOutput((*r)->result());
      EXPECT_EQ(checkFusedGroups(g), 1);
    }
}

} // namespace
} // namespace kiln::codegen
