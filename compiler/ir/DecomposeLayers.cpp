// Expansions of the network layers (dense, simple_rnn, lstm, multi_head_attention) into primitives.
#include "compiler/ir/DecomposeInternal.h"

#include <cassert>
#include <cmath>

namespace kiln::detail {

namespace {

/// The activation of dense and simple_rnn, by its attribute spelling.
Value activate(Expander &e, Value x, const std::string &activation) {
  if (activation == "none")
    return x;
  if (activation == "relu")
    return e.unary(Op::Relu, x);
  if (activation == "sigmoid")
    return e.unary(Op::Sigmoid, x);
  if (activation == "tanh")
    return e.unary(Op::Tanh, x);
  if (activation == "softmax")
    return e.op(Op::Softmax, "softmax", {x}, {{"axis", int64_t(-1)}});
  if (activation == "leaky_relu")
    return e.op(Op::LeakyRelu, "leaky_relu", {x}, {{"alpha", 0.2}});
  if (activation == "gelu")
    return e.op(Op::Gelu, "gelu", {x}, {{"approximate", std::string("none")}});
  assert(false && "activation not in the schema");
  return {};
}

/// x[..., in] @ w[in, out] (+ b) as one 2-d matmul: leading dims are folded into the rows so that
/// later passes (gradients, oneDNN) only ever see a plain matrix product.
Value affine(Expander &e, Value x, Value w, Value b) {
  Shape xs = x.type().shape;
  int64_t out = w.type().shape[1];
  bool fold = xs.size() != 2;
  Value y = e.matmul(fold ? e.reshape(x, {-1, xs.back()}) : x, w);
  if (b)
    y = e.binary(Op::Add, y, b);
  if (!fold)
    return y;
  Shape ys = xs;
  ys.back() = out;
  return e.reshape(y, ys);
}

/// The input projection of every step at once: x[B,T,I] @ w[I,N] + b as one [B*T,I] x [I,N]
/// matmul (x is contiguous, so the reshape is free) with one bias add, returned as [B,T*N] so
/// that step t is the column block t*N..(t+1)*N (stepOf). One large product runs far better
/// than T tiny ones, and its gradient is one dW = X^T dZ and one dX = dZ W^T instead of T of
/// each (the per-step slices' gradients become one concat, see differentiate).
Value projectAllSteps(Expander &e, Value x, Value w, Value b) {
  const Shape &s = x.type().shape;
  e.setScope("");
  Value y = e.op(Op::Matmul, "input_proj", {e.reshape(x, {s[0] * s[1], s[2]}), w});
  y = e.op(Op::Add, "input_proj_bias", {y, b});
  return e.reshape(y, {s[0], s[1] * w.type().shape[1]});
}

/// Step t of a [B,T*N] projection as a [B,N] matrix: one slice, no reshape.
Value stepOf(Expander &e, Value proj, int64_t t, int64_t n) {
  int64_t batch = proj.type().shape[0];
  return e.slice(proj, {0, t * n}, {batch, (t + 1) * n});
}

/// Stacks per-step [B,U] states into [B,T,U]: a concat along U gives [B,T*U], whose row b is
/// h_0[b], h_1[b], ..., that is [B,T,U] row-major, so the pieces need no reshape of their own.
Value stackSteps(Expander &e, const std::vector<Value> &steps) {
  const Shape &s = steps.front().type().shape;
  e.setScope("");
  Value all = e.op(Op::Concat, "steps", steps, {{"axis", int64_t(1)}});
  return e.op(Op::Reshape, "sequence", {all},
              {{"shape", std::vector<int64_t>{s[0], int64_t(steps.size()), s[1]}}});
}

} // namespace

Status expandDense(Expander &e) {
  Node *layer = e.layer();
  Value b = layer->numOperands() == 3 ? e.operand(2) : Value{};
  Value y = affine(e, e.operand(0), e.operand(1), b);
  return e.finish(activate(e, y, layer->attrStr("activation")));
}

// h_t = act((x_t W + b) + h_{t-1} R) with h_0 = 0, so step 0 needs no recurrent product. The
// input projections x_t W + b of all steps are one matmul (projectAllSteps).
Status expandSimpleRnn(Expander &e) {
  Node *layer = e.layer();
  Value x = e.operand(0), w = e.operand(1), r = e.operand(2), b = e.operand(3);
  int64_t steps = x.type().shape[1];
  std::string activation = layer->attrStr("activation");
  bool sequences = layer->attrBool("return_sequences");
  Value proj = projectAllSteps(e, x, w, b);
  Value h;
  std::vector<Value> all;
  for (int64_t t = 0; t < steps; ++t) {
    e.setScope("t" + std::to_string(t) + "/");
    Value pre = stepOf(e, proj, t, w.type().shape[1]);
    if (t > 0)
      pre = e.binary(Op::Add, pre, e.matmul(h, r));
    h = activate(e, pre, activation);
    all.push_back(h);
  }
  return e.finish(sequences ? stackSteps(e, all) : h);
}

// Keras LSTM, gates i, f, g, o in that order along the 4U axis of z = (x_t W + b) + h_{t-1} R:
// c_t = f*c_{t-1} + i*g, h_t = o*tanh(c_t), h_0 = c_0 = 0 (so step 0 has c_1 = i*g). The input
// projections x_t W + b of all steps are one matmul (projectAllSteps).
Status expandLstm(Expander &e) {
  Node *layer = e.layer();
  Value x = e.operand(0), w = e.operand(1), r = e.operand(2), b = e.operand(3);
  int64_t batch = x.type().shape[0], steps = x.type().shape[1];
  int64_t units = w.type().shape[1] / 4;
  bool sequences = layer->attrBool("return_sequences");
  auto gate = [&](Value z, int64_t k, const char *part, Op act) {
    Value s = e.op(Op::Slice, std::string(part) + "_pre", {z},
                   {{"begin", std::vector<int64_t>{0, k * units}},
                    {"end", std::vector<int64_t>{batch, (k + 1) * units}}});
    return e.op(act, part, {s});
  };
  Value proj = projectAllSteps(e, x, w, b);
  Value h, c;
  std::vector<Value> all;
  for (int64_t t = 0; t < steps; ++t) {
    e.setScope("t" + std::to_string(t) + "/");
    Value z = stepOf(e, proj, t, 4 * units);
    if (t > 0)
      z = e.binary(Op::Add, z, e.matmul(h, r));
    Value i = gate(z, 0, "i", Op::Sigmoid);
    Value g = gate(z, 2, "g", Op::Tanh);
    Value o = gate(z, 3, "o", Op::Sigmoid);
    Value ig = e.op(Op::Mul, "ig", {i, g});
    if (t == 0) {
      c = ig;
    } else {
      Value f = gate(z, 1, "f", Op::Sigmoid);
      c = e.op(Op::Add, "c", {e.op(Op::Mul, "fc", {f, c}), ig});
    }
    h = e.op(Op::Mul, "h", {o, e.unary(Op::Tanh, c)});
    all.push_back(h);
  }
  return e.finish(sequences ? stackSteps(e, all) : h);
}

// Per head h (columns h*dh..(h+1)*dh of each projection): softmax(Q_h K_h^T / sqrt(dh)) V_h, the
// heads side by side again, then @ wo + bo. Heads are split with reshape [B,S,H,dh] and
// transpose to [B,H,S,dh], which selects exactly those columns, so one batched matmul serves
// every head. The causal mask hides keys j > i.
Status expandMultiHeadAttention(Expander &e) {
  Node *layer = e.layer();
  Value q = e.operand(0), k = e.operand(1), v = e.operand(2);
  bool biased = layer->numOperands() == 11;
  auto bias = [&](unsigned i) { return biased ? e.operand(7 + i) : Value{}; };
  const Shape &qs = q.type().shape, &ks = k.type().shape;
  int64_t batch = qs[0], s = qs[1], d = qs[2], t = ks[1];
  int64_t heads = layer->attrInt("heads"), dh = d / heads;
  DType dtype = q.type().dtype;
  std::vector<int64_t> swap = {0, 2, 1, 3};

  auto split = [&](Value x, int64_t len, const std::string &name) {
    Value r = e.op(Op::Reshape, name + "_heads", {x},
                   {{"shape", std::vector<int64_t>{batch, len, heads, dh}}});
    return e.op(Op::Transpose, name + "_t", {r}, {{"perm", swap}});
  };
  e.setScope("q/");
  Value qh = split(affine(e, q, e.operand(3), bias(0)), s, "q");
  e.setScope("k/");
  Value kh = split(affine(e, k, e.operand(4), bias(1)), t, "k");
  e.setScope("v/");
  Value vh = split(affine(e, v, e.operand(5), bias(2)), t, "v");
  e.setScope("");

  Value scores = e.op(Op::Matmul, "scores", {qh, kh}, {{"transpose_b", true}});
  scores = e.op(Op::Mul, "scaled", {scores, e.scalar("scale", dtype, 1.0 / std::sqrt(double(dh)))});
  if (layer->attrBool("causal")) {
    Tensor mask(DType::Bool, {s, t});
    for (int64_t i = 0; i < s; ++i)
      for (int64_t j = 0; j <= i && j < t; ++j)
        mask.set(i * t + j, 1);
    // A large finite value rather than -inf: softmax gives exactly 0 either way, and the
    // constant stays printable in the text and JSON forms.
    scores = e.op(Op::Select, "masked",
                  {e.constant("mask", std::move(mask)), scores, e.scalar("neg_big", dtype, -1e9)});
  }
  Value probs = e.op(Op::Softmax, "probs", {scores}, {{"axis", int64_t(-1)}});
  Value heads4 = e.op(Op::Matmul, "context", {probs, vh});
  Value merged = e.op(Op::Transpose, "context_t", {heads4}, {{"perm", swap}});
  merged = e.op(Op::Reshape, "context_rows", {merged},
                {{"shape", std::vector<int64_t>{batch * s, d}}});
  e.setScope("out/");
  Value out = e.matmul(merged, e.operand(6));
  if (biased)
    out = e.binary(Op::Add, out, bias(3));
  return e.finish(e.reshape(out, {batch, s, d}));
}

} // namespace kiln::detail
