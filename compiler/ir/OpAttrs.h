// Attribute values in the form kernels and rules use (normalised axes, defaults resolved), so
// that every backend reads an attribute the same way the shape rule did.
#pragma once

#include "compiler/ir/Node.h"

#include <vector>

namespace kiln {

/// A transpose node's permutation with negative entries normalised, or the default (reversal).
/// The node must have passed its shape rule.
std::vector<int64_t> transposePerm(const Node &transpose);

} // namespace kiln
