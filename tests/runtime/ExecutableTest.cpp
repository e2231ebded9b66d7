// Executable without a compiler: hand-written entry functions check the runtime side (feeds
// checked and copied into the arena, results copied out, params in the state, the run counter).
#include "kiln/runtime/Executable.h"

#include <gtest/gtest.h>

#include <cstring>

namespace kiln {
namespace {

// Layout: arena [0,64) input x f32[4], [64,128) output y f32[4]; state [0,64) param w f32[4],
// [64,72) counter t i64[]. predict: y = x * w. train: w += x, t += 1, loss = y[0].
void predict(char *arena, char *state, const char *, int64_t) {
  auto *x = reinterpret_cast<const float *>(arena);
  auto *y = reinterpret_cast<float *>(arena + 64);
  auto *w = reinterpret_cast<const float *>(state);
  for (int i = 0; i < 4; ++i)
    y[i] = x[i] * w[i];
}

void train(char *arena, char *state, const char *constants, int64_t run) {
  predict(arena, state, constants, run);
  auto *x = reinterpret_cast<const float *>(arena);
  auto *w = reinterpret_cast<float *>(state);
  for (int i = 0; i < 4; ++i)
    w[i] += x[i];
  *reinterpret_cast<int64_t *>(state + 64) = run;
}

std::unique_ptr<Executable> makeExecutable() {
  ExecutableSpec spec;
  spec.graphName = "toy";
  spec.arenaBytes = 128;
  spec.inputs = {BufferSlot{"x", DType::F32, {4}, BufferRegion::Arena, 0}};
  spec.params = {BufferSlot{"w", DType::F32, {4}, BufferRegion::State, 0},
                 BufferSlot{"t", DType::I64, {}, BufferRegion::State, 64}};
  spec.initialState.assign(128, 0);
  float w0[4] = {1, 2, 3, 4};
  std::memcpy(spec.initialState.data(), w0, sizeof w0);
  spec.entries = {EntryPoint{"predict", predict, {"x"}, {{"y", DType::F32, {4}, BufferRegion::Arena, 64}}},
                  EntryPoint{"train", train, {"x"}, {{"y", DType::F32, {1}, BufferRegion::Arena, 64}}}};
  auto exe = Executable::create(std::move(spec));
  EXPECT_TRUE(exe.ok()) << exe.message();
  return exe.take();
}

NamedTensors feedX(std::vector<float> x) { return {{"x", Tensor::fromF32({4}, x)}}; }

TEST(Executable, RunCopiesFeedsInAndResultsOut) {
  auto exe = makeExecutable();
  auto r = exe->run(feedX({1, 1, 2, 0.5f}));
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].first, "y");
  EXPECT_EQ((*r)[0].second.toDoubles(), (std::vector<double>{1, 2, 6, 2}));
  EXPECT_EQ(exe->runCount(), 1u);
}

TEST(Executable, TrainStepUpdatesStateAndPassesTheRunCounter) {
  auto exe = makeExecutable();
  ASSERT_TRUE(exe->run(feedX({0, 0, 0, 0})).ok());
  auto r = exe->trainStep("train", feedX({1, 1, 1, 1}));
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ((*r)[0].second.at(0), 1);
  NamedTensors p = exe->params();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].second.toDoubles(), (std::vector<double>{2, 3, 4, 5}));
  EXPECT_EQ(p[1].second.at(0), 1) << "the step ran as run 1";
  EXPECT_EQ(exe->runCount(), 2u);
}

TEST(Executable, FeedErrorsNameTheInputAndChangeNothing) {
  auto exe = makeExecutable();
  auto wrong = exe->run({{"x", Tensor::fromF32({2}, std::vector<float>{1, 2})}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.message().find("input 'x' expects f32[4], fed f32[2]"), std::string::npos)
      << wrong.message();
  auto unknown = exe->run({{"q", Tensor::fromF32({4}, std::vector<float>{1, 2, 3, 4})}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("'q' is not an input"), std::string::npos);
  auto missing = exe->trainStep("train", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("input 'x'"), std::string::npos);
  auto step = exe->trainStep("nope", feedX({1, 1, 1, 1}));
  ASSERT_FALSE(step.ok());
  EXPECT_NE(step.message().find("no train step 'nope' (it has train)"), std::string::npos)
      << step.message();
  EXPECT_EQ(exe->runCount(), 0u);
  EXPECT_EQ(exe->params()[0].second.toDoubles(), (std::vector<double>{1, 2, 3, 4}));
}

TEST(Executable, SetParamsChecksNamesAndTypes) {
  auto exe = makeExecutable();
  EXPECT_FALSE(exe->setParams({{"v", Tensor::fromF32({4}, std::vector<float>{0, 0, 0, 0})}}));
  EXPECT_FALSE(exe->setParams({{"w", Tensor::fromF64({4}, std::vector<double>{0, 0, 0, 0})}}));
  ASSERT_TRUE(exe->setParams({{"w", Tensor::fromF32({4}, std::vector<float>{5, 6, 7, 8})}}));
  auto r = exe->run(feedX({1, 1, 1, 1}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].second.toDoubles(), (std::vector<double>{5, 6, 7, 8}));
}

TEST(Executable, RejectsSlotsOutsideTheirBuffer) {
  ExecutableSpec spec;
  spec.arenaBytes = 8;
  spec.inputs = {BufferSlot{"x", DType::F32, {4}, BufferRegion::Arena, 0}};
  auto exe = Executable::create(std::move(spec));
  ASSERT_FALSE(exe.ok());
  EXPECT_NE(exe.message().find("'x'"), std::string::npos) << exe.message();
}

} // namespace
} // namespace kiln
