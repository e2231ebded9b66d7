// Helpers shared by the rewriting passes (see PassUtil.h).
#include "compiler/passes/PassUtil.h"

#include <cmath>

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

} // namespace kiln
