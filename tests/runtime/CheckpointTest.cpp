// Checkpoints: safetensors metadata, the round trip, refusals on load, and atomicity under a kill.
#include "kiln/runtime/Checkpoint.h"
#include "kiln/runtime/FileUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace kiln {
namespace {

class CheckpointTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln-ckpt-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string &n) { return (dir_ / n).string(); }
  fs::path dir_;
};

Tensor filled(DType dt, Shape shape, double start) {
  Tensor t(dt, shape);
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.set(i, start + double(i));
  return t;
}

Checkpoint sample(int64_t step, int64_t elements = 6) {
  Checkpoint c;
  c.graph = "mlp";
  c.runCount = uint64_t(step) * 3;
  c.step = step;
  c.state = {{"w", filled(DType::F32, {2, elements / 2}, double(step))},
             {"w.adam_m", filled(DType::F32, {2, elements / 2}, 0.5)},
             {"train.t", filled(DType::I64, {}, double(step))}};
  c.extra = {{"epoch", std::to_string(step / 10)}};
  return c;
}

TEST(SafetensorsMetadata, RoundTripsSortedAndRefusesNonStrings) {
  NamedTensors ts = {{"a", filled(DType::F32, {3}, 1)}};
  SafetensorsMetadata meta = {{"zeta", "1"}, {"alpha", "two \"quoted\""}};
  std::string bytes = serializeSafetensors(ts, meta);
  SafetensorsMetadata back;
  auto parsed = parseSafetensors(bytes, "m.safetensors", &back);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0], (std::pair<std::string, std::string>{"alpha", "two \"quoted\""}));
  EXPECT_EQ(back[1], (std::pair<std::string, std::string>{"zeta", "1"}));
  EXPECT_EQ((*parsed)[0].second.at(2), 3.0);

  // The format allows only string values in __metadata__.
  std::string header = R"({"__metadata__":{"k":5},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::string raw(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    raw[size_t(i)] = char((n >> (8 * i)) & 0xff);
  raw += header + std::string(4, '\0');
  auto bad = parseSafetensors(raw, "bad.safetensors", &back);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.safetensors"), std::string::npos)
      << bad.status().message();
}

TEST_F(CheckpointTest, RoundTripsStateCountersAndExtras) {
  Checkpoint c = sample(40);
  ASSERT_TRUE(writeCheckpoint(path("c.safetensors"), c).isOk());
  auto back = readCheckpoint(path("c.safetensors"));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->graph, "mlp");
  EXPECT_EQ(back->runCount, 120u);
  EXPECT_EQ(back->step, 40);
  ASSERT_NE(back->find("epoch"), nullptr);
  EXPECT_EQ(*back->find("epoch"), "4");
  ASSERT_EQ(back->state.size(), 3u);
  for (const auto &[name, t] : c.state) {
    auto it = std::find_if(back->state.begin(), back->state.end(),
                           [&](const auto &e) { return e.first == name; });
    ASSERT_NE(it, back->state.end()) << name;
    EXPECT_EQ(it->second.dtype(), t.dtype()) << name;
    EXPECT_EQ(it->second.shape(), t.shape()) << name;
    for (int64_t i = 0; i < t.numElements(); ++i)
      EXPECT_EQ(it->second.at(i), t.at(i)) << name << "[" << i << "]";
  }
  EXPECT_TRUE(checkCheckpoint(*back, "mlp", c.state, path("c.safetensors")).isOk());
}

TEST_F(CheckpointTest, LoadRefusesAnotherModelAndNamesTheMismatch) {
  Checkpoint c = sample(2);
  std::string p = path("c.safetensors");
  ASSERT_TRUE(writeCheckpoint(p, c).isOk());
  auto back = readCheckpoint(p);
  ASSERT_TRUE(back.ok());

  Status other = checkCheckpoint(*back, "cnn", c.state, p);
  ASSERT_FALSE(other.isOk());
  EXPECT_NE(other.message().find("'mlp'"), std::string::npos) << other.message();
  EXPECT_NE(other.message().find(p), std::string::npos) << other.message();

  NamedTensors reshaped = c.state;
  reshaped[0].second = filled(DType::F32, {3, 2}, 0);
  Status shape = checkCheckpoint(*back, "mlp", reshaped, p);
  ASSERT_FALSE(shape.isOk());
  EXPECT_NE(shape.message().find("'w'"), std::string::npos) << shape.message();

  NamedTensors retyped = c.state;
  retyped[2].second = filled(DType::I32, {}, 0);
  EXPECT_FALSE(checkCheckpoint(*back, "mlp", retyped, p).isOk());

  NamedTensors more = c.state;
  more.emplace_back("b", filled(DType::F32, {2}, 0));
  Status missing = checkCheckpoint(*back, "mlp", more, p);
  ASSERT_FALSE(missing.isOk());
  EXPECT_NE(missing.message().find("'b'"), std::string::npos) << missing.message();

  NamedTensors fewer(c.state.begin(), c.state.begin() + 2);
  Status extra = checkCheckpoint(*back, "mlp", fewer, p);
  ASSERT_FALSE(extra.isOk());
  EXPECT_NE(extra.message().find("'train.t'"), std::string::npos) << extra.message();
}

TEST_F(CheckpointTest, PlainSafetensorsIsNotACheckpoint) {
  std::string p = path("params.safetensors");
  ASSERT_TRUE(writeSafetensors(p, {{"w", filled(DType::F32, {2}, 0)}}).isOk());
  auto r = readCheckpoint(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(p), std::string::npos) << r.status().message();

  ASSERT_TRUE(writeFileAtomic(path("junk"), "not a checkpoint at all").isOk());
  EXPECT_FALSE(readCheckpoint(path("junk")).ok());
}

// A process rewriting a large checkpoint in a loop is killed with SIGKILL, again and again, each
// time soon after a temporary file appears. Whenever a temporary file is left (the kill landed
// mid-write), the checkpoint under the real name must still load completely, as one version.
TEST_F(CheckpointTest, KillDuringWriteLeavesThePreviousCheckpointLoadable) {
  std::string p = path("big.safetensors");
  const int64_t elements = 4 << 20; // 16 MiB per state tensor, ~32 MiB per write
  ASSERT_TRUE(writeCheckpoint(p, sample(0, elements)).isOk());
  int midWriteKills = 0;
  for (int attempt = 0; attempt < 40 && midWriteKills < 3; ++attempt) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int64_t step = 1;; ++step)
        if (!writeCheckpoint(p, sample(step, elements)).isOk())
          ::_exit(3);
    }
    // Kill as soon as a temporary file exists (the writer is mid-write), plus a varying delay so
    // that kills land at different points of the write; give up waiting after 10 s.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto tempExists = [&] {
      for (auto &e : fs::directory_iterator(dir_))
        if (e.path().filename().string().find(".tmp-") != std::string::npos)
          return true;
      return false;
    };
    while (!tempExists() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::this_thread::sleep_for(std::chrono::microseconds(500 * (attempt % 7)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer failed on its own, status " << status;
    bool tempLeft = false;
    for (auto &e : fs::directory_iterator(dir_))
      if (e.path().filename().string().find(".tmp-") != std::string::npos) {
        tempLeft = true;
        fs::remove(e.path()); // what a restarted trainer's cleanup would do
      }
    midWriteKills += tempLeft;
    auto back = readCheckpoint(p);
    ASSERT_TRUE(back.ok()) << "attempt " << attempt << ": " << back.status().message();
    ASSERT_EQ(back->state.size(), 3u);
    // Every element must belong to the one version the header names.
    const Tensor &w = back->state[0].second;
    ASSERT_EQ(w.numElements(), elements);
    EXPECT_EQ(w.at(0), double(back->step));
    EXPECT_EQ(w.at(elements - 1), double(back->step) + double(elements - 1));
    EXPECT_EQ(back->state[2].second.at(0), double(back->step));
  }
  EXPECT_GE(midWriteKills, 1) << "no kill landed during a write: the test proved nothing";
}

} // namespace
} // namespace kiln
