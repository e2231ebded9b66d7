// Reverse-mode differentiation: a reverse walk over the loss's dependency cone that calls each
// node's gradient rule and sums the gradients of values used more than once.
#include "compiler/autodiff/Differentiate.h"

#include "compiler/autodiff/GradRules.h"
#include "compiler/support/Diagnostic.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_set>
#include <utility>

namespace kiln {

namespace {

using ValueKey = std::pair<const Node *, unsigned>;
ValueKey keyOf(Value v) { return {v.node, v.index}; }

std::string who(const Node &n) { return std::string(n.info().mnemonic) + " '" + n.name() + "'"; }

/// Whether a gradient can flow through value `v` at all: only float values carry one.
bool carriesGradient(Value v) { return isFloat(v.type().dtype); }

/// The nodes of `cone` (in graph order) through which some wrt value reaches the loss: a wrt
/// node itself, or a differentiable node with a float result and an operand that is reached
/// through a float value. Everything else would only produce gradients nobody asked for.
std::unordered_set<const Node *> activeNodes(const std::vector<Node *> &cone,
                                             const std::vector<Value> &wrt) {
  std::unordered_set<const Node *> active;
  for (Value v : wrt)
    active.insert(v.node);
  for (Node *n : cone) {
    if (active.count(n) || n->info().has(kNoGrad) || n->op() == Op::StopGradient)
      continue;
    bool floatResult = false;
    for (unsigned r = 0; r < n->numResults(); ++r)
      floatResult |= carriesGradient(n->result(r));
    if (!floatResult)
      continue;
    for (Value in : n->operands())
      if (active.count(in.node) && carriesGradient(in)) {
        active.insert(n);
        break;
      }
  }
  return active;
}

/// A slice_grad contribution that is a plain piece of its value: stride 1, cut along one axis
/// only. Its gradient is its operand placed at [start, start + len) on that axis.
struct SlicePiece {
  Node *node;
  size_t axis;
  int64_t start, len;
};

std::optional<SlicePiece> slicePiece(Value grad) {
  Node *n = grad.node;
  if (n->op() != Op::SliceGrad || !n->uses().empty())
    return std::nullopt;
  const Shape &full = n->type().shape, &part = n->operand(0).type().shape;
  std::vector<int64_t> begin = *n->attrInts("begin");
  if (auto strides = n->attrInts("strides"))
    for (int64_t s : *strides)
      if (s != 1)
        return std::nullopt;
  std::optional<size_t> axis;
  for (size_t d = 0; d < full.size(); ++d) {
    if (part[d] == full[d])
      continue;
    if (axis)
      return std::nullopt;
    axis = d;
  }
  if (!axis)
    return std::nullopt;
  // The start as the slice's kernels clamp it (negative counts from the end).
  int64_t dim = full[*axis], b = begin[*axis];
  int64_t start = std::clamp<int64_t>(b < 0 ? b + dim : b, 0, dim);
  return SlicePiece{n, *axis, start, part[*axis]};
}

/// A contribution `a^T g` (the right operand's gradient of a matmul, rank 2), not used yet.
bool isWeightProduct(Value grad) {
  Node *n = grad.node;
  return n->op() == Op::Matmul && n->uses().empty() && n->attrBool("transpose_a") &&
         !n->attrBool("transpose_b") && n->operand(0).type().rank() == 2 &&
         n->operand(1).type().rank() == 2;
}

/// Many products a_i^T g_i summed (a weight used at every step of an unrolled RNN) are one
/// product [a_1; a_2; ...]^T [g_1; g_2; ...]: one large GEMM instead of one small GEMM and add
/// per use. Below kMinWeightProducts uses, the copies into the stacked operands are not worth it.
constexpr size_t kMinWeightProducts = 4;

/// Replaces the weight products among `parts` by one stacked product (see above).
void stackWeightProducts(GradBuilder &b, std::vector<Value> &parts) {
  std::vector<Value> products, rest;
  for (Value v : parts)
    (isWeightProduct(v) ? products : rest).push_back(v);
  if (products.size() < kMinWeightProducts)
    return;
  std::vector<Value> as, gs;
  for (Value v : products) {
    as.push_back(v.node->operand(0));
    gs.push_back(v.node->operand(1));
  }
  Value a = b.op(Op::Concat, "stacked_a", as, {{"axis", int64_t(0)}});
  Value g = b.op(Op::Concat, "stacked_g", gs, {{"axis", int64_t(0)}});
  Value product = b.op(Op::Matmul, "stacked", {a, g},
                       {{"transpose_a", true}, {"transpose_b", false}});
  if (!product)
    return; // the builder keeps the error; differentiate reports it
  for (Value v : products)
    b.graph().erase(v.node);
  rest.insert(rest.begin(), product);
  parts = std::move(rest);
}

/// The sum of the gradient contributions `parts` of one value, made while visiting `owner`.
/// Contributions that are slice_grads of disjoint pieces along one axis (the per-step slices of
/// an unrolled RNN's input, the gate slices of its pre-activations) become one concat of their
/// gradients, zero-filled in the gaps, instead of full-size mostly-zero tensors summed one add
/// at a time; kMinWeightProducts or more weight products become one (stackWeightProducts); the
/// other contributions are added in arrival order.
Value sumContributions(GradBuilder &b, Node &owner, std::vector<Value> parts) {
  if (parts.size() == 1)
    return parts[0];
  b.begin(owner, {});
  stackWeightProducts(b, parts);
  if (parts.size() == 1)
    return parts[0];
  // The axis with the most pieces, and of those the pieces that do not overlap an earlier one.
  std::map<size_t, std::vector<SlicePiece>> byAxis;
  for (Value v : parts)
    if (auto piece = slicePiece(v))
      byAxis[piece->axis].push_back(*piece);
  std::vector<SlicePiece> pieces;
  for (auto &[axis, list] : byAxis)
    if (list.size() > pieces.size())
      pieces = list;
  std::stable_sort(pieces.begin(), pieces.end(),
                   [](const SlicePiece &x, const SlicePiece &y) { return x.start < y.start; });
  std::vector<SlicePiece> kept;
  for (const SlicePiece &p : pieces)
    if (kept.empty() || p.start >= kept.back().start + kept.back().len)
      kept.push_back(p);
  b.begin(owner, {});
  Value sum;
  if (kept.size() >= 2) {
    const TensorType &full = kept[0].node->type();
    size_t axis = kept[0].axis;
    std::vector<Value> pieceValues;
    auto gap = [&](int64_t from, int64_t to) {
      if (to <= from)
        return;
      TensorType t = full;
      t.shape[axis] = to - from;
      pieceValues.push_back(b.zeros(t));
    };
    int64_t at = 0;
    for (const SlicePiece &p : kept) {
      gap(at, p.start);
      pieceValues.push_back(p.node->operand(0));
      at = p.start + p.len;
    }
    gap(at, full.shape[axis]);
    sum = b.op(Op::Concat, "pieces", pieceValues, {{"axis", int64_t(axis)}});
    // The replaced slice_grads were made for this sum alone; nothing else reads them.
    std::vector<Value> rest;
    for (Value v : parts)
      if (std::none_of(kept.begin(), kept.end(),
                       [&](const SlicePiece &p) { return p.node == v.node; }))
        rest.push_back(v);
    for (const SlicePiece &p : kept)
      b.graph().erase(p.node);
    parts = std::move(rest);
  }
  for (Value v : parts)
    sum = sum ? b.op(Op::Add, "sum", {sum, v}) : v;
  return sum;
}

} // namespace

Expected<std::vector<Value>> differentiate(Graph &g, Value loss, const std::vector<Value> &wrt) {
  if (!loss)
    return Status::error("internal error: differentiate needs a loss value");
  const TensorType &lossType = loss.type();
  if (!isFloat(lossType.dtype) || !lossType.isScalar())
    return errorAt(loss.node->loc(), "cannot differentiate " + who(*loss.node) +
                                         ": the loss must be a float scalar, got " +
                                         lossType.str());

  // The cone in graph order (topological); snapshotted because rules append nodes.
  std::unordered_set<const Node *> deps = dependenciesOf(loss);
  std::vector<Node *> cone;
  for (const auto &n : g.nodes())
    if (deps.count(n.get()))
      cone.push_back(n.get());
  for (Node *n : cone)
    if (n->info().has(kLayer))
      return errorAt(n->loc(), "internal error: " + who(*n) +
                                   " is a layer; run decomposeLayers before differentiating");
  std::unordered_set<const Node *> active = activeNodes(cone, wrt);

  GradBuilder b(g);
  // The gradient contributions of each value (fan-out: each use contributes), summed only when
  // the walk reaches the value's node: every user comes later in graph order, so all of them
  // are in by then, and the sum can look at all of them at once (sumContributions).
  std::map<ValueKey, std::vector<Value>> contributions;
  auto accumulate = [&](Value v, Value grad) { contributions[keyOf(v)].push_back(grad); };
  auto adjointOf = [&](Value v) -> Value {
    auto found = contributions.find(keyOf(v));
    if (found == contributions.end())
      return {};
    // Kept as the only contribution, so that asking twice (a value listed twice in wrt) gives
    // the same node and never reads a slice_grad that the first sum erased.
    Value sum = sumContributions(b, *v.node, found->second);
    found->second = {sum};
    return sum;
  };

  if (active.count(loss.node)) {
    b.begin(*loss.node, {});
    accumulate(loss, b.constant("seed", Tensor::scalar(lossType.dtype, 1)));
  }
  std::vector<Value> dx;
  for (auto it = cone.rbegin(); it != cone.rend() && b.status(); ++it) {
    Node &n = **it;
    if (n.info().has(kSource) || !active.count(&n))
      continue;
    if (!contributions.count(keyOf(n.result())))
      continue; // reached from a wrt value, but none of its uses lead to the loss
    std::vector<bool> needs(n.numOperands());
    bool any = false;
    for (unsigned i = 0; i < n.numOperands(); ++i)
      any |= needs[i] = active.count(n.operand(i).node) && carriesGradient(n.operand(i));
    if (!any)
      continue;
    Value dy = adjointOf(n.result());
    b.begin(n, needs);
    KILN_TRY(gradRule(b, n, dy, dx));
    for (unsigned i = 0; i < n.numOperands(); ++i) {
      if (!needs[i] || !dx[i])
        continue;
      if (dx[i].type() != n.operand(i).type())
        return errorAt(n.loc(), "internal error: the gradient rule of " + who(n) + " gave " +
                                    dx[i].type().str() + " for operand " + std::to_string(i) +
                                    " of type " + n.operand(i).type().str());
      accumulate(n.operand(i), dx[i]);
    }
  }
  KILN_TRY(b.status());

  std::vector<Value> grads;
  for (Value v : wrt) {
    if (Value grad = adjointOf(v)) {
      grads.push_back(grad);
      continue;
    }
    // Not reached: the loss does not depend on v (or only through integers or stop_gradient).
    b.begin(*v.node, {});
    grads.push_back(b.zeros(v.type()));
  }
  KILN_TRY(b.status());
  return grads;
}

} // namespace kiln
