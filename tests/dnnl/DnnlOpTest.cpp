// Every op the oneDNN backend takes, forward and gradient kernels, against the interpreter: each
// case is a small text-IR graph compiled with the `dnnl` pipeline (codegen::kDnnlPipeline); the
// test checks that the op really became a oneDNN node (with the expected post-ops folded in) and
// that every output matches the interpreter.
//
// Tolerance: err = |dnnl - interp| / max(1, |dnnl|, |interp|) <= 1e-5. oneDNN sums in its own
// blocked order and evaluates exp/tanh/erf with its own polynomials, which differ from the
// interpreter's sequential sums and libm by a few ulps (measured worst: ~1e-6); a wrong index,
// stride or padding gives errors of order 1.
#include "compiler/codegen/Compile.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Parser.h"
#include "tests/common/TensorCompare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace kiln {
namespace {

constexpr double kTolerance = 1e-5;

struct OpCase {
  std::string name;
  std::string body;      ///< the graph's nodes and return (inputs are declared by `inputs`)
  std::string inputs;    ///< "input %x : f32[..]" lines
  int dnnlNodes = 1;     ///< oneDNN nodes the dnnl pipeline must make
  std::string bodyCheck = ""; ///< text the optimised graph must contain (a folded post-op), or ""
};

using kiln::test::worstError;

/// Feeds in [-1, 1) (so activations see both signs; max pooling never sees exact ties).
NamedTensors feedsFor(const Graph &g, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  NamedTensors feeds;
  for (Node *in : g.inputs()) {
    Tensor t(in->type().dtype, in->type().shape);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.set(i, u(rng));
    feeds.emplace_back(in->name(), std::move(t));
  }
  return feeds;
}

size_t count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

class DnnlOp : public ::testing::TestWithParam<OpCase> {};

TEST_P(DnnlOp, MatchesTheInterpreter) {
  const OpCase &c = GetParam();
  std::string text = "graph @g {\n" + c.inputs + c.body + "}\n";
  auto g = parseGraph(text, c.name + ".kir");
  ASSERT_TRUE(g.ok()) << g.message();
  auto interp = Interpreter::create(*g);
  ASSERT_TRUE(interp.ok()) << interp.message();

  codegen::CompileDumps dumps;
  codegen::CompileOptions opts;
  opts.pipeline = codegen::kDnnlPipeline;
  opts.verifyEach = true;
  opts.dumps = &dumps;
  opts.dumpOptimizedGraph = true;
  auto exe = codegen::compile(*g, opts);
  ASSERT_TRUE(exe.ok()) << exe.message();
  EXPECT_EQ(count(dumps.optimizedGraph, "kind=\"dnnl\""), size_t(c.dnnlNodes))
      << dumps.optimizedGraph;
  if (!c.bodyCheck.empty()) {
    EXPECT_NE(dumps.optimizedGraph.find(c.bodyCheck), std::string::npos) << dumps.optimizedGraph;
  }
  for (uint64_t seed : {1u, 2u}) {
    NamedTensors feeds = feedsFor(*g, seed);
    auto want = interp->run(feeds);
    ASSERT_TRUE(want.ok()) << want.message();
    auto got = (*exe)->run(feeds);
    ASSERT_TRUE(got.ok()) << got.message();
    ASSERT_EQ(got->size(), want->size());
    for (size_t i = 0; i < want->size(); ++i)
      EXPECT_LE(worstError((*got)[i].second, (*want)[i].second), kTolerance)
          << c.name << " output " << (*want)[i].first;
  }
}

std::string in(const std::string &name, const std::string &shape) {
  return "  input %" + name + " : f32" + shape + "\n";
}

std::vector<OpCase> cases() {
  std::vector<OpCase> v;
  std::string x = in("a", "[6,5]") + in("b", "[5,7]");
  v.push_back({"matmul", "  %y = matmul(%a, %b) : f32[6,7]\n  return %y\n", x});
  v.push_back({"matmul_ta", "  %y = matmul(%a, %b) {transpose_a=true} : f32[5,7]\n  return %y\n",
               in("a", "[6,5]") + in("b", "[6,7]")});
  v.push_back({"matmul_tb", "  %y = matmul(%a, %b) {transpose_b=true} : f32[6,4]\n  return %y\n",
               in("a", "[6,5]") + in("b", "[4,5]")});
  v.push_back({"matmul_batched", "  %y = matmul(%a, %b) : f32[2,3,6,4]\n  return %y\n",
               in("a", "[2,3,6,5]") + in("b", "[2,3,5,4]")});
  v.push_back({"matmul_broadcast", "  %y = matmul(%a, %b) {transpose_b=true} : f32[2,3,6,4]\n"
                                   "  return %y\n",
               in("a", "[2,1,6,5]") + in("b", "[3,4,5]")});
  v.push_back({"matmul_same_operand", "  %y = matmul(%a, %a) {transpose_b=true} : f32[6,6]\n"
                                      "  return %y\n",
               in("a", "[6,5]")});
  // Bias and activation post-ops.
  std::string xb = x + in("bias", "[7]");
  for (std::string act : {"relu", "sigmoid", "tanh", "gelu", "leaky_relu"})
    v.push_back({"matmul_bias_" + act,
                 "  %m = matmul(%a, %b) : f32[6,7]\n  %s = add(%m, %bias) : f32[6,7]\n"
                 "  %y = " + act + "(%s) : f32[6,7]\n  return %y\n",
                 xb, 1, "%y = " + act + "(%s)"});
  v.push_back({"matmul_bias_gelu_tanh",
               "  %m = matmul(%a, %b) : f32[6,7]\n  %s = add(%bias, %m) : f32[6,7]\n"
               "  %y = gelu(%s) {approximate=\"tanh\"} : f32[6,7]\n  return %y\n",
               xb, 1, "%y = gelu(%s)"});
  v.push_back({"matmul_bias_rank2",
               "  %m = matmul(%a, %b) : f32[2,6,7]\n  %y = add(%m, %bias) : f32[2,6,7]\n"
               "  return %y\n",
               in("a", "[2,6,5]") + in("b", "[5,7]") + in("bias", "[1,1,7]"), 1,
               "%y = add(%m, %p2)"});
  // Convolutions: padding, strides, dilations, groups, NCHW, bias operand and post-ops.
  std::string img = in("x", "[2,9,9,3]") + in("w", "[3,3,3,4]");
  v.push_back({"conv_valid", "  %y = conv2d(%x, %w) : f32[2,7,7,4]\n  return %y\n", img});
  v.push_back({"conv_same_stride2",
               "  %y = conv2d(%x, %w) {padding=\"same\", strides=[2,2]} : f32[2,5,5,4]\n"
               "  return %y\n", img});
  v.push_back({"conv_valid_stride2_skips_rows",
               "  %y = conv2d(%x, %w) {strides=[2,2]} : f32[2,4,4,4]\n  return %y\n",
               in("x", "[2,10,10,3]") + in("w", "[3,3,3,4]")});
  v.push_back({"conv_dilated_padded",
               "  %y = conv2d(%x, %w) {padding=[1,2,0,1], dilations=[2,2]} : f32[2,8,6,4]\n"
               "  return %y\n", img});
  v.push_back({"conv_grouped",
               "  %y = conv2d(%x, %w) {groups=2} : f32[2,7,7,6]\n  return %y\n",
               in("x", "[2,9,9,4]") + in("w", "[3,3,2,6]")});
  v.push_back({"conv_nchw",
               "  %y = conv2d(%x, %w) {data_format=\"NCHW\", padding=\"same\"} : f32[2,4,9,9]\n"
               "  return %y\n",
               in("x", "[2,3,9,9]") + in("w", "[4,3,3,3]")});
  v.push_back({"conv_bias_operand_relu",
               "  %c = conv2d(%x, %w, %bias) : f32[2,7,7,4]\n  %y = relu(%c) : f32[2,7,7,4]\n"
               "  return %y\n", img + in("bias", "[4]"), 1, "%y = relu(%c)"});
  v.push_back({"conv_bias_add_tanh",
               "  %c = conv2d(%x, %w) : f32[2,7,7,4]\n  %s = add(%c, %bias) : f32[2,7,7,4]\n"
               "  %y = tanh(%s) : f32[2,7,7,4]\n  return %y\n", img + in("bias", "[4]"), 1,
               "%y = tanh(%s)"});
  v.push_back({"conv_backprop_input",
               "  %y = conv2d_backprop_input(%dy, %w) {input_shape=[2,9,9,3], padding=\"same\", "
               "strides=[2,2]} : f32[2,9,9,3]\n  return %y\n",
               in("dy", "[2,5,5,4]") + in("w", "[3,3,3,4]")});
  v.push_back({"conv_backprop_input_skips_rows",
               "  %y = conv2d_backprop_input(%dy, %w) {input_shape=[2,10,10,3], strides=[2,2]} "
               ": f32[2,10,10,3]\n  return %y\n",
               in("dy", "[2,4,4,4]") + in("w", "[3,3,3,4]")});
  v.push_back({"conv_backprop_filter",
               "  %y = conv2d_backprop_filter(%x, %dy) {filter_shape=[3,3,3,4], padding=\"same\"} "
               ": f32[3,3,3,4]\n  return %y\n",
               in("x", "[2,9,9,3]") + in("dy", "[2,9,9,4]")});
  v.push_back({"conv_backprop_filter_grouped_dilated",
               "  %y = conv2d_backprop_filter(%x, %dy) {filter_shape=[3,3,2,6], groups=2, "
               "dilations=[2,2]} : f32[3,3,2,6]\n  return %y\n",
               in("x", "[2,9,9,4]") + in("dy", "[2,5,5,6]")});
  // Pooling and its gradients.
  std::string pimg = in("x", "[2,9,9,3]");
  v.push_back({"max_pool", "  %y = max_pool2d(%x) {ksize=[2,2]} : f32[2,4,4,3]\n  return %y\n",
               pimg});
  v.push_back({"max_pool_same",
               "  %y = max_pool2d(%x) {ksize=[3,3], strides=[2,2], padding=\"same\"} : "
               "f32[2,5,5,3]\n  return %y\n", pimg});
  v.push_back({"avg_pool_same",
               "  %y = avg_pool2d(%x) {ksize=[3,3], strides=[2,2], padding=\"same\"} : "
               "f32[2,5,5,3]\n  return %y\n", pimg});
  v.push_back({"avg_pool_nchw",
               "  %y = avg_pool2d(%x) {ksize=[2,2], data_format=\"NCHW\"} : f32[2,3,4,4]\n"
               "  return %y\n", in("x", "[2,3,9,9]")});
  v.push_back({"max_pool_grad",
               "  %y = max_pool2d_grad(%x, %dy) {ksize=[2,2]} : f32[2,9,9,3]\n  return %y\n",
               pimg + in("dy", "[2,4,4,3]")});
  v.push_back({"max_pool_grad_same",
               "  %y = max_pool2d_grad(%x, %dy) {ksize=[3,3], strides=[2,2], padding=\"same\"} "
               ": f32[2,9,9,3]\n  return %y\n", pimg + in("dy", "[2,5,5,3]")});
  v.push_back({"avg_pool_grad_same",
               "  %y = avg_pool2d_grad(%dy) {input_shape=[2,9,9,3], ksize=[3,3], "
               "strides=[2,2], padding=\"same\"} : f32[2,9,9,3]\n  return %y\n",
               in("dy", "[2,5,5,3]")});
  // Softmax, log-softmax, layer norm.
  v.push_back({"softmax", "  %y = softmax(%x) : f32[4,3,10]\n  return %y\n", in("x", "[4,3,10]")});
  v.push_back({"softmax_axis1", "  %y = softmax(%x) {axis=1} : f32[4,3,10]\n  return %y\n",
               in("x", "[4,3,10]")});
  v.push_back({"log_softmax", "  %y = log_softmax(%x) : f32[8,10]\n  return %y\n",
               in("x", "[8,10]")});
  v.push_back({"layer_norm",
               "  %y = layer_norm(%x, %g, %b) : f32[4,3,16]\n  return %y\n",
               in("x", "[4,3,16]") + in("g", "[16]") + in("b", "[16]")});
  v.push_back({"layer_norm_two_axes",
               "  %y = layer_norm(%x, %g, %b) {axis=1, epsilon=0.001} : f32[4,3,16]\n"
               "  return %y\n",
               in("x", "[4,3,16]") + in("g", "[3,16]") + in("b", "[3,16]")});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Ops, DnnlOp, ::testing::ValuesIn(cases()),
                         [](const auto &info) { return info.param.name; });

} // namespace
} // namespace kiln
