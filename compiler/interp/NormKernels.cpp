// Interpreter kernels of softmax, log_softmax (max-subtracted) and layer_norm (biased variance).
#include "compiler/interp/Kernels.h"

#include <cmath>
#include <type_traits>

namespace kiln::interp {

namespace {
Expected<Tensor> softmaxLike(const Node &node, const Tensor &x, bool logarithm) {
  auto axis = normalizeAxis(node.attrInt("axis"), x.rank());
  if (!axis || !isFloat(x.dtype()))
    return internalError(node, "softmax needs a float operand and an axis in range");
  int64_t outer = 1, inner = 1, n = x.shape()[size_t(*axis)];
  for (int64_t i = 0; i < *axis; ++i)
    outer *= x.shape()[size_t(i)];
  for (int64_t i = *axis + 1; i < x.rank(); ++i)
    inner *= x.shape()[size_t(i)];
  Tensor out = makeResult(node);
  dispatchAny(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_floating_point_v<T>) {
      const T *p = x.data<T>();
      T *q = out.data<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < inner; ++j) {
          auto at = [&](int64_t k) { return (o * n + k) * inner + j; };
          double mx = double(p[at(0)]);
          for (int64_t k = 1; k < n; ++k)
            mx = std::max(mx, double(p[at(k)]));
          double sum = 0;
          for (int64_t k = 0; k < n; ++k)
            sum += std::exp(double(p[at(k)]) - mx);
          for (int64_t k = 0; k < n; ++k) {
            double shifted = double(p[at(k)]) - mx;
            q[at(k)] = T(logarithm ? shifted - std::log(sum) : std::exp(shifted) / sum);
          }
        }
    }
  });
  return out;
}
} // namespace

Expected<Tensor> evalSoftmax(const Node &node, Operands in, const EvalContext &) {
  return softmaxLike(node, in[0], /*logarithm=*/false);
}

Expected<Tensor> evalLogSoftmax(const Node &node, Operands in, const EvalContext &) {
  return softmaxLike(node, in[0], /*logarithm=*/true);
}

Expected<Tensor> evalLayerNorm(const Node &node, Operands in, const EvalContext &) {
  const Tensor &x = in[0], &gamma = in[1], &beta = in[2];
  auto axis = normalizeAxis(node.attrInt("axis"), x.rank());
  if (!axis || !isFloat(x.dtype()))
    return internalError(node, "layer_norm needs a float operand and an axis in range");
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < *axis; ++i)
    outer *= x.shape()[size_t(i)];
  for (int64_t i = *axis; i < x.rank(); ++i)
    inner *= x.shape()[size_t(i)];
  if (gamma.numElements() != inner || beta.numElements() != inner)
    return internalError(node, "gamma/beta do not match the normalised axes");
  double eps = node.attrFloat("epsilon");
  Tensor out = makeResult(node);
  dispatchAny(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_floating_point_v<T>) {
      const T *p = x.data<T>();
      const T *g = gamma.data<T>();
      const T *b = beta.data<T>();
      T *q = out.data<T>();
      for (int64_t o = 0; o < outer; ++o) {
        const T *row = p + o * inner;
        double mean = 0;
        for (int64_t j = 0; j < inner; ++j)
          mean += double(row[j]);
        mean /= double(inner);
        double var = 0;
        for (int64_t j = 0; j < inner; ++j)
          var += (double(row[j]) - mean) * (double(row[j]) - mean);
        var /= double(inner); // biased, as Keras and PyTorch
        double inv = 1.0 / std::sqrt(var + eps);
        for (int64_t j = 0; j < inner; ++j)
          q[o * inner + j] = T((double(row[j]) - mean) * inv * double(g[j]) + double(b[j]));
      }
    }
  });
  return out;
}

} // namespace kiln::interp
