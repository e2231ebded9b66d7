// dce: removes nodes whose values no root needs.
//
// Before:
//   input %x : f32[4]
//   const %c : f32[4] = dense<1.0>
//   %unused = exp(%x) : f32[4]
//   %y = relu(%x) : f32[4]
//   return %y
// After:
//   input %x : f32[4]
//   %y = relu(%x) : f32[4]
//   return %y
//
// Roots: graph outputs, train-step losses and metrics, and step-program losses, metrics and
// update values. Inputs and params are never removed, even when unused: they are the graph's
// interface (feeds, checkpoints, weights files) and removing one would change what a caller
// must supply. Nothing needs to run before dce; it is most useful after fold, simplify and cse,
// which leave dead nodes behind. No op has side effects (state updates are step-program data,
// random ops only draw numbers), so an unused node can always go.
#include "compiler/passes/PassRegistry.h"
#include "compiler/passes/PassUtil.h"

#include <unordered_set>

namespace kiln {

namespace {

/// Every node that some root depends on.
std::unordered_set<const Node *> liveNodes(const Graph &g) {
  std::vector<Value> roots = rootValues(g);
  // One walk over operands from all roots together (dependenciesOf per root would revisit
  // shared subgraphs once per root).
  std::unordered_set<const Node *> live;
  std::vector<const Node *> stack;
  for (const Value &v : roots)
    if (v && live.insert(v.node).second)
      stack.push_back(v.node);
  while (!stack.empty()) {
    const Node *n = stack.back();
    stack.pop_back();
    for (const Value &op : n->operands())
      if (live.insert(op.node).second)
        stack.push_back(op.node);
  }
  return live;
}

} // namespace

Expected<bool> DcePass::run(Graph &g, PassContext &ctx) {
  std::unordered_set<const Node *> live = liveNodes(g);
  std::vector<Node *> dead;
  for (const auto &n : g.nodes())
    if (!live.count(n.get()) && !n->isInput() && !n->isParam())
      dead.push_back(n.get());
  // Users come after their operands, so erasing in reverse order always erases a node after
  // every (dead) user of it.
  for (auto it = dead.rbegin(); it != dead.rend(); ++it) {
    ctx.note("dce: removed '" + (*it)->name() + "'");
    g.erase(*it);
  }
  return !dead.empty();
}

} // namespace kiln
