// Gradient rules of softmax, log_softmax and layer_norm, written with primitives.
#include "compiler/autodiff/GradRules.h"

namespace kiln::grad {

namespace {

int64_t axisOf(Node &n) { return *normalizeAxis(n.attrInt("axis"), n.type().rank()); }

} // namespace

// y = softmax(x): dx = y * (g - sum(g * y)) along the axis.
void gradSoftmax(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  Value y = n.result();
  Value dot = b.reduceSum(b.mul(dy, y), {axisOf(n)}, true);
  dx[0] = b.mul(y, b.sub(dy, dot));
}

// y = log_softmax(x): dx = g - softmax(x) * sum(g), and softmax(x) = exp(y).
void gradLogSoftmax(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  Value total = b.reduceSum(dy, {axisOf(n)}, true);
  dx[0] = b.sub(dy, b.mul(b.unary(Op::Exp, n.result()), total));
}

// y = xhat * gamma + beta with xhat = (x - mean) * rstd over the axes from `axis` to the end,
// rstd = 1/sqrt(var + eps) (biased variance). With h = g * gamma and means over those axes:
//   dx = rstd * (h - mean(h) - xhat * mean(h * xhat)),
//   dgamma = sum(g * xhat), dbeta = sum(g) over the leading axes.
// mean and rstd are recomputed here: the forward is one fused op and exposes neither.
void gradLayerNorm(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  Value x = n.operand(0), gamma = n.operand(1);
  DType dt = x.type().dtype;
  int64_t rank = x.type().rank(), axis = axisOf(n);
  std::vector<int64_t> norm, lead;
  for (int64_t a = 0; a < rank; ++a)
    (a < axis ? lead : norm).push_back(a);

  Value centered = b.sub(x, b.reduceMean(x, norm, true));
  Value var = b.reduceMean(b.unary(Op::Square, centered), norm, true);
  Value rstd = b.unary(Op::Rsqrt, b.add(var, b.scalar(dt, n.attrFloat("epsilon"))));
  Value xhat = b.mul(centered, rstd);

  if (b.needs(0)) {
    Value h = b.mul(dy, gamma);
    Value meanH = b.reduceMean(h, norm, true);
    Value meanHX = b.reduceMean(b.mul(h, xhat), norm, true);
    dx[0] = b.mul(rstd, b.sub(b.sub(h, meanH), b.mul(xhat, meanHX)));
  }
  if (b.needs(1))
    dx[1] = b.reduceSum(b.mul(dy, xhat), lead, false);
  if (b.needs(2))
    dx[2] = b.reduceSum(dy, lead, false);
}

} // namespace kiln::grad
