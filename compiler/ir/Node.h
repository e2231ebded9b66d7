// Node, Value and Use: the SSA core of the graph IR.
#pragma once

#include "compiler/ir/Attr.h"
#include "compiler/ir/OpInfo.h"
#include "compiler/ir/Types.h"
#include "compiler/support/Loc.h"
#include "kiln/runtime/Tensor.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

class Node;
class Graph;

/// One result of a node: the SSA value that operands refer to.
struct Value {
  Node *node = nullptr;
  unsigned index = 0;

  explicit operator bool() const { return node != nullptr; }
  bool operator==(const Value &) const = default;
  const TensorType &type() const;
  /// "h" for result 0 of a single-result node, "h:1" otherwise (the graph format's spelling).
  std::string name() const;
};

/// One use of a value: operand `operand` of node `user`.
struct Use {
  Node *user;
  unsigned operand;
  bool operator==(const Use &) const = default;
};

/// How a param gets its starting value when no weights file or --params supplies one.
enum class InitKind {
  Zeros, Ones, Constant, Uniform, Normal, GlorotUniform, GlorotNormal, HeUniform, HeNormal, Value
};
std::string_view initKindName(InitKind k);
std::optional<InitKind> parseInitKind(std::string_view s);

struct Initializer {
  InitKind kind = InitKind::Zeros;
  double value = 0;                ///< constant
  double low = -0.05, high = 0.05; ///< uniform (Keras defaults)
  double mean = 0, stddev = 0.05;  ///< normal (Keras defaults)
  std::vector<double> data;        ///< value: flat row-major
  std::optional<uint64_t> seed;    ///< default: derived from the graph seed and the param name
  bool operator==(const Initializer &) const = default;
};

class Node {
public:
  Op op() const { return op_; }
  const OpInfo &info() const { return opInfo(op_); }
  const std::string &name() const { return name_; }
  const Loc &loc() const { return loc_; }
  void setLoc(Loc loc) { loc_ = std::move(loc); }

  unsigned numOperands() const { return unsigned(operands_.size()); }
  Value operand(unsigned i) const { return operands_[i]; }
  const std::vector<Value> &operands() const { return operands_; }
  /// Replaces operand i, keeping use lists right.
  void setOperand(unsigned i, Value v);

  unsigned numResults() const { return unsigned(results_.size()); }
  Value result(unsigned i = 0) { return Value{this, i}; }
  const TensorType &type(unsigned i = 0) const { return results_[i]; }
  const std::vector<TensorType> &resultTypes() const { return results_; }
  void setResultTypes(std::vector<TensorType> types) { results_ = std::move(types); }

  const std::vector<Use> &uses() const { return uses_; }
  bool hasUses() const { return !uses_.empty(); }

  // ---- attributes: stored values, or the schema default from Ops.def ----
  const AttrMap &attrs() const { return attrs_; }
  bool hasAttr(const std::string &name) const { return attrs_.count(name) != 0; }
  /// The stored value, else the default; nullopt for an absent optional attribute.
  std::optional<AttrValue> attr(const std::string &name) const;
  int64_t attrInt(const std::string &name) const;
  double attrFloat(const std::string &name) const;
  bool attrBool(const std::string &name) const;
  std::string attrStr(const std::string &name) const; ///< str and enum kinds
  DType attrDType(const std::string &name) const;
  std::optional<std::vector<int64_t>> attrInts(const std::string &name) const;
  std::optional<std::vector<double>> attrFloats(const std::string &name) const;

  // ---- source ops ----
  bool isInput() const { return op_ == Op::Input; }
  bool isParam() const { return op_ == Op::Param; }
  bool isConstant() const { return op_ == Op::Constant; }
  /// Constant value; for a param, the starting value from a weights file (else null).
  const std::shared_ptr<const Tensor> &value() const { return value_; }
  void setValue(std::shared_ptr<const Tensor> v) { value_ = std::move(v); }
  const Initializer &init() const { return init_; }
  void setInit(Initializer init) { init_ = std::move(init); }
  bool trainable() const { return trainable_; }
  void setTrainable(bool t) { trainable_ = t; }

  // ---- memory plan (compiler/passes/PlanMemoryPass.cpp) ----
  /// Byte offset of result `result` in the executable's arena; -1 while unplanned (and always
  /// for params and constants, which live in persistent state or read-only data).
  int64_t arenaOffset(unsigned result = 0) const {
    return result < arenaOffsets_.size() ? arenaOffsets_[result] : -1;
  }
  /// Sets the arena offset of result `result` (-1: unplanned).
  void setArenaOffset(int64_t offset, unsigned result = 0) {
    if (arenaOffsets_.size() <= result)
      arenaOffsets_.resize(result + 1, -1);
    arenaOffsets_[result] = offset;
  }
  /// True if any result has an arena offset.
  bool hasArenaOffset() const {
    for (int64_t o : arenaOffsets_)
      if (o >= 0)
        return true;
    return false;
  }

  // ---- fused nodes ----
  /// The body of a fused node (inputs match the operands, outputs give the results); null for
  /// every other op. Built by Graph::addFused.
  const Graph *body() const { return body_.get(); }
  Graph *body() { return body_.get(); }

  ~Node();

private:
  friend class Graph;
  Node(Op op, std::string name, Loc loc); // out of line, like ~Node: body_ needs a complete Graph
  void addUse(Use u) { uses_.push_back(u); }
  void removeUse(Use u);

  Op op_;
  std::string name_;
  Loc loc_;
  std::vector<Value> operands_;
  std::vector<TensorType> results_;
  AttrMap attrs_;
  std::vector<Use> uses_;
  std::shared_ptr<const Tensor> value_;
  Initializer init_;
  bool trainable_ = true;
  std::vector<int64_t> arenaOffsets_; ///< per result; missing entries are -1 (unplanned)
  std::unique_ptr<Graph> body_; ///< fused nodes only
};

} // namespace kiln
