// The SVG writer and History's JSON: well-formed documents with the right curves and points.
#include "kiln/fit/Plot.h"

#include <cmath>
#include <gtest/gtest.h>
#include <limits>
#include <regex>
#include <string>
#include <vector>

namespace kiln::fit {
namespace {

/// Checks that tags nest and close (comments, declarations and self-closing tags allowed) and
/// that attribute values are quoted; returns the first problem, or "" when well-formed.
std::string xmlProblem(const std::string &s) {
  std::vector<std::string> open;
  size_t i = 0;
  while ((i = s.find('<', i)) != std::string::npos) {
    size_t end = s.find('>', i);
    if (end == std::string::npos)
      return "unterminated tag at " + std::to_string(i);
    std::string tag = s.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag[0] == '?' || tag[0] == '!')
      continue;
    if (std::count(tag.begin(), tag.end(), '"') % 2)
      return "unbalanced quotes in <" + tag + ">";
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1))
        return "</" + tag.substr(1) + "> closes " + (open.empty() ? "nothing" : open.back());
      open.pop_back();
      continue;
    }
    if (tag.back() == '/')
      continue;
    open.push_back(tag.substr(0, tag.find(' ')));
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

/// The number of points in each <polyline>, in document order.
std::vector<size_t> polylinePoints(const std::string &svg) {
  std::vector<size_t> counts;
  std::regex poly("<polyline[^>]*points=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), poly); it != std::sregex_iterator();
       ++it) {
    std::string pts = (*it)[1];
    counts.push_back(pts.empty() ? 0 : size_t(std::count(pts.begin(), pts.end(), ' ') + 1));
  }
  return counts;
}

History fiveEpochs() {
  History h;
  double nan = std::numeric_limits<double>::quiet_NaN();
  h.append(1, 1.0, {{"loss", 0.9}, {"acc", 0.6}});
  h.append(2, 1.0, {{"loss", 0.5}, {"acc", 0.8}, {"val_loss", 0.6}, {"val_acc", 0.75}});
  h.append(3, 1.0, {{"loss", 0.4}, {"acc", 0.85}, {"val_loss", nan}, {"val_acc", 0.8}});
  h.append(4, 1.0, {{"loss", 0.3}, {"acc", 0.9}, {"val_loss", 0.45}, {"val_acc", 0.82}});
  h.append(5, 1.0, {{"loss", 0.25}, {"acc", 0.92}, {"val_loss", 0.44}, {"val_acc", 0.83}});
  return h;
}

TEST(History, SeriesArePaddedWithNaNAndWrittenAsJson) {
  History h = fiveEpochs();
  ASSERT_TRUE(h.find("val_loss"));
  EXPECT_TRUE(std::isnan((*h.find("val_loss"))[0])); // validation started at epoch 2
  EXPECT_EQ(h.find("acc")->size(), 5u);
  std::string json = h.toJson();
  EXPECT_NE(json.find("\"epochs\": [1, 2, 3, 4, 5]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"val_loss\": [null, 0.6, null, 0.45, 0.44]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"loss\": [0.9, 0.5, 0.4, 0.3, 0.25]"), std::string::npos) << json;
}

TEST(Plot, HistoryChartsAreWellFormedWithOnePointPerFiniteValue) {
  History h = fiveEpochs();
  std::vector<PlotPanel> panels = historyPanels(h);
  ASSERT_EQ(panels.size(), 2u);
  EXPECT_EQ(panels[0].title, "loss");
  EXPECT_EQ(panels[1].title, "acc");
  ASSERT_EQ(panels[0].series.size(), 2u);
  EXPECT_EQ(panels[0].series[1].name, "validation loss");
  std::string svg = renderSvg(panels);
  EXPECT_EQ(xmlProblem(svg), "") << svg;
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  // train loss 5, validation loss 3 (epoch 1 missing, epoch 3 NaN), train acc 5, val acc 4.
  EXPECT_EQ(polylinePoints(svg), (std::vector<size_t>{5, 3, 5, 4}));
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(Plot, EscapesNamesAndDrawsSinglePoints) {
  PlotPanel p{"a<b & c", "step", {{"\"quoted\"", {1}, {2}}}};
  std::string svg = renderSvg(std::span<const PlotPanel>(&p, 1));
  EXPECT_EQ(xmlProblem(svg), "") << svg;
  EXPECT_NE(svg.find("a&lt;b &amp; c"), std::string::npos);
  EXPECT_NE(svg.find("&quot;quoted&quot;"), std::string::npos);
  EXPECT_NE(svg.find("<circle"), std::string::npos);
  EXPECT_EQ(polylinePoints(svg), (std::vector<size_t>{1}));
}

TEST(Plot, PointsLieInsideThePlotArea) {
  PlotPanel p{"loss", "step", {{"loss", {0, 10, 20}, {3.0, 1.5, 0.25}}}};
  std::string svg = renderSvg(std::span<const PlotPanel>(&p, 1));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("points=\"([^\"]*)\"")));
  // The plot area is x in [64, 444], y in [36, 272]; the largest loss is at the top.
  EXPECT_EQ(std::string(m[1]), "64,36 254,164.727 444,272");
}

} // namespace
} // namespace kiln::fit
