// The gradient rules: one function per op, declared by expanding Ops.def, and the builder they
// emit backward nodes with.
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Status.h"

#include <string>
#include <vector>

namespace kiln {

/// Emits the backward nodes of one forward node. Every node is appended at the end of the graph,
/// named "grad/<forward>/<part>" (made unique) and located at the forward node's Loc. The first
/// error is kept and later calls return a null Value, so a rule can be written straight-line
/// and checked once at the end (differentiate does that).
class GradBuilder {
public:
  explicit GradBuilder(Graph &g) : g_(g) {}

  /// Starts the rule of `forward`; needs[i] says whether operand i wants a gradient (rules may
  /// skip the others, and differentiate ignores what they return for them).
  void begin(Node &forward, std::vector<bool> needs);
  Graph &graph() { return g_; }
  Node &forward() { return *forward_; }
  bool needs(unsigned operand) const { return operand < needs_.size() && needs_[operand]; }
  const Status &status() const { return status_; }
  /// Records an internal error (a rule that cannot handle its node); the first one is kept.
  void fail(const std::string &message);

  // ---- nodes ----
  /// A node of the forward node's backward part `part`; null if an operand is null or after
  /// an error.
  Value op(Op op, const std::string &part, std::vector<Value> operands, AttrMap attrs = {});
  Value constant(const std::string &part, Tensor value);
  /// A scalar ([]) constant of `dtype`; binary ops broadcast it.
  Value scalar(DType dtype, double value);
  /// A constant of type `t` filled with zeros.
  Value zeros(const TensorType &t);

  Value unary(Op o, Value x) { return op(o, std::string(opName(o)), {x}); }
  Value binary(Op o, Value a, Value b) { return op(o, std::string(opName(o)), {a, b}); }
  Value add(Value a, Value b) { return binary(Op::Add, a, b); }
  Value sub(Value a, Value b) { return binary(Op::Sub, a, b); }
  Value mul(Value a, Value b) { return binary(Op::Mul, a, b); }
  Value div(Value a, Value b) { return binary(Op::Div, a, b); }
  Value neg(Value x) { return unary(Op::Neg, x); }
  /// x * c for a scalar c in x's dtype.
  Value scale(Value x, double c);
  Value select(Value cond, Value a, Value b) { return op(Op::Select, "select", {cond, a, b}); }
  /// select(cond, g, 0): g where cond holds, zero elsewhere (broadcast of cond and g).
  Value where(Value cond, Value g);
  Value cast(Value x, DType to);
  Value reshape(Value x, const Shape &shape);
  Value broadcastTo(Value x, const Shape &shape);
  Value transpose(Value x, std::vector<int64_t> perm);
  /// reduce_sum over `axes` (normalised, non-negative); no axes: returns x unchanged.
  Value reduceSum(Value x, std::vector<int64_t> axes, bool keepdims);
  Value reduceMean(Value x, std::vector<int64_t> axes, bool keepdims);

  /// Undoes NumPy broadcasting: sums `grad` over the axes that broadcasting added or stretched
  /// to reach its shape from `target`, then reshapes it to `target`. Returns `grad` unchanged
  /// when the shapes are equal.
  Value unbroadcast(Value grad, const Shape &target);

private:
  Graph &g_;
  Node *forward_ = nullptr;
  std::vector<bool> needs_;
  Status status_;
};

/// The gradient rule of `n`'s op: given dy = d(loss)/d(n's result), sets dx[i] to
/// d(loss)/d(operand i) (the operand's exact type) or leaves it null: no gradient flows there.
/// dx arrives sized to n's operands, all null. Non-differentiable ops say so with noGradient;
/// layers are an internal error (decompose first); source ops never get here.
Status gradRule(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx);

namespace grad {

/// One rule per op of Ops.def, defined in Grad<Family>.cpp. A row without a rule fails to link.
#define KILN_OP(Name, Mnemonic, MinIn, MaxIn, NumResults, Traits, Attrs)                           \
  void grad##Name(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx);
#include "compiler/ir/Ops.def"

/// The explicit answer of a non-differentiable op (or operand): nothing flows back.
inline void noGradient(std::vector<Value> &dx) {
  for (Value &v : dx)
    v = Value{};
}

/// Result shape of a reduction with keepdims, and its normalised axes (absent axes = all).
std::vector<int64_t> reductionAxes(const Node &n);
Shape keptShape(const Shape &in, const std::vector<int64_t> &axes);

/// The effective attributes of `n` (stored values and schema defaults), for copying them onto a
/// gradient-kernel op whose schema repeats the forward op's.
AttrMap effectiveAttrs(const Node &n);

} // namespace grad
} // namespace kiln
