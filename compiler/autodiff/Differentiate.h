// Reverse-mode automatic differentiation over the graph IR: adds the backward nodes to the graph.
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Status.h"

#include <vector>

namespace kiln {

/// Adds to `g` the nodes computing d(loss)/d(wrt[i]) and returns them (types equal wrt's types).
/// loss: float scalar. The graph must contain no kLayer nodes (run decomposeLayers first).
/// A wrt value the loss does not depend on gets a zero constant. Fan-out gradients are summed,
/// broadcasting is undone by reduce_sum+reshape, stop_gradient, kNoGrad ops and integer values
/// stop the flow.
///
/// New nodes are appended at the end of the graph (so it stays topologically ordered), named
/// "grad/<forward node>/<part>" (made unique) and located at their forward node's Loc. Only the
/// nodes of the loss's dependency cone that lie on a path from some wrt value are visited.
/// Errors: a loss that is not a float scalar (located at the loss), a layer node in the cone
/// (an internal error: decompose before differentiating).
Expected<std::vector<Value>> differentiate(Graph &g, Value loss, const std::vector<Value> &wrt);

} // namespace kiln
