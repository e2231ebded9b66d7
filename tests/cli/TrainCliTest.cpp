// kilnc train from the command line: the JSON-lines log, named steps, saved params, errors.
#include "kiln/runtime/Safetensors.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

std::string kilnc() { return std::string(KILN_BINARY_DIR) + "/compiler/driver/kilnc"; }

/// Runs kilnc (time-limited) and returns its exit code, -1 on a signal; stderr into `err`.
int run(const std::string &args, std::string *err = nullptr) {
  std::string errFile = fs::temp_directory_path() / ("kiln-train-err-" + std::to_string(::getpid()));
  int status = std::system(("timeout 120 " + kilnc() + " " + args + " >/dev/null 2>" + errFile).c_str());
  if (err) {
    std::ifstream f(errFile);
    *err = std::string(std::istreambuf_iterator<char>(f), {});
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> lines(const std::string &path) {
  std::ifstream f(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(f, l);)
    out.push_back(l);
  return out;
}

class TrainCli : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln-train-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string &n) { return (dir_ / n).string(); }
  fs::path dir_;
};

TEST_F(TrainCli, LogsOneLinePerStepAndSavesEveryParam) {
  std::string b = path("b.safetensors"), log = path("log.jsonl"), p = path("p.safetensors");
  ASSERT_EQ(run("make-inputs samples/mlp_binary.json --batches 3 -o " + b), 0);
  std::string err;
  ASSERT_EQ(run("train samples/mlp_binary.json --backend=interp --inputs " + b +
                    " --steps 5 --log " + log + " --save-params " + p,
                &err),
            0)
      << err;
  auto l = lines(log);
  ASSERT_EQ(l.size(), 5u);
  for (size_t i = 0; i < l.size(); ++i) {
    EXPECT_EQ(l[i].rfind("{\"step\": " + std::to_string(i + 1) + ", \"name\": \"train\", \"loss\": ", 0),
              0u)
        << l[i];
    EXPECT_NE(l[i].find("\"acc\": "), std::string::npos) << l[i];
  }
  auto params = kiln::readSafetensors(p);
  ASSERT_TRUE(params.ok()) << params.message();
  std::vector<std::string> names;
  for (auto &[n, t] : *params)
    names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"d1_w", "d1_b", "d2_w", "d2_b"}));
}

TEST_F(TrainCli, RunsNamedStepsInTheGivenOrder) {
  std::string b = path("b.safetensors"), log = path("log.jsonl");
  ASSERT_EQ(run("make-inputs samples/gan.json --batches 2 -o " + b), 0);
  std::string err;
  ASSERT_EQ(run("train samples/gan.json --inputs " + b + " --steps 2 --step g_step --step d_step --log " +
                    log,
                &err),
            0)
      << err;
  auto l = lines(log);
  ASSERT_EQ(l.size(), 4u);
  EXPECT_NE(l[0].find("\"step\": 1, \"name\": \"g_step\""), std::string::npos) << l[0];
  EXPECT_NE(l[1].find("\"step\": 1, \"name\": \"d_step\""), std::string::npos) << l[1];
  EXPECT_NE(l[3].find("\"step\": 2, \"name\": \"d_step\""), std::string::npos) << l[3];
}

TEST_F(TrainCli, SameRunTwiceGivesTheSameParams) {
  std::string b = path("b.safetensors"), p1 = path("p1.safetensors"), p2 = path("p2.safetensors");
  ASSERT_EQ(run("make-inputs samples/logreg.json --batches 4 -o " + b), 0);
  ASSERT_EQ(run("train samples/logreg.json --inputs " + b + " --steps 6 --save-params " + p1), 0);
  ASSERT_EQ(run("train samples/logreg.json --inputs " + b + " --steps 6 --save-params " + p2), 0);
  std::ifstream f1(p1, std::ios::binary), f2(p2, std::ios::binary);
  std::stringstream s1, s2;
  s1 << f1.rdbuf();
  s2 << f2.rdbuf();
  EXPECT_EQ(s1.str(), s2.str());
  // Training moved the params away from their initial values.
  std::string p0 = path("p0.safetensors");
  ASSERT_EQ(run("train samples/logreg.json --inputs " + b + " --steps 0 --save-params " + p0), 0);
  std::ifstream f0(p0, std::ios::binary);
  std::stringstream s0;
  s0 << f0.rdbuf();
  EXPECT_NE(s0.str(), s1.str());
}

TEST_F(TrainCli, BadInvocationsFailCleanly) {
  std::string b = path("b.safetensors"), log = path("log.jsonl");
  ASSERT_EQ(run("make-inputs samples/linreg.json --batches 2 -o " + b), 0);
  EXPECT_EQ(run("train samples/linreg.json --inputs " + b + " --steps 2 --step nope"), 2);
  EXPECT_EQ(run("train samples/linreg.json --inputs " + b + " --steps -3"), 2);
  EXPECT_EQ(run("train samples/linreg.json --inputs " + b), 2);
  // Batches without the leading dimension: an input error, and no log is written.
  std::string unbatched = path("u.safetensors");
  ASSERT_EQ(run("make-inputs samples/linreg.json -o " + unbatched), 0);
  std::string err;
  EXPECT_EQ(run("train samples/linreg.json --inputs " + unbatched + " --steps 2 --log " + log, &err), 1);
  EXPECT_NE(err.find("must be [count] + f32[100,1]"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(log));
}

TEST_F(TrainCli, PrintTrainShowsTheStepProgram) {
  std::string out = path("train.kir");
  int status = std::system((kilnc() + " print --train --full-values samples/linreg.json > " + out).c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::ifstream f(out);
  std::string text(std::istreambuf_iterator<char>(f), {});
  EXPECT_NE(text.find("step @train"), std::string::npos);
  // The printed training graph loads back as a model.
  EXPECT_EQ(run("check " + out), 0);
}

} // namespace
