// Helpers shared by the rewriting passes (see PassUtil.h).
#include "compiler/passes/PassUtil.h"

#include "compiler/support/Diagnostic.h"

#include <cmath>
#include <map>
#include <unordered_set>

namespace kiln {

std::vector<Value> rootValues(const Graph &g) {
  std::vector<Value> roots;
  auto add = [&](const std::vector<Value> &vs) {
    for (const Value &v : vs)
      if (v)
        roots.push_back(v);
  };
  add(g.outputs());
  for (const TrainStep &s : g.trainSteps()) {
    add({s.loss});
    add(s.metrics);
  }
  for (const StepProgram &p : g.stepPrograms()) {
    add({p.loss});
    add(p.metrics);
    for (const StateUpdate &u : p.updates)
      add({u.value});
  }
  return roots;
}

bool isNamedRoot(const Graph &g, const Node *node) {
  auto in = [&](const std::vector<Value> &vs) {
    for (const Value &v : vs)
      if (v.node == node)
        return true;
    return false;
  };
  if (in(g.outputs()))
    return true;
  for (const TrainStep &s : g.trainSteps())
    if (s.loss.node == node || in(s.metrics))
      return true;
  for (const StepProgram &p : g.stepPrograms())
    if (p.loss.node == node || in(p.metrics))
      return true;
  return false;
}

Expected<bool> replaceNode(Graph &g, Node *node, Value with, PassContext &ctx,
                           std::string_view pass) {
  bool keepName = isNamedRoot(g, node);
  if (keepName) {
    Node *w = with.node;
    // A random node's draws are seeded by its name, so renaming it would change its numbers.
    if (w->info().has(kSource) || w->info().has(kRandom) || w->numResults() != 1 ||
        isNamedRoot(g, w)) {
      ctx.note(std::string(pass) + ": kept '" + node->name() + "': it is read back by name and '" +
               w->name() + "' cannot take the name over");
      return false;
    }
  }
  std::string name = node->name();
  g.replaceAllUsesWith(node->result(0), with);
  g.erase(node);
  if (keepName)
    KILN_TRY(g.rename(with.node, name));
  return true;
}

bool allElementsAre(const Tensor &t, double v) {
  for (int64_t i = 0; i < t.numElements(); ++i) {
    double x = t.at(i);
    if (x != v || std::signbit(x) != std::signbit(v))
      return false;
  }
  return true;
}

namespace {
/// A body input name not used by a member: p0, p1, ... (suffixed on a clash).
std::string inputName(size_t k, const std::unordered_set<std::string> &taken) {
  std::string name = "p" + std::to_string(k);
  while (taken.count(name))
    name += "_";
  return name;
}
} // namespace

Expected<GroupedNode> groupNodes(Graph &g, const std::vector<Node *> &members,
                                 const std::string &kind,
                                 const std::function<bool(const Node *)> &readOutside,
                                 std::string_view pass) {
  Node *root = members.back();
  auto internal = [&](const Status &s) -> Status {
    return errorAt(root->loc(), "internal error: " + std::string(pass) +
                                    ": building the group of '" + root->name() +
                                    "': " + s.message());
  };
  std::unordered_set<const Node *> in(members.begin(), members.end());
  std::unordered_set<std::string> taken;
  for (Node *m : members)
    taken.insert(m->name());
  auto body = std::make_unique<Graph>(root->name());
  std::vector<Value> operands;
  std::map<std::pair<const Node *, unsigned>, Value> inner;
  for (Node *m : members)
    for (const Value &o : m->operands()) {
      if (in.count(o.node) || inner.count({o.node, o.index}))
        continue;
      auto input = body->addInput(inputName(operands.size(), taken), o.type(), o.node->loc());
      if (!input)
        return internal(input.status());
      inner[{o.node, o.index}] = (*input)->result();
      operands.push_back(o);
    }
  std::vector<Node *> results;
  for (Node *m : members) {
    std::vector<Value> ops;
    for (const Value &o : m->operands())
      ops.push_back(inner.at({o.node, o.index}));
    auto copy = body->addNode(m->op(), m->name(), std::move(ops), m->attrs(), m->loc());
    if (!copy)
      return internal(copy.status());
    inner[{m, 0}] = (*copy)->result();
    bool outside = m == root || readOutside(m);
    for (const Use &u : m->uses())
      outside |= !in.count(u.user);
    if (outside) {
      body->addOutput((*copy)->result());
      results.push_back(m);
    }
  }
  std::string name = root->name();
  g.setInsertPoint(root);
  auto fused = g.addFused(g.uniqueName(name + "." + kind), std::move(operands), std::move(body),
                          AttrMap{{"kind", kind}}, root->loc());
  g.setInsertPoint(nullptr);
  if (!fused)
    return internal(fused.status());
  for (size_t k = 0; k < results.size(); ++k)
    g.replaceAllUsesWith(results[k]->result(), (*fused)->result(unsigned(k)));
  for (auto it = members.rbegin(); it != members.rend(); ++it)
    g.erase(*it);
  KILN_TRY(g.rename(*fused, name));
  return GroupedNode{*fused, results.size()};
}

} // namespace kiln
