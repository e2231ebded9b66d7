// Graph: owns nodes in a topological order, plus outputs and training steps.
#pragma once

#include "compiler/ir/Node.h"
#include "kiln/runtime/Status.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace kiln {

struct Optimizer {
  enum class Kind { Sgd, RmsProp, Adam, AdamW };
  Kind kind = Kind::Sgd;
  double lr = 0.01;
  double momentum = 0;
  bool nesterov = false;
  double rho = 0.9;
  double beta1 = 0.9, beta2 = 0.999;
  double epsilon = 1e-7;
  double weightDecay = 0.01;
  bool operator==(const Optimizer &) const = default;
  /// An optimizer of `kind` with the graph format's defaults for it.
  static Optimizer defaults(Kind kind);
};
std::string_view optimizerKindName(Optimizer::Kind k);
std::optional<Optimizer::Kind> parseOptimizerKind(std::string_view s);

struct LrSchedule {
  enum class Kind { None, ExponentialDecay, StepDecay };
  Kind kind = Kind::None;
  double decayRate = 1, decaySteps = 1; ///< exponential_decay
  double factor = 1;                    ///< step_decay
  int64_t every = 1;                    ///< step_decay
  bool operator==(const LrSchedule &) const = default;
};

/// One named training step: loss, params it updates, optimizer and options (graph-format spec).
struct TrainStep {
  std::string name = "train";
  Value loss;
  std::vector<Node *> params; ///< after import: always explicit (defaults resolved)
  bool paramsGiven = false;   ///< whether the file listed params (kept for round trips)
  Optimizer optimizer;
  double l1 = 0, l2 = 0;
  bool hasRegularization = false;
  std::optional<double> clipNorm;
  LrSchedule schedule;
  std::vector<Value> metrics;
  Loc loc;
};

/// One assignment of a step program: after the step, the param `state` holds `value`.
struct StateUpdate {
  Node *state = nullptr;
  Value value;
};

/// A train step built into the graph (compiler/autodiff/TrainGraph.h): running it evaluates the
/// loss, the metrics and every update value from the current state, then assigns all updates at
/// once, so the order of `updates` does not matter.
struct StepProgram {
  std::string name;
  Value loss;
  std::vector<Value> metrics;
  std::vector<StateUpdate> updates;
};

class Graph {
public:
  explicit Graph(std::string name = "graph") : name_(std::move(name)) {}
  Graph(Graph &&) noexcept = default;
  Graph &operator=(Graph &&) noexcept = default;
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  const std::string &name() const { return name_; }
  void setName(std::string n) { name_ = std::move(n); }
  uint64_t seed() const { return seed_; }
  void setSeed(uint64_t s) { seed_ = s; }
  /// The `weights` field as written in the file (relative to it), or empty.
  const std::string &weightsFile() const { return weightsFile_; }
  void setWeightsFile(std::string f) { weightsFile_ = std::move(f); }

  // ---- memory plan (compiler/passes/PlanMemoryPass.cpp; offsets are on the nodes) ----
  /// Size of the one arena that holds every planned value; -1 while the graph is unplanned.
  int64_t arenaBytes() const { return arenaBytes_; }
  void setArenaBytes(int64_t bytes) { arenaBytes_ = bytes; }
  /// The plan's lower bound: the largest total (aligned) size of values live at once; -1 while
  /// unplanned. arenaBytes() / peakLiveBytes() measures the planner's waste.
  int64_t peakLiveBytes() const { return peakLiveBytes_; }
  void setPeakLiveBytes(int64_t bytes) { peakLiveBytes_ = bytes; }

  // ---- building ----
  /// Adds a source node. Errors (a name used twice, an invalid name or shape) are located.
  Expected<Node *> addInput(const std::string &name, TensorType type, Loc loc = {});
  Expected<Node *> addParam(const std::string &name, TensorType type, Initializer init,
                            bool trainable = true, Loc loc = {});
  Expected<Node *> addConstant(const std::string &name, Tensor value, Loc loc = {});
  /// Adds an op node: checks arity, attributes (converting where allowed) and operand types,
  /// and infers the result types with the op's shape rule. Errors read
  /// "loc: error: conv2d 'c1': <what is wrong> ($.path)".
  Expected<Node *> addNode(Op op, const std::string &name, std::vector<Value> operands,
                           AttrMap attrs = {}, Loc loc = {});

  /// Adds a fused node (a fusion group) owning `body`: the body's inputs, in order, must match
  /// the operands' types, and its outputs give the result types. A body has no params, train
  /// steps, step programs or fused nodes of its own. Errors are located at `loc`.
  Expected<Node *> addFused(const std::string &name, std::vector<Value> operands,
                            std::unique_ptr<Graph> body, AttrMap attrs = {}, Loc loc = {});

  /// New nodes go before `node` (to keep topological order when rewriting); null: at the end.
  void setInsertPoint(Node *node) { insertPoint_ = node; }
  /// A name not yet used in the graph: `base`, else `base_1`, `base_2`, ...
  std::string uniqueName(const std::string &base) const;

  // ---- rewriting ----
  /// Points every use of `from` (operands, outputs, train-step losses and metrics, step-program
  /// losses, metrics and update values) at `to`.
  void replaceAllUsesWith(Value from, Value to);
  /// Removes a node that has no uses and is not an output; a node that a step program uses (as
  /// loss, metric, update value or updated state) may not be erased either.
  void erase(Node *node);
  /// Gives `node` a new name (checked like a new node's: valid and not yet used). Used when a
  /// rewrite's final node takes over the name of the node it replaced, and by the builder.
  Status rename(Node *node, const std::string &newName);

  // ---- queries ----
  Node *find(const std::string &name) const;
  /// Resolves "name" or "name:k" to a value.
  std::optional<Value> lookupValue(const std::string &ref) const;
  const std::vector<std::unique_ptr<Node>> &nodes() const { return nodes_; }
  std::vector<Node *> inputs() const { return collect(Op::Input); }
  std::vector<Node *> params() const { return collect(Op::Param); }
  std::vector<Node *> constants() const { return collect(Op::Constant); }

  const std::vector<Value> &outputs() const { return outputs_; }
  void addOutput(Value v) { outputs_.push_back(v); }
  void setOutputs(std::vector<Value> outs) { outputs_ = std::move(outs); }

  const std::vector<TrainStep> &trainSteps() const { return trainSteps_; }
  std::vector<TrainStep> &trainSteps() { return trainSteps_; }
  void addTrainStep(TrainStep step) { trainSteps_.push_back(std::move(step)); }
  const TrainStep *findTrainStep(const std::string &name) const;

  /// Step programs: train steps with their backward and update nodes built in.
  const std::vector<StepProgram> &stepPrograms() const { return stepPrograms_; }
  std::vector<StepProgram> &stepPrograms() { return stepPrograms_; }
  void addStepProgram(StepProgram program) { stepPrograms_.push_back(std::move(program)); }
  const StepProgram *findStepProgram(const std::string &name) const;

  /// A deep copy (nodes, attributes, values, fused bodies, outputs, train steps, step
  /// programs; locations kept).
  Graph clone() const;

  /// Frontends may refine where an error points: given a node's location and the attribute
  /// or operand at fault, return the location of that attribute or operand. The default
  /// appends ".attrs.NAME" or ".inputs[I]" to the node's JSON path; operand -2 means the
  /// inputs list as a whole (wrong arity).
  using LocRefiner = std::function<Loc(const Loc &node, const std::string &attr, int operand)>;
  void setLocRefiner(LocRefiner r) { locRefiner_ = std::move(r); }
  Loc refineLoc(const Loc &node, const std::string &attr, int operand) const;

private:
  Expected<Node *> insert(std::unique_ptr<Node> node);
  std::vector<Node *> collect(Op op) const;

  std::string name_;
  uint64_t seed_ = 0;
  std::string weightsFile_;
  int64_t arenaBytes_ = -1;
  int64_t peakLiveBytes_ = -1;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unordered_map<std::string, Node *> byName_;
  std::vector<Value> outputs_;
  std::vector<TrainStep> trainSteps_;
  std::vector<StepProgram> stepPrograms_;
  Node *insertPoint_ = nullptr;
  LocRefiner locRefiner_;
};

/// Every node that `v` depends on through operands, its own node included (iterative, so
/// deep graphs cannot overflow the stack).
std::unordered_set<const Node *> dependenciesOf(Value v);

/// True if `name` matches the graph format's `[A-Za-z_][A-Za-z0-9_./-]*`.
bool isValidName(std::string_view name);

} // namespace kiln
