// The random graph builder shared by GraphFuzz.cpp (the driver) and GraphFuzzSamplers.cpp (one
// sampler per op): random bits, the value pool with value intervals, leaves and node adding.
#pragma once

#include "GraphFuzz.h"

#include "compiler/ir/OpInfo.h"
#include "compiler/ir/Types.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <random>

namespace kiln::test {

/// A value the generator may use as an operand, with bounds on its elements: every element lies
/// in [lo, hi]. The bounds decide where domain-restricted ops may take it. `exact`: both backends
/// must compute it bit for bit (a leaf, or exact ops on exact values: see exactOp). Ops whose
/// result jumps with a one-ulp change of an operand (argmax, comparisons, sign, the max-pool
/// gradient's routing) take only exact operands: on rounded values, near-ties (common once a
/// value is broadcast) would flip them and report a mismatch that is not a bug.
struct FuzzValue {
  Value value;
  double lo = 0, hi = 0;
  bool exact = true;
  DType dtype() const { return value.type().dtype; }
  const Shape &shape() const { return value.type().shape; }
  int64_t rank() const { return int64_t(shape().size()); }
  double mag() const { return std::max(std::fabs(lo), std::fabs(hi)); }
};

class FuzzBuilder {
public:
  FuzzBuilder(uint64_t seed, const FuzzOptions &opts);

  // ---- random bits, converted by hand so that every standard library draws the same ----
  uint64_t bits() { return rng_(); }
  /// Uniform in [0, n).
  int64_t below(int64_t n) { return int64_t(rng_() % uint64_t(n)); }
  /// Uniform in [lo, hi].
  int64_t range(int64_t lo, int64_t hi) { return lo + below(hi - lo + 1); }
  double unit() { return double(rng_() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  template <typename T> const T &oneOf(const std::vector<T> &v) {
    return v[size_t(below(int64_t(v.size())))];
  }
  /// A dim in 1..7, 1 more often than uniform (broadcasting).
  int64_t dim() { return chance(0.2) ? 1 : range(1, 7); }
  Shape randomShape(int minRank, int maxRank);
  /// `s` with some dims set to 1 and some leading dims dropped: broadcasts to `s`.
  Shape broadcastableTo(const Shape &s);
  /// The float dtype of this graph (f32 mostly, f64 sometimes).
  DType floatType() const { return floatType_; }

  // ---- the pool ----
  /// A pool value satisfying `pred`, the most recent one more often than the others (so that
  /// chains, which fusion groups, are common); nullopt if none does.
  std::optional<FuzzValue> pick(const std::function<bool(const FuzzValue &)> &pred);
  std::optional<FuzzValue> pickFloat(int minRank = 0, int maxRank = 4);
  /// A pool value whose shape broadcasts with `s` and has dtype `dt`, or a new leaf of a shape
  /// that broadcasts to `s`.
  std::optional<FuzzValue> partnerFor(const FuzzValue &a);
  /// A pool value of exactly this type, or a new leaf (param or input) of it.
  std::optional<FuzzValue> valueOfType(const TensorType &t);
  std::vector<FuzzValue> &pool() { return pool_; }

  // ---- leaves ----
  std::optional<FuzzValue> input(TensorType t);
  /// An integer input whose range randomFeeds takes from its consumer (gather indices, one_hot,
  /// labels); not added to the pool, so no other op uses it and changes that range.
  std::optional<FuzzValue> indexInput(DType dt, Shape s);
  /// A param initialised uniform in [-scale, scale).
  std::optional<FuzzValue> param(TensorType t, double scale = 0.5);
  std::optional<FuzzValue> constant(Tensor t);
  std::optional<FuzzValue> scalarConstant(DType dt, double v);

  // ---- op nodes ----
  /// Adds a node with the given result bounds; nullopt (nothing added, the attempt counts as
  /// failed) if addNode rejects it or the bounds exceed maxMagnitude.
  std::optional<FuzzValue> add(Op op, const std::vector<FuzzValue> &operands, AttrMap attrs,
                               double lo, double hi, bool toPool = true);
  /// `v` with every element >= minLo: abs if it may be negative, then + a constant if needed.
  std::optional<FuzzValue> atLeast(const FuzzValue &v, double minLo);
  /// The result type addNode would give (a trial in a scratch graph), or nullopt.
  std::optional<TensorType> probe(Op op, const std::vector<TensorType> &operands,
                                  const AttrMap &attrs);

  int opNodes() const { return opNodes_; }
  const FuzzOptions &options() const { return opts_; }
  Graph take() { return std::move(g_); }
  Graph &graph() { return g_; }

private:
  std::string fresh(const char *base) { return base + std::to_string(counter_++); }

  FuzzOptions opts_;
  std::mt19937_64 rng_;
  Graph g_;
  DType floatType_ = DType::F32;
  std::vector<FuzzValue> pool_;
  int counter_ = 0;
  int opNodes_ = 0;
};

/// True when `op` computes its result exactly from its operands in IEEE arithmetic, so the
/// backends agree bit for bit on it (data movement, selection, max/min, sign changes).
bool exactOp(Op op);
/// Pick predicate: an exact value (see FuzzValue).
inline bool isExact(const FuzzValue &v) { return v.exact; }

/// One sampler per op: adds a node of that op (plus any helpers it needs) and returns true, or
/// returns false when nothing fitting could be made this time.
using Sampler = bool (*)(FuzzBuilder &, Op);

// Samplers by family (GraphFuzzSamplers.cpp: elementwise, reductions, movement;
// GraphFuzzLayers.cpp: linear algebra, convolution, normalisation, randomness, layers, losses
// and gradient kernels). Each switches over the ops of its family for their bounds.
bool sampleUnary(FuzzBuilder &b, Op op);
bool sampleBinary(FuzzBuilder &b, Op op);
bool sampleCompare(FuzzBuilder &b, Op op);
bool sampleSelect(FuzzBuilder &b, Op op);
bool sampleReduction(FuzzBuilder &b, Op op);
bool sampleArgmax(FuzzBuilder &b, Op op);
bool sampleMovement(FuzzBuilder &b, Op op);
bool sampleConcat(FuzzBuilder &b, Op op);
bool sampleIndexing(FuzzBuilder &b, Op op);
bool sampleMatmul(FuzzBuilder &b, Op op);
bool sampleConv(FuzzBuilder &b, Op op);
bool samplePool(FuzzBuilder &b, Op op);
bool sampleNorm(FuzzBuilder &b, Op op);
bool sampleRandom(FuzzBuilder &b, Op op);
bool sampleLayer(FuzzBuilder &b, Op op);
bool sampleLoss(FuzzBuilder &b, Op op);
bool sampleGradKernel(FuzzBuilder &b, Op op);

/// The sampler of `op`, or null when fuzzSkipReason(op) says why not.
Sampler samplerFor(Op op);
/// Relative frequency of `op` among the sampled ops.
int samplerWeight(Op op);

} // namespace kiln::test
