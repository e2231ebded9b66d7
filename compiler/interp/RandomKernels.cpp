// Interpreter kernels of dropout, random_uniform and random_normal on the Philox streams of
// kiln/runtime/Random.h: element i of a node's draw is a function of (seed, run counter, i).
#include "compiler/interp/Kernels.h"

#include "kiln/runtime/Random.h"

#include <cmath>
#include <type_traits>

namespace kiln::interp {

/// The node's stream seed: its `seed` attr if set, else hashSeed(graph seed, node name).
static uint64_t nodeSeed(const Node &node, const EvalContext &ctx) {
  if (auto s = node.attr("seed"))
    return uint64_t(std::get<int64_t>(*s));
  return hashSeed(ctx.graphSeed, node.name());
}

Expected<Tensor> evalDropout(const Node &node, Operands in, const EvalContext &ctx) {
  const Tensor &x = in[0];
  double rate = node.attrFloat("rate");
  if (!isFloat(x.dtype()) || !(rate >= 0 && rate < 1))
    return internalError(node, "dropout needs a float operand and 0 <= rate < 1");
  if (!ctx.training || rate == 0)
    return Tensor(x);
  uint64_t seed = nodeSeed(node, ctx);
  Tensor out = makeResult(node);
  dispatchAny(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_floating_point_v<T>) {
      const T *p = x.data<T>();
      T *q = out.data<T>();
      T scale = T(1.0 / (1.0 - rate));
      // Keep element i iff its uniform draw is >= rate: probability 1 - rate.
      for (int64_t i = 0; i < x.numElements(); ++i)
        q[i] = uniform01(seed, ctx.runCounter, uint64_t(i)) >= rate ? p[i] * scale : T(0);
    }
  });
  return out;
}

Expected<Tensor> evalRandomUniform(const Node &node, Operands, const EvalContext &ctx) {
  double low = node.attrFloat("low"), high = node.attrFloat("high");
  if (!(low < high))
    return errorAt(node.loc(), who(node) + ": needs low < high");
  uint64_t seed = nodeSeed(node, ctx);
  Tensor out = makeResult(node);
  dispatchAny(out.dtype(), [&]<typename T>() {
    if constexpr (std::is_floating_point_v<T>) {
      T *q = out.data<T>();
      for (int64_t i = 0; i < out.numElements(); ++i) {
        T v = T(low + (high - low) * uniform01(seed, ctx.runCounter, uint64_t(i)));
        // Rounding to f32 may reach `high`; the interval is half-open.
        q[i] = v < T(high) ? v : std::nextafter(T(high), T(low));
      }
    }
  });
  return out;
}

Expected<Tensor> evalRandomNormal(const Node &node, Operands, const EvalContext &ctx) {
  double mean = node.attrFloat("mean"), stddev = node.attrFloat("stddev");
  uint64_t seed = nodeSeed(node, ctx);
  Tensor out = makeResult(node);
  dispatchAny(out.dtype(), [&]<typename T>() {
    if constexpr (std::is_floating_point_v<T>) {
      T *q = out.data<T>();
      for (int64_t i = 0; i < out.numElements(); ++i)
        q[i] = T(mean + stddev * normal01(seed, ctx.runCounter, uint64_t(i)));
    }
  });
  return out;
}

} // namespace kiln::interp
