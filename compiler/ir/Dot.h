// Graphviz DOT rendering of a graph, for looking at models (`dot -Tsvg g.dot > g.svg`).
#pragma once

#include "compiler/ir/Graph.h"

#include <string>
#include <string_view>

namespace kiln {

/// A digraph with one box per node labelled "name\nop\ntype": inputs, params (frozen ones
/// dashed), constants and ops styled distinctly; outputs and train-step losses outlined; edges
/// labelled with the operand index when the user has more than one operand.
std::string writeDot(const Graph &g);

/// Escapes text for a double-quoted DOT string ('"', '\\', newlines; other control bytes dropped).
std::string dotEscape(std::string_view s);

} // namespace kiln
