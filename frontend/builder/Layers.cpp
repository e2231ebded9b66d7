// Builder functions of the layers, losses and metrics: each adds one kLayer node, which stays
// whole in the graph (and in exported JSON) until decomposeLayers expands it.
#include "frontend/builder/BuilderInternal.h"

#include "compiler/support/Diagnostic.h"

namespace kiln::builder {

Tensor dense(const Tensor &x, const Tensor &w, DenseOptions o, SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::Dense, "activation", o.activation);
  return build(Op::Dense, {x, w}, std::move(attrs), loc);
}

Tensor dense(const Tensor &x, const Tensor &w, const Tensor &b, DenseOptions o, SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::Dense, "activation", o.activation);
  return build(Op::Dense, {x, w, b}, std::move(attrs), loc);
}

Tensor simpleRnn(const Tensor &x, const Tensor &kernel, const Tensor &recurrent,
                 const Tensor &bias, SimpleRnnOptions o, SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::SimpleRnn, "activation", o.activation);
  setAttr(attrs, Op::SimpleRnn, "return_sequences", o.returnSequences);
  return build(Op::SimpleRnn, {x, kernel, recurrent, bias}, std::move(attrs), loc);
}

Tensor lstm(const Tensor &x, const Tensor &kernel, const Tensor &recurrent, const Tensor &bias,
            LstmOptions o, SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::Lstm, "return_sequences", o.returnSequences);
  return build(Op::Lstm, {x, kernel, recurrent, bias}, std::move(attrs), loc);
}

Tensor multiHeadAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                          const AttentionWeights &w, AttentionOptions o, SrcLoc loc) {
  std::vector<Tensor> operands{q, k, v, w.wq, w.wk, w.wv, w.wo};
  int biases = int(bool(w.bq)) + int(bool(w.bk)) + int(bool(w.bv)) + int(bool(w.bo));
  if (biases != 0 && biases != 4) {
    // Three biases out of four is a mistake the op's arity would only report vaguely.
    if (BuilderState *state = stateOf("multi_head_attention", operands, loc))
      state->fail(errorAt(toLoc(loc), "multi_head_attention: give all four biases bq, bk, bv, bo "
                                      "or none, not " + std::to_string(biases)));
    return {};
  }
  if (biases == 4)
    operands.insert(operands.end(), {w.bq, w.bk, w.bv, w.bo});
  AttrMap attrs{{"heads", o.heads}};
  setAttr(attrs, Op::MultiHeadAttention, "causal", o.causal);
  return build(Op::MultiHeadAttention, operands, std::move(attrs), loc);
}

static Tensor loss(Op op, const Tensor &a, const Tensor &b, const std::string &reduction,
                   const SrcLoc &loc, AttrMap attrs = {}) {
  setAttr(attrs, op, "reduction", reduction);
  return build(op, {a, b}, std::move(attrs), loc);
}

Tensor mse(const Tensor &pred, const Tensor &target, LossOptions o, SrcLoc loc) {
  return loss(Op::Mse, pred, target, o.reduction, loc);
}
Tensor binaryCrossEntropy(const Tensor &prob, const Tensor &target, LossOptions o, SrcLoc loc) {
  return loss(Op::BinaryCrossEntropy, prob, target, o.reduction, loc);
}
Tensor sigmoidCrossEntropy(const Tensor &logits, const Tensor &target, LossOptions o, SrcLoc loc) {
  return loss(Op::SigmoidCrossEntropy, logits, target, o.reduction, loc);
}
Tensor softmaxCrossEntropy(const Tensor &logits, const Tensor &labels, LossOptions o, SrcLoc loc) {
  return loss(Op::SoftmaxCrossEntropy, logits, labels, o.reduction, loc);
}
Tensor accuracy(const Tensor &logits, const Tensor &labels, LossOptions o, SrcLoc loc) {
  return loss(Op::Accuracy, logits, labels, o.reduction, loc);
}
Tensor binaryAccuracy(const Tensor &prob, const Tensor &target, BinaryAccuracyOptions o,
                      SrcLoc loc) {
  AttrMap attrs;
  setAttr(attrs, Op::BinaryAccuracy, "threshold", o.threshold);
  return loss(Op::BinaryAccuracy, prob, target, o.reduction, loc, std::move(attrs));
}

} // namespace kiln::builder
