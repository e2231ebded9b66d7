// The C++ graph-building API: value handles with operators, one function per op, layers, losses.
//
//   GraphBuilder g("mnist_mlp");  g.seed(42);
//   Tensor x = g.input("x", DType::F32, {64, 784});
//   Tensor w = g.param("w", {784, 10}, init::glorotUniform());
//   Tensor logits = dense(x, w, b).named("logits");
//   g.output(logits);
//   Expected<Graph> graph = g.finish();
//
// Errors are recorded, never thrown: the first one is kept (with the caller's file:line), later
// calls return invalid handles, and finish() returns it.
#pragma once

#include "compiler/ir/Graph.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <vector>

namespace kiln::builder {

struct BuilderState;
using SrcLoc = std::source_location;

/// A handle to one value of a graph being built. Cheap to copy; valid while its builder lives.
class Tensor {
public:
  Tensor() = default;
  /// False for a default handle or one returned after an error.
  bool valid() const { return state_ && value_; }
  explicit operator bool() const { return valid(); }
  Value value() const { return value_; }
  Node *node() const { return value_.node; }
  BuilderState *state() const { return state_; }
  /// Type of a valid handle.
  const TensorType &type() const { return value_.type(); }
  DType dtype() const { return type().dtype; }
  const Shape &shape() const { return type().shape; }
  std::string name() const { return value_ ? value_.name() : std::string(); }
  /// Gives the node a name of the user's choice (replacing "<op>_<n>"); a name already in use
  /// is recorded as an error.
  Tensor named(const std::string &name, SrcLoc loc = SrcLoc::current()) const;

private:
  friend struct BuilderState;
  Tensor(BuilderState *state, Value value) : state_(state), value_(value) {}
  BuilderState *state_ = nullptr;
  Value value_;
};

/// An operand of an elementwise op: a tensor, or a number that becomes a scalar constant of the
/// other operand's dtype (`x * 0.5`). Records where the expression was written, which is how
/// operators (that cannot take a trailing source_location) still locate their nodes.
struct Operand {
  Operand(Tensor t, SrcLoc loc = SrcLoc::current()) : tensor(t), loc(loc) {}
  Operand(double v, SrcLoc loc = SrcLoc::current()) : number(v), loc(loc) {}
  Tensor tensor;
  std::optional<double> number;
  SrcLoc loc;
};

/// The operand of unary minus: a tensor only (so `-Operand(2.0)` does not compile rather than
/// failing at run time), with the place the expression was written.
struct NegOperand {
  NegOperand(Tensor t, SrcLoc loc = SrcLoc::current()) : tensor(t), loc(loc) {}
  Tensor tensor;
  SrcLoc loc;
};

// ---- initializers (graph-format `init`) ----
namespace init {
Initializer zeros();
Initializer ones();
Initializer constant(double value);
Initializer uniform(double low = -0.05, double high = 0.05);
Initializer normal(double mean = 0, double stddev = 0.05);
Initializer glorotUniform();
Initializer glorotNormal();
Initializer heUniform();
Initializer heNormal();
/// Flat row-major values.
Initializer value(std::vector<double> data);
/// `init` with its own seed instead of one derived from the graph seed and param name.
Initializer seeded(Initializer init, uint64_t seed);
} // namespace init

// ---- optimizers (graph-format defaults) ----
Optimizer sgd(double lr = 0.01, double momentum = 0, bool nesterov = false);
Optimizer rmsprop(double lr = 0.001, double rho = 0.9, double epsilon = 1e-7);
Optimizer adam(double lr = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7);
Optimizer adamw(double lr = 0.001, double weightDecay = 0.01, double beta1 = 0.9,
                double beta2 = 0.999, double epsilon = 1e-7);

struct ParamOptions {
  DType dtype = DType::F32;
  bool trainable = true;
};

struct Regularization {
  double l1 = 0, l2 = 0;
};

/// One training step (graph-format `train`).
struct TrainOptions {
  std::string name = "train";
  Tensor loss = {};
  std::vector<Tensor> params = {}; ///< empty: every trainable param the loss depends on
  Optimizer optimizer = Optimizer::defaults(Optimizer::Kind::Sgd);
  std::vector<Tensor> metrics = {};
  std::optional<Regularization> regularization = std::nullopt;
  std::optional<double> clipNorm = std::nullopt;
  LrSchedule schedule = {};
};

struct RandomUniformOptions {
  DType dtype = DType::F32;
  double low = 0, high = 1;
  std::optional<int64_t> seed = std::nullopt;
};
struct RandomNormalOptions {
  DType dtype = DType::F32;
  double mean = 0, stddev = 1;
  std::optional<int64_t> seed = std::nullopt;
};

/// Builds one graph. Not copyable; the handles it returns point into it.
class GraphBuilder {
public:
  explicit GraphBuilder(std::string name);
  ~GraphBuilder();
  GraphBuilder(GraphBuilder &&) noexcept;
  GraphBuilder &operator=(GraphBuilder &&) noexcept;

  /// The seed of every initializer and random op that sets none (graph-format `seed`).
  GraphBuilder &seed(uint64_t seed);
  /// A safetensors file whose tensors give params their starting values.
  GraphBuilder &weights(std::string file);

  Tensor input(const std::string &name, DType dtype, Shape shape, SrcLoc loc = SrcLoc::current());
  Tensor param(const std::string &name, Shape shape, Initializer init = init::zeros(),
               ParamOptions options = {}, SrcLoc loc = SrcLoc::current());
  Tensor constant(const std::string &name, kiln::Tensor value, SrcLoc loc = SrcLoc::current());
  /// A constant of `shape` with every element `fill`.
  Tensor constant(const std::string &name, DType dtype, Shape shape, double fill,
                  SrcLoc loc = SrcLoc::current());
  /// An auto-named scalar constant.
  Tensor scalar(double value, DType dtype = DType::F32, SrcLoc loc = SrcLoc::current());
  Tensor randomUniform(Shape shape, RandomUniformOptions options = {},
                       SrcLoc loc = SrcLoc::current());
  Tensor randomNormal(Shape shape, RandomNormalOptions options = {}, SrcLoc loc = SrcLoc::current());

  /// Appends to the values an inference run returns.
  void output(Tensor t, SrcLoc loc = SrcLoc::current());
  /// Adds a training step.
  void train(TrainOptions options, SrcLoc loc = SrcLoc::current());

  /// The first error so far (ok if none).
  const Status &status() const;
  /// The graph built so far, for inspection.
  const Graph &graph() const;
  /// Resolves default train-step params, verifies the graph and hands it over. Returns the
  /// first recorded error instead, if any. The builder is spent afterwards.
  Expected<Graph> finish();

private:
  std::unique_ptr<BuilderState> state_;
};

// ---- elementwise unary ----
Tensor neg(const Tensor &x, SrcLoc loc = SrcLoc::current());
Tensor abs(const Tensor &x, SrcLoc loc = SrcLoc::current());
Tensor exp(const Tensor &x, SrcLoc loc = SrcLoc::current());
Tensor log(const Tensor &x, SrcLoc loc = SrcLoc::current());
Tensor sqrt(const Tensor &x, SrcLoc loc = SrcLoc::current());
Tensor rsqrt(const Tensor &x, SrcLoc loc = SrcLoc::current());
Tensor square(const Tensor &x, SrcLoc loc = SrcLoc::current());
Tensor sign(const Tensor &x, SrcLoc loc = SrcLoc::current());
Tensor relu(const Tensor &x, SrcLoc loc = SrcLoc::current());
Tensor sigmoid(const Tensor &x, SrcLoc loc = SrcLoc::current());
Tensor tanh(const Tensor &x, SrcLoc loc = SrcLoc::current());
Tensor softplus(const Tensor &x, SrcLoc loc = SrcLoc::current());
Tensor leakyRelu(const Tensor &x, double alpha = 0.2, SrcLoc loc = SrcLoc::current());
/// `approximate`: "none" (exact, erf) or "tanh".
Tensor gelu(const Tensor &x, const std::string &approximate = "none", SrcLoc loc = SrcLoc::current());
Tensor cast(const Tensor &x, DType dtype, SrcLoc loc = SrcLoc::current());
Tensor stopGradient(const Tensor &x, SrcLoc loc = SrcLoc::current());

// ---- elementwise binary and comparisons (broadcasting; numbers become constants) ----
Tensor add(const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());
Tensor sub(const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());
Tensor mul(const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());
Tensor div(const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());
Tensor pow(const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());
Tensor maximum(const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());
Tensor minimum(const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());
Tensor equal(const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());
Tensor notEqual(const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());
Tensor less(const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());
Tensor lessEqual(const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());
Tensor greater(const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());
Tensor greaterEqual(const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());
Tensor select(const Tensor &cond, const Operand &a, const Operand &b, SrcLoc loc = SrcLoc::current());

/// Operators build add, sub, mul, div and neg, located at the expression.
Tensor operator+(const Operand &a, const Operand &b);
Tensor operator-(const Operand &a, const Operand &b);
Tensor operator*(const Operand &a, const Operand &b);
Tensor operator/(const Operand &a, const Operand &b);
Tensor operator-(const NegOperand &x);

// ---- reductions ----
struct ReduceOptions {
  std::optional<std::vector<int64_t>> axes = std::nullopt; ///< absent: all axes
  bool keepdims = false;
};
Tensor reduceSum(const Tensor &x, ReduceOptions options = {}, SrcLoc loc = SrcLoc::current());
Tensor reduceMean(const Tensor &x, ReduceOptions options = {}, SrcLoc loc = SrcLoc::current());
Tensor reduceMax(const Tensor &x, ReduceOptions options = {}, SrcLoc loc = SrcLoc::current());
Tensor reduceMin(const Tensor &x, ReduceOptions options = {}, SrcLoc loc = SrcLoc::current());
Tensor argmax(const Tensor &x, int64_t axis = -1, SrcLoc loc = SrcLoc::current());

// ---- linear algebra and data movement ----
struct MatmulOptions {
  bool transposeA = false, transposeB = false;
};
Tensor matmul(const Tensor &a, const Tensor &b, MatmulOptions options = {},
              SrcLoc loc = SrcLoc::current());
Tensor reshape(const Tensor &x, Shape shape, SrcLoc loc = SrcLoc::current());
Tensor flatten(const Tensor &x, SrcLoc loc = SrcLoc::current());
Tensor transpose(const Tensor &x, std::optional<std::vector<int64_t>> perm = std::nullopt,
                 SrcLoc loc = SrcLoc::current());
Tensor concat(const std::vector<Tensor> &xs, int64_t axis = 0, SrcLoc loc = SrcLoc::current());
Tensor slice(const Tensor &x, std::vector<int64_t> begin, std::vector<int64_t> end,
             std::optional<std::vector<int64_t>> strides = std::nullopt,
             SrcLoc loc = SrcLoc::current());
Tensor broadcastTo(const Tensor &x, Shape shape, SrcLoc loc = SrcLoc::current());
Tensor gather(const Tensor &table, const Tensor &indices, int64_t axis = 0,
              SrcLoc loc = SrcLoc::current());
Tensor oneHot(const Tensor &indices, int64_t depth, DType dtype = DType::F32,
              SrcLoc loc = SrcLoc::current());

// ---- convolution and pooling ----
/// "valid", "same", or explicit {top, bottom, left, right}.
struct Padding {
  Padding(const char *mode) : mode(mode) {}
  Padding(std::string mode) : mode(std::move(mode)) {}
  Padding(std::initializer_list<int64_t> pads) : pads(pads) {}
  std::string mode;
  std::vector<int64_t> pads;
};
struct Conv2DOptions {
  std::vector<int64_t> strides = {1, 1};
  Padding padding = "valid";
  std::vector<int64_t> dilations = {1, 1};
  int64_t groups = 1;
  std::string dataFormat = "NHWC";
};
Tensor conv2d(const Tensor &x, const Tensor &w, Conv2DOptions options = {},
              SrcLoc loc = SrcLoc::current());
Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor &b, Conv2DOptions options = {},
              SrcLoc loc = SrcLoc::current());
struct PoolOptions {
  std::vector<int64_t> ksize = {};
  std::optional<std::vector<int64_t>> strides = std::nullopt; ///< default: ksize
  Padding padding = "valid";
  std::string dataFormat = "NHWC";
};
Tensor maxPool2d(const Tensor &x, PoolOptions options, SrcLoc loc = SrcLoc::current());
Tensor avgPool2d(const Tensor &x, PoolOptions options, SrcLoc loc = SrcLoc::current());

// ---- normalisation and randomness ----
Tensor softmax(const Tensor &x, int64_t axis = -1, SrcLoc loc = SrcLoc::current());
Tensor logSoftmax(const Tensor &x, int64_t axis = -1, SrcLoc loc = SrcLoc::current());
struct LayerNormOptions {
  int64_t axis = -1;
  double epsilon = 1e-5;
};
Tensor layerNorm(const Tensor &x, const Tensor &gamma, const Tensor &beta,
                 LayerNormOptions options = {}, SrcLoc loc = SrcLoc::current());
Tensor dropout(const Tensor &x, double rate, std::optional<int64_t> seed = std::nullopt,
               SrcLoc loc = SrcLoc::current());

// ---- gradient kernels (what autodiff emits; the *Shape argument is the forward operand's) ----
/// d(conv2d)/dx: dy with the filter, back to an input of `inputShape`.
Tensor conv2dBackpropInput(const Tensor &dy, const Tensor &w, Shape inputShape,
                           Conv2DOptions options = {}, SrcLoc loc = SrcLoc::current());
/// d(conv2d)/dw: input with dy, back to a filter of `filterShape`.
Tensor conv2dBackpropFilter(const Tensor &x, const Tensor &dy, Shape filterShape,
                            Conv2DOptions options = {}, SrcLoc loc = SrcLoc::current());
/// Routes each window's gradient to its first maximum in x.
Tensor maxPool2dGrad(const Tensor &x, const Tensor &dy, PoolOptions options,
                     SrcLoc loc = SrcLoc::current());
Tensor avgPool2dGrad(const Tensor &dy, Shape inputShape, PoolOptions options,
                     SrcLoc loc = SrcLoc::current());
/// Scatter-adds dy into a zero table of `tableShape`.
Tensor gatherGrad(const Tensor &indices, const Tensor &dy, Shape tableShape, int64_t axis = 0,
                  SrcLoc loc = SrcLoc::current());
Tensor sliceGrad(const Tensor &dy, Shape inputShape, std::vector<int64_t> begin,
                 std::vector<int64_t> end, std::optional<std::vector<int64_t>> strides = std::nullopt,
                 SrcLoc loc = SrcLoc::current());
Tensor geluGrad(const Tensor &x, const Tensor &dy, const std::string &approximate = "none",
                SrcLoc loc = SrcLoc::current());

// ---- layers (kept whole in the graph; decomposeLayers expands them) ----
struct DenseOptions {
  /// none, relu, sigmoid, tanh, softmax, leaky_relu, gelu
  std::string activation = "none";
};
Tensor dense(const Tensor &x, const Tensor &w, DenseOptions options = {},
             SrcLoc loc = SrcLoc::current());
Tensor dense(const Tensor &x, const Tensor &w, const Tensor &b, DenseOptions options = {},
             SrcLoc loc = SrcLoc::current());
struct SimpleRnnOptions {
  std::string activation = "tanh"; ///< tanh, relu, sigmoid, none
  bool returnSequences = false;
};
Tensor simpleRnn(const Tensor &x, const Tensor &kernel, const Tensor &recurrent, const Tensor &bias,
                 SimpleRnnOptions options = {}, SrcLoc loc = SrcLoc::current());
struct LstmOptions {
  bool returnSequences = false;
};
Tensor lstm(const Tensor &x, const Tensor &kernel, const Tensor &recurrent, const Tensor &bias,
            LstmOptions options = {}, SrcLoc loc = SrcLoc::current());
/// Projection weights [D,D]; the biases [D] are all given or all left out.
struct AttentionWeights {
  Tensor wq = {}, wk = {}, wv = {}, wo = {};
  Tensor bq = {}, bk = {}, bv = {}, bo = {};
};
struct AttentionOptions {
  int64_t heads = 1;
  bool causal = false;
};
Tensor multiHeadAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                          const AttentionWeights &weights, AttentionOptions options,
                          SrcLoc loc = SrcLoc::current());

// ---- losses and metrics ----
struct LossOptions {
  std::string reduction = "mean"; ///< mean, sum, none
};
Tensor mse(const Tensor &pred, const Tensor &target, LossOptions options = {},
           SrcLoc loc = SrcLoc::current());
Tensor binaryCrossEntropy(const Tensor &prob, const Tensor &target, LossOptions options = {},
                          SrcLoc loc = SrcLoc::current());
Tensor sigmoidCrossEntropy(const Tensor &logits, const Tensor &target, LossOptions options = {},
                           SrcLoc loc = SrcLoc::current());
Tensor softmaxCrossEntropy(const Tensor &logits, const Tensor &labels, LossOptions options = {},
                           SrcLoc loc = SrcLoc::current());
Tensor accuracy(const Tensor &logits, const Tensor &labels, LossOptions options = {},
                SrcLoc loc = SrcLoc::current());
struct BinaryAccuracyOptions {
  std::string reduction = "mean";
  double threshold = 0.5;
};
Tensor binaryAccuracy(const Tensor &prob, const Tensor &target, BinaryAccuracyOptions options = {},
                      SrcLoc loc = SrcLoc::current());

} // namespace kiln::builder
