// Normalisation of float columns: per-channel or whole-column mean and standard deviation, and
// the in-place (x - mean) / std transform.
#include "kiln/data/Dataset.h"

#include <cmath>

namespace kiln::data {

namespace {

/// A column seen as [outer, channels, inner] around its channel axis.
struct ChannelView {
  int64_t outer = 1, channels = 1, inner = 1;
};

Expected<ChannelView> channelView(const Tensor &t, std::string_view column,
                                  std::optional<int64_t> axis) {
  ChannelView v;
  if (!axis) {
    v.inner = t.numElements();
    return v;
  }
  int64_t a = *axis < 0 ? *axis + t.rank() : *axis;
  if (a < 1 || a >= t.rank())
    return Status::error("error: channel axis " + std::to_string(*axis) + " of column '" +
                         std::string(column) + "' " + shapeToString(t.shape()) +
                         " must be one of its example axes (1.." + std::to_string(t.rank() - 1) +
                         " or negative)");
  for (int64_t i = 0; i < a; ++i)
    v.outer *= t.shape()[size_t(i)];
  v.channels = t.shape()[size_t(a)];
  for (int64_t i = a + 1; i < t.rank(); ++i)
    v.inner *= t.shape()[size_t(i)];
  return v;
}

Expected<Tensor *> floatColumn(Dataset &ds, std::string_view column) {
  Tensor *t = ds.column(column);
  if (!t)
    return Status::error("error: no dataset column '" + std::string(column) + "'");
  if (!isFloat(t->dtype()))
    return Status::error("error: column '" + std::string(column) + "' is " +
                         std::string(dtypeName(t->dtype())) + "; only f32/f64 columns normalise");
  return t;
}

template <typename T>
void accumulate(const T *x, const ChannelView &v, std::vector<double> &acc, const double *mean) {
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t c = 0; c < v.channels; ++c) {
      const T *p = x + (o * v.channels + c) * v.inner;
      double s = 0;
      if (mean) {
        for (int64_t i = 0; i < v.inner; ++i) {
          double d = double(p[i]) - mean[c];
          s += d * d;
        }
      } else {
        for (int64_t i = 0; i < v.inner; ++i)
          s += double(p[i]);
      }
      acc[size_t(c)] += s;
    }
}

template <typename T>
void apply(T *x, const ChannelView &v, const std::vector<double> &mean,
           const std::vector<double> &invStd) {
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t c = 0; c < v.channels; ++c) {
      T *p = x + (o * v.channels + c) * v.inner;
      // Computed in T's precision: f32 columns stay f32 end to end, as the graph will see them.
      T m = T(mean[size_t(c)]), s = T(invStd[size_t(c)]);
      for (int64_t i = 0; i < v.inner; ++i)
        p[i] = (p[i] - m) * s;
    }
}

} // namespace

Expected<ColumnStats> computeStats(const Dataset &ds, std::string_view column,
                                   std::optional<int64_t> channelAxis) {
  KILN_ASSIGN(Tensor * t, floatColumn(const_cast<Dataset &>(ds), column));
  KILN_ASSIGN(ChannelView v, channelView(*t, column, channelAxis));
  ColumnStats st;
  st.mean.assign(size_t(v.channels), 0.0);
  st.std.assign(size_t(v.channels), 0.0);
  // Two passes (mean, then squared deviations) rather than E[x^2] - E[x]^2, which cancels badly
  // for pixel data with a large mean.
  double count = double(v.outer * v.inner);
  if (t->dtype() == DType::F32)
    accumulate(t->data<float>(), v, st.mean, nullptr);
  else
    accumulate(t->data<double>(), v, st.mean, nullptr);
  for (double &m : st.mean)
    m /= count;
  if (t->dtype() == DType::F32)
    accumulate(t->data<float>(), v, st.std, st.mean.data());
  else
    accumulate(t->data<double>(), v, st.std, st.mean.data());
  for (double &s : st.std)
    s = std::sqrt(s / count);
  return st;
}

Status normalize(Dataset &ds, std::string_view column, std::span<const double> mean,
                 std::span<const double> std, std::optional<int64_t> channelAxis) {
  KILN_ASSIGN(Tensor * t, floatColumn(ds, column));
  KILN_ASSIGN(ChannelView v, channelView(*t, column, channelAxis));
  if (mean.size() != std.size())
    return Status::error("error: normalize '" + std::string(column) +
                         "': " + std::to_string(mean.size()) + " means but " +
                         std::to_string(std.size()) + " standard deviations");
  if (mean.size() != 1 && int64_t(mean.size()) != v.channels)
    return Status::error("error: normalize '" + std::string(column) + "': " +
                         std::to_string(mean.size()) + " values for " + std::to_string(v.channels) +
                         " channels (give 1 or " + std::to_string(v.channels) + ")");
  std::vector<double> m(size_t(v.channels)), inv(size_t(v.channels));
  for (size_t c = 0; c < m.size(); ++c) {
    size_t k = mean.size() == 1 ? 0 : c;
    if (!(std[k] > 0.0) || !std::isfinite(std[k]) || !std::isfinite(mean[k]))
      return Status::error("error: normalize '" + std::string(column) + "': channel " +
                           std::to_string(k) + " has mean " + std::to_string(mean[k]) +
                           " and std " + std::to_string(std[k]) +
                           "; the std must be finite and > 0");
    m[c] = mean[k];
    inv[c] = 1.0 / std[k];
  }
  if (t->dtype() == DType::F32)
    apply(t->data<float>(), v, m, inv);
  else
    apply(t->data<double>(), v, m, inv);
  return Status::ok();
}

Status normalize(Dataset &ds, std::string_view column, const ColumnStats &stats,
                 std::optional<int64_t> channelAxis) {
  return normalize(ds, column, stats.mean, stats.std, channelAxis);
}

} // namespace kiln::data
