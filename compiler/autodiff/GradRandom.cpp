// Gradient rules of the random ops: dropout replays its forward mask; the random sources have
// no operands to differentiate.
#include "compiler/autodiff/GradRules.h"

#include "kiln/runtime/Random.h"

namespace kiln::grad {

// dx = dy * mask / (1 - rate) with the forward's own mask. A dropout node's mask is a function
// of (seed, run counter, element index) only, so a dropout on dy with the forward node's
// effective seed (its `seed` attr, else the hash of the graph seed and its name, exactly as the
// kernels derive it) draws the same mask in the same run. Outside training both are identity,
// which is also the right gradient there.
void gradDropout(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  uint64_t seed = 0;
  if (auto s = n.attr("seed"))
    seed = uint64_t(std::get<int64_t>(*s));
  else
    seed = hashSeed(b.graph().seed(), n.name());
  dx[0] =
      b.op(Op::Dropout, "dropout", {dy}, {{"rate", n.attrFloat("rate")}, {"seed", int64_t(seed)}});
}

void gradRandomUniform(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  noGradient(dx);
}

void gradRandomNormal(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }

} // namespace kiln::grad
