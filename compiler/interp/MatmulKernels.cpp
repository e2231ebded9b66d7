// Interpreter kernel of matmul: optional transposes, NumPy broadcasting of the batch dims.
#include "compiler/interp/Kernels.h"

#include <type_traits>

namespace kiln::interp {

Expected<Tensor> evalMatmul(const Node &node, Operands in, const EvalContext &) {
  const Tensor &a = in[0], &b = in[1];
  if (a.rank() < 2 || b.rank() < 2 || a.dtype() != b.dtype() || !isFloat(a.dtype()))
    return internalError(node, "matmul needs float operands of rank >= 2 and one dtype");
  bool ta = node.attrBool("transpose_a"), tb = node.attrBool("transpose_b");
  const Shape &as = a.shape(), &bs = b.shape();
  int64_t ar = as[as.size() - 2], ac = as.back(), br = bs[bs.size() - 2], bc = bs.back();
  int64_t m = ta ? ac : ar, k = ta ? ar : ac, n = tb ? br : bc;
  if ((tb ? bc : br) != k)
    return internalError(node, "contraction dims differ");
  Tensor out = makeResult(node);
  Shape outBatch(out.shape().begin(), out.shape().end() - 2);
  Shape aBatch(as.begin(), as.end() - 2), bBatch(bs.begin(), bs.end() - 2);
  BroadcastMap mapA(aBatch, outBatch), mapB(bBatch, outBatch);
  int64_t batches = 1;
  for (int64_t d : outBatch)
    batches *= d;
  dispatchAny(a.dtype(), [&]<typename T>() {
    if constexpr (std::is_floating_point_v<T>) {
      const T *pa = a.data<T>();
      const T *pb = b.data<T>();
      T *po = out.data<T>();
      for (int64_t batch = 0; batch < batches; ++batch) {
        const T *A = pa + mapA(batch) * ar * ac;
        const T *B = pb + mapB(batch) * br * bc;
        T *O = po + batch * m * n;
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double sum = 0; // accumulate in double: the oracle is at least as exact as a backend
            for (int64_t p = 0; p < k; ++p) {
              T x = ta ? A[p * ac + i] : A[i * ac + p];
              T y = tb ? B[j * bc + p] : B[p * bc + j];
              sum += double(x) * double(y);
            }
            O[i * n + j] = T(sum);
          }
      }
    }
  });
  return out;
}

} // namespace kiln::interp
