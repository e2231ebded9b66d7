// PassManager: runs a pipeline of passes ("decompose,fold,simplify,cse,dce") over a graph, with
// verification after each pass, IR dumps and timing.
#pragma once

#include "compiler/ir/Printer.h"
#include "compiler/passes/Pass.h"

#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// How a PassManager runs its pipeline.
struct PassManagerOptions {
  /// Run verify(g) after every pass (an invalid graph is an internal error naming the pass), and
  /// check that a pass which reported "unchanged" left the printed graph identical. On in tests
  /// and debug builds; costs a print of the graph per pass.
  bool verifyEach = true;
  /// Print the graph after each pass with one of these names (`--print-ir-after=fold,cse`).
  std::vector<std::string> printAfter;
  /// Print the graph after every pass (`--print-ir-after-all`).
  bool printAfterAll = false;
  /// Print a table of wall time per pass when the pipeline finishes (`--time-passes`).
  bool timePasses = false;
  /// Where IR dumps and the timing table go; null means std::cerr.
  std::ostream *out = nullptr;
  /// Debug output of the passes (refusal reasons, decisions) and of the manager; null: none.
  std::ostream *debug = nullptr;
  /// How IR dumps are printed.
  PrintOptions print;
};

/// Wall time of one pass run, in pipeline order.
struct PassTiming {
  std::string name;
  double seconds = 0;
  bool changed = false;
};

class PassManager {
public:
  explicit PassManager(PassManagerOptions opts = {}) : opts_(std::move(opts)) {}
  PassManager(PassManager &&) noexcept = default;
  PassManager &operator=(PassManager &&) noexcept = default;

  /// A manager for the comma-separated pipeline `text`. An unknown pass name (in the pipeline or
  /// in opts.printAfter) is an error that lists the known passes.
  static Expected<PassManager> create(std::string_view pipeline, PassManagerOptions opts = {});

  /// Appends the passes named in `pipeline` (same errors as create).
  Status addPipeline(std::string_view pipeline);
  /// Appends a pass instance (tests add their own passes this way).
  void addPass(std::unique_ptr<Pass> pass) { passes_.push_back(std::move(pass)); }

  /// Runs every pass in order; returns whether any pass changed the graph. A pass's own error is
  /// returned as it is (located); a verifier failure or a false "unchanged" is an error
  /// "internal error: pass 'NAME' ...".
  Expected<bool> run(Graph &g);

  /// Timings of the last run, one per pass in pipeline order.
  const std::vector<PassTiming> &timings() const { return timings_; }
  /// The pipeline as text ("fold,cse").
  std::string pipelineText() const;
  const PassManagerOptions &options() const { return opts_; }

private:
  std::ostream &out() const;
  bool shouldPrintAfter(std::string_view name) const;
  void printTimings(std::ostream &os) const;

  PassManagerOptions opts_;
  std::vector<std::unique_ptr<Pass>> passes_;
  std::vector<PassTiming> timings_;
};

/// Splits "a, b,c" into {"a","b","c"}; an empty entry ("a,,b") is an error. An empty or
/// all-blank text is an empty pipeline.
Expected<std::vector<std::string>> splitPipeline(std::string_view pipeline);

} // namespace kiln
