// Gradient rule of matmul: products with the other operand, transposes folded into the
// transpose_a/transpose_b attributes, broadcast batch dims summed back.
#include "compiler/autodiff/GradRules.h"

namespace kiln::grad {

namespace {

Value matmul(GradBuilder &b, const std::string &part, Value x, Value y, bool ta, bool tb) {
  return b.op(Op::Matmul, part, {x, y}, {{"transpose_a", ta}, {"transpose_b", tb}});
}

} // namespace

// With A = op(a), B = op(b) (op transposes the last two axes when its flag is set) and
// Y = A B: dA = G B^T and dB = A^T G. A transposed operand's gradient is the transpose of
// that, which swaps the factors: (G B^T)^T = B G^T and (A^T G)^T = G^T A.
void gradMatmul(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  Value a = n.operand(0), c = n.operand(1);
  bool ta = n.attrBool("transpose_a"), tb = n.attrBool("transpose_b");
  if (b.needs(0)) {
    Value da = ta ? matmul(b, "da", c, dy, tb, true) : matmul(b, "da", dy, c, false, !tb);
    dx[0] = b.unbroadcast(da, a.type().shape);
  }
  if (b.needs(1)) {
    Value db = tb ? matmul(b, "db", dy, a, true, ta) : matmul(b, "db", a, dy, !ta, false);
    dx[1] = b.unbroadcast(db, c.type().shape);
  }
}

} // namespace kiln::grad
