// Optimizer update rules as graph nodes (graph-format.md, Training): sgd with momentum and
// Nesterov, rmsprop, adam and adamw. Every constant is in the param's own float dtype.
#include "compiler/autodiff/TrainGraphInternal.h"

namespace kiln::detail {

namespace {

/// b = mu*b + g; p - lr*(nesterov ? g + mu*b : b); plain p - lr*g when mu is 0 (no slot then).
ParamUpdate sgd(StepBuilder &b, Node *param, Value grad) {
  const Optimizer &o = b.step().optimizer;
  const std::string p = param->name();
  DType dt = param->type().dtype;
  Value lr = b.learningRate(dt);
  ParamUpdate out;
  if (o.momentum == 0) {
    out.param = b.sub(p + "/new", param->result(), b.mul(p + "/delta", lr, grad));
    return out;
  }
  Node *slot = b.state(p + "/momentum", param->type());
  if (!slot)
    return out;
  Value mu = b.scalar(p + "/mu", dt, o.momentum);
  Value velocity =
      b.add(p + "/momentum_new", b.mul(p + "/momentum_decayed", mu, slot->result()), grad);
  Value direction =
      o.nesterov ? b.add(p + "/nesterov", grad, b.mul(p + "/nesterov_lookahead", mu, velocity))
                 : velocity;
  out.param = b.sub(p + "/new", param->result(), b.mul(p + "/delta", lr, direction));
  out.slots.push_back(StateUpdate{slot, velocity});
  return out;
}

/// v = rho*v + (1-rho)*g^2; p - lr*g/(sqrt(v) + eps).
ParamUpdate rmsprop(StepBuilder &b, Node *param, Value grad) {
  const Optimizer &o = b.step().optimizer;
  const std::string p = param->name();
  DType dt = param->type().dtype;
  ParamUpdate out;
  Node *slot = b.state(p + "/v", param->type());
  if (!slot)
    return out;
  Value decayed = b.mul(p + "/v_decayed", b.scalar(p + "/rho", dt, o.rho), slot->result());
  Value fresh = b.mul(p + "/v_fresh", b.scalar(p + "/one_minus_rho", dt, 1 - o.rho),
                      b.op(Op::Square, p + "/grad_sq", {grad}));
  Value v = b.add(p + "/v_new", decayed, fresh);
  Value denominator = b.add(p + "/denominator", b.op(Op::Sqrt, p + "/v_sqrt", {v}),
                            b.scalar(p + "/epsilon", dt, o.epsilon));
  Value delta = b.mul(p + "/delta", b.learningRate(dt), b.div(p + "/scaled", grad, denominator));
  out.param = b.sub(p + "/new", param->result(), delta);
  out.slots.push_back(StateUpdate{slot, v});
  return out;
}

/// m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
/// p - lr*(m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps), after p - lr*wd*p for adamw.
ParamUpdate adam(StepBuilder &b, Node *param, Value grad, bool decoupledDecay) {
  const Optimizer &o = b.step().optimizer;
  const std::string p = param->name();
  DType dt = param->type().dtype;
  ParamUpdate out;
  Node *mSlot = b.state(p + "/m", param->type());
  Node *vSlot = b.state(p + "/v", param->type());
  if (!mSlot || !vSlot)
    return out;
  Value m = b.add(p + "/m_new",
                  b.mul(p + "/m_decayed", b.scalar(p + "/beta1", dt, o.beta1), mSlot->result()),
                  b.mul(p + "/m_fresh", b.scalar(p + "/one_minus_beta1", dt, 1 - o.beta1), grad));
  Value v = b.add(p + "/v_new",
                  b.mul(p + "/v_decayed", b.scalar(p + "/beta2", dt, o.beta2), vSlot->result()),
                  b.mul(p + "/v_fresh", b.scalar(p + "/one_minus_beta2", dt, 1 - o.beta2),
                        b.op(Op::Square, p + "/grad_sq", {grad})));
  // The corrections depend only on beta and t, so they are shared by the step's params.
  Value mHat = b.div(p + "/m_hat", m, b.biasCorrection(o.beta1, "beta1", dt));
  Value vHat = b.div(p + "/v_hat", v, b.biasCorrection(o.beta2, "beta2", dt));
  Value denominator = b.add(p + "/denominator", b.op(Op::Sqrt, p + "/v_hat_sqrt", {vHat}),
                            b.scalar(p + "/epsilon", dt, o.epsilon));
  Value lr = b.learningRate(dt);
  Value base = param->result();
  if (decoupledDecay) {
    Value decay = b.mul(p + "/decay", b.mul(p + "/lr_wd", lr, b.scalar(p + "/weight_decay", dt,
                                                                       o.weightDecay)),
                        base);
    base = b.sub(p + "/decayed", base, decay);
  }
  Value delta = b.mul(p + "/delta", lr, b.div(p + "/scaled", mHat, denominator));
  out.param = b.sub(p + "/new", base, delta);
  out.slots.push_back(StateUpdate{mSlot, m});
  out.slots.push_back(StateUpdate{vSlot, v});
  return out;
}

} // namespace

ParamUpdate emitOptimizerUpdate(StepBuilder &b, Node *param, Value grad) {
  switch (b.step().optimizer.kind) {
  case Optimizer::Kind::Sgd: return sgd(b, param, grad);
  case Optimizer::Kind::RmsProp: return rmsprop(b, param, grad);
  case Optimizer::Kind::Adam: return adam(b, param, grad, /*decoupledDecay=*/false);
  case Optimizer::Kind::AdamW: return adam(b, param, grad, /*decoupledDecay=*/true);
  }
  return {};
}

} // namespace kiln::detail
