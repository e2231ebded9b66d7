// Shape rules of data-movement ops: reshape, flatten, transpose, concat, slice, broadcast_to,
// gather and one_hot. They accept every dtype (bool included) unless noted.
#include "compiler/ir/rules/RuleUtil.h"

#include <algorithm>

namespace kiln::rules {

Types inferReshape(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &x = in[0];
  Shape shape = *intsAttr(attrs, "shape");
  int64_t inferred = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (inferred >= 0)
        return fail(err, "shape " + shapeStr(shape) + " has more than one -1", "shape");
      inferred = int64_t(i);
    } else if (shape[i] <= 0) {
      return fail(err, "shape " + shapeStr(shape) + " has entry " + std::to_string(shape[i]) +
                           " (entries must be positive, or -1 once)",
                  "shape");
    }
  }
  int64_t total = x.numElements();
  Shape known;
  for (int64_t d : shape)
    if (d != -1)
      known.push_back(d);
  int64_t knownCount = checkedNumElements(known);
  if (knownCount < 0 || (inferred < 0 && knownCount != total) ||
      (inferred >= 0 && total % knownCount != 0))
    return fail(err, "cannot reshape " + x.str() + " (" + std::to_string(total) + " elements) to " +
                         shapeStr(shape),
                "shape");
  if (inferred >= 0)
    shape[size_t(inferred)] = total / knownCount;
  return one({x.dtype, shape});
}

Types inferFlatten(Op, Operands in, const AttrMap &, TypeError &err) {
  const TensorType &x = in[0];
  if (x.rank() < 1)
    return fail(err, "operand must have rank >= 1, got " + x.str(), {}, 0);
  int64_t rest = 1;
  for (size_t i = 1; i < x.shape.size(); ++i)
    rest *= x.shape[i]; // a valid type's element count fits, so no overflow
  return one({x.dtype, {x.shape[0], rest}});
}

Types inferTranspose(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &x = in[0];
  int64_t rank = x.rank();
  std::vector<int64_t> perm;
  if (const auto *p = intsAttr(attrs, "perm")) {
    if (int64_t(p->size()) != rank)
      return fail(err, "perm " + shapeStr(*p) + " has " + std::to_string(p->size()) +
                           " entries but the operand has rank " + std::to_string(rank),
                  "perm");
    std::vector<bool> seen(size_t(rank), false);
    for (int64_t a : *p) {
      auto n = normalizeAxis(a, rank);
      if (!n || seen[size_t(*n)])
        return fail(err, "perm " + shapeStr(*p) + " is not a permutation of the " +
                             std::to_string(rank) + " axes",
                    "perm");
      seen[size_t(*n)] = true;
      perm.push_back(*n);
    }
  } else {
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  }
  Shape out;
  for (int64_t a : perm)
    out.push_back(x.shape[size_t(a)]);
  return one({x.dtype, out});
}

Types inferConcat(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &first = in[0];
  int64_t axis;
  if (!axisAttr(intAttr(attrs, "axis"), first.rank(), "axis", err, axis))
    return std::nullopt;
  Shape out = first.shape;
  for (size_t i = 1; i < in.size(); ++i) {
    const TensorType &t = in[i];
    if (!requireSameDType(first, t, int(i), err))
      return std::nullopt;
    bool same = t.rank() == first.rank();
    for (int64_t d = 0; same && d < first.rank(); ++d)
      same = d == axis || t.shape[size_t(d)] == first.shape[size_t(d)];
    if (!same)
      return fail(err, "operand " + std::to_string(i) + " " + t.str() +
                           " does not match operand 0 " + first.str() + " except on axis " +
                           std::to_string(axis),
                  {}, int(i));
    auto sum = addChecked(out[size_t(axis)], t.shape[size_t(axis)]);
    if (!sum || *sum > kMaxTensorElements)
      return fail(err, "concatenated axis " + std::to_string(axis) + " is too long", {}, int(i));
    out[size_t(axis)] = *sum;
  }
  return one({first.dtype, out});
}

Types inferSlice(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &x = in[0];
  size_t rank = x.shape.size();
  const auto &begin = *intsAttr(attrs, "begin");
  const auto &end = *intsAttr(attrs, "end");
  std::vector<int64_t> strides(rank, 1);
  if (const auto *s = intsAttr(attrs, "strides"))
    strides = *s;
  const std::pair<const char *, const std::vector<int64_t> *> lists[] = {
      {"begin", &begin}, {"end", &end}, {"strides", &strides}};
  for (auto &[name, list] : lists)
    if (list->size() != rank)
      return fail(err, std::string(name) + " " + shapeStr(*list) + " has " +
                           std::to_string(list->size()) + " entries but the operand has rank " +
                           std::to_string(rank),
                  name);
  Shape out;
  for (size_t d = 0; d < rank; ++d) {
    int64_t dim = x.shape[d];
    if (strides[d] <= 0)
      return fail(err, "strides " + shapeStr(strides) + " must be positive", "strides");
    // Negative positions count from the end; then both are clamped into [0, dim]. dim > 0, so
    // adding it to a negative value cannot overflow.
    auto resolve = [dim](int64_t p) { return std::clamp(p < 0 ? p + dim : p, int64_t(0), dim); };
    int64_t b = resolve(begin[d]), e = resolve(end[d]);
    if (e <= b)
      return fail(err, "slice of axis " + std::to_string(d) + " (size " + std::to_string(dim) +
                           ") from " + std::to_string(begin[d]) + " to " + std::to_string(end[d]) +
                           " is empty",
                  "begin");
    out.push_back((e - b - 1) / strides[d] + 1);
  }
  return one({x.dtype, out});
}

Types inferBroadcastTo(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &x = in[0];
  const Shape &shape = *intsAttr(attrs, "shape");
  if (!shapeAttr(shape, "shape", err))
    return std::nullopt;
  auto b = broadcastShapes(x.shape, shape);
  if (!b || *b != shape)
    return fail(err, "shape " + x.str() + " cannot be broadcast to " + shapeStr(shape), "shape");
  return one({x.dtype, shape});
}

Types inferGather(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &table = in[0], &indices = in[1];
  if (!requireIndex(indices, 1, err))
    return std::nullopt;
  if (table.rank() < 1)
    return fail(err, "table must have rank >= 1, got " + table.str(), {}, 0);
  int64_t axis;
  if (!axisAttr(intAttr(attrs, "axis"), table.rank(), "axis", err, axis))
    return std::nullopt;
  Shape out(table.shape.begin(), table.shape.begin() + axis);
  out.insert(out.end(), indices.shape.begin(), indices.shape.end());
  out.insert(out.end(), table.shape.begin() + axis + 1, table.shape.end());
  return one({table.dtype, out});
}

Types inferOneHot(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &indices = in[0];
  if (!requireIndex(indices, 0, err))
    return std::nullopt;
  int64_t depth = intAttr(attrs, "depth");
  if (depth < 1 || depth > kMaxTensorElements)
    return fail(err, "depth " + std::to_string(depth) + " must be between 1 and " +
                         std::to_string(kMaxTensorElements),
                "depth");
  Shape out = indices.shape;
  out.push_back(depth);
  return one({dtypeAttr(attrs, "dtype"), out});
}

} // namespace kiln::rules
