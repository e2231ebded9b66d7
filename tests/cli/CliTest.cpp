// End-to-end tests of the kilnc command line: exit statuses, messages, and files written.
#include "frontend/json/JsonImporter.h"
#include "kiln/runtime/Safetensors.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

struct Result {
  int exitCode = -1; ///< -1 if killed by a signal
  std::string out, err;
};

std::string kilnc() { return std::string(KILN_BINARY_DIR) + "/compiler/driver/kilnc"; }

std::string slurp(const fs::path &p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

/// Runs kilnc with a time limit (a hang is a failure), capturing stdout and stderr.
Result run(const std::string &args) {
  fs::path dir = fs::temp_directory_path() / ("kiln-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string cmd = "timeout 60 " + kilnc() + " " + args + " >" + (dir / "out").string() + " 2>" +
                    (dir / "err").string();
  int status = std::system(cmd.c_str());
  Result r;
  if (WIFEXITED(status))
    r.exitCode = WEXITSTATUS(status);
  r.out = slurp(dir / "out");
  r.err = slurp(dir / "err");
  fs::remove_all(dir);
  return r;
}

std::vector<fs::path> files(const std::string &dir, const std::string &ext) {
  std::vector<fs::path> out;
  for (auto &e : fs::directory_iterator(dir))
    if (e.path().extension() == ext)
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

class TempDir {
public:
  TempDir() : path_(fs::temp_directory_path() / ("kiln-cli-t-" + std::to_string(::getpid()))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string &name) const { return (path_ / name).string(); }

private:
  fs::path path_;
};

TEST(Cli, CheckAcceptsEverySample) {
  auto samples = files("samples", ".json");
  ASSERT_GE(samples.size(), 11u);
  for (auto &s : samples) {
    Result r = run("check " + s.string());
    EXPECT_EQ(r.exitCode, 0) << s << "\n" << r.err;
    EXPECT_EQ(r.out, "") << s;
    EXPECT_EQ(r.err, "") << s;
  }
}

TEST(Cli, CheckRejectsEveryBadFileWithItsMessage) {
  auto bad = files("tests/json/bad", ".json");
  ASSERT_GE(bad.size(), 40u);
  for (auto &b : bad) {
    fs::path expected = b;
    expected.replace_extension(".expected");
    ASSERT_TRUE(fs::exists(expected)) << expected;
    std::string want = slurp(expected);
    while (!want.empty() && want.back() == '\n')
      want.pop_back();
    Result r = run("check " + b.string());
    EXPECT_EQ(r.exitCode, 1) << b << " (a negative code means a crash or a hang)";
    EXPECT_EQ(r.err, want + "\n") << b;
    EXPECT_EQ(r.out, "") << b;
  }
}

TEST(Cli, RunsEverySampleOnTheInterpreter) {
  TempDir tmp;
  for (auto &s : files("samples", ".json")) {
    std::string in = tmp / (s.stem().string() + ".in.safetensors");
    std::string out = tmp / (s.stem().string() + ".out.safetensors");
    Result mk = run("make-inputs " + s.string() + " -o " + in + " --seed 7");
    ASSERT_EQ(mk.exitCode, 0) << s << "\n" << mk.err;
    Result r = run("run " + s.string() + " --backend=interp --inputs " + in + " --output " + out);
    ASSERT_EQ(r.exitCode, 0) << s << "\n" << r.err;
    auto graph = kiln::importJsonFile(s.string());
    ASSERT_TRUE(graph.ok()) << graph.message();
    auto outputs = kiln::readSafetensors(out);
    ASSERT_TRUE(outputs.ok()) << outputs.message();
    ASSERT_EQ(outputs->size(), graph->outputs().size()) << s;
    for (size_t i = 0; i < outputs->size(); ++i) {
      auto &[name, t] = (*outputs)[i];
      EXPECT_EQ(name, graph->outputs()[i].name()) << s;
      EXPECT_EQ(t.shape(), graph->outputs()[i].type().shape) << s << " " << name;
      for (double v : t.toDoubles())
        ASSERT_TRUE(std::isfinite(v)) << s << " " << name;
    }
  }
}

TEST(Cli, RunIsDeterministicAndHonoursParams) {
  TempDir tmp;
  std::string in = tmp / "in.safetensors", a = tmp / "a.safetensors", b = tmp / "b.safetensors";
  ASSERT_EQ(run("make-inputs samples/mlp_binary.json -o " + in).exitCode, 0);
  ASSERT_EQ(run("run samples/mlp_binary.json --inputs " + in + " --output " + a).exitCode, 0);
  ASSERT_EQ(run("run samples/mlp_binary.json --inputs " + in + " --output " + b).exitCode, 0);
  EXPECT_EQ(slurp(a), slurp(b));
  // All-zero params make every probability sigmoid(0) = 0.5.
  kiln::NamedTensors zeros;
  for (auto [name, shape] : std::vector<std::pair<std::string, kiln::Shape>>{
           {"d1_w", {10, 10}}, {"d1_b", {10}}, {"d2_w", {10, 1}}, {"d2_b", {1}}})
    zeros.emplace_back(name, kiln::Tensor(kiln::DType::F32, shape));
  std::string p = tmp / "p.safetensors";
  ASSERT_TRUE(kiln::writeSafetensors(p, zeros).isOk());
  ASSERT_EQ(run("run samples/mlp_binary.json --inputs " + in + " --output " + a + " --params " + p)
                .exitCode,
            0);
  auto outs = kiln::readSafetensors(a);
  ASSERT_TRUE(outs.ok());
  for (double v : (*outs)[0].second.toDoubles())
    EXPECT_DOUBLE_EQ(v, 0.5);
}

TEST(Cli, FailedRunWritesNothing) {
  TempDir tmp;
  std::string in = tmp / "in.safetensors", out = tmp / "out.safetensors";
  // Inputs of another model: the names do not match.
  ASSERT_EQ(run("make-inputs samples/linreg.json -o " + in).exitCode, 0);
  Result r = run("run samples/mlp_binary.json --inputs " + in + " --output " + out);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("error:"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  for (auto &e : fs::directory_iterator(fs::path(out).parent_path()))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run("").exitCode, 2);
  EXPECT_EQ(run("frobnicate").exitCode, 2);
  EXPECT_EQ(run("check").exitCode, 2);
  EXPECT_EQ(run("check a.json b.json").exitCode, 2);
  EXPECT_EQ(run("check samples/linreg.json --bogus").exitCode, 2);
  EXPECT_EQ(run("run samples/linreg.json --inputs x").exitCode, 2);
  EXPECT_EQ(run("run samples/linreg.json --inputs x --output y --backend=tpu").exitCode, 2);
  EXPECT_EQ(run("print samples/linreg.json --emit=bogus").exitCode, 2);
}

TEST(Cli, EveryCommandHasHelp) {
  for (std::string c : {"check", "print", "run", "dot", "make-inputs"}) {
    Result r = run(c + " --help");
    EXPECT_EQ(r.exitCode, 0) << c;
    EXPECT_NE(r.out.find("usage: kilnc " + c), std::string::npos) << c;
  }
  EXPECT_EQ(run("--help").exitCode, 0);
}

TEST(Cli, MissingFileIsAnInputError) {
  Result r = run("check no/such/model.json");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("no/such/model.json"), std::string::npos) << r.err;
}

TEST(Cli, PrintedTextLoadsBack) {
  TempDir tmp;
  for (auto &s : files("samples", ".json")) {
    Result p = run("print --full-values " + s.string());
    ASSERT_EQ(p.exitCode, 0) << s << p.err;
    std::string kir = tmp / (s.stem().string() + ".kir");
    std::ofstream(kir) << p.out;
    Result again = run("print --full-values " + kir);
    ASSERT_EQ(again.exitCode, 0) << kir << again.err;
    EXPECT_EQ(again.out, p.out) << s;
  }
}

TEST(Cli, DotRendersSvg) {
  TempDir tmp;
  std::string svg = tmp / "cnn.svg";
  Result r = run("dot samples/cnn_mnist.json --decompose -o " + svg);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(slurp(svg).find("<svg"), std::string::npos);
  Result d = run("dot samples/cnn_mnist.json");
  EXPECT_EQ(d.exitCode, 0);
  EXPECT_EQ(d.out.rfind("digraph", 0), 0u) << d.out.substr(0, 40);
}

} // namespace
