// The interpreter's fused node: its body is interpreted with evalOp, so a fusion group computes
// exactly what its parts computed before fusion.
#include "compiler/interp/Kernels.h"

#include <unordered_map>

namespace kiln::interp {

Expected<std::vector<Tensor>> evalFused(const Node &node, Operands in, const EvalContext &ctx) {
  const Graph *body = node.body();
  if (!body)
    return internalError(node, "fused node has no body");
  std::vector<Node *> inputs = body->inputs();
  if (inputs.size() != in.size())
    return internalError(node, "body has " + std::to_string(inputs.size()) + " inputs, given " +
                                   std::to_string(in.size()) + " operands");
  std::unordered_map<const Node *, std::vector<Tensor>> env;
  for (size_t i = 0; i < inputs.size(); ++i)
    env[inputs[i]].push_back(in[i]);
  for (const auto &np : body->nodes()) {
    const Node *n = np.get();
    if (n->isInput())
      continue;
    if (n->isParam())
      return internalError(node, "body declares param '" + n->name() + "'");
    std::vector<Tensor> operands;
    for (Value o : n->operands())
      operands.push_back(env.at(o.node)[o.index]);
    KILN_ASSIGN(env[n], evalOp(*n, operands, ctx));
  }
  std::vector<Tensor> out;
  for (Value v : body->outputs())
    out.push_back(env.at(v.node)[v.index]);
  return out;
}

} // namespace kiln::interp
