// Interpreter kernels of the gradient ops autodiff emits: the exact adjoints of conv2d, the
// pools, gather, slice and gelu. Each walks the same index space as its forward kernel
// (ConvKernels.cpp, MovementKernels.cpp, ElementwiseKernels.cpp), with the same padding
// resolution, and scatters instead of gathering; sums are accumulated in double.
#include "compiler/interp/Kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

namespace kiln::interp {

namespace {

/// Calls f.template operator()<T>() for an f32 or f64 dtype; false for any other dtype.
template <typename F> bool dispatchFloat(DType dt, F &&f) {
  if (dt == DType::F32)
    f.template operator()<float>();
  else if (dt == DType::F64)
    f.template operator()<double>();
  else
    return false;
  return true;
}

/// Writes a double accumulator into the float result tensor.
void store(Tensor &out, const std::vector<double> &acc) {
  dispatchFloat(out.dtype(), [&]<typename T>() {
    T *p = out.data<T>();
    for (size_t i = 0; i < acc.size(); ++i)
      p[i] = T(acc[i]);
  });
}

template <typename T> double at(const Tensor &t, int64_t i) { return double(t.data<T>()[i]); }

/// The index space of a conv2d: x and w shapes are the forward operands', y the result's.
struct ConvGeom {
  bool nchw;
  ImageLayout x, y;
  int64_t batch, kh, kw, ci, co, groups, sh, sw, dh, dw;
  Pads2D pads;
  int64_t wAt(int64_t ky, int64_t kx, int64_t i, int64_t o) const {
    return nchw ? ((o * ci + i) * kh + ky) * kw + kx : ((ky * kw + kx) * ci + i) * co + o;
  }
};

std::optional<ConvGeom> convGeom(const Node &node, const Shape &xs, const Shape &ws,
                                 const Shape &ys) {
  if (xs.size() != 4 || ws.size() != 4 || ys.size() != 4)
    return std::nullopt;
  ConvGeom g;
  g.nchw = node.attrStr("data_format") == "NCHW";
  std::tie(g.sh, g.sw) = twoInts(node, "strides", {1, 1});
  std::tie(g.dh, g.dw) = twoInts(node, "dilations", {1, 1});
  g.groups = node.attrInt("groups");
  // HWIO for NHWC, OIHW for NCHW.
  g.kh = g.nchw ? ws[2] : ws[0];
  g.kw = g.nchw ? ws[3] : ws[1];
  g.ci = g.nchw ? ws[1] : ws[2];
  g.co = g.nchw ? ws[0] : ws[3];
  g.x = imageLayout(xs, g.nchw);
  g.y = imageLayout(ys, g.nchw);
  g.batch = xs[0];
  if (g.groups < 1 || g.x.c != g.ci * g.groups || g.co % g.groups != 0 || g.y.c != g.co)
    return std::nullopt;
  g.pads = resolvePads(*node.attr("padding"), g.x.h, g.x.w, (g.kh - 1) * g.dh + 1,
                       (g.kw - 1) * g.dw + 1, g.sh, g.sw);
  return g;
}

/// Calls f(xIndex, wIndex, yIndex) for every multiply of the forward conv: y[yi] += x[xi]*w[wi].
template <typename F> void forEachTap(const ConvGeom &g, F &&f) {
  int64_t perGroup = g.co / g.groups;
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t oy = 0; oy < g.y.h; ++oy)
      for (int64_t ox = 0; ox < g.y.w; ++ox)
        for (int64_t o = 0; o < g.co; ++o) {
          int64_t grp = o / perGroup, yi = g.y.at(n, oy, ox, o);
          for (int64_t ky = 0; ky < g.kh; ++ky)
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              int64_t y = oy * g.sh + ky * g.dh - g.pads.top;
              int64_t x = ox * g.sw + kx * g.dw - g.pads.left;
              if (y < 0 || y >= g.x.h || x < 0 || x >= g.x.w)
                continue; // zero padding contributes nothing, so receives nothing
              for (int64_t i = 0; i < g.ci; ++i)
                f(g.x.at(n, y, x, grp * g.ci + i), g.wAt(ky, kx, i, o), yi);
            }
        }
}

/// Calls f(yIndex, xIndices) for every pooling window; xIndices lists the window's in-bounds
/// elements in row-major window order (padding positions are not part of a window).
template <typename F>
void forEachWindow(const Node &node, const Shape &xs, const Shape &ys, F &&f) {
  bool nchw = node.attrStr("data_format") == "NCHW";
  auto [kh, kw] = twoInts(node, "ksize", {1, 1});
  auto [sh, sw] = twoInts(node, "strides", {kh, kw});
  ImageLayout in = imageLayout(xs, nchw), ol = imageLayout(ys, nchw);
  Pads2D pads = resolvePads(*node.attr("padding"), in.h, in.w, kh, kw, sh, sw);
  std::vector<int64_t> window;
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t oy = 0; oy < ol.h; ++oy)
      for (int64_t ox = 0; ox < ol.w; ++ox)
        for (int64_t c = 0; c < in.c; ++c) {
          window.clear();
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) {
              int64_t y = oy * sh + ky - pads.top, x = ox * sw + kx - pads.left;
              if (y >= 0 && y < in.h && x >= 0 && x < in.w)
                window.push_back(in.at(n, y, x, c));
            }
          f(ol.at(n, oy, ox, c), window);
        }
}

int64_t indexAt(const Tensor &t, int64_t i) {
  return t.dtype() == DType::I32 ? int64_t(t.data<int32_t>()[i]) : t.data<int64_t>()[i];
}

} // namespace

Expected<Tensor> evalConv2DBackpropInput(const Node &node, Operands in, const EvalContext &) {
  const Tensor &dy = in[0], &w = in[1];
  Tensor out = makeResult(node);
  auto g = convGeom(node, out.shape(), w.shape(), dy.shape());
  if (!g || w.dtype() != dy.dtype())
    return internalError(node, "operands do not match a conv2d");
  std::vector<double> dx(size_t(out.numElements()), 0.0);
  if (!dispatchFloat(dy.dtype(), [&]<typename T>() {
        forEachTap(*g, [&](int64_t xi, int64_t wi, int64_t yi) {
          dx[size_t(xi)] += at<T>(dy, yi) * at<T>(w, wi);
        });
      }))
    return internalError(node, "needs f32 or f64 operands");
  store(out, dx);
  return out;
}

Expected<Tensor> evalConv2DBackpropFilter(const Node &node, Operands in, const EvalContext &) {
  const Tensor &x = in[0], &dy = in[1];
  Tensor out = makeResult(node);
  auto g = convGeom(node, x.shape(), out.shape(), dy.shape());
  if (!g || x.dtype() != dy.dtype())
    return internalError(node, "operands do not match a conv2d");
  std::vector<double> dw(size_t(out.numElements()), 0.0);
  if (!dispatchFloat(dy.dtype(), [&]<typename T>() {
        forEachTap(*g, [&](int64_t xi, int64_t wi, int64_t yi) {
          dw[size_t(wi)] += at<T>(x, xi) * at<T>(dy, yi);
        });
      }))
    return internalError(node, "needs f32 or f64 operands");
  store(out, dw);
  return out;
}

Expected<Tensor> evalMaxPool2DGrad(const Node &node, Operands in, const EvalContext &) {
  const Tensor &x = in[0], &dy = in[1];
  if (x.rank() != 4 || dy.rank() != 4 || x.dtype() != dy.dtype())
    return internalError(node, "needs rank-4 operands of one dtype");
  Tensor out = makeResult(node);
  std::vector<double> dx(size_t(out.numElements()), 0.0);
  if (!dispatchFloat(x.dtype(), [&]<typename T>() {
        forEachWindow(node, x.shape(), dy.shape(), [&](int64_t yi, const auto &window) {
          // The first maximum in window order wins, as in the forward kernel: a later equal
          // value does not replace it, and the first NaN sticks.
          int64_t best = -1;
          double bestV = 0;
          for (int64_t xi : window) {
            double v = at<T>(x, xi);
            if (best < 0 || (!std::isnan(bestV) && (v > bestV || std::isnan(v)))) {
              best = xi;
              bestV = v;
            }
          }
          if (best >= 0)
            dx[size_t(best)] += at<T>(dy, yi);
        });
      }))
    return internalError(node, "needs f32 or f64 operands");
  store(out, dx);
  return out;
}

Expected<Tensor> evalAvgPool2DGrad(const Node &node, Operands in, const EvalContext &) {
  const Tensor &dy = in[0];
  Tensor out = makeResult(node);
  if (out.rank() != 4 || dy.rank() != 4)
    return internalError(node, "needs rank-4 operands");
  std::vector<double> dx(size_t(out.numElements()), 0.0);
  if (!dispatchFloat(dy.dtype(), [&]<typename T>() {
        forEachWindow(node, out.shape(), dy.shape(), [&](int64_t yi, const auto &window) {
          // Padding is excluded from the forward's count, so each element gets dy / count.
          if (window.empty())
            return;
          double share = at<T>(dy, yi) / double(window.size());
          for (int64_t xi : window)
            dx[size_t(xi)] += share;
        });
      }))
    return internalError(node, "needs f32 or f64 operands");
  store(out, dx);
  return out;
}

Expected<Tensor> evalGatherGrad(const Node &node, Operands in, const EvalContext &) {
  const Tensor &indices = in[0], &dy = in[1];
  if (!isInteger(indices.dtype()))
    return internalError(node, "indices must be i32 or i64");
  Tensor out = makeResult(node);
  const Shape &ts = out.shape();
  auto axis = normalizeAxis(node.attrInt("axis"), out.rank());
  if (!axis)
    return internalError(node, "axis out of range");
  size_t ax = size_t(*axis);
  int64_t outer = 1, inner = 1, n = ts[ax], count = indices.numElements();
  for (size_t i = 0; i < ax; ++i)
    outer *= ts[i];
  for (size_t i = ax + 1; i < ts.size(); ++i)
    inner *= ts[i];
  // Same check as gather's: a bad index is the user's run-time fault, found before any write.
  for (int64_t i = 0; i < count; ++i) {
    int64_t idx = indexAt(indices, i);
    if (idx < 0 || idx >= n)
      return errorAt(node.loc(), who(node) + ": index " + std::to_string(idx) +
                                     " is out of range [0, " + std::to_string(n) + ")");
  }
  std::vector<double> dt(size_t(out.numElements()), 0.0);
  if (!dispatchFloat(dy.dtype(), [&]<typename T>() {
        // dy is [outer, count, inner]; repeated indices add up (scatter-add).
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t i = 0; i < count; ++i) {
            int64_t idx = indexAt(indices, i);
            for (int64_t j = 0; j < inner; ++j)
              dt[size_t((o * n + idx) * inner + j)] += at<T>(dy, (o * count + i) * inner + j);
          }
      }))
    return internalError(node, "needs an f32 or f64 gradient");
  store(out, dt);
  return out;
}

Expected<Tensor> evalSliceGrad(const Node &node, Operands in, const EvalContext &) {
  const Tensor &dy = in[0];
  Tensor out = makeResult(node);
  size_t rank = size_t(out.rank());
  std::vector<int64_t> begin = *node.attrInts("begin");
  std::vector<int64_t> strides = node.attrInts("strides").value_or(std::vector<int64_t>(rank, 1));
  if (begin.size() != rank || strides.size() != rank || size_t(dy.rank()) != rank)
    return internalError(node, "begin/strides need one entry per dim");
  // Start positions resolved as slice does (negative from the end, clamped).
  std::vector<int64_t> start(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t dim = out.shape()[i];
    start[i] = std::clamp<int64_t>(begin[i] < 0 ? begin[i] + dim : begin[i], 0, dim);
  }
  Shape outStrides = stridesOf(out.shape());
  const Shape &dyDims = dy.shape();
  std::vector<double> dx(size_t(out.numElements()), 0.0);
  if (!dispatchFloat(dy.dtype(), [&]<typename T>() {
        for (int64_t o = 0; o < dy.numElements(); ++o) {
          int64_t rest = o, dst = 0;
          for (size_t i = rank; i-- > 0;) {
            dst += (start[i] + (rest % dyDims[i]) * strides[i]) * outStrides[i];
            rest /= dyDims[i];
          }
          dx[size_t(dst)] += at<T>(dy, o);
        }
      }))
    return internalError(node, "needs an f32 or f64 gradient");
  store(out, dx);
  return out;
}

Expected<Tensor> evalGeluGrad(const Node &node, Operands in, const EvalContext &) {
  const Tensor &x = in[0], &dy = in[1];
  if (x.shape() != dy.shape() || x.dtype() != dy.dtype())
    return internalError(node, "x and the gradient must have one type");
  bool approximate = node.attrStr("approximate") == "tanh";
  Tensor out = makeResult(node);
  std::vector<double> dx(size_t(out.numElements()), 0.0);
  if (!dispatchFloat(x.dtype(), [&]<typename T>() {
        const double k = std::sqrt(2.0 / std::numbers::pi), c = 0.044715;
        for (int64_t i = 0; i < x.numElements(); ++i) {
          double v = at<T>(x, i), d;
          if (approximate) {
            // d/dx 0.5x(1+tanh(u)), u = k(x + c x^3).
            double t = std::tanh(k * (v + c * v * v * v));
            d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * c * v * v);
          } else {
            // d/dx x Phi(x) = Phi(x) + x phi(x).
            double cdf = 0.5 * (1 + std::erf(v / std::numbers::sqrt2));
            double pdf = std::exp(-0.5 * v * v) / std::sqrt(2 * std::numbers::pi);
            d = cdf + v * pdf;
          }
          dx[size_t(i)] = d * at<T>(dy, i);
        }
      }))
    return internalError(node, "needs f32 or f64 operands");
  store(out, dx);
  return out;
}

} // namespace kiln::interp
