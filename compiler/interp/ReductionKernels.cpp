// Interpreter kernels of reduce_sum / mean / max / min and argmax.
#include "compiler/interp/ElementwiseKernels.h"

#include <cmath>
#include <type_traits>

namespace kiln::interp {

namespace {
enum class Reduce { Sum, Mean, Max, Min };

/// For every input axis, the stride of its coordinate in the (compact) output: 0 on reduced axes.
Shape outputStridesFor(const Node &node, const Shape &inShape, int64_t &reducedCount) {
  int64_t rank = int64_t(inShape.size());
  std::vector<bool> reduced(size_t(rank), false);
  if (auto axes = node.attrInts("axes")) {
    for (int64_t a : *axes)
      reduced[size_t(a < 0 ? a + rank : a)] = true;
  } else {
    reduced.assign(size_t(rank), true);
  }
  Shape strides(size_t(rank), 0);
  int64_t stride = 1;
  reducedCount = 1;
  for (int64_t i = rank; i-- > 0;) {
    if (reduced[size_t(i)]) {
      reducedCount *= inShape[size_t(i)];
      continue;
    }
    strides[size_t(i)] = stride;
    stride *= inShape[size_t(i)];
  }
  return strides;
}

int64_t outIndexOf(int64_t flat, const Shape &dims, const Shape &outStrides) {
  int64_t o = 0;
  for (size_t i = dims.size(); i-- > 0;) {
    o += (flat % dims[i]) * outStrides[i];
    flat /= dims[i];
  }
  return o;
}

Expected<Tensor> reduce(const Node &node, const Tensor &x, Reduce kind) {
  if (auto axes = node.attrInts("axes"))
    for (int64_t a : *axes)
      if (!normalizeAxis(a, x.rank()))
        return internalError(node, "axis out of range");
  int64_t count = 1;
  Shape outStrides = outputStridesFor(node, x.shape(), count);
  Tensor out = makeResult(node);
  return dispatchAny(x.dtype(), [&]<typename T>() -> Expected<Tensor> {
    if constexpr (kIsBool<T>) {
      return internalError(node, "bool operand");
    } else {
      // Floats accumulate in double (the oracle is at least as exact as any backend);
      // integers wrap in two's complement.
      using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
      std::vector<Acc> acc(size_t(out.numElements()), Acc(0));
      std::vector<bool> seen(size_t(out.numElements()), false);
      const T *p = x.data<T>();
      for (int64_t i = 0; i < x.numElements(); ++i) {
        size_t o = size_t(outIndexOf(i, x.shape(), outStrides));
        Acc v = Acc(p[i]);
        switch (kind) {
        case Reduce::Sum:
        case Reduce::Mean:
          acc[o] = wrapAdd(acc[o], v);
          break;
        case Reduce::Max:
        case Reduce::Min: {
          // The first NaN sticks (NumPy); `x != x` is false for integers.
          bool better = kind == Reduce::Max ? v > acc[o] : v < acc[o];
          if (!seen[o] || (acc[o] == acc[o] && (better || v != v)))
            acc[o] = v;
          break;
        }
        }
        seen[o] = true;
      }
      T *q = out.data<T>();
      for (size_t o = 0; o < acc.size(); ++o) {
        if (kind == Reduce::Mean)
          q[o] = T(double(acc[o]) / double(count));
        else
          q[o] = T(acc[o]);
      }
      return out;
    }
  });
}
} // namespace

Expected<Tensor> evalReduceSum(const Node &node, Operands in, const EvalContext &) {
  return reduce(node, in[0], Reduce::Sum);
}

Expected<Tensor> evalReduceMean(const Node &node, Operands in, const EvalContext &) {
  if (!isFloat(in[0].dtype()))
    return internalError(node, "reduce_mean needs a float operand");
  return reduce(node, in[0], Reduce::Mean);
}

Expected<Tensor> evalReduceMax(const Node &node, Operands in, const EvalContext &) {
  return reduce(node, in[0], Reduce::Max);
}

Expected<Tensor> evalReduceMin(const Node &node, Operands in, const EvalContext &) {
  return reduce(node, in[0], Reduce::Min);
}

Expected<Tensor> evalArgmax(const Node &node, Operands in, const EvalContext &) {
  const Tensor &x = in[0];
  auto axis = normalizeAxis(node.attrInt("axis"), x.rank());
  if (!axis)
    return internalError(node, "axis out of range");
  int64_t outer = 1, inner = 1, n = x.shape()[size_t(*axis)];
  for (int64_t i = 0; i < *axis; ++i)
    outer *= x.shape()[size_t(i)];
  for (int64_t i = *axis + 1; i < x.rank(); ++i)
    inner *= x.shape()[size_t(i)];
  Tensor out = makeResult(node);
  int32_t *q = out.data<int32_t>();
  return dispatchAny(x.dtype(), [&]<typename T>() -> Expected<Tensor> {
    const T *p = x.data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < inner; ++j) {
        // Ties pick the first index; the first NaN wins (NumPy).
        int64_t best = 0;
        T bestV = p[o * n * inner + j];
        for (int64_t k = 1; k < n; ++k) {
          T v = p[(o * n + k) * inner + j];
          if (bestV != bestV)
            break;
          if (v > bestV || v != v) {
            best = k;
            bestV = v;
          }
        }
        q[o * inner + j] = int32_t(best);
      }
    return out;
  });
}

} // namespace kiln::interp
