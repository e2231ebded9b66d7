// Initializer materialisation (Keras semantics) on Kiln's counter-based random streams.
#include "compiler/ir/Init.h"

#include "compiler/support/Diagnostic.h"
#include "kiln/runtime/Random.h"

#include <cassert>
#include <cmath>

namespace kiln {

namespace {
/// Keras divides the truncated normal's stddev by this: the stddev of a standard normal
/// truncated to [-2, 2], so that the truncated draw has the intended stddev.
constexpr double kTruncatedStddevCorrection = 0.87962566103423978;

/// Stores doubles into a float tensor, keeping uniform draws strictly below `high` even when
/// rounding to f32 would reach it.
void storeUniform(Tensor &t, int64_t i, double v, double low, double high) {
  t.set(i, v);
  if (t.at(i) >= high && high > low)
    t.set(i, t.dtype() == DType::F32 ? double(std::nextafter(float(high), float(low)))
                                     : std::nextafter(high, low));
}

void fillUniform(Tensor &t, uint64_t seed, double low, double high) {
  for (int64_t i = 0; i < t.numElements(); ++i)
    storeUniform(t, i, low + (high - low) * uniform01(seed, 0, uint64_t(i)), low, high);
}

void fillNormal(Tensor &t, uint64_t seed, double mean, double stddev) {
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.set(i, mean + stddev * normal01(seed, 0, uint64_t(i)));
}

/// Truncated normal: an element whose standard draw lies beyond 2 is drawn again from the next
/// stream counter (the probability of 64 misses in a row is below 1e-85).
void fillTruncatedNormal(Tensor &t, uint64_t seed, double stddev) {
  for (int64_t i = 0; i < t.numElements(); ++i) {
    double z = 0;
    for (uint64_t attempt = 0; attempt < 64; ++attempt) {
      z = normal01(seed, attempt, uint64_t(i));
      if (std::fabs(z) <= 2.0)
        break;
    }
    t.set(i, std::fabs(z) <= 2.0 ? z * stddev : 0.0);
  }
}
} // namespace

std::pair<int64_t, int64_t> computeFans(const Shape &shape) {
  if (shape.empty())
    return {1, 1};
  if (shape.size() == 1)
    return {shape[0], shape[0]};
  int64_t receptive = 1;
  for (size_t i = 0; i + 2 < shape.size(); ++i)
    receptive *= shape[i];
  return {shape[shape.size() - 2] * receptive, shape.back() * receptive};
}

uint64_t initSeed(const Node &param, uint64_t graphSeed) {
  return param.init().seed ? *param.init().seed : hashSeed(graphSeed, param.name());
}

Expected<Tensor> initialParamValue(const Node &param, uint64_t graphSeed) {
  assert(param.isParam() && "initialParamValue on a node that is not a param");
  const TensorType &type = param.type();
  if (param.value()) {
    const Tensor &v = *param.value();
    if (v.dtype() != type.dtype || v.shape() != type.shape)
      return errorAt(param.loc(), "param '" + param.name() + "': starting value is " +
                                      std::string(dtypeName(v.dtype())) + shapeToString(v.shape()) +
                                      " but the param is " + type.str());
    return v;
  }
  KILN_ASSIGN(Tensor t, Tensor::create(type.dtype, type.shape));
  const Initializer &init = param.init();
  auto [fanIn, fanOut] = computeFans(type.shape);
  uint64_t seed = initSeed(param, graphSeed);
  switch (init.kind) {
  case InitKind::Zeros:
    return t;
  case InitKind::Ones:
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.set(i, 1.0);
    return t;
  case InitKind::Constant:
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.set(i, init.value);
    return t;
  case InitKind::Value:
    if (int64_t(init.data.size()) != t.numElements())
      return errorAt(param.loc(), "param '" + param.name() + "': init data has " +
                                      std::to_string(init.data.size()) + " values but shape " +
                                      shapeToString(type.shape) + " needs " +
                                      std::to_string(t.numElements()));
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.set(i, init.data[size_t(i)]);
    return t;
  case InitKind::Uniform:
  case InitKind::Normal:
  case InitKind::GlorotUniform:
  case InitKind::GlorotNormal:
  case InitKind::HeUniform:
  case InitKind::HeNormal:
    break;
  }
  if (!isFloat(type.dtype))
    return errorAt(param.loc(), "param '" + param.name() + "': initializer '" +
                                    std::string(initKindName(init.kind)) +
                                    "' needs an f32 or f64 param, not " +
                                    std::string(dtypeName(type.dtype)) +
                                    " (use zeros, ones, constant or value)");
  switch (init.kind) {
  case InitKind::Uniform:
    if (!(init.low < init.high))
      return errorAt(param.loc(),
                     "param '" + param.name() + "': uniform initializer needs low < high");
    fillUniform(t, seed, init.low, init.high);
    break;
  case InitKind::Normal:
    if (!(init.stddev >= 0))
      return errorAt(param.loc(),
                     "param '" + param.name() + "': normal initializer needs stddev >= 0");
    fillNormal(t, seed, init.mean, init.stddev);
    break;
  case InitKind::GlorotUniform: {
    double limit = std::sqrt(6.0 / double(fanIn + fanOut));
    fillUniform(t, seed, -limit, limit);
    break;
  }
  case InitKind::GlorotNormal:
    fillTruncatedNormal(t, seed,
                        std::sqrt(2.0 / double(fanIn + fanOut)) / kTruncatedStddevCorrection);
    break;
  case InitKind::HeUniform: {
    double limit = std::sqrt(6.0 / double(fanIn));
    fillUniform(t, seed, -limit, limit);
    break;
  }
  case InitKind::HeNormal:
    fillTruncatedNormal(t, seed, std::sqrt(2.0 / double(fanIn)) / kTruncatedStddevCorrection);
    break;
  case InitKind::Zeros:
  case InitKind::Ones:
  case InitKind::Constant:
  case InitKind::Value:
    assert(false && "handled above");
    break;
  }
  return t;
}

} // namespace kiln
