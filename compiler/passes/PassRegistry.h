// The pass registry: every pass class (declared here from Passes.def) and lookup by pipeline name.
#pragma once

#include "compiler/passes/Pass.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

// One class per Passes.def row. Each is defined (its run()) in its own file, e.g. Fold.cpp.
#define KILN_PASS(Class, Name, Description)                                                        \
  class Class final : public Pass {                                                                \
  public:                                                                                          \
    std::string_view name() const override { return Name; }                                        \
    Expected<bool> run(Graph &g, PassContext &ctx) override;                                       \
  };
#include "compiler/passes/Passes.def"

/// One registered pass: its pipeline name and a one-line description.
struct PassInfo {
  std::string_view name;
  std::string_view description;
};

/// Every registered pass, in Passes.def order.
const std::vector<PassInfo> &listPasses();

/// A new instance of the pass called `name`, or null if there is none.
std::unique_ptr<Pass> createPass(std::string_view name);

/// "decompose, fold, simplify, ..." (for error messages and --help).
std::string knownPassNames();

} // namespace kiln
