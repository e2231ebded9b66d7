// Gradient rules of the data-movement ops: the gradient moves back the way the data came
// (reshape back, inverse transpose, slices of a concat, scatter of a slice or gather).
#include "compiler/autodiff/GradRules.h"
#include "compiler/ir/OpAttrs.h"

namespace kiln::grad {

void gradReshape(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx[0] = b.reshape(dy, n.operand(0).type().shape);
}

void gradFlatten(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx[0] = b.reshape(dy, n.operand(0).type().shape);
}

// y.shape[i] = x.shape[perm[i]], so the inverse permutation maps the gradient back.
void gradTranspose(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  std::vector<int64_t> perm = transposePerm(n);
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[size_t(perm[i])] = int64_t(i);
  dx[0] = b.transpose(dy, inverse);
}

// Operand i's gradient is its own stretch of the concatenated axis.
void gradConcat(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  const Shape &out = n.type().shape;
  int64_t axis = *normalizeAxis(n.attrInt("axis"), int64_t(out.size()));
  int64_t offset = 0;
  for (unsigned i = 0; i < n.numOperands(); ++i) {
    const Shape &s = n.operand(i).type().shape;
    int64_t len = s[size_t(axis)];
    if (b.needs(i)) {
      std::vector<int64_t> begin(out.size(), 0), end = out;
      begin[size_t(axis)] = offset;
      end[size_t(axis)] = offset + len;
      dx[i] = b.op(Op::Slice, "slice", {dy}, {{"begin", begin}, {"end", end}});
    }
    offset += len;
  }
}

// Zeros outside the slice, the gradient inside: a kernel of its own (slice_grad).
void gradSlice(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  AttrMap attrs = effectiveAttrs(n);
  attrs["input_shape"] = n.operand(0).type().shape;
  dx[0] = b.op(Op::SliceGrad, "slice_grad", {dy}, std::move(attrs));
}

void gradBroadcastTo(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx[0] = b.unbroadcast(dy, n.operand(0).type().shape);
}

// The table gets the gradient rows scatter-added at their indices (gather_grad); the indices
// are integers and get none.
void gradGather(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  if (!b.needs(0))
    return;
  const Shape &table = n.operand(0).type().shape;
  int64_t axis = *normalizeAxis(n.attrInt("axis"), int64_t(table.size()));
  dx[0] = b.op(Op::GatherGrad, "gather_grad", {n.operand(1), dy},
               {{"table_shape", table}, {"axis", axis}});
}

// An integer operand and a piecewise constant result.
void gradOneHot(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }

} // namespace kiln::grad
