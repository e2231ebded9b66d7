// kilnc with --backend=llvm: run and train match the interpreter's files, and print --emit shows
// the optimised graph, the kernels, the LLVM IR and the host assembly; --backend=dnnl and auto
// run like llvm and print shows their choice.
#include "kiln/runtime/Safetensors.h"
#include "tests/common/TensorCompare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

std::string kilnc() { return std::string(KILN_BINARY_DIR) + "/compiler/driver/kilnc"; }

std::string slurp(const fs::path &p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

class LlvmCli : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln-llvm-cli-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string &n) const { return (dir_ / n).string(); }

  /// Runs kilnc (time-limited); stdout into out_, stderr into err_; returns the exit code.
  int run(const std::string &args) {
    int status = std::system(("timeout 120 " + kilnc() + " " + args + " >" + path("out") + " 2>" +
                              path("err"))
                                 .c_str());
    out_ = slurp(path("out"));
    err_ = slurp(path("err"));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  fs::path dir_;
  std::string out_, err_;
};

using kiln::test::worstError;

/// The "loss" of every line of a kilnc train log.
std::vector<double> losses(const std::string &log) {
  std::ifstream f(log);
  std::vector<double> out;
  for (std::string line; std::getline(f, line);) {
    size_t at = line.find("\"loss\": ");
    if (at != std::string::npos)
      out.push_back(std::stod(line.substr(at + 8)));
  }
  return out;
}

TEST_F(LlvmCli, RunMatchesTheInterpreter) {
  ASSERT_EQ(run("make-inputs samples/mlp_binary.json -o " + path("in.safetensors")), 0) << err_;
  ASSERT_EQ(run("run samples/mlp_binary.json --backend=interp --inputs " + path("in.safetensors") +
                " --output " + path("interp.safetensors")),
            0)
      << err_;
  ASSERT_EQ(run("run samples/mlp_binary.json --backend=llvm --threads 2 --inputs " +
                path("in.safetensors") + " --output " + path("llvm.safetensors")),
            0)
      << err_;
  auto a = kiln::readSafetensors(path("interp.safetensors"));
  auto b = kiln::readSafetensors(path("llvm.safetensors"));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_FALSE(a->empty());
  EXPECT_LE(worstError(*a, *b), 1e-4);
}

TEST_F(LlvmCli, TrainMatchesTheInterpreter) {
  std::string batches = path("b.safetensors");
  ASSERT_EQ(run("make-inputs samples/mlp_binary.json --batches 3 -o " + batches), 0) << err_;
  for (std::string backend : {"interp", "llvm"})
    ASSERT_EQ(run("train samples/mlp_binary.json --backend=" + backend + " --inputs " + batches +
                  " --steps 6 --log " + path(backend + ".jsonl") + " --save-params " +
                  path(backend + ".safetensors")),
              0)
        << backend << ": " << err_;
  std::vector<double> interpLosses = losses(path("interp.jsonl"));
  std::vector<double> llvmLosses = losses(path("llvm.jsonl"));
  ASSERT_EQ(llvmLosses.size(), 6u);
  ASSERT_EQ(interpLosses.size(), 6u);
  for (size_t i = 0; i < 6; ++i)
    EXPECT_NEAR(llvmLosses[i], interpLosses[i], 1e-4 * std::max(1.0, std::fabs(interpLosses[i])))
        << "step " << i + 1;
  auto a = kiln::readSafetensors(path("interp.safetensors"));
  auto b = kiln::readSafetensors(path("llvm.safetensors"));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_FALSE(a->empty());
  EXPECT_LE(worstError(*a, *b), 1e-4);
}

TEST_F(LlvmCli, PrintEmitsEachStage) {
  ASSERT_EQ(run("print samples/mlp_binary.json --emit=opt --no-locations"), 0) << err_;
  EXPECT_NE(out_.find("graph @"), std::string::npos) << out_;
  EXPECT_NE(out_.find("arena"), std::string::npos) << "the plan shows in the optimised graph";
  ASSERT_EQ(run("print samples/mlp_binary.json --emit=kernels"), 0) << err_;
  EXPECT_NE(out_.find("entry predict:"), std::string::npos) << out_;
  ASSERT_EQ(run("print samples/mlp_binary.json --emit=llvm"), 0) << err_;
  EXPECT_NE(out_.find("define void @kiln_entry_predict("), std::string::npos) << out_;
  ASSERT_EQ(run("print samples/mlp_binary.json --emit=asm"), 0) << err_;
  EXPECT_NE(out_.find("kiln_entry_predict:"), std::string::npos) << out_;
  ASSERT_EQ(run("print samples/mlp_binary.json --emit=kernels --train"), 0) << err_;
  EXPECT_NE(out_.find("entry train:"), std::string::npos) << out_;
}

TEST_F(LlvmCli, IdenticalKernelsAreEmittedOnce) {
  // The unrolled LSTM repeats one step's kernels per time step: each distinct kernel (same op,
  // attributes, types and fused body) is emitted once and shared.
  ASSERT_EQ(run("print samples/lstm.json --emit=kernels"), 0) << err_;
  size_t shared = 0, own = 0;
  for (size_t at = 0; (at = out_.find('\n', at)) != std::string::npos; ++at)
    ++own;
  for (size_t at = 0; (at = out_.find("(shared)", at)) != std::string::npos; ++at)
    ++shared;
  EXPECT_GT(shared, own / 2) << out_;
}

TEST_F(LlvmCli, DnnlAndAutoRunLikeLlvmAndPrintShowsTheChoice) {
  // --backend=dnnl and auto (docs/dnnl.md) give llvm's outputs; print --emit=opt shows which
  // nodes go to oneDNN (fused nodes of kind "dnnl"): every matmul under dnnl, the conv and pool
  // but no matmul under auto, none under llvm.
  ASSERT_EQ(run("make-inputs samples/cnn_mnist.json -o " + path("in.safetensors")), 0) << err_;
  for (const char *b : {"llvm", "dnnl", "auto"})
    ASSERT_EQ(run(std::string("run samples/cnn_mnist.json --backend=") + b + " --inputs " +
                  path("in.safetensors") + " --output " + path(std::string(b) + ".safetensors")),
              0)
        << b << ": " << err_;
  auto llvm = kiln::readSafetensors(path("llvm.safetensors"));
  auto dnnl = kiln::readSafetensors(path("dnnl.safetensors"));
  auto autoOut = kiln::readSafetensors(path("auto.safetensors"));
  ASSERT_TRUE(llvm.ok() && dnnl.ok() && autoOut.ok());
  EXPECT_LE(worstError(*llvm, *dnnl), 1e-4);
  EXPECT_LE(worstError(*llvm, *autoOut), 1e-4);
  ASSERT_EQ(run("print samples/cnn_mnist.json --emit=opt --backend=dnnl --no-locations"), 0) << err_;
  EXPECT_NE(out_.find("kind=\"dnnl\""), std::string::npos) << out_;
  EXPECT_EQ(out_.find("kind=\"matmul\""), std::string::npos) << "matmuls went to oneDNN";
  ASSERT_EQ(run("print samples/cnn_mnist.json --emit=opt --no-locations"), 0) << err_;
  EXPECT_NE(out_.find("kind=\"dnnl\""), std::string::npos) << out_;
  EXPECT_NE(out_.find("kind=\"matmul\""), std::string::npos) << "auto keeps the generated GEMM";
  ASSERT_EQ(run("print samples/cnn_mnist.json --emit=opt --backend=llvm --no-locations"), 0);
  EXPECT_EQ(out_.find("kind=\"dnnl\""), std::string::npos) << out_;
  EXPECT_EQ(run("print samples/cnn_mnist.json --emit=opt --backend=interp"), 2);
}

} // namespace
