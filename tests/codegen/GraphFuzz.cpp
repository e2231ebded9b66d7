// The random-graph generator: the builder's pool and leaves, the per-op sampler table, and the
// driver that grows a graph from its seed.
#include "GraphFuzzBuilder.h"

#include "compiler/ir/Init.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace kiln::test {

namespace {

struct TableEntry {
  Sampler sampler = nullptr;
  int weight = 0;
  std::string_view reason; ///< why not sampled (sampler null)
};

TableEntry entryFor(Op op) {
  // Elementwise ops weigh most: their chains are what the fuse pass groups.
  switch (op) {
  case Op::Input:
  case Op::Param:
  case Op::Constant:
    return {nullptr, 0, "a source: the generator makes leaves itself"};
  case Op::Fused:
    return {nullptr, 0, "made only by the fuse pass (Graph::addFused), which the fuzzer runs"};
  case Op::Neg:
  case Op::Abs:
  case Op::Exp:
  case Op::Log:
  case Op::Sqrt:
  case Op::Rsqrt:
  case Op::Square:
  case Op::Sign:
  case Op::Relu:
  case Op::Sigmoid:
  case Op::Tanh:
  case Op::Softplus:
  case Op::LeakyRelu:
  case Op::Gelu:
  case Op::Cast:
  case Op::StopGradient:
    return {sampleUnary, 6, ""};
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Div:
  case Op::Pow:
  case Op::Maximum:
  case Op::Minimum:
    return {sampleBinary, 10, ""};
  case Op::Equal:
  case Op::NotEqual:
  case Op::Less:
  case Op::LessEqual:
  case Op::Greater:
  case Op::GreaterEqual:
    return {sampleCompare, 2, ""};
  case Op::Select:
    return {sampleSelect, 6, ""};
  case Op::ReduceSum:
  case Op::ReduceMean:
  case Op::ReduceMax:
  case Op::ReduceMin:
    return {sampleReduction, 5, ""};
  case Op::Argmax:
    return {sampleArgmax, 2, ""};
  case Op::Matmul:
    return {sampleMatmul, 8, ""};
  case Op::Reshape:
  case Op::Flatten:
  case Op::Transpose:
  case Op::Slice:
  case Op::BroadcastTo:
    return {sampleMovement, 4, ""};
  case Op::Concat:
    return {sampleConcat, 4, ""};
  case Op::Gather:
  case Op::OneHot:
    return {sampleIndexing, 3, ""};
  case Op::Conv2D:
    return {sampleConv, 8, ""};
  case Op::MaxPool2D:
  case Op::AvgPool2D:
    return {samplePool, 4, ""};
  case Op::Softmax:
  case Op::LogSoftmax:
  case Op::LayerNorm:
    return {sampleNorm, 3, ""};
  case Op::Dropout:
  case Op::RandomUniform:
  case Op::RandomNormal:
    return {sampleRandom, 1, ""};
  case Op::Conv2DBackpropInput:
  case Op::Conv2DBackpropFilter:
  case Op::MaxPool2DGrad:
  case Op::AvgPool2DGrad:
  case Op::GatherGrad:
  case Op::SliceGrad:
  case Op::GeluGrad:
    return {sampleGradKernel, 1, ""};
  case Op::Dense:
  case Op::SimpleRnn:
  case Op::Lstm:
  case Op::MultiHeadAttention:
    return {sampleLayer, 1, ""};
  case Op::Mse:
  case Op::BinaryCrossEntropy:
  case Op::SigmoidCrossEntropy:
  case Op::SoftmaxCrossEntropy:
  case Op::Accuracy:
  case Op::BinaryAccuracy:
    return {sampleLoss, 1, ""};
  }
  assert(false && "op missing from the fuzz table");
  return {};
}

} // namespace

bool exactOp(Op op) {
  switch (op) {
  case Op::Neg:
  case Op::Abs:
  case Op::Sign:
  case Op::Relu:
  case Op::StopGradient:
  case Op::Maximum:
  case Op::Minimum:
  case Op::Equal:
  case Op::NotEqual:
  case Op::Less:
  case Op::LessEqual:
  case Op::Greater:
  case Op::GreaterEqual:
  case Op::Select:
  case Op::ReduceMax:
  case Op::ReduceMin:
  case Op::Argmax:
  case Op::Reshape:
  case Op::Flatten:
  case Op::Transpose:
  case Op::Slice:
  case Op::BroadcastTo:
  case Op::Concat:
  case Op::Gather:
  case Op::OneHot:
  case Op::MaxPool2D:
    return true;
  default:
    return false;
  }
}

Sampler samplerFor(Op op) { return entryFor(op).sampler; }
int samplerWeight(Op op) { return entryFor(op).weight; }
std::string_view fuzzSkipReason(Op op) { return entryFor(op).reason; }

std::vector<Op> fuzzedOps() {
  std::vector<Op> ops;
  for (Op op : allOps())
    if (samplerFor(op))
      ops.push_back(op);
  return ops;
}

// ---- the builder ----

FuzzBuilder::FuzzBuilder(uint64_t seed, const FuzzOptions &opts)
    : opts_(opts), rng_(seed), g_("fuzz" + std::to_string(seed)) {
  g_.setSeed(seed);
  floatType_ = chance(0.15) ? DType::F64 : DType::F32;
}

Shape FuzzBuilder::randomShape(int minRank, int maxRank) {
  Shape s(size_t(range(minRank, maxRank)));
  for (int64_t &d : s)
    d = dim();
  return s;
}

Shape FuzzBuilder::broadcastableTo(const Shape &s) {
  Shape out(s.begin() + below(int64_t(s.size()) + 1), s.end());
  for (int64_t &d : out)
    if (chance(0.4))
      d = 1;
  return out;
}

std::optional<FuzzValue> FuzzBuilder::pick(const std::function<bool(const FuzzValue &)> &pred) {
  std::vector<size_t> fits;
  for (size_t i = 0; i < pool_.size(); ++i)
    if (pred(pool_[i]))
      fits.push_back(i);
  if (fits.empty())
    return std::nullopt;
  if (chance(0.6))
    return pool_[fits.back()];
  return pool_[oneOf(fits)];
}

std::optional<FuzzValue> FuzzBuilder::pickFloat(int minRank, int maxRank) {
  return pick([&](const FuzzValue &v) {
    return isFloat(v.dtype()) && v.rank() >= minRank && v.rank() <= maxRank;
  });
}

std::optional<FuzzValue> FuzzBuilder::partnerFor(const FuzzValue &a) {
  if (chance(0.7)) {
    // The same value twice (x - x, x == x) is allowed, but rarely: it tests little.
    bool self = chance(0.1);
    auto p = pick([&](const FuzzValue &v) {
      return v.dtype() == a.dtype() && broadcastShapes(v.shape(), a.shape()).has_value() &&
             (self || v.value != a.value);
    });
    if (p)
      return p;
  }
  TensorType t{a.dtype(), chance(0.5) ? a.shape() : broadcastableTo(a.shape())};
  if (t.dtype == DType::Bool || isInteger(t.dtype) || chance(0.5))
    return input(t);
  return param(t);
}

std::optional<FuzzValue> FuzzBuilder::valueOfType(const TensorType &t) {
  if (chance(0.5))
    if (auto p = pick([&](const FuzzValue &v) { return v.value.type() == t; }))
      return p;
  return isFloat(t.dtype) && chance(0.5) ? param(t) : input(t);
}

std::optional<FuzzValue> FuzzBuilder::input(TensorType t) {
  auto n = g_.addInput(fresh("x"), t);
  assert(n.ok() && "fuzz input rejected");
  // randomFeeds: floats in [0, 1), integers and bools in [0, 2) (no hinting consumer).
  FuzzValue v{(*n)->result(), 0, isFloat(t.dtype) ? 1.0 : 1.0};
  pool_.push_back(v);
  return v;
}

std::optional<FuzzValue> FuzzBuilder::indexInput(DType dt, Shape s) {
  auto n = g_.addInput(fresh("idx"), TensorType{dt, std::move(s)});
  assert(n.ok() && "fuzz index input rejected");
  return FuzzValue{(*n)->result(), 0, 7};
}

std::optional<FuzzValue> FuzzBuilder::param(TensorType t, double scale) {
  Initializer init;
  init.kind = InitKind::Uniform;
  init.low = -scale;
  init.high = scale;
  auto n = g_.addParam(fresh("p"), t, init);
  assert(n.ok() && "fuzz param rejected");
  FuzzValue v{(*n)->result(), -scale, scale};
  pool_.push_back(v);
  return v;
}

std::optional<FuzzValue> FuzzBuilder::constant(Tensor t) {
  double lo = 0, hi = 0;
  for (int64_t i = 0; i < t.numElements(); ++i) {
    lo = i == 0 ? t.at(i) : std::min(lo, t.at(i));
    hi = i == 0 ? t.at(i) : std::max(hi, t.at(i));
  }
  auto n = g_.addConstant(fresh("c"), std::move(t));
  assert(n.ok() && "fuzz constant rejected");
  FuzzValue v{(*n)->result(), lo, hi};
  pool_.push_back(v);
  return v;
}

std::optional<FuzzValue> FuzzBuilder::scalarConstant(DType dt, double value) {
  return constant(Tensor::scalar(dt, value));
}

std::optional<FuzzValue> FuzzBuilder::add(Op op, const std::vector<FuzzValue> &operands,
                                          AttrMap attrs, double lo, double hi, bool toPool) {
  if (!(std::max(std::fabs(lo), std::fabs(hi)) <= opts_.maxMagnitude))
    return std::nullopt;
  std::vector<Value> values;
  for (const FuzzValue &v : operands)
    values.push_back(v.value);
  auto n = g_.addNode(op, fresh(std::string(opName(op)).c_str()), values, std::move(attrs));
  if (!n)
    return std::nullopt;
  ++opNodes_;
  FuzzValue v{(*n)->result(), lo, hi};
  v.exact = exactOp(op) && std::all_of(operands.begin(), operands.end(), isExact);
  if (toPool)
    pool_.push_back(v);
  return v;
}

std::optional<FuzzValue> FuzzBuilder::atLeast(const FuzzValue &v, double minLo) {
  std::optional<FuzzValue> r = v;
  if (r->lo < minLo && r->lo < 0) {
    double m = r->mag();
    double lo = r->hi < 0 ? -r->hi : 0;
    r = add(Op::Abs, {*r}, {}, lo, m);
  }
  if (r && r->lo < minLo) {
    double shift = minLo - r->lo + (chance(0.5) ? 0.0 : 0.25);
    auto c = scalarConstant(r->dtype(), shift);
    r = add(Op::Add, {*r, *c}, {}, r->lo + shift, r->hi + shift);
  }
  return r;
}

std::optional<TensorType> FuzzBuilder::probe(Op op, const std::vector<TensorType> &operands,
                                             const AttrMap &attrs) {
  Graph scratch;
  std::vector<Value> values;
  for (size_t i = 0; i < operands.size(); ++i)
    values.push_back((*scratch.addInput("t" + std::to_string(i), operands[i]))->result());
  auto n = scratch.addNode(op, "probe", values, attrs);
  if (!n)
    return std::nullopt;
  return (*n)->type();
}

// ---- the driver ----

Graph randomGraph(uint64_t seed, const FuzzOptions &opts) {
  FuzzBuilder b(seed, opts);
  // Leaves: the first input's shape, others often broadcast-compatible with it so that binary
  // ops between inputs are common.
  int numInputs = int(b.range(1, opts.maxInputs));
  Shape first = b.randomShape(0, 4);
  for (int i = 0; i < numInputs; ++i) {
    Shape s = i == 0 ? first : b.chance(0.6) ? b.broadcastableTo(first) : b.randomShape(0, 4);
    DType dt = b.chance(0.1) ? DType::I32 : b.chance(0.05) ? DType::Bool : b.floatType();
    b.input(TensorType{i == 0 ? b.floatType() : dt, s});
  }
  if (b.chance(0.3))
    b.param(TensorType{b.floatType(), b.broadcastableTo(first)});
  if (b.chance(0.3)) {
    Tensor t(b.floatType(), b.broadcastableTo(first));
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.set(i, b.unit() * 2 - 1);
    b.constant(std::move(t));
  }

  std::vector<Op> ops = fuzzedOps();
  int totalWeight = 0;
  for (Op op : ops)
    totalWeight += samplerWeight(op);
  int target = int(b.range(opts.minNodes, opts.maxNodes));
  int failures = 0;
  while (b.opNodes() < target && failures < opts.maxRetries) {
    int r = int(b.below(totalWeight));
    Op op = ops.front();
    for (Op o : ops) {
      op = o;
      if ((r -= samplerWeight(o)) < 0)
        break;
    }
    if (!samplerFor(op)(b, op))
      ++failures;
  }

  // Outputs: the last value, then up to two values nothing uses (the other sinks), so little
  // of the graph is dead.
  Graph g = b.take();
  std::vector<Value> outs;
  for (auto it = g.nodes().rbegin(); it != g.nodes().rend() && outs.size() < 3; ++it) {
    Node *n = it->get();
    if (n->info().has(kSource) || n->hasUses())
      continue;
    outs.push_back(n->result());
  }
  if (outs.empty()) // nothing but leaves: return the first input
    outs.push_back(g.inputs().front()->result());
  g.setOutputs(outs);
  return g;
}

bool dependsOnF32(Value v) {
  for (const Node *n : dependenciesOf(v))
    for (const TensorType &t : n->resultTypes())
      if (t.dtype == DType::F32)
        return true;
  return false;
}

} // namespace kiln::test
