// The IR verifier. It trusts nothing that builders normally guarantee: passes rewrite graphs
// through lower-level primitives (setOperand, setResultTypes), and this is what catches them.
#include "compiler/ir/Verifier.h"

#include "compiler/ir/ShapeRules.h"
#include "compiler/support/Diagnostic.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace kiln {

namespace {

using Positions = std::unordered_map<const Node *, size_t>;

Positions positionsOf(const Graph &g) {
  Positions pos;
  for (size_t i = 0; i < g.nodes().size(); ++i)
    pos.emplace(g.nodes()[i].get(), i);
  return pos;
}

std::string who(const Node &n) { return std::string(opName(n.op())) + " '" + n.name() + "'"; }

Status nodeError(const Node &n, const std::string &message) {
  return errorAt(n.loc(), who(n) + ": " + message);
}

std::string typesStr(const std::vector<TensorType> &types) {
  std::string s;
  for (size_t i = 0; i < types.size(); ++i)
    s += (i ? ", " : "") + types[i].str();
  return s;
}

bool validValue(const Value &v, const Positions &pos) {
  return v.node && pos.count(v.node) && v.index < v.node->numResults();
}

Status checkSource(const Node &n) {
  if (n.numOperands() != 0)
    return nodeError(n, "a source node has no operands, found " + std::to_string(n.numOperands()));
  if (!n.attrs().empty())
    return nodeError(n, "a source node has no attributes");
  const TensorType &t = n.type();
  if (checkedNumElements(t.shape) < 0)
    return nodeError(n, "declared shape " + shapeToString(t.shape) + " is invalid or too large");
  const auto &value = n.value();
  auto checkValue = [&](const char *what) -> Status {
    if (value->dtype() != t.dtype || value->shape() != t.shape)
      return nodeError(n, std::string(what) + " " + std::string(dtypeName(value->dtype())) +
                              shapeToString(value->shape()) + " does not match its type " +
                              t.str());
    return Status::ok();
  };
  if (n.isConstant()) {
    if (!value)
      return nodeError(n, "constant has no value");
    return checkValue("value");
  }
  if (n.isParam()) {
    if (n.trainable() && !isFloat(t.dtype))
      return nodeError(n, "a trainable param must be f32 or f64, not " +
                              std::string(dtypeName(t.dtype)));
    if (value)
      KILN_TRY(checkValue("loaded value"));
    if (n.init().kind == InitKind::Value && int64_t(n.init().data.size()) != t.numElements())
      return nodeError(n, "init data has " + std::to_string(n.init().data.size()) +
                              " values but shape " + shapeToString(t.shape) + " needs " +
                              std::to_string(t.numElements()));
    return Status::ok();
  }
  // An input is fed at each run, so it carries no value of its own.
  if (value)
    return nodeError(n, "an input has no value");
  return Status::ok();
}

/// Operands defined earlier in this graph, and use lists that mirror operands both ways.
Status checkOperandsAndUses(const Node &n, const Positions &pos) {
  size_t self = pos.at(&n);
  for (unsigned i = 0; i < n.numOperands(); ++i) {
    Value v = n.operand(i);
    std::string which = "operand " + std::to_string(i);
    if (!v.node)
      return nodeError(n, which + " is undefined");
    if (!pos.count(v.node))
      return nodeError(n, which + " '" + v.node->name() + "' does not belong to this graph");
    if (pos.at(v.node) >= self)
      return nodeError(n, which + " '" + v.node->name() + "' is not defined before its use");
    if (v.index >= v.node->numResults())
      return nodeError(n, which + " refers to result " + std::to_string(v.index) + " of '" +
                              v.node->name() + "', which has " +
                              std::to_string(v.node->numResults()));
    const auto &uses = v.node->uses();
    if (std::find(uses.begin(), uses.end(), Use{const_cast<Node *>(&n), i}) == uses.end())
      return nodeError(n, which + " is missing from the use list of '" + v.node->name() + "'");
  }
  for (const Use &u : n.uses()) {
    if (!u.user || !pos.count(u.user))
      return nodeError(n, "use list names a node outside this graph");
    if (u.operand >= u.user->numOperands() || u.user->operand(u.operand).node != &n)
      return nodeError(n, "use list says '" + u.user->name() + "' operand " +
                              std::to_string(u.operand) + " uses it, but it does not");
  }
  return Status::ok();
}

Status checkOpNode(const Node &n) {
  const OpInfo &info = n.info();
  int count = int(n.numOperands());
  if (count < info.minInputs || (info.maxInputs >= 0 && count > info.maxInputs))
    return nodeError(n, "has " + std::to_string(count) + " operands, expected " +
                            (info.minInputs == info.maxInputs
                                 ? std::to_string(info.minInputs)
                                 : std::to_string(info.minInputs) + " to " +
                                       (info.maxInputs < 0 ? "any" : std::to_string(info.maxInputs))));
  AttrMap withDefaults;
  for (const auto &[key, value] : n.attrs()) {
    const AttrSpec *spec = info.findAttr(key);
    if (!spec)
      return nodeError(n, "unknown attribute '" + key + "'");
    AttrValue copy = value;
    if (std::string e = checkAttrValue(*spec, copy); !e.empty())
      return nodeError(n, e);
    // Builders store converted values (an int given for a float is stored as a float); rules
    // rely on that.
    if (!(copy == value))
      return nodeError(n, "attribute '" + key + "' is stored unconverted as " +
                              attrValueToString(value));
  }
  for (const AttrSpec &spec : info.attrs) {
    if (auto v = n.attr(spec.name))
      withDefaults.emplace(spec.name, *v);
    else if (spec.required)
      return nodeError(n, "missing required attribute '" + spec.name + "'");
  }
  std::vector<TensorType> operandTypes;
  for (const Value &v : n.operands())
    operandTypes.push_back(v.type());
  TypeError error;
  auto types = inferTypes(n.op(), operandTypes, withDefaults, error);
  if (!types)
    return nodeError(n, error.message);
  for (const TensorType &t : *types)
    if (checkedNumElements(t.shape) < 0)
      return nodeError(n, "result shape " + shapeToString(t.shape) + " is too large");
  if (*types != n.resultTypes())
    return nodeError(n, "stored result type " + typesStr(n.resultTypes()) +
                            " differs from the inferred " + typesStr(*types));
  return Status::ok();
}

/// A fused node has no shape rule: its body is re-verified instead, and its results must be
/// the body's outputs.
Status checkFusedNode(const Node &n) {
  if (!n.body())
    return nodeError(n, "has no body");
  if (n.numOperands() < 1)
    return nodeError(n, "has no operands");
  for (const auto &[key, value] : n.attrs()) {
    const AttrSpec *spec = n.info().findAttr(key);
    if (!spec)
      return nodeError(n, "unknown attribute '" + key + "'");
    AttrValue copy = value;
    if (std::string e = checkAttrValue(*spec, copy); !e.empty())
      return nodeError(n, e);
  }
  std::vector<TensorType> operandTypes;
  for (const Value &v : n.operands())
    operandTypes.push_back(v.type());
  KILN_TRY(checkFusedBody(*n.body(), operandTypes, n.loc(), who(n)));
  std::vector<TensorType> bodyTypes;
  for (const Value &v : n.body()->outputs())
    bodyTypes.push_back(v.type());
  if (bodyTypes != n.resultTypes())
    return nodeError(n, "stored result type " + typesStr(n.resultTypes()) +
                            " differs from its body's outputs " + typesStr(bodyTypes));
  return Status::ok();
}

Status checkNode(const Graph &g, const Node &n, const Positions &pos) {
  if (!isValidName(n.name()))
    return nodeError(n, "invalid name (names match [A-Za-z_][A-Za-z0-9_./-]*)");
  if (g.find(n.name()) != &n)
    return nodeError(n, "is not registered under its name in the graph");
  if (!pos.count(&n))
    return nodeError(n, "does not belong to this graph");
  // numResults -1 (fused): as many as the body returns, checked by checkFusedNode.
  if (n.info().numResults >= 0 && int(n.numResults()) != n.info().numResults)
    return nodeError(n, "has " + std::to_string(n.numResults()) + " results, expected " +
                            std::to_string(n.info().numResults));
  if (n.body() && n.op() != Op::Fused)
    return nodeError(n, "only a fused node has a body");
  KILN_TRY(checkOperandsAndUses(n, pos));
  if (n.info().has(kSource))
    return checkSource(n);
  if (n.op() == Op::Fused)
    return checkFusedNode(n);
  return checkOpNode(n);
}

Status checkTrainStep(const TrainStep &s, const Positions &pos) {
  std::string step = "train step '" + s.name + "'";
  if (!validValue(s.loss, pos))
    return errorAt(s.loc, step + ": loss is not a value of this graph");
  std::string loss = "loss '" + s.loss.name() + "'";
  const TensorType &lt = s.loss.type();
  if (!isFloat(lt.dtype) || !lt.isScalar())
    return errorAt(s.loc, step + ": " + loss + " must be a float scalar, got " + lt.str());
  if (s.params.empty())
    return errorAt(s.loc, step + ": updates no params");
  auto deps = dependenciesOf(s.loss);
  std::unordered_set<const Node *> listed;
  for (const Node *p : s.params) {
    if (!p || !pos.count(p))
      return errorAt(s.loc, step + ": a listed param does not belong to this graph");
    if (!p->isParam())
      return errorAt(s.loc, step + ": '" + p->name() + "' is not a param");
    if (!p->trainable())
      return errorAt(s.loc, step + ": param '" + p->name() + "' is not trainable");
    if (!listed.insert(p).second)
      return errorAt(s.loc, step + ": param '" + p->name() + "' is listed twice");
    if (!deps.count(p))
      return errorAt(s.loc, step + ": " + loss + " does not depend on param '" + p->name() + "'");
  }
  for (const Value &m : s.metrics)
    if (!validValue(m, pos))
      return errorAt(s.loc, step + ": a metric is not a value of this graph");
  return Status::ok();
}

Status checkStepProgram(const StepProgram &p, const Positions &pos) {
  std::string step = "step program '" + p.name + "'";
  if (!validValue(p.loss, pos))
    return errorAt(Loc{}, step + ": loss is not a value of this graph");
  const TensorType &lt = p.loss.type();
  if (!isFloat(lt.dtype) || !lt.isScalar())
    return errorAt(p.loss.node->loc(),
                   step + ": loss '" + p.loss.name() + "' must be a float scalar, got " + lt.str());
  for (const Value &m : p.metrics)
    if (!validValue(m, pos))
      return errorAt(Loc{}, step + ": a metric is not a value of this graph");
  std::unordered_set<const Node *> updated;
  for (const StateUpdate &u : p.updates) {
    if (!u.state || !pos.count(u.state))
      return errorAt(Loc{}, step + ": an updated state does not belong to this graph");
    std::string state = "state '" + u.state->name() + "'";
    if (!u.state->isParam())
      return errorAt(u.state->loc(), step + ": " + state + " is not a param");
    if (!updated.insert(u.state).second)
      return errorAt(u.state->loc(), step + ": " + state + " is updated twice");
    if (!validValue(u.value, pos))
      return errorAt(u.state->loc(), step + ": the update of " + state +
                                         " is not a value of this graph");
    if (u.value.type() != u.state->type())
      return errorAt(u.value.node->loc(), step + ": the update of " + state + " is " +
                                              u.value.type().str() + ", expected " +
                                              u.state->type().str());
  }
  return Status::ok();
}

} // namespace

Status checkFusedBody(const Graph &body, const std::vector<TensorType> &operandTypes,
                      const Loc &loc, const std::string &who) {
  auto fail = [&](const std::string &m) { return errorAt(loc, who + ": " + m); };
  KILN_TRY(verify(body));
  if (!body.params().empty())
    return fail("its body declares param '" + body.params().front()->name() +
                "' (a body has none)");
  if (!body.trainSteps().empty() || !body.stepPrograms().empty())
    return fail("its body has train steps or step programs (a body has none)");
  for (const auto &n : body.nodes())
    if (n->op() == Op::Fused)
      return fail("its body contains fused node '" + n->name() + "' (fused nodes do not nest)");
  std::vector<Node *> inputs = body.inputs();
  if (inputs.size() != operandTypes.size())
    return fail("has " + std::to_string(operandTypes.size()) + " operands but its body has " +
                std::to_string(inputs.size()) + " inputs");
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i]->type() != operandTypes[i])
      return fail("operand " + std::to_string(i) + " is " + operandTypes[i].str() +
                  " but body input '" + inputs[i]->name() + "' is " + inputs[i]->type().str());
  return Status::ok();
}

Status verifyNode(const Graph &g, const Node &node) {
  return checkNode(g, node, positionsOf(g));
}

Status verify(const Graph &g) {
  Positions pos = positionsOf(g);
  std::unordered_set<std::string> names;
  for (const auto &n : g.nodes()) {
    if (!names.insert(n->name()).second)
      return errorAt(n->loc(), "name '" + n->name() + "' is defined twice");
    KILN_TRY(checkNode(g, *n, pos));
  }
  if (g.outputs().empty())
    return errorAt(Loc{}, "graph '" + g.name() + "' has no outputs");
  for (size_t i = 0; i < g.outputs().size(); ++i)
    if (!validValue(g.outputs()[i], pos))
      return errorAt(Loc{}, "graph '" + g.name() + "': output " + std::to_string(i) +
                                " is not a value of this graph");
  std::unordered_set<std::string> steps;
  for (const TrainStep &s : g.trainSteps()) {
    if (!steps.insert(s.name).second)
      return errorAt(s.loc, "train step '" + s.name + "' is defined twice");
    KILN_TRY(checkTrainStep(s, pos));
  }
  std::unordered_set<std::string> programs;
  for (const StepProgram &p : g.stepPrograms()) {
    if (!programs.insert(p.name).second)
      return errorAt(Loc{}, "step program '" + p.name + "' is defined twice");
    KILN_TRY(checkStepProgram(p, pos));
  }
  return Status::ok();
}

} // namespace kiln
