// The gradient-rule table (one case per Ops.def row) and GradBuilder, the emitter every rule uses.
#include "compiler/autodiff/GradRules.h"

#include "compiler/support/Diagnostic.h"

#include <algorithm>
#include <cassert>

namespace kiln {

void GradBuilder::begin(Node &forward, std::vector<bool> needs) {
  forward_ = &forward;
  needs_ = std::move(needs);
}

void GradBuilder::fail(const std::string &message) {
  if (!status_)
    return;
  status_ = errorAt(forward_->loc(), std::string(forward_->info().mnemonic) + " '" +
                                         forward_->name() + "': " + message);
}

Value GradBuilder::op(Op o, const std::string &part, std::vector<Value> operands, AttrMap attrs) {
  if (!status_)
    return {};
  for (Value v : operands)
    if (!v)
      return {};
  std::string name = g_.uniqueName("grad/" + forward_->name() + "/" + part);
  auto node = g_.addNode(o, name, std::move(operands), std::move(attrs), forward_->loc());
  if (!node) {
    // Rules build only well-typed nodes, so this is a bug in a rule; keep its message.
    fail("internal error in its gradient rule: " + node.message());
    return {};
  }
  return (*node)->result();
}

Value GradBuilder::constant(const std::string &part, Tensor value) {
  if (!status_)
    return {};
  std::string name = g_.uniqueName("grad/" + forward_->name() + "/" + part);
  auto node = g_.addConstant(name, std::move(value), forward_->loc());
  if (!node) {
    fail("internal error in its gradient rule: " + node.message());
    return {};
  }
  return (*node)->result();
}

Value GradBuilder::scalar(DType dtype, double value) {
  return constant("c", Tensor::scalar(dtype, value));
}

Value GradBuilder::zeros(const TensorType &t) {
  return constant("zeros", Tensor(t.dtype, t.shape));
}

Value GradBuilder::scale(Value x, double c) {
  if (!x)
    return {};
  return mul(x, scalar(x.type().dtype, c));
}

Value GradBuilder::where(Value cond, Value g) {
  if (!g)
    return {};
  return select(cond, g, scalar(g.type().dtype, 0));
}

Value GradBuilder::cast(Value x, DType to) { return op(Op::Cast, "cast", {x}, {{"dtype", to}}); }

Value GradBuilder::reshape(Value x, const Shape &shape) {
  if (x && x.type().shape == shape)
    return x;
  return op(Op::Reshape, "reshape", {x}, {{"shape", shape}});
}

Value GradBuilder::broadcastTo(Value x, const Shape &shape) {
  if (x && x.type().shape == shape)
    return x;
  return op(Op::BroadcastTo, "broadcast_to", {x}, {{"shape", shape}});
}

Value GradBuilder::transpose(Value x, std::vector<int64_t> perm) {
  return op(Op::Transpose, "transpose", {x}, {{"perm", std::move(perm)}});
}

Value GradBuilder::reduceSum(Value x, std::vector<int64_t> axes, bool keepdims) {
  if (axes.empty())
    return x;
  return op(Op::ReduceSum, "reduce_sum", {x}, {{"axes", std::move(axes)}, {"keepdims", keepdims}});
}

Value GradBuilder::reduceMean(Value x, std::vector<int64_t> axes, bool keepdims) {
  if (axes.empty())
    return x;
  return op(Op::ReduceMean, "reduce_mean", {x},
            {{"axes", std::move(axes)}, {"keepdims", keepdims}});
}

Value GradBuilder::unbroadcast(Value grad, const Shape &target) {
  if (!grad)
    return {};
  const Shape &from = grad.type().shape;
  if (from == target)
    return grad;
  // Broadcasting aligns shapes on the right: the leading axes that the target lacks were added,
  // and a target extent 1 against a larger one was stretched. Both are summed away.
  assert(from.size() >= target.size() && "unbroadcast to a higher rank");
  size_t lead = from.size() - target.size();
  std::vector<int64_t> axes;
  for (size_t i = 0; i < from.size(); ++i)
    if (i < lead || (target[i - lead] == 1 && from[i] != 1))
      axes.push_back(int64_t(i));
  return reshape(reduceSum(grad, axes, false), target);
}

namespace grad {

std::vector<int64_t> reductionAxes(const Node &n) {
  int64_t rank = n.operand(0).type().rank();
  std::vector<int64_t> axes;
  if (auto given = n.attrInts("axes")) {
    for (int64_t a : *given)
      axes.push_back(*normalizeAxis(a, rank));
    std::sort(axes.begin(), axes.end());
  } else {
    for (int64_t a = 0; a < rank; ++a)
      axes.push_back(a);
  }
  return axes;
}

Shape keptShape(const Shape &in, const std::vector<int64_t> &axes) {
  Shape out = in;
  for (int64_t a : axes)
    out[size_t(a)] = 1;
  return out;
}

AttrMap effectiveAttrs(const Node &n) {
  AttrMap attrs;
  for (const AttrSpec &spec : n.info().attrs)
    if (auto v = n.attr(spec.name))
      attrs[spec.name] = *v;
  return attrs;
}

} // namespace grad

Status gradRule(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx.assign(n.numOperands(), Value{});
  // One case per Ops.def row, no default: a new op cannot be forgotten here, and its rule
  // function must exist for the build to link.
  switch (n.op()) {
#define KILN_OP(Name, Mnemonic, MinIn, MaxIn, NumResults, Traits, Attrs)                           \
  case Op::Name:                                                                                   \
    grad::grad##Name(b, n, dy, dx);                                                                \
    break;
#include "compiler/ir/Ops.def"
  }
  return b.status();
}

} // namespace kiln
