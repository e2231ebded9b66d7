// Shape rules of conv2d and the 2-d pools (NHWC/HWIO or NCHW/OIHW), with TensorFlow padding.
#include "compiler/ir/rules/RuleUtil.h"

namespace kiln::rules {

namespace {

/// The output length of one spatial axis (0: height, 1: width) under `padding`, which is
/// "valid", "same" (TensorFlow: ceil(in/stride)) or [top, bottom, left, right]. Every product
/// and sum is overflow-checked because strides, dilations and pads come straight from the user.
bool spatialOut(int64_t in, int64_t k, int64_t stride, int64_t dil, const AttrValue &padding,
                int axis, const char *axisName, TypeError &err, int64_t &out) {
  auto span = mulChecked(k - 1, dil);
  if (!span || *span >= kMaxTensorElements)
    return failed(err, std::string(axisName) + " window " + std::to_string(k) + " with dilation " +
                           std::to_string(dil) + " is too large",
                  "dilations");
  int64_t eff = *span + 1;
  if (auto *mode = std::get_if<std::string>(&padding); mode && *mode == "same") {
    out = (in - 1) / stride + 1;
    return true;
  }
  int64_t padBefore = 0, padAfter = 0;
  if (auto *pads = std::get_if<std::vector<int64_t>>(&padding)) {
    padBefore = (*pads)[size_t(2 * axis)];
    padAfter = (*pads)[size_t(2 * axis + 1)];
  }
  auto padded = addChecked(in, padBefore);
  if (padded)
    padded = addChecked(*padded, padAfter);
  if (!padded || *padded > kMaxTensorElements)
    return failed(err, std::string(axisName) + " padding is too large", "padding");
  if (*padded < eff)
    return failed(err, std::string(axisName) + " window " + std::to_string(eff) +
                           " is larger than the padded input " + std::to_string(*padded),
                  {}, 0);
  out = (*padded - eff) / stride + 1;
  return true;
}

struct Layout {
  bool nchw;
  size_t h, w, c; ///< positions of height, width and channels in a rank-4 activation
};

Layout layoutOf(const AttrMap &attrs) {
  bool nchw = strAttr(attrs, "data_format") == "NCHW";
  return nchw ? Layout{true, 2, 3, 1} : Layout{false, 1, 2, 3};
}

Shape activation(const Layout &l, int64_t n, int64_t h, int64_t w, int64_t c) {
  return l.nchw ? Shape{n, c, h, w} : Shape{n, h, w, c};
}

} // namespace

Types inferConv2D(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &x = in[0], &w = in[1];
  if (!requireRank(x, 4, 0, "input", err) || !requireRank(w, 4, 1, "filter", err) ||
      !requireFloat(x, 0, err) || !requireSameDType(x, w, 1, err))
    return std::nullopt;
  const auto &strides = *intsAttr(attrs, "strides");
  const auto &dilations = *intsAttr(attrs, "dilations");
  if (!pairAttr(strides, "strides", err) || !pairAttr(dilations, "dilations", err))
    return std::nullopt;
  int64_t groups = intAttr(attrs, "groups");
  if (groups < 1)
    return fail(err, "groups " + std::to_string(groups) + " must be >= 1", "groups");

  Layout l = layoutOf(attrs);
  // HWIO filters for NHWC, OIHW for NCHW.
  int64_t kh = l.nchw ? w.shape[2] : w.shape[0];
  int64_t kw = l.nchw ? w.shape[3] : w.shape[1];
  int64_t fi = l.nchw ? w.shape[1] : w.shape[2];
  int64_t fo = l.nchw ? w.shape[0] : w.shape[3];
  int64_t c = x.shape[l.c];
  if (groups == 1 && c != fi)
    return fail(err, "input channels " + std::to_string(c) + " do not match filter channels " +
                         std::to_string(fi),
                {}, 1);
  if (groups != 1 && (c % groups != 0 || c / groups != fi))
    return fail(err, "input channels " + std::to_string(c) + " do not match filter channels " +
                         std::to_string(fi) + " x groups " + std::to_string(groups),
                {}, 1);
  if (fo % groups != 0)
    return fail(err, "filter output channels " + std::to_string(fo) +
                         " are not divisible by groups " + std::to_string(groups),
                "groups");
  if (in.size() == 3) {
    if (!requireSameDType(x, in[2], 2, err) || !requireShape(in[2], {fo}, 2, "bias", err))
      return std::nullopt;
  }
  const AttrValue &padding = *findAttr(attrs, "padding");
  int64_t oh, ow;
  if (!spatialOut(x.shape[l.h], kh, strides[0], dilations[0], padding, 0, "height", err, oh) ||
      !spatialOut(x.shape[l.w], kw, strides[1], dilations[1], padding, 1, "width", err, ow))
    return std::nullopt;
  return one({x.dtype, activation(l, x.shape[0], oh, ow, fo)});
}

Types inferPool2D(Op, Operands in, const AttrMap &attrs, TypeError &err) {
  const TensorType &x = in[0];
  if (!requireRank(x, 4, 0, "input", err) || !requireFloat(x, 0, err))
    return std::nullopt;
  const auto &ksize = *intsAttr(attrs, "ksize");
  if (!pairAttr(ksize, "ksize", err))
    return std::nullopt;
  std::vector<int64_t> strides = ksize;
  if (const auto *s = intsAttr(attrs, "strides")) {
    if (!pairAttr(*s, "strides", err))
      return std::nullopt;
    strides = *s;
  }
  const AttrValue &padding = *findAttr(attrs, "padding");
  // A pad as large as the window would make windows of padding only: max pool would have no
  // element and avg pool would divide by zero. "same" never pads that much.
  if (auto *pads = std::get_if<std::vector<int64_t>>(&padding))
    for (size_t i = 0; i < 4; ++i)
      if ((*pads)[i] >= ksize[i / 2])
        return fail(err, "padding " + shapeStr(*pads) + " must be smaller than the window " +
                             shapeStr(ksize),
                    "padding");
  Layout l = layoutOf(attrs);
  int64_t oh, ow;
  if (!spatialOut(x.shape[l.h], ksize[0], strides[0], 1, padding, 0, "height", err, oh) ||
      !spatialOut(x.shape[l.w], ksize[1], strides[1], 1, padding, 1, "width", err, ow))
    return std::nullopt;
  return one({x.dtype, activation(l, x.shape[0], oh, ow, x.shape[l.c])});
}

} // namespace kiln::rules
