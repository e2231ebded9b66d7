// simplify: algebraic identities that are exact in IEEE arithmetic.
//
// Before:
//   const %one : f32[] = dense<1.0>
//   %a = mul(%x, %one) : f32[4,8]
//   %b = neg(%a) : f32[4,8]
//   %c = neg(%b) : f32[4,8]
//   %t = transpose(%c) {perm = [1, 0]} : f32[8,4]
//   %y = transpose(%t) {perm = [1, 0]} : f32[4,8]
//   return %y
// After (dce removes what is left unused):
//   return %x
//
// Every rule removes a node whose result is bit-for-bit its operand's (or composes two data
// movements into one), for every input including -0.0, infinities and NaN, and only when the
// result type equals the type of the value that replaces it (so a constant that broadcasts the
// other operand to a larger shape or another dtype is never "neutral"):
//   sub(x, +0)          x - (+0) = x for every x, -0 included (-0 - +0 = -0).
//   add(x, -0), add(-0, x)
//                       x + (-0) = x for every x (+0 + -0 = +0). NOT x + (+0): -0 + +0 = +0,
//                       so add of +0.0 is refused for floats; for integers 0 is neutral.
//   mul(x, 1), mul(1, x), div(x, 1)
//                       exact: rounding a representable product is the identity, sign and NaN
//                       kept.
//   neg(neg(x))         negation only flips the sign bit.
//   reshape(reshape|flatten(x)) -> reshape(x)
//                       reshape is a row-major reinterpretation; composing two is one.
//   reshape/flatten/broadcast_to to the operand's own shape, cast to its own dtype,
//   transpose by the identity permutation -> x: no element moves or changes.
//   transpose(transpose(x, p), q) -> transpose(x, p[q[i]]), or x if that is the identity.
// Deliberately left alone: stop_gradient (it changes what differentiate computes, so removing
// it before differentiation changes the gradients; after it, it is free anyway), x*0 (NaN*0 is
// NaN, -x*0 is -0), x-x (inf-inf is NaN), and anything on random ops' results that would merge
// draws. Nodes read back by name (outputs, losses, metrics) keep their name: the replacing node
// takes it over, or the rewrite is refused (see replaceNode). Expects nothing before it; fold
// first turns more operands into constants that these rules recognise.
#include "compiler/passes/PassRegistry.h"
#include "compiler/passes/PassUtil.h"

#include <numeric>

namespace kiln {

namespace {

bool isFloatType(DType d) { return d == DType::F32 || d == DType::F64; }

/// True if `v` is a constant whose every element is `neutral` (sign of zero included).
bool isConstantOf(Value v, double neutral) {
  return v.node->isConstant() && v.node->value() && allElementsAre(*v.node->value(), neutral);
}

/// The permutation of a transpose node (absent: reversed axes).
std::vector<int64_t> permOf(const Node &n) {
  if (auto p = n.attrInts("perm"))
    return *p;
  std::vector<int64_t> perm(size_t(n.operand(0).type().rank()));
  std::iota(perm.rbegin(), perm.rend(), 0);
  return perm;
}

bool isIdentityPerm(const std::vector<int64_t> &p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != int64_t(i))
      return false;
  return true;
}

/// The value `n` is identical to, if one of the removal rules applies; else an empty Value.
Value identityOperand(const Node &n) {
  auto sameType = [&](Value v) { return v.type() == n.type() ? v : Value{}; };
  switch (n.op()) {
  case Op::Sub:
    if (isConstantOf(n.operand(1), 0.0))
      return sameType(n.operand(0));
    return {};
  case Op::Add: {
    // For floats only -0.0 is neutral; for integers 0 (no signed zero there).
    double zero = isFloatType(n.type().dtype) ? -0.0 : 0.0;
    if (isConstantOf(n.operand(1), zero))
      return sameType(n.operand(0));
    if (isConstantOf(n.operand(0), zero))
      return sameType(n.operand(1));
    return {};
  }
  case Op::Mul:
    if (isConstantOf(n.operand(1), 1.0))
      return sameType(n.operand(0));
    if (isConstantOf(n.operand(0), 1.0))
      return sameType(n.operand(1));
    return {};
  case Op::Div:
    if (isConstantOf(n.operand(1), 1.0))
      return sameType(n.operand(0));
    return {};
  case Op::Neg:
    if (n.operand(0).node->op() == Op::Neg)
      return sameType(n.operand(0).node->operand(0));
    return {};
  case Op::Reshape:
  case Op::Flatten:
  case Op::BroadcastTo:
  case Op::Cast:
    return sameType(n.operand(0));
  case Op::Transpose:
    return isIdentityPerm(permOf(n)) ? sameType(n.operand(0)) : Value{};
  case Op::Input: case Op::Param: case Op::Constant:
  case Op::Abs: case Op::Exp: case Op::Log: case Op::Sqrt: case Op::Rsqrt: case Op::Square:
  case Op::Sign: case Op::Relu: case Op::Sigmoid: case Op::Tanh: case Op::Softplus:
  case Op::LeakyRelu: case Op::Gelu: case Op::StopGradient:
  case Op::Pow: case Op::Maximum: case Op::Minimum:
  case Op::Equal: case Op::NotEqual: case Op::Less: case Op::LessEqual: case Op::Greater:
  case Op::GreaterEqual: case Op::Select:
  case Op::ReduceSum: case Op::ReduceMean: case Op::ReduceMax: case Op::ReduceMin:
  case Op::Argmax: case Op::Matmul:
  case Op::Concat: case Op::Slice: case Op::Gather: case Op::OneHot:
  case Op::Conv2D: case Op::MaxPool2D: case Op::AvgPool2D:
  case Op::Softmax: case Op::LogSoftmax: case Op::LayerNorm:
  case Op::Dropout: case Op::RandomUniform: case Op::RandomNormal:
  case Op::Conv2DBackpropInput: case Op::Conv2DBackpropFilter: case Op::MaxPool2DGrad:
  case Op::AvgPool2DGrad: case Op::GatherGrad: case Op::SliceGrad: case Op::GeluGrad:
  case Op::Dense: case Op::SimpleRnn: case Op::Lstm: case Op::MultiHeadAttention:
  case Op::Mse: case Op::BinaryCrossEntropy: case Op::SigmoidCrossEntropy:
  case Op::SoftmaxCrossEntropy: case Op::Accuracy: case Op::BinaryAccuracy:
  case Op::Fused:
    return {};
  }
  return {};
}

/// Replaces `n` by a new node `op(operand){attrs}` with n's name and location; returns it.
Expected<Node *> replaceWithNew(Graph &g, Node *n, Op op, Value operand, AttrMap attrs) {
  g.setInsertPoint(n);
  Expected<Node *> repl =
      g.addNode(op, g.uniqueName(n->name() + "/simplified"), {operand}, std::move(attrs), n->loc());
  g.setInsertPoint(nullptr);
  if (!repl)
    return repl.status();
  std::string name = n->name();
  g.replaceAllUsesWith(n->result(0), (*repl)->result(0));
  g.erase(n);
  KILN_TRY(g.rename(*repl, name));
  return *repl;
}

/// The composing rules (two data movements into one). Returns the node that now stands where
/// `n` stood (`n` itself, possibly with a new operand, or its replacement), and sets `changed`.
Expected<Node *> compose(Graph &g, Node *n, PassContext &ctx, bool &changed) {
  if (n->numOperands() == 0) // random_uniform, random_normal
    return n;
  Node *inner = n->operand(0).node;
  if (n->op() == Op::Reshape && (inner->op() == Op::Reshape || inner->op() == Op::Flatten)) {
    ctx.note("simplify: '" + n->name() + "' reshapes '" + inner->operand(0).node->name() +
             "' directly");
    n->setOperand(0, inner->operand(0));
    changed = true;
    return n;
  }
  if (n->op() == Op::Transpose && inner->op() == Op::Transpose) {
    std::vector<int64_t> p = permOf(*inner), q = permOf(*n), composed(q.size());
    for (size_t i = 0; i < q.size(); ++i)
      composed[i] = p[size_t(q[i])];
    ctx.note("simplify: '" + n->name() + "' composes two transposes");
    AttrMap attrs;
    attrs["perm"] = composed;
    changed = true;
    return replaceWithNew(g, n, Op::Transpose, inner->operand(0), std::move(attrs));
  }
  return n;
}

} // namespace

Expected<bool> SimplifyPass::run(Graph &g, PassContext &ctx) {
  std::vector<Node *> order;
  for (const auto &n : g.nodes())
    order.push_back(n.get());
  bool changed = false;
  for (size_t i = 0; i < order.size(); ++i) {
    Node *n = order[i];
    if (n->info().has(kSource))
      continue;
    // Composing may replace `n`; the result may then be an identity itself (transpose of a
    // transpose by inverse permutations), so the identity rules look at what stands there now.
    KILN_ASSIGN(n, compose(g, n, ctx, changed));
    Value same = identityOperand(*n);
    if (!same)
      continue;
    std::string name = n->name();
    KILN_ASSIGN(bool replaced, replaceNode(g, n, same, ctx, "simplify"));
    if (replaced)
      ctx.note("simplify: removed '" + name + "' (same as '" + same.name() + "')");
    changed |= replaced;
  }
  return changed;
}

} // namespace kiln
