// Shared helper of DecomposeLayers.cpp and DecomposeLosses.cpp: emits the nodes of one expansion.
#pragma once

#include "compiler/ir/Graph.h"

#include <string>
#include <vector>

namespace kiln::detail {

/// Builds the primitive nodes that replace one layer node: every node goes just before the
/// layer, is named "<layer>/<part>" (made unique) and carries the layer's Loc. The first error
/// is kept and later calls return a null Value, so an expansion can be written straight-line
/// and checked once at the end.
class Expander {
public:
  Expander(Graph &g, Node *layer) : g_(g), layer_(layer) { g.setInsertPoint(layer); }

  Node *layer() const { return layer_; }
  Value operand(unsigned i) const { return layer_->operand(i); }
  /// Prefixes the parts of the nodes made from now on ("t3/" for step 3 of an RNN).
  void setScope(std::string scope) { scope_ = std::move(scope); }
  const Status &status() const { return status_; }

  /// A primitive node; `part` names it within the layer.
  Value op(Op op, const std::string &part, std::vector<Value> operands, AttrMap attrs = {});
  /// A scalar constant of `dtype`.
  Value scalar(const std::string &part, DType dtype, double value);
  /// A constant holding `value`.
  Value constant(const std::string &part, Tensor value);

  // Shorthands for the ops expansions use most.
  Value unary(Op o, Value x) { return op(o, std::string(opName(o)), {x}); }
  Value binary(Op o, Value a, Value b) { return op(o, std::string(opName(o)), {a, b}); }
  Value matmul(Value a, Value b) { return binary(Op::Matmul, a, b); }
  Value slice(Value x, std::vector<int64_t> begin, std::vector<int64_t> end);
  Value reshape(Value x, std::vector<int64_t> shape);
  Value reduce(Op o, Value x, std::vector<int64_t> axes);

  /// Replaces the layer by `result`, erases it and gives the result's node the layer's name.
  Status finish(Value result);

private:
  Graph &g_;
  Node *layer_;
  Status status_;
  std::string scope_;
};

Status expandDense(Expander &e);
Status expandSimpleRnn(Expander &e);
Status expandLstm(Expander &e);
Status expandMultiHeadAttention(Expander &e);
Status expandLoss(Expander &e);

} // namespace kiln::detail
