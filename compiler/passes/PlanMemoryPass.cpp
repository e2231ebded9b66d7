// plan-memory: gives every arena value an offset in one arena, reusing memory by liveness.
//
// Expects to run last (after fuse): any later rewrite makes the plan stale. Before:
//
//   graph @g seed=0 {
//     input %x : f32[256]
//     %a = exp(%x) : f32[256]
//     %b = neg(%a) : f32[256]
//     %c = reduce_sum(%b) : f32[]
//     return %c
//   }
//
// After (the header gives the arena size and its lower bound; %b is written over %a, which dies
// at %b; %c reuses %x's block, free since %a):
//
//   graph @g seed=0 arena=2048 peak_live=2048 {
//     input %x : f32[256] @arena(0)
//     %a = exp(%x) : f32[256] @arena(1024)
//     %b = neg(%a) : f32[256] @arena(1024)
//     %c = reduce_sum(%b) : f32[] @arena(0)
//     return %c
//   }
//
// The planner and checker are in MemoryPlan.cpp; this file runs them and reports.
#include "compiler/passes/MemoryPlan.h"
#include "compiler/passes/PassRegistry.h"

namespace kiln {

Expected<bool> PlanMemoryPass::run(Graph &g, PassContext &ctx) {
  MemoryPlan plan = planMemory(g);
  bool changed = storeMemoryPlan(g, plan);
  // A plan that fails its own check is a planner bug; it is reported rather than shipped.
  if (Status s = checkMemoryPlan(g); !s.isOk())
    return Status::error("internal error in plan-memory: " + s.message());
  int64_t percent =
      plan.peakLiveBytes > 0 ? (plan.arenaBytes * 100 + plan.peakLiveBytes / 2) / plan.peakLiveBytes
                             : 100;
  ctx.note("plan-memory: arena " + formatBytes(plan.arenaBytes) + ", minimum " +
           formatBytes(plan.peakLiveBytes) + " (" + std::to_string(percent) + "%), " +
           std::to_string(plan.ranges.size()) + " values, " + std::to_string(plan.inPlace) +
           " in place");
  return changed;
}

} // namespace kiln
