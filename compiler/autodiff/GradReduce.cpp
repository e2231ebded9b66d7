// Gradient rules of the reductions: the gradient is spread back over the reduced axes.
#include "compiler/autodiff/GradRules.h"

namespace kiln::grad {

namespace {

/// dy with the reduced axes restored as extent 1 (a no-op under keepdims), ready to broadcast
/// against the operand.
Value keptGradient(GradBuilder &b, Node &n, Value dy, const std::vector<int64_t> &axes) {
  return b.reshape(dy, keptShape(n.operand(0).type().shape, axes));
}

/// reduce_max and reduce_min: the gradient is split equally among the elements that equal the
/// extremum (TensorFlow's rule), so ties do not double it.
void extremumGrad(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  std::vector<int64_t> axes = reductionAxes(n);
  Value x = n.operand(0);
  DType dt = x.type().dtype;
  Value y = keptGradient(b, n, n.result(), axes);
  Value hit = b.cast(b.op(Op::Equal, "hit", {x, y}), dt);
  Value count = b.reduceSum(hit, axes, true);
  dx[0] = b.mul(hit, b.div(keptGradient(b, n, dy, axes), count));
}

} // namespace

void gradReduceSum(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  std::vector<int64_t> axes = reductionAxes(n);
  dx[0] = b.broadcastTo(keptGradient(b, n, dy, axes), n.operand(0).type().shape);
}

void gradReduceMean(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  std::vector<int64_t> axes = reductionAxes(n);
  const Shape &in = n.operand(0).type().shape;
  double count = 1;
  for (int64_t a : axes)
    count *= double(in[size_t(a)]);
  dx[0] = b.broadcastTo(b.scale(keptGradient(b, n, dy, axes), 1.0 / count), in);
}

void gradReduceMax(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  extremumGrad(b, n, dy, dx);
}

void gradReduceMin(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  extremumGrad(b, n, dy, dx);
}

// An index is piecewise constant in its operand.
void gradArgmax(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }

} // namespace kiln::grad
