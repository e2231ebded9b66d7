// kilnc train from the command line: the JSON-lines log, named steps, saved params, errors.
#include "kiln/runtime/Safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
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
  fs::remove(errFile);
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

// A small model with dropout (random streams) and Adam (slots, step counter): everything a
// resumed run must restore to continue exactly.
const char *kDropoutAdam = R"({
  "format": "kiln-graph", "version": 1, "name": "drop_adam", "seed": 7,
  "inputs": [{"name": "x", "dtype": "f32", "shape": [16, 10]},
             {"name": "y", "dtype": "f32", "shape": [16, 1]}],
  "params": [{"name": "d1_w", "shape": [10, 12], "init": "glorot_uniform"},
             {"name": "d1_b", "shape": [12], "init": "zeros"},
             {"name": "d2_w", "shape": [12, 1], "init": "glorot_uniform"},
             {"name": "d2_b", "shape": [1], "init": "zeros"}],
  "nodes": [
    {"name": "h", "op": "dense", "inputs": ["x", "d1_w", "d1_b"], "attrs": {"activation": "relu"}},
    {"name": "hd", "op": "dropout", "inputs": ["h"], "attrs": {"rate": 0.3, "seed": 3}},
    {"name": "prob", "op": "dense", "inputs": ["hd", "d2_w", "d2_b"], "attrs": {"activation": "sigmoid"}},
    {"name": "loss", "op": "binary_cross_entropy", "inputs": ["prob", "y"]}],
  "outputs": ["prob", "loss"],
  "train": {"loss": "loss", "optimizer": {"kind": "adam", "lr": 0.01}}
})";

std::string slurp(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

class TrainResume : public TrainCli, public ::testing::WithParamInterface<const char *> {};

TEST_P(TrainResume, TenStepsEqualFourSavedAndSixResumedBitForBit) {
  std::string backend = std::string(" --backend=") + GetParam();
  std::string model = path("drop_adam.json"), b = path("b.safetensors");
  std::ofstream(model) << kDropoutAdam;
  ASSERT_EQ(run("make-inputs " + model + " --batches 3 --seed 5 -o " + b), 0);
  std::string err, common = model + backend + " --inputs " + b;
  ASSERT_EQ(run("train " + common + " --steps 10 --log " + path("full.jsonl") +
                    " --save-checkpoint " + path("full.ckpt") + " --save-params " + path("full.p"),
                &err),
            0)
      << err;
  ASSERT_EQ(run("train " + common + " --steps 4 --log " + path("a.jsonl") +
                    " --save-checkpoint " + path("half.ckpt"),
                &err),
            0)
      << err;
  ASSERT_EQ(run("train " + common + " --steps 10 --resume " + path("half.ckpt") + " --log " +
                    path("b.jsonl") + " --save-checkpoint " + path("resumed.ckpt") +
                    " --save-params " + path("resumed.p"),
                &err),
            0)
      << err;
  // The logs print every loss to 9 significant digits; the files hold every bit.
  auto full = lines(path("full.jsonl")), a = lines(path("a.jsonl")), rest = lines(path("b.jsonl"));
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(rest.size(), 6u);
  a.insert(a.end(), rest.begin(), rest.end());
  EXPECT_EQ(a, full);
  std::string params = slurp(path("full.p"));
  ASSERT_FALSE(params.empty());
  EXPECT_EQ(slurp(path("resumed.p")), params);
  EXPECT_EQ(slurp(path("resumed.ckpt")), slurp(path("full.ckpt")));
  // The losses move (dropout masks differ per step): equal logs are not a constant.
  EXPECT_NE(full[0].substr(full[0].find("loss")), full[1].substr(full[1].find("loss")));
}

INSTANTIATE_TEST_SUITE_P(Backends, TrainResume, ::testing::Values("interp", "llvm"));

TEST_F(TrainCli, ResumeRefusesAnotherModelsCheckpoint) {
  std::string model = path("drop_adam.json"), b = path("b.safetensors"), mb = path("mb.safetensors");
  std::ofstream(model) << kDropoutAdam;
  ASSERT_EQ(run("make-inputs samples/mlp_binary.json --batches 2 -o " + mb), 0);
  ASSERT_EQ(run("train samples/mlp_binary.json --inputs " + mb + " --steps 2 --save-checkpoint " +
                path("mlp.ckpt")),
            0);
  ASSERT_EQ(run("make-inputs " + model + " --batches 2 -o " + b), 0);
  std::string err;
  EXPECT_EQ(run("train " + model + " --inputs " + b + " --steps 4 --resume " + path("mlp.ckpt"), &err), 1);
  EXPECT_NE(err.find(path("mlp.ckpt") + ": error: "), std::string::npos) << err;
  EXPECT_NE(err.find("mlp_binary"), std::string::npos) << err;
  // A checkpoint beyond the requested steps is refused too.
  ASSERT_EQ(run("train samples/mlp_binary.json --inputs " + mb + " --steps 1 --resume " + path("mlp.ckpt"), &err), 1);
  EXPECT_NE(err.find("step 2"), std::string::npos) << err;
  // --checkpoint-every without a file is a usage error.
  EXPECT_EQ(run("train samples/mlp_binary.json --inputs " + mb + " --steps 2 --checkpoint-every 1"), 2);
}

TEST_F(TrainCli, CheckNumericsStopsAtTheFirstNaNOnEveryBackend) {
  std::string model = path("nan.json"), in = path("in.safetensors"), out = path("out.safetensors");
  std::ofstream(model) << R"({
  "format": "kiln-graph", "version": 1, "name": "nan_demo",
  "inputs": [{"name": "x", "dtype": "f32", "shape": [4, 8]}],
  "constants": [{"name": "half", "dtype": "f32", "shape": [], "value": 0.5}],
  "nodes": [{"name": "shifted", "op": "sub", "inputs": ["x", "half"]},
            {"name": "lg", "op": "log", "inputs": ["shifted"]},
            {"name": "out", "op": "mul", "inputs": ["lg", "lg"]}],
  "outputs": ["out"]
})";
  ASSERT_EQ(run("make-inputs " + model + " -o " + in), 0);
  for (std::string backend : {"interp", "llvm"}) {
    std::string args = "run " + model + " --inputs " + in + " --output " + out + " --backend=" + backend;
    EXPECT_EQ(run(args), 0) << backend; // off by default: NaNs flow into the output
    fs::remove(out);
    std::string err;
    EXPECT_EQ(run(args + " --check-numerics", &err), 1) << backend;
    EXPECT_NE(err.find(model + ":6:13: error: log 'lg' produced NaN at element"), std::string::npos)
        << backend << ": " << err;
    EXPECT_FALSE(fs::exists(out)) << backend;
  }
}

TEST_F(TrainCli, AFailedRunLeavesNoFileBehind) {
  // Log of x - 0.5 on x in [0, 1): NaN in the first step, which --check-numerics stops.
  std::string model = path("nan_train.json"), b = path("b.safetensors");
  std::ofstream(model) << R"({
  "format": "kiln-graph", "version": 1, "name": "nan_train",
  "inputs": [{"name": "x", "dtype": "f32", "shape": [4, 3]}, {"name": "t", "dtype": "f32", "shape": [4, 3]}],
  "params": [{"name": "w", "shape": [3], "init": "ones"}],
  "constants": [{"name": "half", "dtype": "f32", "shape": [], "value": 0.5}],
  "nodes": [{"name": "shifted", "op": "sub", "inputs": ["x", "half"]},
            {"name": "lg", "op": "log", "inputs": ["shifted"]},
            {"name": "y", "op": "mul", "inputs": ["lg", "w"]},
            {"name": "loss", "op": "mse", "inputs": ["y", "t"]}],
  "outputs": ["loss"],
  "train": {"loss": "loss", "optimizer": {"kind": "sgd", "lr": 0.1}}
})";
  ASSERT_EQ(run("make-inputs " + model + " --batches 2 -o " + b), 0);
  for (std::string backend : {"interp", "llvm"}) {
    std::string err;
    EXPECT_EQ(run("train " + model + " --backend=" + backend + " --check-numerics --inputs " + b +
                      " --steps 5 --log " + path("log.jsonl") + " --save-params " + path("p.st") +
                      " --save-checkpoint " + path("c.st"),
                  &err),
              1)
        << backend;
    EXPECT_NE(err.find("'lg' produced NaN"), std::string::npos) << backend << ": " << err;
    std::vector<std::string> left;
    for (auto &e : fs::directory_iterator(dir_))
      left.push_back(e.path().filename().string());
    std::sort(left.begin(), left.end());
    EXPECT_EQ(left, (std::vector<std::string>{"b.safetensors", "nan_train.json"})) << backend;
  }
}

} // namespace
