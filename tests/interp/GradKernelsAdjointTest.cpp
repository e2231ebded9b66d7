// The gradient kernels are the exact adjoints of their forward kernels: for random f64 data,
// <forward(x), dy> == <x, backward(dy)> (linear ops), and for the nonlinear max_pool2d and gelu
// the kernels match central differences of the forward kernels.
#include "InterpTestUtil.h"

#include <cmath>
#include <random>

using namespace kiln;
using namespace kiln::test;

namespace {
using Ints = std::vector<int64_t>;

Tensor randomTensor(std::mt19937_64 &rng, Shape shape) {
  Tensor t(DType::F64, std::move(shape));
  std::uniform_real_distribution<double> u(-1, 1);
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.set(i, u(rng));
  return t;
}

double dot(const Tensor &a, const Tensor &b) {
  EXPECT_EQ(shapeToString(a.shape()), shapeToString(b.shape()));
  double s = 0;
  for (int64_t i = 0; i < a.numElements() && i < b.numElements(); ++i)
    s += a.at(i) * b.at(i);
  return s;
}

void expectRelClose(double a, double b, double rel) {
  EXPECT_NEAR(a, b, rel * std::max({1.0, std::fabs(a), std::fabs(b)}));
}

AttrMap with(AttrMap attrs, const std::string &name, AttrValue v) {
  attrs[name] = std::move(v);
  return attrs;
}

struct ConvConfig {
  const char *what;
  Shape x, w;
  AttrMap attrs;
};

TEST(GradKernelsAdjoint, Conv2D) {
  const ConvConfig configs[] = {
      {"stride 2", {2, 7, 6, 3}, {3, 3, 3, 4}, {{"strides", Ints{2, 2}}}},
      {"dilation 2", {1, 7, 7, 2}, {2, 3, 2, 3}, {{"dilations", Ints{2, 2}}}},
      {"same, stride 2x1",
       {1, 6, 5, 3},
       {3, 2, 3, 2},
       {{"padding", std::string("same")}, {"strides", Ints{2, 1}}}},
      {"explicit pads", {1, 5, 5, 2}, {3, 3, 2, 2}, {{"padding", Ints{1, 2, 0, 1}}}},
      {"groups 2", {1, 5, 5, 4}, {3, 3, 2, 6}, {{"groups", int64_t(2)}}},
      {"NCHW same stride 2",
       {2, 3, 6, 6},
       {4, 3, 3, 3},
       {{"data_format", std::string("NCHW")},
        {"padding", std::string("same")},
        {"strides", Ints{2, 2}}}},
      {"NCHW groups 2 dilation 2 pads",
       {1, 4, 7, 6},
       {2, 2, 2, 3},
       {{"data_format", std::string("NCHW")},
        {"groups", int64_t(2)},
        {"dilations", Ints{2, 2}},
        {"padding", Ints{1, 0, 2, 1}}}},
  };
  std::mt19937_64 rng(7);
  for (const ConvConfig &c : configs) {
    SCOPED_TRACE(c.what);
    Tensor x = randomTensor(rng, c.x), w = randomTensor(rng, c.w);
    Tensor y = evalOk(Op::Conv2D, {x, w}, c.attrs);
    Tensor dy = randomTensor(rng, y.shape());
    Tensor dx = evalOk(Op::Conv2DBackpropInput, {dy, w}, with(c.attrs, "input_shape", c.x));
    Tensor dw = evalOk(Op::Conv2DBackpropFilter, {x, dy}, with(c.attrs, "filter_shape", c.w));
    double forward = dot(y, dy);
    EXPECT_GT(std::fabs(forward), 1e-3); // a vacuous 0 == 0 would prove nothing
    expectRelClose(forward, dot(x, dx), 1e-9);
    expectRelClose(forward, dot(w, dw), 1e-9);
  }
}

struct PoolConfig {
  const char *what;
  Shape x;
  AttrMap attrs;
};

const PoolConfig kPools[] = {
    {"2x2 valid", {2, 4, 6, 3}, {{"ksize", Ints{2, 2}}}},
    {"3x3 stride 2 same",
     {1, 7, 6, 2},
     {{"ksize", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"padding", std::string("same")}}},
    {"overlapping explicit pads",
     {1, 5, 5, 2},
     {{"ksize", Ints{3, 2}}, {"strides", Ints{1, 1}}, {"padding", Ints{1, 2, 0, 1}}}},
    {"NCHW 2x3 stride 1x2",
     {2, 3, 5, 7},
     {{"ksize", Ints{2, 3}}, {"strides", Ints{1, 2}}, {"data_format", std::string("NCHW")}}},
};

TEST(GradKernelsAdjoint, AvgPool2D) {
  std::mt19937_64 rng(11);
  for (const PoolConfig &c : kPools) {
    SCOPED_TRACE(c.what);
    Tensor x = randomTensor(rng, c.x);
    Tensor y = evalOk(Op::AvgPool2D, {x}, c.attrs);
    Tensor dy = randomTensor(rng, y.shape());
    Tensor dx = evalOk(Op::AvgPool2DGrad, {dy}, with(c.attrs, "input_shape", c.x));
    double forward = dot(y, dy);
    EXPECT_GT(std::fabs(forward), 1e-3);
    expectRelClose(forward, dot(x, dx), 1e-9);
  }
}

// Distinct random values make max_pool2d locally linear, so a central difference of
// <max_pool2d(x), dy> is exact up to rounding.
TEST(GradKernelsAdjoint, MaxPool2DMatchesFiniteDifferences) {
  std::mt19937_64 rng(13);
  const double h = 1e-6;
  for (const PoolConfig &c : kPools) {
    SCOPED_TRACE(c.what);
    Tensor x = randomTensor(rng, c.x);
    Tensor dy = randomTensor(rng, evalOk(Op::MaxPool2D, {x}, c.attrs).shape());
    Tensor dx = evalOk(Op::MaxPool2DGrad, {x, dy}, c.attrs);
    int nonzero = 0;
    for (int64_t i = 0; i < x.numElements(); ++i) {
      Tensor xp = x, xm = x;
      xp.set(i, x.at(i) + h);
      xm.set(i, x.at(i) - h);
      double fd = (dot(evalOk(Op::MaxPool2D, {xp}, c.attrs), dy) -
                   dot(evalOk(Op::MaxPool2D, {xm}, c.attrs), dy)) /
                  (2 * h);
      EXPECT_NEAR(dx.at(i), fd, 1e-6) << "element " << i;
      nonzero += dx.at(i) != 0;
    }
    EXPECT_GT(nonzero, 0);
  }
}

TEST(GradKernelsAdjoint, SliceAndGather) {
  std::mt19937_64 rng(17);
  {
    Tensor x = randomTensor(rng, {5, 7, 4});
    AttrMap attrs{{"begin", Ints{1, -6, 0}}, {"end", Ints{5, 7, 3}}, {"strides", Ints{2, 3, 1}}};
    Tensor y = evalOk(Op::Slice, {x}, attrs);
    Tensor dy = randomTensor(rng, y.shape());
    Tensor dx = evalOk(Op::SliceGrad, {dy}, with(attrs, "input_shape", Ints{5, 7, 4}));
    expectRelClose(dot(y, dy), dot(x, dx), 1e-9);
  }
  for (int64_t axis : {0, 1, -1}) {
    SCOPED_TRACE("gather axis " + std::to_string(axis));
    Shape ts{6, 5, 3};
    Tensor table = randomTensor(rng, ts);
    size_t ax = size_t(axis < 0 ? axis + 3 : axis);
    std::uniform_int_distribution<int64_t> pick(0, ts[ax] - 1);
    Tensor idx(DType::I64, {2, 4}); // 8 picks from at most 6 rows: repeats are certain
    for (int64_t i = 0; i < 8; ++i)
      idx.set(i, double(pick(rng)));
    AttrMap attrs{{"axis", axis}};
    Tensor y = evalOk(Op::Gather, {table, idx}, attrs);
    Tensor dy = randomTensor(rng, y.shape());
    Tensor dt = evalOk(Op::GatherGrad, {idx, dy}, with(attrs, "table_shape", ts));
    expectRelClose(dot(y, dy), dot(table, dt), 1e-9);
  }
}

TEST(GradKernelsAdjoint, GeluMatchesCentralDifferences) {
  std::mt19937_64 rng(19);
  const double h = 1e-5;
  for (const char *approx : {"none", "tanh"}) {
    SCOPED_TRACE(approx);
    AttrMap attrs{{"approximate", std::string(approx)}};
    Tensor x = randomTensor(rng, {64}), dy = randomTensor(rng, {64});
    for (int64_t i = 0; i < 64; ++i)
      x.set(i, x.at(i) * 4); // cover the curved part, [-4, 4]
    Tensor xp = x, xm = x;
    for (int64_t i = 0; i < 64; ++i) {
      xp.set(i, x.at(i) + h);
      xm.set(i, x.at(i) - h);
    }
    Tensor yp = evalOk(Op::Gelu, {xp}, attrs), ym = evalOk(Op::Gelu, {xm}, attrs);
    Tensor dx = evalOk(Op::GeluGrad, {x, dy}, attrs);
    for (int64_t i = 0; i < 64; ++i)
      EXPECT_NEAR(dx.at(i), (yp.at(i) - ym.at(i)) / (2 * h) * dy.at(i), 1e-8) << "x " << x.at(i);
  }
}

} // namespace
