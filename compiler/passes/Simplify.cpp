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
// movements into one, or moves a slice before an elementwise op), for every input including
// -0.0, infinities and NaN, and only when the result type equals the type of the value that
// replaces it (so a constant that broadcasts the other operand to a larger shape or another
// dtype is never "neutral"):
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
//   slice(slice(x)) -> slice(x)
//                       starts and strides compose; the same elements in the same order.
//   slice(e(a, b, ...)) -> e(slice(a), slice(b), ...) for an elementwise, non-random e whose
//                       every use is a slice (and not a root), its operands of e's shape or
//                       scalars: each element is the same operation on the same operands,
//                       computed only where it is read. All of e's slices are rewritten at once,
//                       and the new slices compose again, so a chain of such ops is sunk
//                       through (an LSTM's gate slices then reach the projection and h @ R).
// Deliberately left alone: stop_gradient (it changes what differentiate computes, so removing
// it before differentiation changes the gradients; after it, it is free anyway), x*0 (NaN*0 is
// NaN, -x*0 is -0), x-x (inf-inf is NaN), and anything on random ops' results that would merge
// draws. Nodes read back by name (outputs, losses, metrics) keep their name: the replacing node
// takes it over, or the rewrite is refused (see replaceNode). Expects nothing before it; fold
// first turns more operands into constants that these rules recognise.
#include "compiler/passes/PassRegistry.h"
#include "compiler/passes/PassUtil.h"

#include <algorithm>
#include <numeric>
#include <unordered_set>

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

/// A slice's starts (negative from the end, clamped as its kernels do) and strides.
void sliceGeometry(const Node &n, std::vector<int64_t> &start, std::vector<int64_t> &step) {
  const Shape &in = n.operand(0).type().shape;
  std::vector<int64_t> begin = *n.attrInts("begin");
  step = n.attrInts("strides").value_or(std::vector<int64_t>(in.size(), 1));
  start.resize(in.size());
  for (size_t d = 0; d < in.size(); ++d)
    start[d] = std::clamp<int64_t>(begin[d] < 0 ? begin[d] + in[d] : begin[d], 0, in[d]);
}

/// The attributes of a slice taking `len[d]` elements from `start[d]` by `step[d]`.
AttrMap sliceAttrs(const std::vector<int64_t> &start, const std::vector<int64_t> &step,
                   const Shape &len) {
  std::vector<int64_t> end(start.size());
  bool strided = false;
  for (size_t d = 0; d < start.size(); ++d) {
    end[d] = start[d] + (len[d] - 1) * step[d] + 1;
    strided |= step[d] != 1;
  }
  AttrMap attrs{{"begin", start}, {"end", end}};
  if (strided)
    attrs["strides"] = step;
  return attrs;
}

/// True if every use of `n` is a slice (and nothing reads `n` back as a root).
bool onlySliced(const Node &n, const std::unordered_set<const Node *> &roots) {
  if (n.uses().empty() || roots.count(&n))
    return false;
  for (const Use &u : n.uses())
    if (u.user->op() != Op::Slice)
      return false;
  return true;
}

/// What the rewrites share: the graph, the roots (never rewritten away), whether anything
/// changed, and the nodes erased so far (the pass's node list still holds them).
struct Rewriter {
  Graph &g;
  PassContext &ctx;
  std::unordered_set<const Node *> roots;
  bool changed = false;
  std::unordered_set<const Node *> erased;

  void erase(Node *n) {
    erased.insert(n);
    g.erase(n);
  }
  /// A new node may sit at an erased node's address: it is not erased.
  Node *born(Node *n) {
    erased.erase(n);
    return n;
  }
};

Expected<Node *> compose(Rewriter &rw, Node *n);

/// slice(elementwise(a, b, ...)) -> elementwise(slice(a), slice(b), ...) when every use of the
/// elementwise node is a slice: each element is computed by the same operation on the same
/// operands, only where it is needed, and the slices then reach whatever reads the operands
/// (a fused loop reads them strided, a slice of a slice composes). All the slices of the node
/// are rewritten at once, so that a chain of elementwise ops is sunk through as a whole.
/// Operands of another shape than the result must be scalars (passed as they are); random ops
/// are never touched. Returns the node that now stands where `n` stood.
Expected<Node *> sinkSlice(Rewriter &rw, Node *n) {
  Graph &g = rw.g;
  Node *e = n->operand(0).node;
  if (!e->info().isElementwise() || e->info().has(kRandom) || e->numResults() != 1 ||
      !onlySliced(*e, rw.roots))
    return n;
  for (Value o : e->operands())
    if (o.type().shape != e->type().shape && o.type().rank() != 0)
      return n;
  // In use order, once each (the rewrite must not depend on where nodes sit in memory).
  std::vector<Node *> slices;
  std::unordered_set<const Node *> seen;
  for (const Use &u : e->uses())
    if (seen.insert(u.user).second)
      slices.push_back(u.user);
  rw.ctx.note("simplify: the " + std::to_string(slices.size()) + " slices of '" + e->name() +
              "' slice its operands instead");
  std::vector<Node *> parts;
  Node *standing = n;
  for (Node *s : slices) {
    std::vector<Value> operands;
    g.setInsertPoint(s);
    for (Value o : e->operands()) {
      if (o.type().rank() == 0) {
        operands.push_back(o);
        continue;
      }
      Expected<Node *> part = g.addNode(Op::Slice, g.uniqueName(s->name() + "/" + o.node->name()),
                                        {o}, s->attrs(), s->loc());
      if (!part) {
        g.setInsertPoint(nullptr);
        return part.status();
      }
      parts.push_back(rw.born(*part));
      operands.push_back((*part)->result(0));
    }
    Expected<Node *> repl = g.addNode(e->op(), g.uniqueName(s->name() + "/simplified"), operands,
                                      e->attrs(), e->loc());
    g.setInsertPoint(nullptr);
    if (!repl)
      return repl.status();
    rw.born(*repl);
    std::string name = s->name();
    g.replaceAllUsesWith(s->result(0), (*repl)->result(0));
    rw.erase(s);
    KILN_TRY(g.rename(*repl, name));
    if (s == n)
      standing = *repl;
  }
  rw.erase(e);
  rw.changed = true;
  // The new slices may compose again (a slice of a slice, or of another sliced elementwise op).
  for (Node *part : parts)
    if (!rw.erased.count(part))
      KILN_TRY(compose(rw, part).status());
  return standing;
}

/// The composing rules (two data movements into one, or a slice moved before an elementwise
/// op). Returns the node that now stands where `n` stood (`n` itself, possibly with a new
/// operand, or its replacement), and sets `changed`.
Expected<Node *> compose(Rewriter &rw, Node *n) {
  Graph &g = rw.g;
  PassContext &ctx = rw.ctx;
  bool &changed = rw.changed;
  if (n->numOperands() == 0) // random_uniform, random_normal
    return n;
  Node *inner = n->operand(0).node;
  if (n->op() == Op::Slice && inner->op() == Op::Slice) {
    // Element i of the outer slice is element start_o + i step_o of the inner one, which is
    // element start_i + (start_o + i step_o) step_i of the operand.
    std::vector<int64_t> si, pi, so, po;
    sliceGeometry(*inner, si, pi);
    sliceGeometry(*n, so, po);
    for (size_t d = 0; d < si.size(); ++d) {
      si[d] += so[d] * pi[d];
      pi[d] *= po[d];
    }
    ctx.note("simplify: '" + n->name() + "' composes two slices");
    changed = true;
    rw.erased.insert(n);
    KILN_ASSIGN(Node * repl, replaceWithNew(g, n, Op::Slice, inner->operand(0),
                                            sliceAttrs(si, pi, n->type().shape)));
    return rw.born(repl);
  }
  if (n->op() == Op::Slice)
    return sinkSlice(rw, n);
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
    rw.erased.insert(n);
    KILN_ASSIGN(Node * repl, replaceWithNew(g, n, Op::Transpose, inner->operand(0),
                                            std::move(attrs)));
    return rw.born(repl);
  }
  return n;
}

} // namespace

Expected<bool> SimplifyPass::run(Graph &g, PassContext &ctx) {
  Rewriter rw{g, ctx, {}, false, {}};
  for (const Value &v : rootValues(g))
    rw.roots.insert(v.node);
  std::vector<Node *> order;
  for (const auto &n : g.nodes())
    order.push_back(n.get());
  for (size_t i = 0; i < order.size(); ++i) {
    Node *n = order[i];
    if (rw.erased.count(n) || n->info().has(kSource))
      continue;
    // Composing may replace `n`; the result may then be an identity itself (transpose of a
    // transpose by inverse permutations), so the identity rules look at what stands there now.
    KILN_ASSIGN(n, compose(rw, n));
    Value same = identityOperand(*n);
    if (!same)
      continue;
    std::string name = n->name();
    KILN_ASSIGN(bool replaced, replaceNode(g, n, same, ctx, "simplify"));
    if (replaced) {
      ctx.note("simplify: removed '" + name + "' (same as '" + same.name() + "')");
      rw.erased.insert(n);
    }
    rw.changed |= replaced;
  }
  return rw.changed;
}

} // namespace kiln
