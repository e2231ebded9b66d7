// KernelKey: when two scheduled nodes can share one compiled kernel, and by how much the entry
// moves the shared kernel's operands for each.
#pragma once

#include "compiler/ir/Graph.h"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace kiln::codegen {

/// The element index of a slice's first element in its operand (begin clamped as the kernel
/// does, see emitSlice).
int64_t sliceOrigin(const Node &n);

/// Per operand of a top-level node, the origin its kernel may be moved by (see kernelKey), or
/// nullopt when the operand is read at fixed positions. A slice: its first element. A loop group:
/// for a body input read only by slices, the smallest of their first elements.
std::vector<std::optional<int64_t>> movableOrigins(const Node &n);

/// What a kernel depends on: op, attributes, operand and result types and, for a fused node, the
/// body's structure (names left out). Two nodes with the same key get the same kernel; "" means
/// the node never shares (random ops, whose seed derives from their name). Slices leave their
/// position out where the entry can move the operand instead (`topLevel` slices entirely; in a
/// loop group, slices of an input read only by slices keep their position relative to
/// `relativeTo`'s origins). KernelKey.cpp says more.
std::string kernelKey(const Node &n, bool topLevel = false,
                      const std::unordered_map<const Node *, int64_t> *relativeTo = nullptr);

} // namespace kiln::codegen
