// The reference interpreter: plain loops that define every op's semantics (the oracle that the
// JIT, AOT and oneDNN backends are tested against).
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Safetensors.h"
#include "kiln/runtime/Status.h"
#include "kiln/runtime/Tensor.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace kiln {

/// What a single op evaluation may depend on besides its operands.
struct EvalContext {
  bool training = false;   ///< dropout is active only in training runs
  uint64_t graphSeed = 0;  ///< seeds random ops that set no `seed` attr
  uint64_t runCounter = 0; ///< stream counter of random ops: every run draws anew
};

/// One op on concrete operand tensors; result tensors in result order. Run-time faults (gather
/// index out of range) return errorAt(node.loc(), "gather 'emb': index 12 is out of range [0,
/// 10)"). Operands whose types differ from the node's operand types are an (internal) error.
Expected<std::vector<Tensor>> evalOp(const Node &node, std::span<const Tensor> operands,
                                     const EvalContext &ctx);

/// Runs a whole graph with evalOp, node by node in topological order.
class Interpreter {
public:
  /// Prepares `graph`: clones it, expands layers/losses with decomposeLayers, materialises param
  /// values (initialParamValue) and constants.
  static Expected<Interpreter> create(const Graph &graph);

  Interpreter(Interpreter &&) noexcept = default;
  Interpreter &operator=(Interpreter &&) noexcept = default;

  /// Inference: feeds by input name (every input required, dtype and shape checked, error names
  /// the input), returns every graph output by name in output order. Dropout is identity.
  Expected<NamedTensors> run(const NamedTensors &feeds);
  /// Evaluates the named values ("name" or "name:k") of the original graph (for tests and
  /// tools). Only the inputs that the named values depend on must be fed.
  Expected<NamedTensors> evaluate(const NamedTensors &feeds, const std::vector<std::string> &names,
                                  bool training = false);

  /// Runs one step program of a training graph (compiler/autodiff/TrainGraph.h): evaluates its
  /// loss, metrics and every update from the current state (training mode: dropout active),
  /// then assigns all updates at once, so no update sees another's new value. Returns the loss
  /// and metrics by name (the loss under the loss value's name), loss first. Only the inputs the
  /// step needs must be fed; an unknown feed name or step name is an error, and on any error no
  /// state changes. Advances runCount like run, so random ops draw anew at every step.
  Expected<NamedTensors> trainStep(const std::string &stepName, const NamedTensors &feeds);

  /// Current param values by name, in the graph's param order.
  const NamedTensors &params() const { return params_; }
  /// Replaces param values by name; an unknown name or a wrong dtype or shape is an error (and
  /// then nothing is changed).
  Status setParams(const NamedTensors &values);
  /// Number of run/evaluate/trainStep calls so far: the stream counter of the next run's random ops.
  uint64_t runCount() const { return runCount_; }
  /// Sets the run counter, as when resuming from a checkpoint (kiln/runtime/Checkpoint.h).
  void setRunCount(uint64_t count) { runCount_ = count; }
  /// The decomposed graph being interpreted.
  const Graph &graph() const { return *graph_; }
  /// --check-numerics: every float result of every node is checked for NaN and Inf; a run
  /// stops at the first with an error naming the node and its location (a step then changes
  /// no state).
  void setCheckNumerics(bool on) { checkNumerics_ = on; }

private:
  explicit Interpreter(std::unique_ptr<Graph> g) : graph_(std::move(g)) {}
  Expected<NamedTensors> evalValues(const NamedTensors &feeds, const std::vector<Value> &values,
                                    const std::vector<std::string> &names, bool training,
                                    bool requireAllInputs);

  std::unique_ptr<Graph> graph_;
  NamedTensors params_;
  std::unordered_map<const Node *, size_t> paramIndex_; ///< param node -> index in params_
  uint64_t runCount_ = 0;
  bool checkNumerics_ = false;
};

} // namespace kiln
