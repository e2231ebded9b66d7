// Training graphs: each train step becomes a step program inside the graph (loss, gradients,
// clipping, learning-rate schedule and optimizer updates as ordinary nodes).
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Status.h"

namespace kiln {

/// Builds the training graph: a clone of `g` with layers decomposed and, for each train step, the
/// regularized loss, gradients (differentiate), clip_norm, lr schedule and optimizer update nodes.
/// Optimizer slots and step counters become non-trainable params ("<step>/<param>/m",
/// "<step>/t", zeros) that the step program updates along with the params. The train steps
/// themselves are kept, so the result still describes where its programs came from.
/// Errors: a graph that already has step programs, or a step that cannot be differentiated;
/// they are located at the train step.
Expected<Graph> buildTrainingGraph(const Graph &g);

} // namespace kiln
