// Gradient rules of the elementwise ops: unary math, activations, cast, the broadcasting binary
// ops, comparisons and select. Rules reuse the forward result where that is cheaper than
// recomputing from the operand (sigmoid, tanh, exp, sqrt, rsqrt, div).
#include "compiler/autodiff/GradRules.h"

namespace kiln::grad {

namespace {

Value operand(Node &n, unsigned i) { return n.operand(i); }
Value result(Node &n) { return n.result(); }
/// x > 0 as a bool mask (the kink of relu and leaky_relu goes to the left branch, like TF).
Value positive(GradBuilder &b, Value x) {
  return b.op(Op::Greater, "positive", {x, b.scalar(x.type().dtype, 0)});
}

/// Gradients of a broadcasting binary op given their full-shape forms: each is summed back to
/// its operand's shape.
void binaryGrads(GradBuilder &b, Node &n, Value da, Value db, std::vector<Value> &dx) {
  if (b.needs(0))
    dx[0] = b.unbroadcast(da, n.operand(0).type().shape);
  if (b.needs(1))
    dx[1] = b.unbroadcast(db, n.operand(1).type().shape);
}

} // namespace

// ---- unary ----
void gradNeg(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { dx[0] = b.neg(dy); }

// d|x| = sign(x); sign(0) = 0 makes the kink's subgradient 0, as TF and PyTorch do.
void gradAbs(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx[0] = b.mul(dy, b.unary(Op::Sign, operand(n, 0)));
}

void gradExp(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx[0] = b.mul(dy, result(n));
}

void gradLog(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx[0] = b.div(dy, operand(n, 0));
}

// d sqrt(x) = 0.5 / sqrt(x) = 0.5 / y.
void gradSqrt(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx[0] = b.div(b.scale(dy, 0.5), result(n));
}

// d x^-1/2 = -0.5 x^-3/2 = -0.5 * y / x.
void gradRsqrt(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx[0] = b.mul(dy, b.div(b.scale(result(n), -0.5), operand(n, 0)));
}

void gradSquare(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx[0] = b.mul(b.scale(dy, 2), operand(n, 0));
}

// sign is piecewise constant: its derivative is zero wherever it exists.
void gradSign(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }

// The mask reads the output: y > 0 exactly where x > 0 (NaN and -0 included, relu(NaN) = 0), so
// the values are the same, and the pre-activation needs no buffer of its own: a matmul or conv
// group (generated or oneDNN) can apply relu in its epilogue in training too (oneDNN's
// eltwise_relu_use_dst_for_bwd rule).
void gradRelu(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx[0] = b.where(positive(b, result(n)), dy);
}

// y (1 - y).
void gradSigmoid(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  Value y = result(n);
  Value one = b.scalar(y.type().dtype, 1);
  dx[0] = b.mul(dy, b.mul(y, b.sub(one, y)));
}

// 1 - y^2.
void gradTanh(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  Value y = result(n);
  Value one = b.scalar(y.type().dtype, 1);
  dx[0] = b.mul(dy, b.sub(one, b.unary(Op::Square, y)));
}

// d log(1 + e^x) = sigmoid(x).
void gradSoftplus(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx[0] = b.mul(dy, b.unary(Op::Sigmoid, operand(n, 0)));
}

// With alpha >= 0, y > 0 exactly where x > 0 (alpha x <= 0 there, even when it underflows), so
// the mask reads the output as relu's does; a negative alpha needs the input.
void gradLeakyRelu(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  double alpha = n.attrFloat("alpha");
  Value mask = positive(b, alpha >= 0 ? result(n) : operand(n, 0));
  dx[0] = b.select(mask, dy, b.scale(dy, alpha));
}

// The exact and the tanh-approximated derivative live in one gradient kernel.
void gradGelu(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx[0] = b.op(Op::GeluGrad, "gelu_grad", {operand(n, 0), dy},
               {{"approximate", n.attrStr("approximate")}});
}

// Between float types the derivative is 1: cast the gradient back. To or from an integer or
// bool type nothing flows (differentiate never hands an integer result a gradient, and never
// asks for one of an integer operand, so only float -> float reaches the cast here).
void gradCast(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  DType from = n.operand(0).type().dtype, to = n.type().dtype;
  if (!isFloat(from) || !isFloat(to))
    return noGradient(dx);
  dx[0] = from == to ? dy : b.cast(dy, from);
}

void gradStopGradient(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }

// ---- binary, broadcasting ----
void gradAdd(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  binaryGrads(b, n, dy, dy, dx);
}

void gradSub(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  binaryGrads(b, n, dy, b.needs(1) ? b.neg(dy) : Value{}, dx);
}

void gradMul(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  binaryGrads(b, n, b.needs(0) ? b.mul(dy, operand(n, 1)) : Value{},
              b.needs(1) ? b.mul(dy, operand(n, 0)) : Value{}, dx);
}

// d(a/b)/db = -a/b^2 = -y/b.
void gradDiv(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  Value den = operand(n, 1);
  Value da = b.div(dy, den);
  Value db = b.needs(1) ? b.neg(b.mul(da, result(n))) : Value{};
  binaryGrads(b, n, da, db, dx);
}

// da = b a^(b-1) g; db = log(a) y g where a > 0, else 0 (a^b with a <= 0 has no real log;
// log is taken of select(a > 0, a, 1) so that no NaN is ever computed).
void gradPow(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  Value base = operand(n, 0), exponent = operand(n, 1);
  DType dt = base.type().dtype;
  Value da, db;
  if (b.needs(0)) {
    Value pm1 = b.binary(Op::Pow, base, b.sub(exponent, b.scalar(dt, 1)));
    da = b.mul(dy, b.mul(exponent, pm1));
  }
  if (b.needs(1)) {
    Value pos = positive(b, base);
    Value safe = b.select(pos, base, b.scalar(dt, 1));
    db = b.mul(dy, b.mul(b.unary(Op::Log, safe), result(n)));
  }
  binaryGrads(b, n, da, db, dx);
}

// Ties send the whole gradient to the first operand (TensorFlow's rule).
void gradMaximum(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  Value first = b.op(Op::GreaterEqual, "first", {operand(n, 0), operand(n, 1)});
  Value zero = b.scalar(dy.type().dtype, 0);
  binaryGrads(b, n, b.needs(0) ? b.select(first, dy, zero) : Value{},
              b.needs(1) ? b.select(first, zero, dy) : Value{}, dx);
}

void gradMinimum(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  Value first = b.op(Op::LessEqual, "first", {operand(n, 0), operand(n, 1)});
  Value zero = b.scalar(dy.type().dtype, 0);
  binaryGrads(b, n, b.needs(0) ? b.select(first, dy, zero) : Value{},
              b.needs(1) ? b.select(first, zero, dy) : Value{}, dx);
}

// ---- comparisons: bool results, no gradient ----
void gradEqual(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }
void gradNotEqual(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }
void gradLess(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }
void gradLessEqual(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }
void gradGreater(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }
void gradGreaterEqual(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }

// The condition gets none; each branch gets the gradient where it was chosen, summed back to
// its own shape (all three operands broadcast together).
void gradSelect(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  Value cond = operand(n, 0);
  Value zero = b.scalar(dy.type().dtype, 0);
  if (b.needs(1))
    dx[1] = b.unbroadcast(b.select(cond, dy, zero), n.operand(1).type().shape);
  if (b.needs(2))
    dx[2] = b.unbroadcast(b.select(cond, zero, dy), n.operand(2).type().shape);
}

} // namespace kiln::grad
