// Ahead-of-time objects end to end: install into a temporary prefix, compile with the installed
// kilnc, link plain C and C++ programs against the installed runtime alone, and compare what
// they compute with the JIT on the same feeds.
#include "AotFixture.h"

#include <cmath>
#include <set>

namespace kiln::aottest {
namespace {

constexpr int kSteps = 5;

/// The JIT's losses, accuracies and final predict logits for kSteps train steps of mnist_mlp on
/// `feeds` (batch i at step i), then predict on batch 0.
struct Reference {
  std::vector<float> loss, acc, logits;
};

Reference jitTraining(const Graph &g, const NamedTensors &feeds) {
  Reference ref;
  auto exe = AotTest::jit(g);
  if (!exe)
    return ref;
  for (int s = 0; s < kSteps; ++s) {
    auto r = exe->trainStep("train", AotTest::batch(feeds, s));
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok())
      return ref;
    ref.loss.push_back(AotTest::floats(AotTest::result(*r, "loss"))[0]);
    ref.acc.push_back(AotTest::floats(AotTest::result(*r, "acc"))[0]);
  }
  auto p = exe->run(AotTest::batch(feeds, 0));
  EXPECT_TRUE(p.ok()) << p.status().message();
  if (p.ok())
    ref.logits = AotTest::floats(AotTest::result(*p, "logits"));
  return ref;
}

// The tolerance is zero: the object holds the code the JIT runs (the same modules through the
// same optimisation pipeline for the same CPU), and the runtime runs it on the same buffers with
// the same run counter, so every bit must agree. Any difference is a real divergence.
TEST_F(AotTest, CProgramTrainsBitForBitLikeTheJit) {
  install();
  compileModel("mnist_mlp", "mnist_mlp", "--train");
  link("cc", "train_mlp.c", path("mnist_mlp.o"), "train_mlp");
  Graph g = load("mnist_mlp");
  NamedTensors feeds = writeFeeds(g, kSteps, "");
  ASSERT_EQ(sh(path("train_mlp") + " " + dir_.string() + " " + std::to_string(kSteps) + " train"),
            0)
      << err_;
  EXPECT_NE(out_.find("x 64 28 28 size 50176"), std::string::npos) << out_;
  Reference ref = jitTraining(g, feeds);
  ASSERT_EQ(ref.loss.size(), size_t(kSteps));
  for (int s = 0; s < kSteps; ++s) {
    std::vector<float> got = floatsAfter(out_, "step " + std::to_string(s));
    ASSERT_EQ(got.size(), 4u) << out_; // "loss", value, "acc", value (words parse as 0)
    EXPECT_EQ(bits(got[1]), bits(ref.loss[s])) << "step " << s << ": " << got[1] << " vs "
                                               << ref.loss[s];
    EXPECT_EQ(bits(got[3]), bits(ref.acc[s])) << "step " << s;
  }
  // Training moved the loss: the comparison is not between two untouched initial states.
  EXPECT_NE(ref.loss.front(), ref.loss.back());
  std::vector<float> logits = floatsAfter(out_, "logits");
  ASSERT_EQ(logits.size(), ref.logits.size());
  size_t differing = 0;
  for (size_t i = 0; i < logits.size(); ++i)
    differing += bits(logits[i]) != bits(ref.logits[i]);
  EXPECT_EQ(differing, 0u) << "of " << logits.size() << " logits";
}

// An object for the baseline x86-64 CPU (SSE2, no FMA: runs on any x86-64 host) computes what
// the JIT's host code computes up to rounding: without FMA contraction and with 128-bit vectors
// the sums are rounded in another order. Relative 1e-4 on the loss is far above that rounding
// (float32 epsilon 6e-8 over 784-term sums and 5 steps) and far below a real error (one wrong
// update moves the loss by percents).
TEST_F(AotTest, PortableCpuMatchesTheJitWithinRounding) {
  install();
  compileModel("mnist_mlp", "mnist_mlp", "--train --target-cpu x86-64");
  EXPECT_NE(slurp(path("mnist_mlp.h")).find("code for CPU 'x86-64'"), std::string::npos);
  link("cc", "train_mlp.c", path("mnist_mlp.o"), "train_mlp");
  Graph g = load("mnist_mlp");
  NamedTensors feeds = writeFeeds(g, kSteps, "");
  ASSERT_EQ(sh(path("train_mlp") + " " + dir_.string() + " " + std::to_string(kSteps) + " train"),
            0)
      << err_;
  Reference ref = jitTraining(g, feeds);
  ASSERT_EQ(ref.loss.size(), size_t(kSteps));
  for (int s = 0; s < kSteps; ++s) {
    std::vector<float> got = floatsAfter(out_, "step " + std::to_string(s));
    ASSERT_EQ(got.size(), 4u) << out_;
    EXPECT_NEAR(got[1], ref.loss[s], 1e-4 * std::abs(ref.loss[s])) << "step " << s;
  }
}

// What a deployed binary needs: the object references only the runtime's kernel ABI, libm and
// libc, exports one symbol, and neither it nor the installed runtime library touches LLVM.
TEST_F(AotTest, ObjectAndRuntimeNeedNoLlvm) {
  install();
  compileModel("mnist_mlp", "mnist_mlp", "--train");
  ASSERT_EQ(sh("nm -u " + path("mnist_mlp.o")), 0) << err_;
  // The kernel ABI (every function the runtime defines for generated code), libc and libm.
  std::set<std::string> allowed = {
#define KILN_ABI_FN(name, ret, params) #name,
#include "kiln/runtime/KernelABI.def"
                                   "memcpy", "memset", "memmove", "exp", "expf", "log", "logf",
                                   "pow", "powf", "tanh", "tanhf", "erf", "erff", "log1p",
                                   "log1pf", "expm1", "expm1f"};
  std::istringstream undefined(out_);
  int count = 0;
  for (std::string kind, name; undefined >> kind >> name; ++count) {
    EXPECT_EQ(kind, "U");
    EXPECT_TRUE(allowed.count(name)) << "unexpected undefined symbol " << name;
  }
  EXPECT_GT(count, 0);
  ASSERT_EQ(sh("nm -g --defined-only " + path("mnist_mlp.o")), 0) << err_;
  EXPECT_NE(out_.find(" D mnist_mlp_program\n"), std::string::npos) << out_;
  EXPECT_EQ(std::count(out_.begin(), out_.end(), '\n'), 1) << "only the descriptor is global:\n"
                                                           << out_;
  std::string lib = prefix() + "/lib/libkiln_runtime.so";
  ASSERT_EQ(sh("readelf -d " + lib), 0) << err_;
  EXPECT_EQ(out_.find("LLVM"), std::string::npos) << out_;
  EXPECT_NE(out_.find("libgomp"), std::string::npos) << "the runtime's OpenMP dependency";
  ASSERT_EQ(sh("nm -D " + lib), 0) << err_;
  EXPECT_EQ(out_.find("llvm"), std::string::npos);
  EXPECT_EQ(out_.find("LLVM"), std::string::npos);
  EXPECT_NE(out_.find("T kiln_model_run\n"), std::string::npos);
}

// Three objects in one C++ binary: mnist_mlp, the same graph again as mlp_copy (identical kernel
// code, so any global kernel symbol would clash at link time), and mlp_binary. Each predicts
// like its JIT, and the models share no state.
TEST_F(AotTest, CxxProgramLinksTwoModelsWithoutClashes) {
  install();
  compileModel("mnist_mlp", "mnist_mlp", "--train");
  compileModel("mnist_mlp", "mlp_copy", "--name mlp_copy");
  compileModel("mlp_binary", "mlp_binary", "");
  link("c++", "two_models.cpp",
       path("mnist_mlp.o") + " " + path("mlp_copy.o") + " " + path("mlp_binary.o"), "two_models");
  Graph mnist = load("mnist_mlp"), binary = load("mlp_binary");
  NamedTensors mnistFeeds = writeFeeds(mnist, 1, "");
  NamedTensors binaryFeeds = writeFeeds(binary, 1, "bin_");
  ASSERT_EQ(sh(path("two_models") + " " + dir_.string()), 0) << err_;

  auto mnistJit = jit(mnist);
  auto binaryJit = jit(binary);
  ASSERT_TRUE(mnistJit && binaryJit);
  auto logits = mnistJit->run(batch(mnistFeeds, 0));
  auto prob = binaryJit->run(batch(binaryFeeds, 0));
  ASSERT_TRUE(logits.ok() && prob.ok());
  auto same = [&](const std::string &key, const std::vector<float> &want) {
    std::vector<float> got = floatsAfter(out_, key);
    ASSERT_EQ(got.size(), want.size()) << key;
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_EQ(bits(got[i]), bits(want[i])) << key << "[" << i << "]";
  };
  same("mnist_mlp", floats(result(*logits, "logits")));
  same("mlp_copy", floats(result(*logits, "logits")));
  same("mlp_binary", floats(result(*prob, "prob")));
  std::vector<float> params = floatsAfter(out_, "after-train-copy-param");
  ASSERT_EQ(params.size(), 2u) << out_;
  float initial = floats(result(mnistJit->params(), "d1_w"))[7];
  EXPECT_NE(params[0], initial) << "the trained model's param moved";
  EXPECT_EQ(bits(params[1]), bits(initial)) << "the other model's param did not";
}

// Misuse of the C API returns codes and messages; nothing crashes.
TEST_F(AotTest, CApiErrorsAreReturnedNotFatal) {
  install();
  compileModel("mnist_mlp", "mnist_mlp", "--train");
  link("cc", "errors.c", path("mnist_mlp.o"), "errors");
  ASSERT_EQ(sh(path("errors")), 0) << err_ << out_;
  for (const char *line :
       {"null-program 1 kiln_model_create: the program descriptor is NULL\n",
        "bad-version 1 kiln_model_create: program 'mnist_mlp' has descriptor version 2, this "
        "runtime reads version 1",
        "unknown-buffer 1 -1 -1 program 'mnist_mlp' has no tensor named 'nope'\n",
        "unknown-entry 1 program 'mnist_mlp' has no entry 'fly' (it has predict, train)\n",
        "null-entry 1\n", "dtypes 0 2 0\n", "sizes 100352 640 1\n", "predict-after-errors 0 []\n",
        "runs 1\n"})
    EXPECT_NE(out_.find(line), std::string::npos) << "missing: " << line << "\nin:\n" << out_;
}

} // namespace
} // namespace kiln::aottest
