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

/// Checks the body of a fused node against its operand types: a valid graph (verify; its errors
/// are located at the body node at fault) with no params, train steps, step programs or nested
/// fused nodes, and one input per operand, in operand order, of the operand's type. Other
/// errors are located at `loc` and start with `who` ("fused 'f'").
Status checkFusedBody(const Graph &body, const std::vector<TensorType> &operandTypes,
                      const Loc &loc, const std::string &who);

} // namespace kiln
