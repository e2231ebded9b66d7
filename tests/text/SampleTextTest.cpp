// Every sample graph survives print -> parse -> print, and renders through Graphviz.
#include "GraphEquality.h"

#include "compiler/ir/Dot.h"
#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"
#include "frontend/json/JsonImporter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace kiln {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> samplePaths() {
  std::vector<fs::path> paths;
  for (auto &e : fs::directory_iterator(fs::path(KILN_SOURCE_DIR) / "samples"))
    if (e.path().extension() == ".json")
      paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST(TextSamples, PrintParsePrintIsIdentical) {
  auto paths = samplePaths();
  ASSERT_GE(paths.size(), 11u);
  for (auto &path : paths) {
    SCOPED_TRACE(path.string());
    auto g = importJsonFile(path.string());
    ASSERT_TRUE(g.ok()) << g.message();
    for (bool locations : {true, false}) {
      PrintOptions opts;
      opts.locations = locations;
      std::string first = printGraph(*g, opts);
      auto g2 = parseGraph(first, path.stem().string() + ".kir");
      ASSERT_TRUE(g2.ok()) << g2.message() << "\n" << first;
      EXPECT_EQ(printGraph(*g2, opts), first);
      if (locations) {
        // With locations the reparsed graph equals the imported one, JSON locations included.
        EXPECT_EQ(test::graphDiff(*g, *g2), "");
        auto g3 = parseGraph(printGraph(*g2), "again.kir");
        ASSERT_TRUE(g3.ok()) << g3.message();
        EXPECT_EQ(printGraph(*g3), first);
      }
    }
  }
}

TEST(TextSamples, SampleLocationsPointIntoTheJson) {
  auto g = importJsonFile((fs::path(KILN_SOURCE_DIR) / "samples" / "mnist_mlp.json").string());
  ASSERT_TRUE(g.ok()) << g.message();
  std::string text = printGraph(*g);
  EXPECT_NE(text.find("graph @mnist_mlp seed="), std::string::npos);
  EXPECT_NE(text.find("mnist_mlp.json\":"), std::string::npos) << text;
  EXPECT_NE(text.find("\"$.nodes[0]\")"), std::string::npos) << text;
}

std::string readFile(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs `dot -Tsvg` on `dotText`; returns the exit status and the SVG.
std::pair<int, std::string> renderSvg(const std::string &dotText, const std::string &stem) {
  fs::path dir = fs::temp_directory_path() /
                 ("kiln_text_dot_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path in = dir / (stem + ".dot"), out = dir / (stem + ".svg");
  std::ofstream(in, std::ios::binary) << dotText;
  std::string cmd = "dot -Tsvg '" + in.string() + "' -o '" + out.string() + "' 2>/dev/null";
  int rc = std::system(cmd.c_str());
  std::string svg = readFile(out);
  fs::remove_all(dir);
  return {rc, svg};
}

TEST(TextDot, EverySampleRendersWithGraphviz) {
  for (auto &path : samplePaths()) {
    SCOPED_TRACE(path.string());
    auto g = importJsonFile(path.string());
    ASSERT_TRUE(g.ok()) << g.message();
    std::string dot = writeDot(*g);
    auto [rc, svg] = renderSvg(dot, path.stem().string());
    EXPECT_EQ(rc, 0);
    EXPECT_NE(svg.find("<svg"), std::string::npos);
    // Every node appears with its name as a label line.
    for (auto &n : g->nodes())
      EXPECT_NE(svg.find(">" + n->name() + "<"), std::string::npos) << n->name();
  }
}

TEST(TextDot, LabelsStylesAndEscaping) {
  const char *text = "graph @\"we\\\"ird\\\\ name\" {\n"
                     "  input %x : f32[2,3]\n"
                     "  param %w : f32[3,4] init=zeros\n"
                     "  param %s : i32[] init=zeros trainable=false\n"
                     "  const %c : f32[] = dense<1.0>\n"
                     "  %y = matmul(%x, %w) : f32[2,4]\n"
                     "  %z = relu(%y) : f32[2,4]\n"
                     "  %l = reduce_sum(%z) : f32[]\n"
                     "  return %z\n"
                     "  train @step(loss=%l, optimizer=sgd)\n"
                     "}\n";
  auto g = parseGraph(text, "d.kir");
  ASSERT_TRUE(g.ok()) << g.message();
  std::string dot = writeDot(*g);
  EXPECT_EQ(dot.rfind("digraph \"we\\\"ird\\\\ name\" {\n", 0), 0u) << dot;
  EXPECT_NE(dot.find("n0 [label=\"x\\ninput\\nf32[2,3]\", shape=box, style=\"rounded,filled\", "
                     "fillcolor=\"#cfe2ff\"];"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("label=\"s\\nparam (frozen)\\ni32[]\""), std::string::npos);
  EXPECT_NE(dot.find("label=\"c\\nconst\\nf32[]\""), std::string::npos);
  EXPECT_NE(dot.find("n0 -> n4 [label=\"0\"];"), std::string::npos);  // matmul: 2 operands
  EXPECT_NE(dot.find("n1 -> n4 [label=\"1\"];"), std::string::npos);
  EXPECT_NE(dot.find("n4 -> n5;"), std::string::npos);                // relu: 1 operand
  EXPECT_NE(dot.find("label=\"z\\nrelu\\nf32[2,4]\", shape=box, style=filled, "
                     "fillcolor=\"#ffffff\", penwidth=3, color=\"#1565c0\""),
            std::string::npos); // output outlined
  EXPECT_NE(dot.find("penwidth=3, color=\"#c62828\""), std::string::npos); // loss outlined
  EXPECT_NE(dot.find("n6 -> train_0 [style=dashed, label=\"loss\"];"), std::string::npos);
  EXPECT_EQ(dotEscape("a\"b\\c\nd\x01"), "a\\\"b\\\\c\\nd");
  auto [rc, svg] = renderSvg(dot, "escaped");
  EXPECT_EQ(rc, 0);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
}

} // namespace
} // namespace kiln
