// Every samples/*.json under the `dnnl` and `auto` backends against the `llvm` backend: one
// inference run, then 20 rounds of every train step (losses and metrics each round, the whole
// state after the last), on the random feeds `kilnc make-inputs` would write.
//
// Tolerance, err = |x - y| / max(1, |x|, |y|):
//  - outputs, losses and metrics: 1e-4, as in tests/codegen/BackendSampleDiffTest.cpp: oneDNN
//    blocks its sums differently from the generated GEMM and im2col (each op agrees to ~1e-6,
//    tests/dnnl/DnnlOpTest.cpp), and whole models sum over thousands of terms.
//  - Like that test, the first kFreeRounds rounds run free (each backend updating its own state,
//    which checks that oneDNN nodes read and write the state the step updates); from then on the
//    dnnl/auto executable is given the llvm one's state before each step, so each step is compared
//    from the same params. Left free for 20 steps, Adam's normalisation of near-zero gradients
//    lets f32 rounding differences grow to ~1e-3 in the losses (cnn_mnist: 3e-4 by step 20),
//    which says nothing about either backend.
//  - The state after the last round: 1e-3 (Adam divides by sqrt(v); see the codegen test).
#include "compiler/autodiff/TrainGraph.h"
#include "compiler/codegen/Compile.h"
#include "compiler/interp/RandomFeeds.h"
#include "frontend/json/JsonImporter.h"
#include "tests/common/TensorCompare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace kiln {
namespace {

constexpr double kTolerance = 1e-4;
constexpr double kStateTolerance = 1e-3;
constexpr int kSteps = 20;
constexpr int kFreeRounds = 3;

using kiln::test::worstError;

struct SampleCase {
  std::string sample;
  std::string backend; ///< "dnnl" or "auto"
};

std::vector<SampleCase> cases() {
  std::vector<std::string> names;
  for (auto &e : std::filesystem::directory_iterator(std::string(KILN_SOURCE_DIR) + "/samples"))
    if (e.path().extension() == ".json")
      names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  std::vector<SampleCase> v;
  for (const std::string &n : names)
    for (const char *b : {"dnnl", "auto"})
      v.push_back({n, b});
  return v;
}

class DnnlSample : public ::testing::TestWithParam<SampleCase> {};

TEST_P(DnnlSample, TrainsLikeTheLlvmBackend) {
  const SampleCase &c = GetParam();
  auto g = importJsonFile(std::string(KILN_SOURCE_DIR) + "/samples/" + c.sample + ".json");
  ASSERT_TRUE(g.ok()) << g.message();
  codegen::CompileOptions llvmOpts;
  llvmOpts.pipeline = codegen::kLlvmPipeline;
  codegen::CompileOptions opts;
  opts.pipeline = c.backend == "dnnl" ? codegen::kDnnlPipeline : codegen::kAutoPipeline;
  codegen::CompileDumps dumps;
  opts.dumps = &dumps;
  opts.dumpOptimizedGraph = true;
  auto reference = codegen::compile(*g, llvmOpts);
  ASSERT_TRUE(reference.ok()) << reference.message();
  auto exe = codegen::compile(*g, opts);
  ASSERT_TRUE(exe.ok()) << exe.message();
  // The dnnl backend must actually use oneDNN: every sample has a matmul or a conv.
  if (c.backend == "dnnl") {
    EXPECT_NE(dumps.optimizedGraph.find("kind=\"dnnl\""), std::string::npos);
  }

  NamedTensors feeds = randomFeeds(*g, 11).take();
  auto want = (*reference)->run(feeds);
  ASSERT_TRUE(want.ok()) << want.message();
  auto got = (*exe)->run(feeds);
  ASSERT_TRUE(got.ok()) << got.message();
  ASSERT_EQ(got->size(), want->size());
  for (size_t i = 0; i < want->size(); ++i)
    EXPECT_LE(worstError((*got)[i].second, (*want)[i].second), kTolerance)
        << "predict output " << (*want)[i].first;

  std::vector<std::string> steps;
  for (const std::string &e : (*reference)->entryNames())
    if (e != "predict")
      steps.push_back(e);
  for (int round = 0; round < kSteps; ++round)
    for (const std::string &step : steps) {
      if (round >= kFreeRounds) {
        ASSERT_TRUE((*exe)->setParams((*reference)->params()));
      }
      NamedTensors stepFeeds = randomFeeds(*g, 100 + uint64_t(round)).take();
      auto w = (*reference)->trainStep(step, stepFeeds);
      ASSERT_TRUE(w.ok()) << w.message();
      auto r = (*exe)->trainStep(step, stepFeeds);
      ASSERT_TRUE(r.ok()) << r.message();
      ASSERT_EQ(r->size(), w->size());
      for (size_t i = 0; i < w->size(); ++i)
        ASSERT_LE(worstError((*r)[i].second, (*w)[i].second), kTolerance)
            << step << " round " << round + 1 << ": " << (*w)[i].first << " " << c.backend
            << " " << (*r)[i].second.at(0) << ", llvm " << (*w)[i].second.at(0);
    }
  NamedTensors state = (*exe)->params();
  for (const auto &[name, value] : (*reference)->params()) {
    auto it = std::find_if(state.begin(), state.end(), [&](auto &e) { return e.first == name; });
    ASSERT_NE(it, state.end()) << name;
    EXPECT_LE(worstError(it->second, value), kStateTolerance) << "state '" << name << "'";
  }
}

INSTANTIATE_TEST_SUITE_P(Samples, DnnlSample, ::testing::ValuesIn(cases()),
                         [](const auto &info) {
                           return info.param.sample + "_" + info.param.backend;
                         });

} // namespace
} // namespace kiln
