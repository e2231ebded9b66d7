// Memory planning: liveness of arena values, the planner, and the checker of a stored plan.
//
// The arena holds every top-level value that is not a param or constant: op results and the
// graph's inputs (the runtime copies feeds into the arena before a run). Params and optimizer
// slots are persistent state; constants are read-only data. The plan is stored in the IR
// (Node::arenaOffset, Graph::arenaBytes/peakLiveBytes) by PlanMemoryPass.
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Status.h"

#include <cstdint>
#include <vector>

namespace kiln {

/// Every arena offset and every value's reserved size are multiples of this (a cache line, and
/// the widest vector load on AVX-512).
inline constexpr int64_t kArenaAlignment = 64;

/// The value's size in bytes, rounded up to kArenaAlignment.
int64_t alignedBytes(const TensorType &type);

/// True if the value lives in the arena: a result of an op node or an input.
bool isArenaValue(Value v);

/// One arena value and the program points (indices into Graph::nodes(); numNodes is "after the
/// last node") where it must hold its contents: from its definition (0 for inputs, which are
/// copied in before the first node) to its last use. Outputs, train-step losses and metrics, and
/// step-program losses, metrics and update values are used at numNodes. One plan serves every
/// entry (predict and each step program), since each runs a subsequence of this order.
struct LiveRange {
  Value value;
  int64_t bytes = 0; ///< aligned
  int begin = 0;
  int end = 0; ///< inclusive; at least begin (a result nothing reads still gets written)
  bool root = false; ///< used at the end (output, loss, metric, update value)
};

/// The live ranges of every arena value, in node order (inputs first by position).
std::vector<LiveRange> arenaLiveRanges(const Graph &g);

/// True if result `result` of `n` may be written over operand `operand` when both have `bytes`
/// bytes: a reshape or flatten (the same bytes), an elementwise node, or a fused loop whose body
/// is elementwise only, reading and writing element i with the same element size and count (so
/// no broadcast operand and no change of element size, which would move element i).
bool mayRunInPlace(const Node &n, unsigned result, unsigned operand);

/// What the planner decided, before it is stored in the graph.
struct MemoryPlan {
  std::vector<LiveRange> ranges;
  std::vector<int64_t> offsets; ///< parallel to ranges
  int64_t arenaBytes = 0;
  /// The largest total size of buffers live at one program point, a value written in place of
  /// its operand sharing that operand's buffer: a lower bound for any packing of these buffers.
  int64_t peakLiveBytes = 0;
  int inPlace = 0; ///< values that took a dying operand's buffer
};

/// Plans the arena for `g` (does not modify it): values are visited in node order; each result
/// takes a dying operand's buffer when mayRunInPlace allows and the operand is an op result that
/// is not a root, else the best-fitting block of a coalescing free list (results of one node and
/// the inputs are placed largest first); a block no free one fits extends the arena.
MemoryPlan planMemory(const Graph &g);

/// Stores `plan` in `g`: offsets on the nodes (params and constants reset to unplanned),
/// arenaBytes and peakLiveBytes. Returns true if anything differed from what `g` held.
bool storeMemoryPlan(Graph &g, const MemoryPlan &plan);

/// Checks the plan stored in `g`: every arena value has an aligned offset and fits in
/// arenaBytes, params and constants have none, and no two values that are live at the same
/// program point overlap, except a result written in place over an operand that dies at that
/// node (same offset, same size, mayRunInPlace). The message names the first conflict.
Status checkMemoryPlan(const Graph &g);

/// "1.2 MiB", "512 B": a byte count for reports.
std::string formatBytes(int64_t bytes);

} // namespace kiln
