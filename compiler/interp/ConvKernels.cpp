// Interpreter kernels of conv2d (NHWC/HWIO or NCHW/OIHW, groups, dilation, bias) and 2-D pooling.
#include "compiler/interp/Kernels.h"

#include <limits>
#include <type_traits>

namespace kiln::interp {

namespace {
enum class Pool { Max, Avg };

Expected<Tensor> pool(const Node &node, const Tensor &x, Pool kind) {
  if (x.rank() != 4 || !isFloat(x.dtype()))
    return internalError(node, "pooling needs a rank-4 float input");
  bool nchw = node.attrStr("data_format") == "NCHW";
  auto [kh, kw] = twoInts(node, "ksize", {1, 1});
  auto [sh, sw] = twoInts(node, "strides", {kh, kw});
  ImageLayout in = imageLayout(x.shape(), nchw);
  Pads2D pads = resolvePads(*node.attr("padding"), in.h, in.w, kh, kw, sh, sw);
  Tensor out = makeResult(node);
  ImageLayout ol = imageLayout(out.shape(), nchw);
  int64_t batch = x.shape()[0];
  dispatchAny(x.dtype(), [&]<typename T>() {
    const T *px = x.data<T>();
    T *po = out.data<T>();
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t oy = 0; oy < ol.h; ++oy)
        for (int64_t ox = 0; ox < ol.w; ++ox)
          for (int64_t c = 0; c < in.c; ++c) {
            // Padding positions are skipped: max ignores them, avg does not count them.
            double acc = kind == Pool::Max ? -std::numeric_limits<double>::infinity() : 0.0;
            int64_t count = 0;
            for (int64_t ky = 0; ky < kh; ++ky)
              for (int64_t kx = 0; kx < kw; ++kx) {
                int64_t y = oy * sh + ky - pads.top, xx = ox * sw + kx - pads.left;
                if (y < 0 || y >= in.h || xx < 0 || xx >= in.w)
                  continue;
                double v = double(px[in.at(n, y, xx, c)]);
                acc = kind == Pool::Max ? (v > acc || v != v ? v : acc) : acc + v;
                ++count;
              }
            // A window made only of padding (explicit pads >= ksize) gives 0.
            double r = count == 0 ? 0.0 : kind == Pool::Max ? acc : acc / double(count);
            po[ol.at(n, oy, ox, c)] = T(r);
          }
  });
  return out;
}
} // namespace

Expected<Tensor> evalConv2D(const Node &node, Operands in, const EvalContext &) {
  const Tensor &x = in[0], &w = in[1];
  const Tensor *bias = in.size() > 2 ? &in[2] : nullptr;
  if (x.rank() != 4 || w.rank() != 4 || !isFloat(x.dtype()) || w.dtype() != x.dtype())
    return internalError(node, "conv2d needs rank-4 float operands of one dtype");
  bool nchw = node.attrStr("data_format") == "NCHW";
  auto [sh, sw] = twoInts(node, "strides", {1, 1});
  auto [dh, dw] = twoInts(node, "dilations", {1, 1});
  int64_t groups = node.attrInt("groups");
  const Shape &ws = w.shape();
  // HWIO for NHWC, OIHW for NCHW.
  int64_t kh = nchw ? ws[2] : ws[0], kw = nchw ? ws[3] : ws[1];
  int64_t ci = nchw ? ws[1] : ws[2], co = nchw ? ws[0] : ws[3];
  auto wAt = [&](int64_t y, int64_t xx, int64_t i, int64_t o) {
    return nchw ? ((o * ci + i) * kh + y) * kw + xx : ((y * kw + xx) * ci + i) * co + o;
  };
  ImageLayout il = imageLayout(x.shape(), nchw);
  if (groups < 1 || il.c != ci * groups || co % groups != 0)
    return internalError(node, "channel counts do not match groups");
  Pads2D pads =
      resolvePads(*node.attr("padding"), il.h, il.w, (kh - 1) * dh + 1, (kw - 1) * dw + 1, sh, sw);
  Tensor out = makeResult(node);
  ImageLayout ol = imageLayout(out.shape(), nchw);
  int64_t batch = x.shape()[0], perGroup = co / groups;
  dispatchAny(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_floating_point_v<T>) {
      const T *px = x.data<T>();
      const T *pw = w.data<T>();
      T *po = out.data<T>();
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t oy = 0; oy < ol.h; ++oy)
          for (int64_t ox = 0; ox < ol.w; ++ox)
            for (int64_t o = 0; o < co; ++o) {
              int64_t g = o / perGroup;
              double acc = bias ? double(bias->data<T>()[o]) : 0.0;
              for (int64_t ky = 0; ky < kh; ++ky)
                for (int64_t kx = 0; kx < kw; ++kx) {
                  int64_t y = oy * sh + ky * dh - pads.top, xx = ox * sw + kx * dw - pads.left;
                  if (y < 0 || y >= il.h || xx < 0 || xx >= il.w)
                    continue; // zero padding
                  for (int64_t i = 0; i < ci; ++i)
                    acc += double(px[il.at(n, y, xx, g * ci + i)]) * double(pw[wAt(ky, kx, i, o)]);
                }
              po[ol.at(n, oy, ox, o)] = T(acc);
            }
    }
  });
  return out;
}

Expected<Tensor> evalMaxPool2D(const Node &node, Operands in, const EvalContext &) {
  return pool(node, in[0], Pool::Max);
}

Expected<Tensor> evalAvgPool2D(const Node &node, Operands in, const EvalContext &) {
  return pool(node, in[0], Pool::Avg);
}

} // namespace kiln::interp
