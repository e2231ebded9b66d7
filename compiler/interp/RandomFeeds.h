// Random values for every input of a graph, for tools (kilnc make-inputs) and tests: floats in
// [0, 1), integer inputs in the range their consumers make meaningful.
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Safetensors.h"

#include <cstdint>

namespace kiln {

/// The exclusive upper bound of an integer input: the class count when it feeds a loss or metric
/// as labels, the table size for gather indices, the depth for one_hot; otherwise 2.
int64_t integerInputRange(const Node &input);

/// One tensor per graph input, from std::mt19937_64(seed) with the bits converted by hand (not
/// through <random> distributions), so that files are identical across standard libraries.
/// `batches` > 0 adds a leading batch dimension (the layout `kilnc train --inputs` reads).
Expected<NamedTensors> randomFeeds(const Graph &g, uint64_t seed, int64_t batches = 0);

} // namespace kiln
