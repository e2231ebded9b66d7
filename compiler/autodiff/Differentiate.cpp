// Reverse-mode differentiation: a reverse walk over the loss's dependency cone that calls each
// node's gradient rule and sums the gradients of values used more than once.
#include "compiler/autodiff/Differentiate.h"

#include "compiler/autodiff/GradRules.h"
#include "compiler/support/Diagnostic.h"

#include <map>
#include <unordered_set>
#include <utility>

namespace kiln {

namespace {

using ValueKey = std::pair<const Node *, unsigned>;
ValueKey keyOf(Value v) { return {v.node, v.index}; }

std::string who(const Node &n) { return std::string(n.info().mnemonic) + " '" + n.name() + "'"; }

/// Whether a gradient can flow through value `v` at all: only float values carry one.
bool carriesGradient(Value v) { return isFloat(v.type().dtype); }

/// The nodes of `cone` (in graph order) through which some wrt value reaches the loss: a wrt
/// node itself, or a differentiable node with a float result and an operand that is reached
/// through a float value. Everything else would only produce gradients nobody asked for.
std::unordered_set<const Node *> activeNodes(const std::vector<Node *> &cone,
                                             const std::vector<Value> &wrt) {
  std::unordered_set<const Node *> active;
  for (Value v : wrt)
    active.insert(v.node);
  for (Node *n : cone) {
    if (active.count(n) || n->info().has(kNoGrad) || n->op() == Op::StopGradient)
      continue;
    bool floatResult = false;
    for (unsigned r = 0; r < n->numResults(); ++r)
      floatResult |= carriesGradient(n->result(r));
    if (!floatResult)
      continue;
    for (Value in : n->operands())
      if (active.count(in.node) && carriesGradient(in)) {
        active.insert(n);
        break;
      }
  }
  return active;
}

} // namespace

Expected<std::vector<Value>> differentiate(Graph &g, Value loss, const std::vector<Value> &wrt) {
  if (!loss)
    return Status::error("internal error: differentiate needs a loss value");
  const TensorType &lossType = loss.type();
  if (!isFloat(lossType.dtype) || !lossType.isScalar())
    return errorAt(loss.node->loc(), "cannot differentiate " + who(*loss.node) +
                                         ": the loss must be a float scalar, got " +
                                         lossType.str());

  // The cone in graph order (topological); snapshotted because rules append nodes.
  std::unordered_set<const Node *> deps = dependenciesOf(loss);
  std::vector<Node *> cone;
  for (const auto &n : g.nodes())
    if (deps.count(n.get()))
      cone.push_back(n.get());
  for (Node *n : cone)
    if (n->info().has(kLayer))
      return errorAt(n->loc(), "internal error: " + who(*n) +
                                   " is a layer; run decomposeLayers before differentiating");
  std::unordered_set<const Node *> active = activeNodes(cone, wrt);

  GradBuilder b(g);
  std::map<ValueKey, Value> adjoint;
  // Adds `grad` to the gradient accumulated for `v` (fan-out: each use contributes).
  auto accumulate = [&](Value v, Value grad) {
    auto [it, inserted] = adjoint.emplace(keyOf(v), grad);
    if (inserted)
      return;
    b.begin(*v.node, {});
    it->second = b.op(Op::Add, "sum", {it->second, grad});
  };

  if (active.count(loss.node)) {
    b.begin(*loss.node, {});
    accumulate(loss, b.constant("seed", Tensor::scalar(lossType.dtype, 1)));
  }
  std::vector<Value> dx;
  for (auto it = cone.rbegin(); it != cone.rend() && b.status(); ++it) {
    Node &n = **it;
    if (n.info().has(kSource) || !active.count(&n))
      continue;
    auto found = adjoint.find(keyOf(n.result()));
    if (found == adjoint.end())
      continue; // reached from a wrt value, but none of its uses lead to the loss
    std::vector<bool> needs(n.numOperands());
    bool any = false;
    for (unsigned i = 0; i < n.numOperands(); ++i)
      any |= needs[i] = active.count(n.operand(i).node) && carriesGradient(n.operand(i));
    if (!any)
      continue;
    b.begin(n, needs);
    KILN_TRY(gradRule(b, n, found->second, dx));
    for (unsigned i = 0; i < n.numOperands(); ++i) {
      if (!needs[i] || !dx[i])
        continue;
      if (dx[i].type() != n.operand(i).type())
        return errorAt(n.loc(), "internal error: the gradient rule of " + who(n) + " gave " +
                                    dx[i].type().str() + " for operand " + std::to_string(i) +
                                    " of type " + n.operand(i).type().str());
      accumulate(n.operand(i), dx[i]);
    }
  }
  KILN_TRY(b.status());

  std::vector<Value> grads;
  for (Value v : wrt) {
    auto found = adjoint.find(keyOf(v));
    if (found != adjoint.end()) {
      grads.push_back(found->second);
      continue;
    }
    // Not reached: the loss does not depend on v (or only through integers or stop_gradient).
    b.begin(*v.node, {});
    grads.push_back(b.zeros(v.type()));
  }
  KILN_TRY(b.status());
  return grads;
}

} // namespace kiln
