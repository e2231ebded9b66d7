// Line charts as standalone SVG (no dependencies): training curves of a History or of a step log.
#pragma once

#include "kiln/fit/History.h"
#include "kiln/runtime/Status.h"

#include <span>
#include <string>
#include <vector>

namespace kiln::fit {

/// One curve: points (x[i], y[i]); non-finite y values are left out (the line jumps the gap).
struct PlotSeries {
  std::string name;
  std::vector<double> x, y;
};

/// One chart: a title, an x-axis label and its curves, drawn on shared axes with a legend.
struct PlotPanel {
  std::string title;
  std::string xLabel;
  std::vector<PlotSeries> series;
};

/// An SVG document with the panels side by side. Each series is one <polyline> with one
/// "x,y" pair per finite point (a single point is also drawn as a <circle>).
std::string renderSvg(std::span<const PlotPanel> panels);

/// The charts of a History: one for "loss" (train and "val_loss") and one per other metric
/// (train and "val_" curve), over epochs.
std::vector<PlotPanel> historyPanels(const History &history);

/// Writes renderSvg(panels) to `path` atomically.
Status writeSvg(const std::string &path, std::span<const PlotPanel> panels);

} // namespace kiln::fit
