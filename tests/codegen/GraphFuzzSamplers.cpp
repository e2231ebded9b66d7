// Fuzz samplers of the elementwise ops, reductions and data movement: operands from the pool,
// attributes at random, and bounds on the result (interval arithmetic) for domain checks.
#include "GraphFuzzBuilder.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace kiln::test {

namespace {

using Ints = std::vector<int64_t>;

bool numeric(const FuzzValue &v) { return v.dtype() != DType::Bool; }

/// min and max of the four corner products of two intervals.
std::pair<double, double> mulBounds(const FuzzValue &a, const FuzzValue &b) {
  double c[4] = {a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi};
  return {*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double softplus(double x) { return std::log1p(std::exp(-std::fabs(x))) + std::max(x, 0.0); }

} // namespace

bool sampleUnary(FuzzBuilder &b, Op op) {
  bool floatOnly = opInfo(op).has(kFloatOnly);
  bool anyType = op == Op::Cast || op == Op::StopGradient;
  auto x = b.pick([&](const FuzzValue &v) {
    if (op == Op::Sign && !v.exact) // see FuzzValue::exact
      return false;
    return anyType || (floatOnly ? isFloat(v.dtype()) : numeric(v));
  });
  if (!x)
    return false;
  double lo = x->lo, hi = x->hi;
  AttrMap attrs;
  if (op == Op::Neg) {
    return b.add(op, {*x}, {}, -hi, -lo).has_value();
  }
  if (op == Op::Abs) {
    return b.add(op, {*x}, {}, lo > 0 ? lo : hi < 0 ? -hi : 0, x->mag()).has_value();
  }
  if (op == Op::Exp) {
    return b.add(op, {*x}, {}, std::exp(lo), std::exp(hi)).has_value();
  }
  if (op == Op::Log) {
    auto p = b.atLeast(*x, 0.1);
    return p && b.add(op, {*p}, {}, std::log(p->lo), std::log(p->hi));
  }
  if (op == Op::Sqrt) {
    auto p = b.atLeast(*x, 0);
    return p && b.add(op, {*p}, {}, std::sqrt(p->lo), std::sqrt(p->hi));
  }
  if (op == Op::Rsqrt) {
    auto p = b.atLeast(*x, 0.1);
    return p && b.add(op, {*p}, {}, 1 / std::sqrt(p->hi), 1 / std::sqrt(p->lo));
  }
  if (op == Op::Square) {
    double m = x->mag(), l = lo > 0 ? lo : hi < 0 ? -hi : 0;
    return b.add(op, {*x}, {}, l * l, m * m).has_value();
  }
  if (op == Op::Sign) {
    return b.add(op, {*x}, {}, -1, 1).has_value();
  }
  if (op == Op::Relu) {
    return b.add(op, {*x}, {}, std::max(lo, 0.0), std::max(hi, 0.0)).has_value();
  }
  if (op == Op::Sigmoid) {
    return b.add(op, {*x}, {}, sigmoid(lo), sigmoid(hi)).has_value();
  }
  if (op == Op::Tanh) {
    return b.add(op, {*x}, {}, std::tanh(lo), std::tanh(hi)).has_value();
  }
  if (op == Op::Softplus) {
    return b.add(op, {*x}, {}, softplus(lo), softplus(hi)).has_value();
  }
  if (op == Op::LeakyRelu) {
    double alpha = b.oneOf(std::vector<double>{0.01, 0.1, 0.2, 0.3});
    attrs["alpha"] = alpha;
    return b.add(op, {*x}, attrs, std::min(lo, alpha * lo), std::max(hi, alpha * hi)).has_value();
  }
  if (op == Op::Gelu) {
    if (b.chance(0.5))
      attrs["approximate"] = std::string(b.chance(0.5) ? "tanh" : "none");
    // gelu(x) lies between min(x, 0) - 0.17 and max(x, 0).
    return b.add(op, {*x}, attrs, std::max(std::min(lo, 0.0), -0.2), std::max(hi, 0.0)).has_value();
  }
  if (op == Op::Cast) {
    // Float-to-integer casts truncate: a value within an ulp of an integer could go either
    // way, but random [0,1) feeds and their images almost never land there.
    DType to =
        b.oneOf(std::vector<DType>{DType::F32, DType::F64, DType::I32, DType::I64, DType::Bool});
    attrs["dtype"] = to;
    if (to == DType::Bool)
      return b.add(op, {*x}, attrs, 0, 1).has_value();
    if (isInteger(to))
      return b.add(op, {*x}, attrs, std::trunc(lo), std::trunc(hi)).has_value();
    return b.add(op, {*x}, attrs, lo, hi).has_value();
  }
  if (op == Op::StopGradient) {
    return b.add(op, {*x}, {}, lo, hi).has_value();
  }
  return false; // not a unary op: the table never sends one here
}

bool sampleBinary(FuzzBuilder &b, Op op) {
  bool floatOnly = op == Op::Pow;
  auto a = b.pick([&](const FuzzValue &v) { return floatOnly ? isFloat(v.dtype()) : numeric(v); });
  if (!a)
    return false;
  auto c = b.partnerFor(*a);
  if (!c || !numeric(*c))
    return false;
  if (b.chance(0.5))
    std::swap(a, c);
  if (op == Op::Add) {
    return b.add(op, {*a, *c}, {}, a->lo + c->lo, a->hi + c->hi).has_value();
  }
  if (op == Op::Sub) {
    return b.add(op, {*a, *c}, {}, a->lo - c->hi, a->hi - c->lo).has_value();
  }
  if (op == Op::Mul) {
    auto [lo, hi] = mulBounds(*a, *c);
    return b.add(op, {*a, *c}, {}, lo, hi).has_value();
  }
  if (op == Op::Div) {
    // The divisor is kept at >= 0.5 (>= 1 for integers, where 0 is a run-time fault), so the
    // quotient stays moderate and well conditioned.
    auto d = b.atLeast(*c, isFloat(c->dtype()) ? 0.5 : 1);
    if (!d)
      return false;
    FuzzValue inv = *d;
    inv.lo = 1 / d->hi;
    inv.hi = 1 / d->lo;
    auto [lo, hi] = mulBounds(*a, inv);
    return b.add(op, {*a, *d}, {}, std::min(lo, 0.0), std::max(hi, 0.0)).has_value();
  }
  if (op == Op::Pow) {
    auto base = b.atLeast(*a, 0.25);
    if (!base || c->mag() > 3)
      return false;
    double corners[4] = {std::pow(base->lo, c->lo), std::pow(base->lo, c->hi),
                         std::pow(base->hi, c->lo), std::pow(base->hi, c->hi)};
    return b
        .add(op, {*base, *c}, {}, *std::min_element(corners, corners + 4),
             *std::max_element(corners, corners + 4))
        .has_value();
  }
  if (op == Op::Maximum) {
    return b.add(op, {*a, *c}, {}, std::max(a->lo, c->lo), std::max(a->hi, c->hi)).has_value();
  }
  if (op == Op::Minimum) {
    return b.add(op, {*a, *c}, {}, std::min(a->lo, c->lo), std::min(a->hi, c->hi)).has_value();
  }
  return false;
}

bool sampleCompare(FuzzBuilder &b, Op op) {
  bool boolOk = op == Op::Equal || op == Op::NotEqual;
  auto a = b.pick([&](const FuzzValue &v) { return v.exact && (boolOk || numeric(v)); });
  if (!a)
    return false;
  auto c = b.partnerFor(*a);
  return c && c->exact && b.add(op, {*a, *c}, {}, 0, 1);
}

bool sampleSelect(FuzzBuilder &b, Op op) {
  auto cond = b.pick([](const FuzzValue &v) { return v.dtype() == DType::Bool; });
  if (!cond || b.chance(0.3)) {
    // Make a condition: a comparison of a float value with a threshold inside its range.
    auto x = b.pickFloat();
    if (!x)
      return false;
    auto t = b.scalarConstant(x->dtype(), x->lo + (x->hi - x->lo) * b.unit());
    cond = b.add(b.chance(0.5) ? Op::Less : Op::Greater, {*x, *t}, {}, 0, 1);
    if (!cond)
      return false;
  }
  auto a = b.pick([&](const FuzzValue &v) {
    return broadcastShapes(v.shape(), cond->shape()).has_value() && v.dtype() == b.floatType();
  });
  if (!a)
    a = b.input(TensorType{b.floatType(), b.broadcastableTo(cond->shape())});
  auto c = b.partnerFor(*a);
  if (!c)
    return false;
  return b.add(op, {*cond, *a, *c}, {}, std::min(a->lo, c->lo), std::max(a->hi, c->hi)).has_value();
}

bool sampleReduction(FuzzBuilder &b, Op op) {
  auto x = b.pick(
      [&](const FuzzValue &v) { return op == Op::ReduceMean ? isFloat(v.dtype()) : numeric(v); });
  if (!x)
    return false;
  AttrMap attrs;
  int64_t count = 1;
  if (x->rank() > 0 && b.chance(0.8)) {
    Ints axes;
    for (int64_t d = 0; d < x->rank(); ++d)
      if (b.chance(0.5)) {
        axes.push_back(b.chance(0.3) ? d - x->rank() : d);
        count *= x->shape()[size_t(d)];
      }
    if (axes.empty()) {
      int64_t d = b.below(x->rank());
      axes.push_back(d);
      count = x->shape()[size_t(d)];
    }
    if (b.chance(0.3))
      std::reverse(axes.begin(), axes.end());
    attrs["axes"] = axes;
  } else {
    count = x->value.type().numElements();
  }
  if (b.chance(0.4))
    attrs["keepdims"] = true;
  double n = double(count);
  if (op == Op::ReduceSum)
    return b.add(op, {*x}, attrs, std::min(x->lo * n, x->lo), std::max(x->hi * n, x->hi))
        .has_value();
  return b.add(op, {*x}, attrs, x->lo, x->hi).has_value();
}

bool sampleArgmax(FuzzBuilder &b, Op op) {
  auto x = b.pick([](const FuzzValue &v) { return v.exact && numeric(v) && v.rank() >= 1; });
  if (!x)
    return false;
  int64_t axis = b.range(-x->rank(), x->rank() - 1);
  int64_t d = x->shape()[size_t(axis < 0 ? axis + x->rank() : axis)];
  AttrMap attrs;
  if (axis != -1 || b.chance(0.5))
    attrs["axis"] = axis;
  return b.add(op, {*x}, attrs, 0, double(d - 1)).has_value();
}

namespace {

/// A random shape with `n` elements (rank 1..4), from n's prime factors.
Ints reshapeTarget(FuzzBuilder &b, int64_t n) {
  Ints factors;
  for (int64_t p = 2; n > 1; ++p)
    while (n % p == 0) {
      factors.push_back(p);
      n /= p;
    }
  Ints dims(size_t(b.range(1, 4)), 1);
  for (int64_t f : factors)
    dims[size_t(b.below(int64_t(dims.size())))] *= f;
  return dims;
}

} // namespace

bool sampleMovement(FuzzBuilder &b, Op op) {
  auto x = b.pick([](const FuzzValue &) { return true; });
  if (!x)
    return false;
  const Shape &s = x->shape();
  int64_t r = x->rank();
  AttrMap attrs;
  if (op == Op::Reshape) {
    Ints dims = reshapeTarget(b, x->value.type().numElements());
    if (b.chance(0.3))
      dims[size_t(b.below(int64_t(dims.size())))] = -1;
    attrs["shape"] = dims;
    return b.add(op, {*x}, attrs, x->lo, x->hi).has_value();
  }
  if (op == Op::Flatten) {
    if (r < 1)
      return false;
    return b.add(op, {*x}, attrs, x->lo, x->hi).has_value();
  }
  if (op == Op::Transpose) {
    if (r < 1)
      return false;
    if (b.chance(0.8)) {
      Ints perm(static_cast<size_t>(r));
      std::iota(perm.begin(), perm.end(), 0);
      for (int64_t i = r - 1; i > 0; --i)
        std::swap(perm[size_t(i)], perm[size_t(b.below(i + 1))]);
      if (b.chance(0.2))
        perm[0] -= r;
      attrs["perm"] = perm;
    }
    return b.add(op, {*x}, attrs, x->lo, x->hi).has_value();
  }
  if (op == Op::Slice) {
    if (r < 1)
      return false;
    Ints begin, end, strides;
    bool strided = b.chance(0.5);
    for (int64_t d : s) {
      int64_t lo = b.below(d), hi = b.range(lo + 1, d);
      begin.push_back(b.chance(0.2) ? lo - d : lo);
      end.push_back(b.chance(0.2) && hi < d ? hi - d : hi);
      strides.push_back(b.range(1, 3));
    }
    attrs["begin"] = begin;
    attrs["end"] = end;
    if (strided)
      attrs["strides"] = strides;
    return b.add(op, {*x}, attrs, x->lo, x->hi).has_value();
  }
  if (op == Op::BroadcastTo) {
    Ints target(s.begin(), s.end());
    for (int64_t &d : target)
      if (d == 1 && b.chance(0.6))
        d = b.range(2, 5);
    if (target.size() < 4 && b.chance(0.5))
      target.insert(target.begin(), b.range(1, 4));
    attrs["shape"] = target;
    return b.add(op, {*x}, attrs, x->lo, x->hi).has_value();
  }
  return false; // not a movement op: the table never sends one here
}

bool sampleConcat(FuzzBuilder &b, Op op) {
  auto x = b.pick([](const FuzzValue &v) { return v.rank() >= 1; });
  if (!x)
    return false;
  int64_t axis = b.below(x->rank());
  std::vector<FuzzValue> parts = {*x};
  double lo = x->lo, hi = x->hi;
  for (int64_t i = 0, n = b.range(1, 3); i < n; ++i) {
    std::optional<FuzzValue> p;
    if (b.chance(0.25)) {
      p = x; // the same value twice
    } else {
      TensorType t = x->value.type();
      t.shape[size_t(axis)] = b.range(1, 4);
      p = b.valueOfType(t);
    }
    if (!p)
      return false;
    parts.push_back(*p);
    lo = std::min(lo, p->lo);
    hi = std::max(hi, p->hi);
  }
  std::rotate(parts.begin(), parts.begin() + b.below(int64_t(parts.size())), parts.end());
  AttrMap attrs;
  if (axis != 0 || b.chance(0.5))
    attrs["axis"] = b.chance(0.3) ? axis - x->rank() : axis;
  return b.add(op, parts, attrs, lo, hi).has_value();
}

bool sampleIndexing(FuzzBuilder &b, Op op) {
  DType indexType = b.chance(0.5) ? DType::I32 : DType::I64;
  if (op == Op::OneHot) {
    // Indices: a dedicated input (randomFeeds draws them in [0, depth)) or an argmax result,
    // which may exceed depth (an all-zero row, TensorFlow's rule).
    auto idx = b.chance(0.3) ? b.pick([](const FuzzValue &v) {
      return isInteger(v.dtype()) && !v.value.node->isInput();
    })
                             : std::nullopt;
    if (!idx)
      idx = b.indexInput(indexType, b.randomShape(0, 2));
    AttrMap attrs{{"depth", b.range(1, 6)}};
    if (b.chance(0.5))
      attrs["dtype"] = b.oneOf(std::vector<DType>{DType::F32, DType::F64, DType::I32});
    return b.add(op, {*idx}, attrs, 0, 1).has_value();
  }
  auto table = b.pick([](const FuzzValue &v) { return v.rank() >= 1 && v.rank() <= 3; });
  if (!table)
    return false;
  int64_t axis = b.below(table->rank());
  auto idx = b.indexInput(indexType, b.randomShape(0, 2));
  AttrMap attrs;
  if (axis != 0 || b.chance(0.5))
    attrs["axis"] = axis;
  return b.add(op, {*table, *idx}, attrs, table->lo, table->hi).has_value();
}

} // namespace kiln::test
