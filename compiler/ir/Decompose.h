// Layer decomposition: rewrites layers, losses and metrics (kLayer ops) into primitive ops.
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Status.h"

namespace kiln {

/// Replaces every node whose op has the kLayer trait (dense, simple_rnn, lstm,
/// multi_head_attention and the losses and metrics) by its composition of primitives, exactly as
/// graph-format.md defines it. New nodes are named "<layer>/<part>" and carry the layer's Loc;
/// the final node of each expansion takes over the layer's own name, so "the value named h is
/// still h afterwards". Outputs, train-step losses and metrics follow the replacement.
/// Errors only if a layer node is ill-typed (an unverified graph).
Status decomposeLayers(Graph &g);

} // namespace kiln
