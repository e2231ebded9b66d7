// EmitFused: the kernel of a fused group of kind "loop" (compiler/passes/FusePass.cpp): one loop
// over the group's shape evaluating the body per element as scalar SSA values, each operand
// read through its own broadcast mapping, every result stored by the same loop. A group whose
// root is a reduction loops over the reduction's input shape instead (EmitReduce.cpp),
// accumulating into the reduced result while storing the extra elementwise results.
#include "compiler/codegen/EmitOps.h"

#include <unordered_map>

namespace kiln::codegen {

using llvm::Value;

namespace {

std::string who(const Node &node) {
  return std::string(node.info().mnemonic) + " '" + node.name() + "'";
}

/// Evaluates a loop group's body at one element of the group's shape.
class BodyEvaluator {
public:
  BodyEvaluator(KernelBuilder &kb, const Node &fused, const Node *reduction)
      : kb_(kb), fused_(fused), body_(*fused.body()), reduction_(reduction),
        inputs_(body_.inputs()) {}

  /// Computes every body value but the reduction from operand element offsets `offsets`.
  Status evaluate(const std::vector<Value *> &offsets) {
    values_.clear();
    for (size_t k = 0; k < inputs_.size(); ++k)
      values_[inputs_[k]] =
          kb_.load(inputs_[k]->type().dtype, kb_.operand(unsigned(k)), offsets[k]);
    for (const auto &np : body_.nodes()) {
      const Node *n = np.get();
      if (n->isInput() || n == reduction_)
        continue;
      if (n->isConstant()) {
        if (!n->value() || n->value()->numElements() != 1)
          return Status::error("error: " + who(fused_) + ": non-scalar constant '" + n->name() +
                               "' in a fused loop body has no LLVM lowering yet");
        values_[n] = kb_.constant(n->type().dtype, n->value()->at(0));
        continue;
      }
      if (!n->info().isElementwise() || n->info().has(kRandom) || n->numResults() != 1)
        return Status::error("error: " + who(fused_) + ": " + who(*n) +
                             " in a fused loop body has no LLVM lowering yet");
      std::vector<Value *> in;
      for (kiln::Value o : n->operands()) {
        if (o.node == reduction_)
          return Status::error("error: " + who(fused_) + ": a value computed from the "
                               "reduction inside the group has no LLVM lowering yet");
        in.push_back(values_.at(o.node));
      }
      KILN_ASSIGN(values_[n], emitScalar(kb_, *n, in));
    }
    return Status::ok();
  }

  Value *value(const Node *n) const { return values_.at(n); }

private:
  KernelBuilder &kb_;
  const Node &fused_;
  const Graph &body_;
  const Node *reduction_;
  std::vector<Node *> inputs_;
  std::unordered_map<const Node *, Value *> values_;
};

} // namespace

Status emitFusedLoop(KernelBuilder &kb, const Node &node) {
  const Graph *body = node.body();
  if (!body || body->inputs().size() != node.numOperands() ||
      body->outputs().size() != node.numResults())
    return Status::error("internal error: " + who(node) + ": malformed fused body");
  const Node *reduction = nullptr;
  for (const auto &np : body->nodes())
    if (np->info().has(kReduction)) {
      if (reduction)
        return Status::error("error: " + who(node) +
                             ": a loop group with two reductions has no LLVM lowering yet");
      reduction = np.get();
    }
  Shape shape = reduction ? reduction->operand(0).type().shape : node.type(0).shape;
  for (unsigned r = 0; r < node.numResults(); ++r) {
    kiln::Value out = body->outputs()[r];
    if (out.node != reduction && out.type().shape != shape)
      return Status::error("error: " + who(node) + ": result " + std::to_string(r) +
                           " of another shape than the group's has no LLVM lowering yet");
    if (out.node->isInput())
      return Status::error("error: " + who(node) + ": a body input returned as a result has "
                           "no LLVM lowering yet");
  }
  BodyEvaluator eval(kb, node, reduction);
  Status status = Status::ok();
  auto storeResults = [&](Value *offset) {
    for (unsigned r = 0; r < node.numResults(); ++r) {
      kiln::Value out = body->outputs()[r];
      if (out.node != reduction)
        kb.store(out.type().dtype, eval.value(out.node), kb.result(r), offset);
    }
  };

  if (!reduction) {
    RowLoop space{shape, {}};
    for (kiln::Value v : node.operands())
      space.inputs.push_back(v.type().shape);
    emitRowLoop(kb, space, [&](const std::vector<Value *> &offs) {
      Status st = eval.evaluate(offs);
      if (!st.isOk()) {
        status = st;
        return;
      }
      storeResults(offs.back());
    });
    return status;
  }

  unsigned reductionResult = node.numResults();
  for (unsigned r = 0; r < node.numResults(); ++r)
    if (body->outputs()[r].node == reduction)
      reductionResult = r;
  if (reductionResult == node.numResults())
    return Status::error("internal error: " + who(node) + ": the reduction is not a result");
  std::vector<std::vector<int64_t>> strides;
  for (kiln::Value v : node.operands())
    strides.push_back(v.type().shape == shape ? std::vector<int64_t>{}
                                              : broadcastStrides(v.type().shape, shape));
  const Node *source = reduction->operand(0).node;
  KILN_TRY(emitReduction(kb, *reduction, reductionResult, [&](Value *flat) -> Value * {
    std::vector<Value *> offs;
    for (const auto &st : strides)
      offs.push_back(st.empty() ? flat : offsetOf(kb, flat, shape, st));
    Status st = eval.evaluate(offs);
    if (!st.isOk()) {
      status = st;
      return llvm::UndefValue::get(kb.elemType(reduction->operand(0).type().dtype));
    }
    storeResults(flat);
    return eval.value(source);
  }));
  return status;
}

} // namespace kiln::codegen
