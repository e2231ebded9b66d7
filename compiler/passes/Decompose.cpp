// decompose: expands layers, losses and metrics (kLayer ops) into primitive ops.
//
// Before:
//   %h = dense(%x, %w, %b) {activation = "relu"} : f32[8,16]
// After:
//   %h/matmul = matmul(%x, %w) : f32[8,16]
//   %h/bias = add(%h/matmul, %b) : f32[8,16]
//   %h = relu(%h/bias) : f32[8,16]
//
// Expects nothing before it; every later pass (fold, simplify, cse, fuse) sees only primitives
// if it runs first. The expansion itself is decomposeLayers (compiler/ir/Decompose.h), the one
// place layer semantics are written; this pass only reports whether there was anything to do.
#include "compiler/ir/Decompose.h"
#include "compiler/passes/PassRegistry.h"

namespace kiln {

Expected<bool> DecomposePass::run(Graph &g, PassContext &ctx) {
  size_t layers = 0;
  for (const auto &n : g.nodes())
    if (n->info().has(kLayer))
      ++layers;
  if (layers == 0)
    return false;
  KILN_TRY(decomposeLayers(g));
  ctx.note("decompose: expanded " + std::to_string(layers) + " layer node(s)");
  return true;
}

} // namespace kiln
