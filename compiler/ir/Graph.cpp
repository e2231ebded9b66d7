// Graph construction, lookup and rewriting primitives.
#include "compiler/ir/Graph.h"

#include "compiler/ir/ShapeRules.h"
#include "compiler/support/Diagnostic.h"

#include <algorithm>
#include <cassert>

namespace kiln {

bool isValidName(std::string_view name) {
  if (name.empty())
    return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name[0]))
    return false;
  for (char c : name.substr(1))
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '.' && c != '/' && c != '-')
      return false;
  return true;
}

std::unordered_set<const Node *> dependenciesOf(Value v) {
  std::unordered_set<const Node *> seen;
  std::vector<const Node *> stack{v.node};
  while (!stack.empty()) {
    const Node *n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second)
      continue;
    for (const Value &o : n->operands())
      stack.push_back(o.node);
  }
  return seen;
}

Optimizer Optimizer::defaults(Kind kind) {
  Optimizer o;
  o.kind = kind;
  switch (kind) {
  case Kind::Sgd: o.lr = 0.01; break;
  case Kind::RmsProp: o.lr = 0.001; break;
  case Kind::Adam:
  case Kind::AdamW: o.lr = 0.001; break;
  }
  return o;
}

std::string_view optimizerKindName(Optimizer::Kind k) {
  switch (k) {
  case Optimizer::Kind::Sgd: return "sgd";
  case Optimizer::Kind::RmsProp: return "rmsprop";
  case Optimizer::Kind::Adam: return "adam";
  case Optimizer::Kind::AdamW: return "adamw";
  }
  return "?";
}

std::optional<Optimizer::Kind> parseOptimizerKind(std::string_view s) {
  for (auto k : {Optimizer::Kind::Sgd, Optimizer::Kind::RmsProp, Optimizer::Kind::Adam,
                 Optimizer::Kind::AdamW})
    if (optimizerKindName(k) == s)
      return k;
  return std::nullopt;
}

Loc Graph::refineLoc(const Loc &node, const std::string &attr, int operand) const {
  if (locRefiner_)
    return locRefiner_(node, attr, operand);
  Loc l = node;
  if (!l.path.empty()) {
    if (!attr.empty())
      l.path += ".attrs." + attr;
    else if (operand >= 0)
      l.path += ".inputs[" + std::to_string(operand) + "]";
  }
  return l;
}

Expected<Node *> Graph::insert(std::unique_ptr<Node> node) {
  const std::string &name = node->name();
  if (!isValidName(name))
    return errorAt(node->loc(), "invalid name '" + name +
                                    "' (names match [A-Za-z_][A-Za-z0-9_./-]*)");
  if (Node *prev = find(name)) {
    std::string where = prev->loc().line ? " (first defined at " + prev->loc().str() + ")" : "";
    return errorAt(node->loc(), "name '" + name + "' is defined twice" + where);
  }
  Node *raw = node.get();
  byName_.emplace(name, raw);
  if (insertPoint_) {
    auto it = std::find_if(nodes_.begin(), nodes_.end(),
                           [&](auto &n) { return n.get() == insertPoint_; });
    assert(it != nodes_.end() && "insert point not in graph");
    nodes_.insert(it, std::move(node));
  } else {
    nodes_.push_back(std::move(node));
  }
  return raw;
}

static Status checkShape(const std::string &what, const std::string &name, const TensorType &type,
                         const Loc &loc) {
  if (checkedNumElements(type.shape) < 0)
    return errorAt(loc, what + " '" + name + "': shape " + shapeToString(type.shape) +
                            " is invalid or too large (dimensions must be positive, at most " +
                            std::to_string(kMaxTensorElements) + " elements)");
  return Status::ok();
}

Expected<Node *> Graph::addInput(const std::string &name, TensorType type, Loc loc) {
  KILN_TRY(checkShape("input", name, type, loc));
  auto node = std::unique_ptr<Node>(new Node(Op::Input, name, std::move(loc)));
  node->results_ = {std::move(type)};
  return insert(std::move(node));
}

Expected<Node *> Graph::addParam(const std::string &name, TensorType type, Initializer init,
                                 bool trainable, Loc loc) {
  KILN_TRY(checkShape("param", name, type, loc));
  if (trainable && !isFloat(type.dtype))
    return errorAt(loc, "param '" + name + "': a trainable param must be f32 or f64, not " +
                            std::string(dtypeName(type.dtype)) +
                            " (set \"trainable\": false for other state)");
  if (init.kind == InitKind::Value && int64_t(init.data.size()) != type.numElements())
    return errorAt(loc, "param '" + name + "': init data has " + std::to_string(init.data.size()) +
                            " values but shape " + shapeToString(type.shape) + " needs " +
                            std::to_string(type.numElements()));
  auto node = std::unique_ptr<Node>(new Node(Op::Param, name, std::move(loc)));
  node->results_ = {std::move(type)};
  node->init_ = std::move(init);
  node->trainable_ = trainable;
  return insert(std::move(node));
}

Expected<Node *> Graph::addConstant(const std::string &name, Tensor value, Loc loc) {
  auto node = std::unique_ptr<Node>(new Node(Op::Constant, name, std::move(loc)));
  node->results_ = {TensorType{value.dtype(), value.shape()}};
  node->value_ = std::make_shared<const Tensor>(std::move(value));
  return insert(std::move(node));
}

Expected<Node *> Graph::addNode(Op op, const std::string &name, std::vector<Value> operands,
                                AttrMap attrs, Loc loc) {
  const OpInfo &info = opInfo(op);
  std::string who = std::string(info.mnemonic) + " '" + name + "'";
  if (info.has(kSource))
    return errorAt(loc, who + ": '" + std::string(info.mnemonic) +
                            "' is declared in the graph's inputs, params or constants, not as a node");
  if (op == Op::Fused)
    return errorAt(loc, who + ": a fused node needs a body (the fuse pass builds them with "
                              "Graph::addFused)");
  int n = int(operands.size());
  if (n < info.minInputs || (info.maxInputs >= 0 && n > info.maxInputs)) {
    std::string expected =
        info.minInputs == info.maxInputs ? std::to_string(info.minInputs)
        : info.maxInputs < 0             ? "at least " + std::to_string(info.minInputs)
                                         : std::to_string(info.minInputs) + " to " +
                                               std::to_string(info.maxInputs);
    bool one = expected == "1" || expected.ends_with(" 1"); // "1 input", "at least 1 input"
    return errorAt(refineLoc(loc, "", -2), who + ": expects " + expected +
                                               (one ? " input, got " : " inputs, got ") +
                                               std::to_string(n));
  }
  for (int i = 0; i < n; ++i)
    if (!operands[size_t(i)])
      return errorAt(refineLoc(loc, "", i), who + ": input " + std::to_string(i) + " is undefined");

  // Attributes: known names, right kinds; then the shape rule sees them with defaults filled in.
  AttrMap withDefaults;
  for (auto &[key, value] : attrs) {
    const AttrSpec *spec = info.findAttr(key);
    if (!spec) {
      std::string known;
      for (auto &a : info.attrs)
        known += (known.empty() ? "" : ", ") + a.name;
      return errorAt(refineLoc(loc, key, -1),
                     who + ": unknown attribute '" + key + "'" +
                         (known.empty() ? " (this op takes none)" : " (expected " + known + ")"));
    }
    if (std::string e = checkAttrValue(*spec, value); !e.empty())
      return errorAt(refineLoc(loc, key, -1), who + ": " + e);
  }
  for (auto &spec : info.attrs) {
    if (auto it = attrs.find(spec.name); it != attrs.end())
      withDefaults.emplace(spec.name, it->second);
    else if (spec.defaultValue)
      withDefaults.emplace(spec.name, *spec.defaultValue);
    else if (spec.required)
      return errorAt(refineLoc(loc, "", -1), who + ": missing required attribute '" + spec.name + "'");
  }

  std::vector<TensorType> operandTypes;
  for (auto &v : operands)
    operandTypes.push_back(v.type());
  TypeError error;
  auto types = inferTypes(op, operandTypes, withDefaults, error);
  if (!types)
    return errorAt(refineLoc(loc, error.attr, error.operand), who + ": " + error.message);
  for (auto &t : *types)
    if (checkedNumElements(t.shape) < 0)
      return errorAt(loc, who + ": result shape " + shapeToString(t.shape) + " is too large");

  auto node = std::unique_ptr<Node>(new Node(op, name, std::move(loc)));
  node->attrs_ = std::move(attrs);
  node->results_ = std::move(*types);
  KILN_ASSIGN(Node * raw, insert(std::move(node)));
  raw->operands_ = std::move(operands);
  for (unsigned i = 0; i < raw->operands_.size(); ++i)
    raw->operands_[i].node->addUse(Use{raw, i});
  return raw;
}

std::string Graph::uniqueName(const std::string &base) const {
  if (!find(base))
    return base;
  for (int i = 1;; ++i) {
    std::string candidate = base + "_" + std::to_string(i);
    if (!find(candidate))
      return candidate;
  }
}

void Graph::replaceAllUsesWith(Value from, Value to) {
  std::vector<Use> uses;
  for (const Use &u : from.node->uses())
    if (u.user->operand(u.operand) == from)
      uses.push_back(u);
  for (const Use &u : uses)
    u.user->setOperand(u.operand, to);
  for (Value &v : outputs_)
    if (v == from)
      v = to;
  for (TrainStep &s : trainSteps_) {
    if (s.loss == from)
      s.loss = to;
    for (Value &m : s.metrics)
      if (m == from)
        m = to;
  }
  for (StepProgram &p : stepPrograms_) {
    if (p.loss == from)
      p.loss = to;
    for (Value &m : p.metrics)
      if (m == from)
        m = to;
    for (StateUpdate &u : p.updates)
      if (u.value == from)
        u.value = to;
  }
}

void Graph::erase(Node *node) {
  assert(!node->hasUses() && "erasing a node that still has uses");
#ifndef NDEBUG
  for (const StepProgram &p : stepPrograms_) {
    assert(p.loss.node != node && "erasing a step program's loss");
    for (const Value &m : p.metrics)
      assert(m.node != node && "erasing a step program's metric");
    for (const StateUpdate &u : p.updates)
      assert(u.state != node && u.value.node != node && "erasing a node a step program updates");
  }
#endif
  for (unsigned i = 0; i < node->operands_.size(); ++i)
    node->operands_[i].node->removeUse(Use{node, i});
  if (insertPoint_ == node)
    insertPoint_ = nullptr;
  byName_.erase(node->name());
  auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](auto &n) { return n.get() == node; });
  assert(it != nodes_.end());
  nodes_.erase(it);
}

Status Graph::rename(Node *node, const std::string &newName) {
  if (node->name() == newName)
    return Status::ok();
  if (!isValidName(newName))
    return errorAt(node->loc(), "invalid name '" + newName +
                                    "' (names match [A-Za-z_][A-Za-z0-9_./-]*)");
  if (Node *prev = find(newName)) {
    std::string where = prev->loc().line ? " (first defined at " + prev->loc().str() + ")" : "";
    return errorAt(node->loc(), "name '" + newName + "' is defined twice" + where);
  }
  byName_.erase(node->name());
  node->name_ = newName;
  byName_.emplace(newName, node);
  return Status::ok();
}

Node *Graph::find(const std::string &name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : it->second;
}

std::optional<Value> Graph::lookupValue(const std::string &ref) const {
  if (Node *n = find(ref))
    return Value{n, 0};
  size_t colon = ref.rfind(':');
  if (colon == std::string::npos || colon + 1 == ref.size())
    return std::nullopt;
  Node *n = find(ref.substr(0, colon));
  if (!n)
    return std::nullopt;
  unsigned idx = 0;
  for (char c : ref.substr(colon + 1)) {
    if (c < '0' || c > '9' || idx > 1000)
      return std::nullopt;
    idx = idx * 10 + unsigned(c - '0');
  }
  if (idx >= n->numResults())
    return std::nullopt;
  return Value{n, idx};
}

std::vector<Node *> Graph::collect(Op op) const {
  std::vector<Node *> out;
  for (auto &n : nodes_)
    if (n->op() == op)
      out.push_back(n.get());
  return out;
}

const TrainStep *Graph::findTrainStep(const std::string &name) const {
  for (auto &s : trainSteps_)
    if (s.name == name)
      return &s;
  return nullptr;
}

const StepProgram *Graph::findStepProgram(const std::string &name) const {
  for (auto &p : stepPrograms_)
    if (p.name == name)
      return &p;
  return nullptr;
}

Graph Graph::clone() const {
  Graph g(name_);
  g.seed_ = seed_;
  g.weightsFile_ = weightsFile_;
  g.arenaBytes_ = arenaBytes_;
  g.peakLiveBytes_ = peakLiveBytes_;
  g.locRefiner_ = locRefiner_;
  std::unordered_map<const Node *, Node *> map;
  for (auto &n : nodes_) {
    auto copy = std::unique_ptr<Node>(new Node(n->op_, n->name_, n->loc_));
    copy->results_ = n->results_;
    copy->attrs_ = n->attrs_;
    copy->value_ = n->value_;
    copy->init_ = n->init_;
    copy->trainable_ = n->trainable_;
    if (n->body_)
      copy->body_ = std::make_unique<Graph>(n->body_->clone());
    copy->arenaOffsets_ = n->arenaOffsets_;
    for (auto &v : n->operands_)
      copy->operands_.push_back(Value{map.at(v.node), v.index});
    for (unsigned i = 0; i < copy->operands_.size(); ++i)
      copy->operands_[i].node->addUse(Use{copy.get(), i});
    map[n.get()] = copy.get();
    g.byName_.emplace(copy->name_, copy.get());
    g.nodes_.push_back(std::move(copy));
  }
  auto mapValue = [&](Value v) { return v ? Value{map.at(v.node), v.index} : v; };
  for (auto &v : outputs_)
    g.outputs_.push_back(mapValue(v));
  for (auto &s : trainSteps_) {
    TrainStep c = s;
    c.loss = mapValue(s.loss);
    for (auto &p : c.params)
      p = map.at(p);
    for (auto &m : c.metrics)
      m = mapValue(m);
    g.trainSteps_.push_back(std::move(c));
  }
  for (auto &p : stepPrograms_) {
    StepProgram c = p;
    c.loss = mapValue(p.loss);
    for (auto &m : c.metrics)
      m = mapValue(m);
    for (auto &u : c.updates) {
      u.state = map.at(u.state);
      u.value = mapValue(u.value);
    }
    g.stepPrograms_.push_back(std::move(c));
  }
  return g;
}

} // namespace kiln
