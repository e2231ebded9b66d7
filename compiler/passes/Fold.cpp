// fold: constant folding by the reference interpreter.
//
// Before:
//   const %a : f32[2] = dense<[1.0, 2.0]>
//   const %b : f32[2] = dense<3.0>
//   %s = add(%a, %b) : f32[2]
//   %y = mul(%x, %s) : f32[2]
// After:
//   const %a : f32[2] = dense<[1.0, 2.0]>
//   const %b : f32[2] = dense<3.0>
//   const %s : f32[2] = dense<[4.0, 5.0]>
//   %y = mul(%x, %s) : f32[2]
//
// A node whose operands are all constants is evaluated with evalOp (the interpreter defines
// every op's semantics, so folding cannot disagree with a run) and replaced by a constant of the
// same name and location. The operand constants stay; dce removes them once unused. Refused:
// random ops (kRandom: every run draws anew), layers (run decompose first; evalOp handles only
// primitives), results over kMaxFoldElements elements (a constant that big bloats the graph
// and the executable more than computing it costs), and nodes whose evaluation fails (a
// run-time fault such as a gather index out of range stays a run-time fault, reported when the
// graph runs). Expects decompose to have run if layers should be folded too.
#include "compiler/interp/Interpreter.h"
#include "compiler/passes/PassRegistry.h"

namespace kiln {

namespace {

/// Largest folded result, in elements.
constexpr int64_t kMaxFoldElements = int64_t(1) << 20;

/// Why `n` must not be folded, or "" if it may be (given all-constant operands).
std::string refusal(const Node &n) {
  if (n.info().has(kRandom))
    return "is random";
  if (n.info().has(kLayer))
    return "is a layer (run decompose first)";
  if (n.numResults() != 1)
    return "has several results";
  if (n.type().numElements() > kMaxFoldElements)
    return "result has " + std::to_string(n.type().numElements()) + " elements (limit " +
           std::to_string(kMaxFoldElements) + ")";
  return "";
}

} // namespace

Expected<bool> FoldPass::run(Graph &g, PassContext &ctx) {
  // Snapshot: folding inserts a constant before the folded node and erases that node, which
  // leaves every later entry of the snapshot valid.
  std::vector<Node *> order;
  for (const auto &n : g.nodes())
    order.push_back(n.get());
  EvalContext ectx;
  ectx.graphSeed = g.seed();
  bool changed = false;
  for (Node *n : order) {
    if (n->info().has(kSource) || n->numOperands() == 0)
      continue;
    bool allConst = true;
    for (const Value &v : n->operands())
      allConst &= v.node->isConstant();
    if (!allConst)
      continue;
    if (std::string why = refusal(*n); !why.empty()) {
      ctx.note("fold: refused '" + n->name() + "': " + why);
      continue;
    }
    std::vector<Tensor> operands;
    for (const Value &v : n->operands())
      operands.push_back(*v.node->value());
    Expected<std::vector<Tensor>> result = evalOp(*n, operands, ectx);
    if (!result) {
      ctx.note("fold: refused '" + n->name() + "': evaluation failed: " + result.message());
      continue;
    }
    Tensor &t = (*result)[0];
    if (t.dtype() != n->type().dtype || t.shape() != n->type().shape)
      return Status::error("internal error: fold: evalOp of '" + n->name() + "' returned " +
                           TensorType{t.dtype(), t.shape()}.str() + ", node has type " +
                           n->type().str());
    std::string name = n->name();
    g.setInsertPoint(n);
    Expected<Node *> c = g.addConstant(g.uniqueName(name + "/folded"), std::move(t), n->loc());
    g.setInsertPoint(nullptr);
    if (!c)
      return c.status();
    g.replaceAllUsesWith(n->result(0), (*c)->result(0));
    g.erase(n);
    KILN_TRY(g.rename(*c, name));
    ctx.note("fold: folded '" + name + "'");
    changed = true;
  }
  return changed;
}

} // namespace kiln
