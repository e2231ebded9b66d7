// Pass: one named graph transformation, and what the pass manager hands it.
//
// A pass is a small unit with a text-form test (tests/passes/*.kir, run through kiln-opt and
// FileCheck). Each pass file opens with a before/after example and says which passes it expects
// to have run before it.
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Status.h"

#include <ostream>
#include <string>
#include <string_view>

namespace kiln {

/// Shared state and output channels for the passes of one pipeline run.
struct PassContext {
  /// Debug output (refusal reasons, decisions); null when not requested (`--debug-passes`).
  std::ostream *debug = nullptr;
  /// Writes a line to the debug stream if there is one.
  void note(const std::string &line) const {
    if (debug)
      *debug << line << "\n";
  }
};

class Pass {
public:
  virtual ~Pass() = default;
  /// The name used in pipelines: "fuse-elementwise".
  virtual std::string_view name() const = 0;
  /// Transforms `g`; returns true iff it changed the graph. Errors are user-facing (located).
  virtual Expected<bool> run(Graph &g, PassContext &ctx) = 0;
};

} // namespace kiln
