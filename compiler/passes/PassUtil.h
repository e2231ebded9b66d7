// Helpers shared by the rewriting passes: which values are named roots, and replacing a node
// while keeping the names that callers see.
#pragma once

#include "compiler/passes/Pass.h"

#include <functional>
#include <string>
#include <vector>

namespace kiln {

/// Every value read after a run's last node: outputs, train-step and step-program losses and
/// metrics, and step-program update values (null values, e.g. a step without a loss, skipped).
/// Passes must keep these alive and materialised.
std::vector<Value> rootValues(const Graph &g);

/// True if a value of `node` is a graph output, a train-step loss or metric, or a step-program
/// loss or metric: values that callers read back by name, so the name must survive rewrites.
bool isNamedRoot(const Graph &g, const Node *node);

/// Replaces every use of `node`'s (single) result by `with` and erases `node`. When `node` is a
/// named root, its name must survive: `with`'s node takes it over, which is possible only if
/// that node is an op node (not an input, param or constant), not random (its draws are seeded
/// by its name), with one result and not a named root itself. Returns false (graph untouched, reason on the debug stream) when the name
/// cannot be kept.
Expected<bool> replaceNode(Graph &g, Node *node, Value with, PassContext &ctx,
                           std::string_view pass);

/// A fused node made by groupNodes (named like the group's root) and its number of results.
struct GroupedNode {
  Node *node = nullptr;
  size_t numResults = 0;
};

/// Replaces `members` (in graph order; the last is the root) by one `fused` node of `kind` whose
/// body is copies of them (inputs p0, p1, ... for the values read from outside). A member's
/// value becomes a result of the fused node if it is the root, is used outside the group, or
/// `readOutside(member)` says a root of the graph reads it; those uses are rewired and the
/// members erased (the `members` pointers dangle afterwards). `pass` names the pass in an
/// internal error.
Expected<GroupedNode> groupNodes(Graph &g, const std::vector<Node *> &members,
                                 const std::string &kind,
                                 const std::function<bool(const Node *)> &readOutside,
                                 std::string_view pass);

/// True if every element of `t` has exactly the double value `v`, sign of zero included
/// (so -0.0 matches only -0.0). Integers and bools compare by value.
bool allElementsAre(const Tensor &t, double v);

} // namespace kiln
