// The pass registry: name -> pass instance, expanded from Passes.def.
#include "compiler/passes/PassRegistry.h"

namespace kiln {

const std::vector<PassInfo> &listPasses() {
  static const std::vector<PassInfo> passes = {
#define KILN_PASS(Class, Name, Description) {Name, Description},
#include "compiler/passes/Passes.def"
  };
  return passes;
}

std::unique_ptr<Pass> createPass(std::string_view name) {
#define KILN_PASS(Class, Name, Description)                                                        \
  if (name == Name)                                                                                \
    return std::make_unique<Class>();
#include "compiler/passes/Passes.def"
  return nullptr;
}

std::string knownPassNames() {
  std::string out;
  for (const PassInfo &p : listPasses()) {
    if (!out.empty())
      out += ", ";
    out += p.name;
  }
  return out;
}

} // namespace kiln
