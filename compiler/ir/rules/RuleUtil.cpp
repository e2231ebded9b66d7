// Shared checks for the shape rules: dtype and rank tests, attribute lookups, overflow-safe math.
#include "compiler/ir/rules/RuleUtil.h"

#include <cassert>

namespace kiln::rules {

Types fail(TypeError &err, std::string message, std::string attr, int operand) {
  err.message = std::move(message);
  err.attr = std::move(attr);
  err.operand = operand;
  return std::nullopt;
}

bool failed(TypeError &err, std::string message, std::string attr, int operand) {
  fail(err, std::move(message), std::move(attr), operand);
  return false;
}

std::string dtypeStr(DType t) { return std::string(dtypeName(t)); }
std::string shapeStr(const Shape &s) { return shapeToString(s); }

const AttrValue *findAttr(const AttrMap &attrs, const char *name) {
  auto it = attrs.find(name);
  return it == attrs.end() ? nullptr : &it->second;
}

// A required attribute or one with a default is always present (Graph::addNode fills defaults),
// so a missing one is a bug in the caller, not a user error.
template <typename T> static const T &get(const AttrMap &attrs, const char *name) {
  const AttrValue *v = findAttr(attrs, name);
  assert(v && std::holds_alternative<T>(*v) && "attribute missing or of the wrong kind");
  return std::get<T>(*v);
}

int64_t intAttr(const AttrMap &attrs, const char *name) { return get<int64_t>(attrs, name); }
double floatAttr(const AttrMap &attrs, const char *name) { return get<double>(attrs, name); }
bool boolAttr(const AttrMap &attrs, const char *name) { return get<bool>(attrs, name); }
std::string strAttr(const AttrMap &attrs, const char *name) {
  return get<std::string>(attrs, name);
}
DType dtypeAttr(const AttrMap &attrs, const char *name) { return get<DType>(attrs, name); }
const std::vector<int64_t> *intsAttr(const AttrMap &attrs, const char *name) {
  const AttrValue *v = findAttr(attrs, name);
  return v ? std::get_if<std::vector<int64_t>>(v) : nullptr;
}

bool requireFloat(const TensorType &t, int operand, TypeError &err) {
  if (isFloat(t.dtype))
    return true;
  return failed(err, "operand " + std::to_string(operand) + " has dtype " + dtypeStr(t.dtype) +
                         ", expected f32 or f64",
                {}, operand);
}

bool requireNumeric(const TensorType &t, int operand, TypeError &err) {
  if (t.dtype != DType::Bool)
    return true;
  return failed(err, "operand " + std::to_string(operand) +
                         " has dtype bool, expected f32, f64, i32 or i64",
                {}, operand);
}

bool requireIndex(const TensorType &t, int operand, TypeError &err) {
  if (isInteger(t.dtype))
    return true;
  return failed(err, "operand " + std::to_string(operand) + " has dtype " + dtypeStr(t.dtype) +
                         ", expected i32 or i64",
                {}, operand);
}

bool requireSameDType(const TensorType &a, const TensorType &b, int operandB, TypeError &err) {
  if (a.dtype == b.dtype)
    return true;
  return failed(err, "operand dtypes " + dtypeStr(a.dtype) + " and " + dtypeStr(b.dtype) + " differ",
                {}, operandB);
}

bool requireRank(const TensorType &t, int64_t rank, int operand, std::string_view what,
                 TypeError &err) {
  if (t.rank() == rank)
    return true;
  return failed(err, std::string(what) + " must have rank " + std::to_string(rank) + ", got " +
                         t.str(),
                {}, operand);
}

bool requireShape(const TensorType &t, const Shape &shape, int operand, std::string_view what,
                  TypeError &err) {
  if (t.shape == shape)
    return true;
  return failed(err, std::string(what) + " must have shape " + shapeStr(shape) + ", got " + t.str(),
                {}, operand);
}

bool axisAttr(int64_t axis, int64_t rank, const char *attr, TypeError &err, int64_t &out) {
  auto a = normalizeAxis(axis, rank);
  if (!a)
    return failed(err, std::string(attr) + " " + std::to_string(axis) +
                           " is out of range for rank " + std::to_string(rank),
                  attr);
  out = *a;
  return true;
}

bool shapeAttr(const std::vector<int64_t> &shape, const char *attr, TypeError &err) {
  for (int64_t d : shape)
    if (d <= 0)
      return failed(err, std::string(attr) + " " + shapeStr(shape) +
                             " has a dimension that is not positive",
                    attr);
  if (checkedNumElements(shape) < 0)
    return failed(err, std::string(attr) + " " + shapeStr(shape) + " has too many elements (at most " +
                           std::to_string(kMaxTensorElements) + ")",
                  attr);
  return true;
}

bool pairAttr(const std::vector<int64_t> &v, const char *attr, TypeError &err) {
  if (v.size() != 2)
    return failed(err, std::string(attr) + " must have 2 entries, got " + shapeStr(v), attr);
  for (int64_t x : v)
    if (x <= 0)
      return failed(err, std::string(attr) + " " + shapeStr(v) + " must be positive", attr);
  return true;
}

std::optional<int64_t> mulChecked(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    return std::nullopt;
  return r;
}

std::optional<int64_t> addChecked(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    return std::nullopt;
  return r;
}

} // namespace kiln::rules
