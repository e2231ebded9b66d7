// The bad-input catalogue: every tests/json/bad/NN-name.json must fail to import with exactly
// the one-line message in NN-name.expected. Run from the repository root (ctest does so).
#include "frontend/json/JsonImporter.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace kiln {
namespace {

const char *kBadDir = "tests/json/bad";

std::vector<std::string> badFiles() {
  std::vector<std::string> files;
  for (auto &e : std::filesystem::directory_iterator(kBadDir))
    if (e.path().extension() == ".json")
      files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Catalogue, HasAtLeast45Entries) { EXPECT_GE(badFiles().size(), 45u); }

TEST(Catalogue, EveryFileFailsWithItsExpectedMessage) {
  for (const std::string &name : badFiles()) {
    SCOPED_TRACE(name);
    std::string stem = name.substr(0, name.size() - 5);
    std::string expectedPath = std::string(kBadDir) + "/" + stem + ".expected";
    ASSERT_TRUE(std::filesystem::exists(expectedPath)) << "no .expected for " << name;
    std::string expected = readText(expectedPath);
    while (!expected.empty() && (expected.back() == '\n' || expected.back() == '\r'))
      expected.pop_back();
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(expected.find('\n'), std::string::npos) << "expected message spans lines";

    auto g = importJsonFile(std::string(kBadDir) + "/" + name);
    ASSERT_FALSE(g.ok()) << name << " imported without error";
    EXPECT_EQ(g.message(), expected);
  }
}

TEST(Catalogue, EveryExpectedFileHasItsJson) {
  for (auto &e : std::filesystem::directory_iterator(kBadDir))
    if (e.path().extension() == ".expected") {
      auto json = e.path();
      json.replace_extension(".json");
      EXPECT_TRUE(std::filesystem::exists(json)) << e.path();
    }
}

/// The catalogue's messages are located: "file:line:col: error: ..." (the too-large check,
/// which has no position, is not among them).
TEST(Catalogue, MessagesNameFileLineAndColumn) {
  for (const std::string &name : badFiles()) {
    auto g = importJsonFile(std::string(kBadDir) + "/" + name);
    ASSERT_FALSE(g.ok());
    std::string prefix = std::string(kBadDir) + "/" + name + ":";
    ASSERT_EQ(g.message().rfind(prefix, 0), 0u) << g.message();
    std::string rest = g.message().substr(prefix.size());
    int line = 0, col = 0;
    ASSERT_EQ(std::sscanf(rest.c_str(), "%d:%d: error: ", &line, &col), 2) << g.message();
    EXPECT_GE(line, 1);
    EXPECT_GE(col, 1);
  }
}

} // namespace
} // namespace kiln
