// Replays the fuzz seeds and every input the fuzzers ever broke Kiln with (tests/fuzz/regressions/
// <target>/) through the fuzz targets' checks, built with g++ in the normal build, so `make test`
// keeps each fixed crash fixed without clang or libFuzzer.
#include "fuzz/FuzzTargets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

namespace kiln::fuzz {
namespace {

namespace fs = std::filesystem;
using Check = std::function<std::string(std::string_view, bool *)>;

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Every regular file in `dir` (relative to the source root) with extension `ext` (any if
/// empty), sorted, except the catalogue's `.expected` message files.
std::vector<fs::path> inputs(const char *dir, const char *ext = "") {
  std::vector<fs::path> out;
  fs::path d = fs::path(KILN_SOURCE_DIR) / dir;
  if (!fs::is_directory(d))
    return out;
  for (const auto &e : fs::directory_iterator(d)) {
    std::string x = e.path().extension().string();
    if (e.is_regular_file() && x != ".expected" && e.path().filename() != ".gitkeep" &&
        (!*ext || x == ext))
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Counts {
  size_t files = 0, loaded = 0;
  std::vector<std::string> loadedNames; ///< file stems of the accepted inputs, sorted
};

/// Runs `check` on each input of `dir`; every invariant must hold.
Counts replay(const Check &check, const char *dir, const char *ext = "") {
  Counts c;
  for (const fs::path &f : inputs(dir, ext)) {
    bool loaded = false;
    EXPECT_EQ(check(slurp(f), &loaded), "") << "input: " << f;
    ++c.files;
    c.loaded += loaded;
    if (loaded)
      c.loadedNames.push_back(f.stem().string());
  }
  return c;
}

TEST(FuzzRegression, JsonImporterSeedsAndRegressions) {
  // Every sample and good file loads and survives verify, print/parse and export/import; every
  // catalogue file is rejected cleanly.
  Counts samples = replay(checkJsonImport, "samples", ".json");
  EXPECT_GE(samples.files, 11u);
  EXPECT_EQ(samples.loaded, samples.files);
  Counts good = replay(checkJsonImport, "tests/json/good", ".json");
  EXPECT_GE(good.files, 3u);
  EXPECT_EQ(good.loaded, good.files - 1); // mlp_weights.json's weights file is not reachable
  Counts bad = replay(checkJsonImport, "tests/json/bad", ".json");
  EXPECT_GE(bad.files, 36u);
  EXPECT_EQ(bad.loaded, 0u);
  replay(checkJsonImport, "tests/fuzz/regressions/json_fuzzer");
}

TEST(FuzzRegression, SafetensorsSeedsAndRegressions) {
  Counts seeds = replay(checkSafetensors, "fuzz/corpus/safetensors");
  EXPECT_EQ(seeds.files, 15u);
  // The generator's valid files load; the broken ones (and F16, which Kiln does not read) do not.
  EXPECT_EQ(seeds.loadedNames, (std::vector<std::string>{"all-dtypes", "empty-header", "f32-matrix",
                                                         "metadata", "scalar", "unpadded"}));
  Counts good = replay(checkSafetensors, "tests/json/good", ".safetensors");
  EXPECT_EQ(good.loaded, good.files);
  replay(checkSafetensors, "tests/fuzz/regressions/safetensors_fuzzer");
}

TEST(FuzzRegression, IrParserSeedsAndRegressions) {
  Counts kir = replay(checkIrParser, "tests/passes", ".kir");
  EXPECT_GE(kir.files, 30u);
  EXPECT_EQ(kir.loaded, kir.files);
  replay(checkIrParser, "tests/fuzz/regressions/ir_parser_fuzzer");
}

TEST(FuzzRegression, ChecksAcceptValidInputs) {
  std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::string image(8, '\0');
  image[0] = char(header.size());
  image += header;
  image += std::string("\0\0\x80\x3f", 4); // 1.0f
  bool loaded = false;
  EXPECT_EQ(checkSafetensors(image, &loaded), "");
  EXPECT_TRUE(loaded);
  EXPECT_EQ(checkSafetensors(image.substr(0, image.size() - 1), &loaded), "");
  EXPECT_FALSE(loaded);
  EXPECT_EQ(checkIrParser("graph @g {\n  input %x : f32[2]\n  %y = relu(%x) : f32[2]\n"
                          "  return %y\n}\n",
                          &loaded),
            "");
  EXPECT_TRUE(loaded);
  EXPECT_EQ(checkIrParser("graph @g {\n  %y = relu(%x) : f32[2]\n}\n", &loaded), "");
  EXPECT_FALSE(loaded);
}

} // namespace
} // namespace kiln::fuzz
