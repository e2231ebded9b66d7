// Shape rules of elementwise ops: unary, binary with broadcasting, comparisons and select.
#include "compiler/ir/rules/RuleUtil.h"

#include <cmath>

namespace kiln::rules {

namespace {

/// The dtype policy of an elementwise op, from its Ops.def traits: float-only ops need f32/f64,
/// kAnyDType ops take bool too, and every other arithmetic op takes the four numeric dtypes.
bool checkOperandDType(Op op, const TensorType &t, int operand, TypeError &err) {
  const OpInfo &info = opInfo(op);
  if (info.has(kFloatOnly))
    return requireFloat(t, operand, err);
  if (info.has(kAnyDType))
    return true;
  return requireNumeric(t, operand, err);
}

bool broadcastInto(Shape &acc, const TensorType &accType, const TensorType &next, int operand,
                   TypeError &err) {
  auto b = broadcastShapes(acc, next.shape);
  if (!b)
    return failed(err, "shapes " + TensorType{accType.dtype, acc}.str() + " and " + next.str() +
                           " do not broadcast",
                  {}, operand);
  acc = std::move(*b);
  return true;
}

} // namespace

Types inferUnary(Op op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &x = in[0];
  if (!checkOperandDType(op, x, 0, err))
    return std::nullopt;
  if (op == Op::Cast)
    return one({dtypeAttr(attrs, "dtype"), x.shape});
  if (op == Op::LeakyRelu) {
    double alpha = floatAttr(attrs, "alpha");
    if (!std::isfinite(alpha))
      return fail(err, "alpha " + attrValueToString(alpha) + " must be finite", "alpha");
  }
  return one(x);
}

Types inferBinary(Op op, Operands in, const AttrMap &, TypeError &err) {
  if (!checkOperandDType(op, in[0], 0, err) || !requireSameDType(in[0], in[1], 1, err) ||
      !checkOperandDType(op, in[1], 1, err))
    return std::nullopt;
  Shape s = in[0].shape;
  if (!broadcastInto(s, in[0], in[1], 1, err))
    return std::nullopt;
  return one({in[0].dtype, s});
}

Types inferCompare(Op op, Operands in, const AttrMap &, TypeError &err) {
  // Equality is defined on bools; ordering is not.
  bool boolOk = op == Op::Equal || op == Op::NotEqual;
  if (!requireSameDType(in[0], in[1], 1, err))
    return std::nullopt;
  if (!boolOk && !requireNumeric(in[0], 0, err))
    return std::nullopt;
  Shape s = in[0].shape;
  if (!broadcastInto(s, in[0], in[1], 1, err))
    return std::nullopt;
  return one({DType::Bool, s});
}

Types inferSelect(Op, Operands in, const AttrMap &, TypeError &err) {
  if (in[0].dtype != DType::Bool)
    return fail(err, "condition has dtype " + dtypeStr(in[0].dtype) + ", expected bool", {}, 0);
  if (!requireSameDType(in[1], in[2], 2, err))
    return std::nullopt;
  Shape s = in[0].shape;
  if (!broadcastInto(s, in[0], in[1], 1, err) ||
      !broadcastInto(s, TensorType{in[1].dtype, s}, in[2], 2, err))
    return std::nullopt;
  return one({in[1].dtype, s});
}

} // namespace kiln::rules
