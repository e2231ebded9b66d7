// The IR verifier: re-checks every invariant of a graph (names, SSA order, use lists, attributes,
// types, outputs, train steps, step programs) so that passes and importers can be checked after
// the fact.
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Status.h"

namespace kiln {

/// Re-checks a whole graph and returns the first problem found as a located error
/// ("file:line:col: error: <op> '<name>': ..."), or ok.
Status verify(const Graph &g);

/// Re-checks one node of `g`: its name, operands (defined earlier in `g`), use lists, arity,
/// attributes and stored result types; for source nodes, their declared type and value.
Status verifyNode(const Graph &g, const Node &node);

} // namespace kiln
