// The AOT tests' fixture: a temporary install prefix (cmake --install), the installed kilnc, the
// system C and C++ compilers, and the JIT's results on the same feeds to compare with.
#pragma once

#include "compiler/codegen/Compile.h"
#include "compiler/interp/RandomFeeds.h"
#include "frontend/json/JsonImporter.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace kiln::aottest {

namespace fs = std::filesystem;

inline std::string slurp(const fs::path &p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline std::string source(const std::string &rel) { return std::string(KILN_SOURCE_DIR) + "/" + rel; }

/// Parses the hex floats ("%a") after `key` on the first line starting with `key `.
inline std::vector<float> floatsAfter(const std::string &text, const std::string &key) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(key + " ", 0) != 0)
      continue;
    std::istringstream words(line.substr(key.size()));
    std::vector<float> out;
    for (std::string w; words >> w;)
      out.push_back(std::strtof(w.c_str(), nullptr));
    return out;
  }
  return {};
}

inline uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

/// The sanitizer this test binary was built with (make sanitize builds the whole tree so, the
/// installed runtime included), as compiler flags: programs that link that runtime must carry
/// the same sanitizer runtime, which has to come first in the link.
inline std::string sanitizerFlags() {
#if defined(__SANITIZE_ADDRESS__)
  return " -fsanitize=address,undefined";
#elif defined(__SANITIZE_THREAD__)
  return " -fsanitize=thread";
#else
  return "";
#endif
}

class AotTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kiln-aot-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string &name) const { return (dir_ / name).string(); }
  std::string prefix() const { return path("prefix"); }

  /// Runs a shell command (time-limited); stdout into out_, stderr into err_; the exit code.
  int sh(const std::string &command) {
    int status = std::system(("timeout 300 " + command + " >" + path("out.txt") + " 2>" +
                              path("err.txt"))
                                 .c_str());
    out_ = slurp(path("out.txt"));
    err_ = slurp(path("err.txt"));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  /// cmake --install of the build tree into prefix(): what a user of the package gets.
  void install() {
    ASSERT_EQ(sh("cmake --install " + std::string(KILN_BINARY_DIR) + " --prefix " + prefix()), 0)
        << err_;
  }

  /// The installed kilnc compiles samples/<model>.json into dir_/<name>.o and <name>.h.
  void compileModel(const std::string &model, const std::string &name, const std::string &flags) {
    compileFile(source("samples/" + model + ".json"), name, flags);
  }

  /// The installed kilnc compiles the model file `json` into dir_/<name>.o and <name>.h.
  void compileFile(const std::string &json, const std::string &name, const std::string &flags) {
    ASSERT_EQ(sh(prefix() + "/bin/kilnc compile " + json + " -o " + path(name + ".o") +
                 " --header " + path(name + ".h") + " " + flags),
              0)
        << err_;
  }

  /// Compiles and links `program` (tests/aot/programs/...) with `objects` against the installed
  /// runtime only, warnings as errors; the executable is dir_/<exe>.
  void link(const std::string &compiler, const std::string &program,
            const std::string &objects, const std::string &exe, const std::string &extra = "") {
    std::string std = compiler == "cc" ? "-std=c99" : "-std=c++17";
    ASSERT_EQ(sh(compiler + " " + std + sanitizerFlags() + " -O1 -Wall -Wextra -pedantic -Werror" +
                 " -I" + prefix() + "/include -I" + dir_.string() + " " +
                 source("tests/aot/programs/" + program) + " " + objects + " -L" + prefix() +
                 "/lib -Wl,-rpath," + prefix() + "/lib -lkiln_runtime -lm " + extra + " -o " +
                 path(exe)),
              0)
        << err_;
  }

  /// Random feeds for `model` with `batches` batches, each input written raw to
  /// dir_/<filePrefix><input>.bin; returns them.
  NamedTensors writeFeeds(const Graph &g, int64_t batches, const std::string &filePrefix) {
    auto feeds = randomFeeds(g, 7, batches);
    EXPECT_TRUE(feeds.ok()) << feeds.status().message();
    for (const auto &[name, t] : *feeds) {
      std::ofstream f(path(filePrefix + name + ".bin"), std::ios::binary);
      f.write(static_cast<const char *>(t.raw()), std::streamsize(t.byteSize()));
    }
    return feeds.take();
  }

public:
  /// Batch `b` of every feed (the leading dimension dropped).
  static NamedTensors batch(const NamedTensors &feeds, int64_t b) {
    NamedTensors out;
    for (const auto &[name, t] : feeds) {
      Shape shape(t.shape().begin() + 1, t.shape().end());
      Tensor slice(t.dtype(), shape);
      size_t bytes = slice.byteSize();
      std::memcpy(slice.raw(), static_cast<const char *>(t.raw()) + bytes * size_t(b), bytes);
      out.emplace_back(name, std::move(slice));
    }
    return out;
  }

  static Graph load(const std::string &model) {
    auto g = importJsonFile(source("samples/" + model + ".json"));
    EXPECT_TRUE(g.ok()) << g.status().message();
    return g.take();
  }

  static std::unique_ptr<Executable> jit(const Graph &g) {
    auto exe = codegen::compile(g);
    EXPECT_TRUE(exe.ok()) << exe.status().message();
    return exe.take();
  }

  static std::vector<float> floats(const Tensor &t) {
    std::vector<float> v(size_t(t.numElements()));
    std::memcpy(v.data(), t.raw(), v.size() * 4);
    return v;
  }

  /// The named result of a run.
  static const Tensor &result(const NamedTensors &r, const std::string &name) {
    for (const auto &[n, t] : r)
      if (n == name)
        return t;
    ADD_FAILURE() << "no result " << name;
    static Tensor none;
    return none;
  }

protected:
  fs::path dir_;
  std::string out_, err_;
};

} // namespace kiln::aottest
