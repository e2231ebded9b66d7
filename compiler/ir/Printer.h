// The IR text form, printing side: a Graph as text that Parser.h reads back exactly.
#pragma once

#include "compiler/ir/Graph.h"

#include <cstdint>
#include <string>

namespace kiln {

/// How printGraph renders a graph.
struct PrintOptions {
  /// Print loc(...) on every source, node and train step. With locations off, a reparsed graph
  /// gets the text positions instead.
  bool locations = true;
  /// Values with more elements than this print as `dense<...N elements>`, which the parser
  /// rejects; -1 prints every value (the parseable form).
  int64_t elideValuesOver = -1;
};

/// Prints the whole graph: name, seed, weights file, every node in order (sources with their
/// declared types, inits and values; ops with operands, attributes and result types), outputs,
/// train steps and step programs. parseGraph(printGraph(g)) rebuilds a graph that prints
/// identically.
std::string printGraph(const Graph &g, const PrintOptions &opts = {});

/// Shortest text that reads back as the same double ("0.5", "1e-07", "2.0", "inf", "-nan").
/// Always recognisable as a float: it contains '.', 'e', or is an inf/nan form.
std::string formatFloat(double d);
/// The same for a float (f32) value, shortest for the float, not the widened double.
std::string formatFloat32(float f);
/// A double-quoted string literal with \" \\ \n \t \r and \xHH escapes for other control bytes.
std::string quoteString(std::string_view s);

} // namespace kiln
