// Internal to TrainGraph.cpp and Optimizers.cpp: the node factory of one train step and the
// optimizer update rules built with it.
#pragma once

#include "compiler/ir/Graph.h"

#include <map>
#include <string>
#include <vector>

namespace kiln::detail {

/// Emits the nodes of one train step at the end of the graph, each at the step's Loc and named
/// "<step>/<part>" (made unique). Like the layer Expander, the first error is kept and later
/// calls return a null Value, so the rules read straight-line and are checked once.
class StepBuilder {
public:
  StepBuilder(Graph &g, const TrainStep &step) : g_(g), step_(step) {}

  Graph &graph() { return g_; }
  const TrainStep &step() const { return step_; }
  const Status &status() const { return status_; }

  /// An op node named "<step>/<part>".
  Value op(Op op, const std::string &part, std::vector<Value> operands, AttrMap attrs = {});
  /// A scalar constant "<step>/<part>" of `dtype`.
  Value scalar(const std::string &part, DType dtype, double value);
  /// A zero-initialised non-trainable param "<step>/<part>" (optimizer slots, counters).
  Node *state(const std::string &part, TensorType type);
  /// `v` converted to `dtype` (v itself when it already has it).
  Value castTo(Value v, DType dtype, const std::string &part);

  Value add(const std::string &part, Value a, Value b) { return op(Op::Add, part, {a, b}); }
  Value sub(const std::string &part, Value a, Value b) { return op(Op::Sub, part, {a, b}); }
  Value mul(const std::string &part, Value a, Value b) { return op(Op::Mul, part, {a, b}); }
  Value div(const std::string &part, Value a, Value b) { return op(Op::Div, part, {a, b}); }

  /// The 1-based step count t (after this step's increment) as a scalar of `dtype`, cached.
  Value stepCount(DType dtype);
  /// The scheduled learning rate for this step as a scalar of `dtype`, cached.
  Value learningRate(DType dtype);
  /// 1 - beta^t as a scalar of `dtype` (adam's bias correction), cached per beta and dtype.
  Value biasCorrection(double beta, const std::string &part, DType dtype);

  /// Set by the driver: the counter's value after this step's increment (i64 scalar).
  void setCounter(Value next) { counterNext_ = next; }

private:
  Graph &g_;
  const TrainStep &step_;
  Status status_;
  Value counterNext_;
  std::map<DType, Value> stepCount_, learningRate_;
  std::map<std::pair<std::string, DType>, Value> biasCorrection_;
};

/// A param's new value (and its slots' new values) for one optimizer step.
struct ParamUpdate {
  Value param;
  std::vector<StateUpdate> slots;
};

/// Emits the optimizer update of `param` with gradient `grad` (graph-format.md's table), adding
/// the slots it needs; the result holds the param's new value and each slot's new value.
ParamUpdate emitOptimizerUpdate(StepBuilder &b, Node *param, Value grad);

} // namespace kiln::detail
