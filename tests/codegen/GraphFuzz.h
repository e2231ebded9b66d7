// Random-graph generator for the differential fuzzer of the LLVM backend (GraphFuzzTest.cpp).
#pragma once

#include "compiler/ir/Graph.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace kiln::test {

/// Knobs of randomGraph. The defaults are what the fuzz test runs.
struct FuzzOptions {
  int minNodes = 3; ///< op nodes the generator aims for (helpers it adds count too)
  int maxNodes = 12;
  int maxInputs = 3; ///< graph inputs besides the dedicated index/label inputs
  /// Failed attempts (an op that does not fit, an addNode that rejects the attrs) before the
  /// generator stops growing the graph.
  int maxRetries = 200;
  /// Largest magnitude any value may reach (tracked as an interval per value). Keeps the
  /// comparison meaningful: f32 rounding differences of ~1e-7 relative stay well below the
  /// tolerance only while values, and the sums that make them, stay moderate.
  double maxMagnitude = 64;
};

/// A random DAG of FuzzOptions::minNodes..maxNodes op nodes over 1..maxInputs inputs (and maybe
/// a param and a constant), with 1-3 outputs. Deterministic from `seed` (std::mt19937_64 with
/// the bits converted by hand, so every standard library builds the same graph). Operands that
/// an op's domain restricts (log, sqrt, div, pow, cross entropy) are kept inside it, by interval
/// tracking and by wrapping them in abs/add/sigmoid, so the backends compare real numbers.
Graph randomGraph(uint64_t seed, const FuzzOptions &opts = {});

/// Why randomGraph never samples `op`, or "" when it does. Every op of Ops.def is one or the
/// other (a switch without default), so a new op cannot be forgotten.
std::string_view fuzzSkipReason(Op op);

/// The ops randomGraph samples (fuzzSkipReason is empty), in Ops.def order.
std::vector<Op> fuzzedOps();

/// Whether any value `v` is computed from is f32: an f64 output cast from f32 work carries f32
/// rounding (a reordered f32 sum differs in the last f32 bit, 6e-8 relative), so the
/// differential fuzzers hold it to the f32 tolerance.
bool dependsOnF32(Value v);

} // namespace kiln::test
