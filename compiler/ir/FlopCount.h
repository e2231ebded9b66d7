// Floating-point operation counts of nodes and graphs, the numerator of every GFLOP/s figure.
//
// The convention (what a FLOP is here) is the usual one for deep-learning benchmarks, so Kiln's
// numbers read like PyTorch's or a paper's:
//   - matmul: 2*M*N*K per batch element (a multiply and an add per MAC);
//   - conv2d and both its gradient kernels: 2 * (output elements) * KH*KW*IC/groups, which is
//     2*N*OC*OH*OW*IC*KH*KW/groups; conv2d's optional bias adds one per output element;
//   - elementwise ops (arithmetic, comparisons, select, cast, random draws, dropout, gelu_grad):
//     one per result element, whatever the instruction count of exp or tanh;
//   - reductions and argmax: one per input element; pools and their gradients: one per window
//     element per output (or per gradient) element; gather_grad: one add per gradient element;
//   - softmax and log_softmax: five per element (max, subtract, exp, sum, divide/subtract);
//     layer_norm: seven per element (mean, subtract, square, sum, scale, gamma, beta);
//   - data movement (reshape, flatten, transpose, concat, slice, slice_grad, broadcast_to,
//     gather, one_hot, stop_gradient) and sources: zero;
//   - layers and losses: the sum over their decomposition into primitives (Decompose.h), so a
//     layer counts exactly what it becomes; fused nodes: the sum over their bodies.
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Status.h"

#include <string_view>

namespace kiln {

/// FLOPs of one execution of `n` (see the convention above). Types must be verified.
double flopCount(const Node &n);

/// FLOPs of every top-level node of `g` (sources count zero): one pass over the whole graph,
/// forward, backward and updates together if it is a training graph.
double flopCount(const Graph &g);

/// FLOPs of one run of an entry: "predict" counts the nodes the outputs depend on; a step
/// program's name counts the nodes its loss, metrics and update values depend on (forward,
/// backward and optimizer); a train step without a step program (a graph not yet through
/// buildTrainingGraph) counts its loss and metrics, the forward pass only. An unknown name is
/// an error naming the entries the graph has.
Expected<double> flopCount(const Graph &g, std::string_view entry);

} // namespace kiln
