// SVG line charts written by hand: axes with rounded ticks, one polyline per series, a legend.
#include "kiln/fit/Plot.h"

#include "kiln/runtime/FileUtil.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace kiln::fit {

namespace {

constexpr double kPanelW = 460, kPanelH = 320;
constexpr double kLeft = 64, kRight = 16, kTop = 36, kBottom = 48;
const char *const kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/// Text content escaped for XML (names come from user graphs).
std::string escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

/// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` ticks over span.
double tickStep(double span, int count) {
  double raw = span / count;
  double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (raw <= m * p)
      return m * p;
  return 10 * p;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  /// Widens an empty or zero-width range so the scale divides by something positive.
  void settle() {
    if (!(lo <= hi))
      lo = 0, hi = 1;
    if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi)))
      lo -= 0.5, hi += 0.5;
  }
};

void renderPanel(std::string &out, const PlotPanel &panel, double ox) {
  Range xr, yr;
  for (auto &s : panel.series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
        xr.add(s.x[i]), yr.add(s.y[i]);
  xr.settle();
  yr.settle();
  double pw = kPanelW - kLeft - kRight, ph = kPanelH - kTop - kBottom;
  auto px = [&](double x) { return ox + kLeft + (x - xr.lo) / (xr.hi - xr.lo) * pw; };
  auto py = [&](double y) { return kTop + ph - (y - yr.lo) / (yr.hi - yr.lo) * ph; };

  out += "<g>\n<text x=\"" + fmt(ox + kPanelW / 2) +
         "\" y=\"20\" text-anchor=\"middle\" "
         "font-size=\"14\">" +
         escape(panel.title) + "</text>\n";
  out += "<rect x=\"" + fmt(ox + kLeft) + "\" y=\"" + fmt(kTop) + "\" width=\"" + fmt(pw) +
         "\" height=\"" + fmt(ph) + "\" fill=\"none\" stroke=\"#444\"/>\n";
  double ys = tickStep(yr.hi - yr.lo, 5);
  for (double t = std::ceil(yr.lo / ys) * ys; t <= yr.hi + ys * 1e-9; t += ys)
    out += "<text x=\"" + fmt(ox + kLeft - 6) + "\" y=\"" + fmt(py(t) + 4) +
           "\" text-anchor=\"end\" font-size=\"11\">" + fmt(std::fabs(t) < ys * 1e-9 ? 0 : t) +
           "</text>\n";
  double xs = tickStep(xr.hi - xr.lo, 6);
  for (double t = std::ceil(xr.lo / xs) * xs; t <= xr.hi + xs * 1e-9; t += xs)
    out += "<text x=\"" + fmt(px(t)) + "\" y=\"" + fmt(kTop + ph + 16) +
           "\" text-anchor=\"middle\" font-size=\"11\">" + fmt(t) + "</text>\n";
  out += "<text x=\"" + fmt(ox + kLeft + pw / 2) + "\" y=\"" + fmt(kPanelH - 8) +
         "\" text-anchor=\"middle\" font-size=\"12\">" + escape(panel.xLabel) + "</text>\n";

  for (size_t k = 0; k < panel.series.size(); ++k) {
    const PlotSeries &s = panel.series[k];
    const char *color = kColors[k % std::size(kColors)];
    std::string points;
    size_t count = 0;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]))
        continue;
      points += (count++ ? " " : "") + fmt(px(s.x[i])) + "," + fmt(py(s.y[i]));
    }
    out += "<polyline fill=\"none\" stroke=\"" + std::string(color) +
           "\" stroke-width=\"2\" points=\"" + points + "\"/>\n";
    if (count == 1) // a one-epoch run: a line of one point is invisible
      out += "<circle cx=\"" + points.substr(0, points.find(',')) + "\" cy=\"" +
             points.substr(points.find(',') + 1) + "\" r=\"3\" fill=\"" + color + "\"/>\n";
    double ly = kTop + 14 + 16 * double(k);
    out += "<line x1=\"" + fmt(ox + kLeft + pw - 110) + "\" y1=\"" + fmt(ly - 4) + "\" x2=\"" +
           fmt(ox + kLeft + pw - 90) + "\" y2=\"" + fmt(ly - 4) + "\" stroke=\"" + color +
           "\" stroke-width=\"2\"/>\n<text x=\"" + fmt(ox + kLeft + pw - 86) + "\" y=\"" + fmt(ly) +
           "\" font-size=\"11\">" + escape(s.name) + "</text>\n";
  }
  out += "</g>\n";
}

} // namespace

std::string renderSvg(std::span<const PlotPanel> panels) {
  double width = kPanelW * double(std::max<size_t>(1, panels.size()));
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    fmt(width) + "\" height=\"" + fmt(kPanelH) + "\" viewBox=\"0 0 " + fmt(width) +
                    " " + fmt(kPanelH) +
                    "\" font-family=\"sans-serif\">\n"
                    "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (size_t i = 0; i < panels.size(); ++i)
    renderPanel(out, panels[i], kPanelW * double(i));
  return out + "</svg>\n";
}

std::vector<PlotPanel> historyPanels(const History &history) {
  std::vector<double> x(history.epochs.begin(), history.epochs.end());
  std::vector<PlotPanel> panels;
  for (auto &[name, values] : history.series) {
    if (name.rfind("val_", 0) == 0)
      continue; // drawn with its training curve
    PlotPanel panel{name, "epoch", {{"train " + name, x, values}}};
    if (const std::vector<double> *val = history.find("val_" + name))
      panel.series.push_back({"validation " + name, x, *val});
    panels.push_back(std::move(panel));
  }
  return panels;
}

Status writeSvg(const std::string &path, std::span<const PlotPanel> panels) {
  return writeFileAtomic(path, renderSvg(panels));
}

} // namespace kiln::fit
