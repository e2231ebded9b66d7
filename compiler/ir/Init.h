// Starting values of params: a weights-file value, or the param's initializer materialised.
#pragma once

#include "compiler/ir/Node.h"
#include "kiln/runtime/Status.h"
#include "kiln/runtime/Tensor.h"

#include <cstdint>
#include <utility>

namespace kiln {

/// Keras' fan rule: scalar 1/1; [n]: n/n; [in, out]; rank >= 3 (HWIO filters): with
/// receptive = prod(shape[:-2]), fan_in = shape[-2]*receptive, fan_out = shape[-1]*receptive.
std::pair<int64_t, int64_t> computeFans(const Shape &shape);

/// The seed an initializer draws from: init.seed if set, else hashSeed(graphSeed, param name).
uint64_t initSeed(const Node &param, uint64_t graphSeed);

/// The param's starting value: Node::value() if set (weights file), else its Initializer
/// materialised in the param's dtype. Random initializers draw element i of stream
/// (seed, counter k) on the k-th attempt (k > 0 only for truncated normals re-drawing values
/// beyond 2 stddev), so the values do not depend on the dtype beyond rounding.
/// Random initializers on non-float params are an error naming the param.
Expected<Tensor> initialParamValue(const Node &param, uint64_t graphSeed);

} // namespace kiln
