// Interpreter kernels of the data-movement ops: reshape, flatten, transpose, concat, slice,
// broadcast_to, gather and one_hot. They copy elements as bytes, so every dtype is handled alike.
#include "compiler/interp/Kernels.h"
#include "compiler/ir/OpAttrs.h"

#include <algorithm>
#include <cstring>

namespace kiln::interp {

namespace {
/// Copies element `si` of `src` to element `di` of `dst` (same dtype).
inline void copyElement(Tensor &dst, int64_t di, const Tensor &src, int64_t si) {
  size_t size = dtypeSize(src.dtype());
  std::memcpy(static_cast<char *>(dst.raw()) + size_t(di) * size,
              static_cast<const char *>(src.raw()) + size_t(si) * size, size);
}

int64_t product(const Shape &s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i)
    p *= s[i];
  return p;
}

/// Index value `i` of an i32/i64 tensor.
int64_t indexAt(const Tensor &t, int64_t i) {
  return t.dtype() == DType::I32 ? int64_t(t.data<int32_t>()[i]) : t.data<int64_t>()[i];
}

Expected<Tensor> sameBytes(const Node &node, const Tensor &x) {
  Tensor out = makeResult(node);
  if (out.numElements() != x.numElements() || out.dtype() != x.dtype())
    return internalError(node, "element count or dtype changes");
  std::memcpy(out.raw(), x.raw(), x.byteSize());
  return out;
}
} // namespace

Expected<Tensor> evalReshape(const Node &node, Operands in, const EvalContext &) {
  return sameBytes(node, in[0]);
}

Expected<Tensor> evalFlatten(const Node &node, Operands in, const EvalContext &) {
  return sameBytes(node, in[0]);
}

Expected<Tensor> evalTranspose(const Node &node, Operands in, const EvalContext &) {
  const Tensor &x = in[0];
  size_t rank = size_t(x.rank());
  std::vector<int64_t> perm = transposePerm(node);
  if (perm.size() != rank)
    return internalError(node, "perm has the wrong length");
  Tensor out = makeResult(node);
  Shape inStrides = stridesOf(x.shape());
  const Shape &outDims = out.shape();
  for (int64_t o = 0; o < out.numElements(); ++o) {
    int64_t rest = o, src = 0;
    for (size_t i = rank; i-- > 0;) {
      src += (rest % outDims[i]) * inStrides[size_t(perm[i])];
      rest /= outDims[i];
    }
    copyElement(out, o, x, src);
  }
  return out;
}

Expected<Tensor> evalConcat(const Node &node, Operands in, const EvalContext &) {
  Tensor out = makeResult(node);
  auto axis = normalizeAxis(node.attrInt("axis"), out.rank());
  if (!axis)
    return internalError(node, "axis out of range");
  size_t ax = size_t(*axis);
  int64_t outer = product(out.shape(), 0, ax);
  int64_t inner = product(out.shape(), ax + 1, out.shape().size());
  int64_t outRow = out.shape()[ax] * inner; // elements per outer index in the result
  int64_t offset = 0;                       // where this operand starts within a row
  for (const Tensor &x : in) {
    int64_t row = x.shape()[ax] * inner;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < row; ++j)
        copyElement(out, o * outRow + offset + j, x, o * row + j);
    offset += row;
  }
  return out;
}

Expected<Tensor> evalSlice(const Node &node, Operands in, const EvalContext &) {
  const Tensor &x = in[0];
  size_t rank = size_t(x.rank());
  std::vector<int64_t> begin = *node.attrInts("begin"), end = *node.attrInts("end");
  std::vector<int64_t> strides = node.attrInts("strides").value_or(std::vector<int64_t>(rank, 1));
  if (begin.size() != rank || end.size() != rank || strides.size() != rank)
    return internalError(node, "begin/end/strides need one entry per dim");
  std::vector<int64_t> start(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t dim = x.shape()[i];
    int64_t b = begin[i] < 0 ? begin[i] + dim : begin[i];
    start[i] = std::clamp<int64_t>(b, 0, dim);
  }
  Tensor out = makeResult(node);
  Shape inStrides = stridesOf(x.shape());
  const Shape &outDims = out.shape();
  for (int64_t o = 0; o < out.numElements(); ++o) {
    int64_t rest = o, src = 0;
    for (size_t i = rank; i-- > 0;) {
      src += (start[i] + (rest % outDims[i]) * strides[i]) * inStrides[i];
      rest /= outDims[i];
    }
    copyElement(out, o, x, src);
  }
  return out;
}

Expected<Tensor> evalBroadcastTo(const Node &node, Operands in, const EvalContext &) {
  Tensor out = makeResult(node);
  BroadcastMap map(in[0].shape(), out.shape());
  for (int64_t o = 0; o < out.numElements(); ++o)
    copyElement(out, o, in[0], map(o));
  return out;
}

Expected<Tensor> evalGather(const Node &node, Operands in, const EvalContext &) {
  const Tensor &table = in[0], &indices = in[1];
  if (!isInteger(indices.dtype()))
    return internalError(node, "indices must be i32 or i64");
  auto axis = normalizeAxis(node.attrInt("axis"), table.rank());
  if (!axis)
    return internalError(node, "axis out of range");
  size_t ax = size_t(*axis);
  int64_t outer = product(table.shape(), 0, ax);
  int64_t n = table.shape()[ax];
  int64_t inner = product(table.shape(), ax + 1, table.shape().size());
  int64_t count = indices.numElements();
  // Check every index before copying anything: a bad index is the user's run-time fault.
  for (int64_t i = 0; i < count; ++i) {
    int64_t idx = indexAt(indices, i);
    if (idx < 0 || idx >= n)
      return errorAt(node.loc(), who(node) + ": index " + std::to_string(idx) +
                                     " is out of range [0, " + std::to_string(n) + ")");
  }
  Tensor out = makeResult(node);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < count; ++i) {
      int64_t idx = indexAt(indices, i);
      for (int64_t j = 0; j < inner; ++j)
        copyElement(out, (o * count + i) * inner + j, table, (o * n + idx) * inner + j);
    }
  return out;
}

Expected<Tensor> evalOneHot(const Node &node, Operands in, const EvalContext &) {
  const Tensor &indices = in[0];
  if (!isInteger(indices.dtype()))
    return internalError(node, "indices must be i32 or i64");
  int64_t depth = node.attrInt("depth");
  Tensor out = makeResult(node);
  // An out-of-range index leaves its row all zero (TensorFlow's rule).
  for (int64_t i = 0; i < indices.numElements(); ++i) {
    int64_t idx = indexAt(indices, i);
    if (idx >= 0 && idx < depth)
      out.set(i * depth + idx, 1.0);
  }
  return out;
}

} // namespace kiln::interp
