// The seed samples train on the interpreter: their losses fall over 50 steps on generated data.
#include "compiler/autodiff/TrainGraph.h"
#include "compiler/interp/Interpreter.h"
#include "frontend/json/JsonImporter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

namespace kiln {
namespace {

/// Runs `steps` rounds of the given train steps on fixed feeds; returns each step's losses.
std::map<std::string, std::vector<double>> train(const std::string &sample, const NamedTensors &feeds,
                                                 int steps) {
  auto g = importJsonFile("samples/" + sample + ".json");
  EXPECT_TRUE(g.ok()) << g.message();
  auto training = buildTrainingGraph(*g);
  EXPECT_TRUE(training.ok()) << training.message();
  auto interp = Interpreter::create(*training);
  EXPECT_TRUE(interp.ok()) << interp.message();
  std::map<std::string, std::vector<double>> losses;
  for (int i = 0; i < steps; ++i)
    for (auto &program : training->stepPrograms()) {
      auto r = interp->trainStep(program.name, feeds);
      EXPECT_TRUE(r.ok()) << r.message();
      if (!r.ok())
        return losses;
      for (auto &[name, t] : *r)
        if (name == program.loss.name())
          losses[program.name].push_back(t.at(0));
    }
  return losses;
}

double meanOf(const std::vector<double> &v, size_t from, size_t n) {
  return std::accumulate(v.begin() + long(from), v.begin() + long(from + n), 0.0) / double(n);
}

/// The mean of the last five losses is below `fraction` times the mean of the first five.
void expectFalls(const std::vector<double> &losses, double fraction) {
  ASSERT_GE(losses.size(), 10u);
  for (double l : losses)
    ASSERT_TRUE(std::isfinite(l));
  double first = meanOf(losses, 0, 5), last = meanOf(losses, losses.size() - 5, 5);
  EXPECT_LT(last, fraction * first) << "first " << first << " last " << last;
}

Tensor uniform(Shape shape, std::mt19937 &rng, float lo = 0, float hi = 1) {
  Tensor t(DType::F32, shape);
  std::uniform_real_distribution<float> d(lo, hi);
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.data<float>()[i] = d(rng);
  return t;
}

TEST(SampleTraining, MlpBinaryLossFalls) {
  std::mt19937 rng(1);
  Tensor x = uniform({32, 10}, rng), y(DType::F32, {32, 1});
  for (int b = 0; b < 32; ++b) // a learnable rule: is the first feature above the second?
    y.data<float>()[b] = x.data<float>()[b * 10] > x.data<float>()[b * 10 + 1] ? 1.f : 0.f;
  expectFalls(train("mlp_binary", {{"x", x}, {"y", y}}, 50)["train"], 0.8);
}

TEST(SampleTraining, MnistMlpLossFalls) {
  std::mt19937 rng(2);
  Tensor x = uniform({64, 28, 28}, rng), labels(DType::I32, {64});
  for (int b = 0; b < 64; ++b) // the class is decided by which tenth of the image is brightest
    labels.data<int32_t>()[b] = b % 10;
  for (int b = 0; b < 64; ++b)
    for (int i = 0; i < 78; ++i)
      x.data<float>()[b * 784 + (b % 10) * 78 + i] += 1.0f;
  expectFalls(train("mnist_mlp", {{"x", x}, {"labels", labels}}, 50)["train"], 0.5);
}

TEST(SampleTraining, LstmLossFallsOnSineWaves) {
  Tensor x(DType::F32, {32, 20, 8}), y(DType::F32, {32, 1});
  for (int b = 0; b < 32; ++b) {
    double phase = 0.2 * b;
    for (int t = 0; t < 20; ++t)
      for (int f = 0; f < 8; ++f)
        x.data<float>()[(b * 20 + t) * 8 + f] = float(std::sin(phase + 0.3 * t + 0.1 * f));
    y.data<float>()[b] = float(std::sin(phase + 0.3 * 20));
  }
  expectFalls(train("lstm", {{"x", x}, {"y", y}}, 50)["train"], 0.8);
}

TEST(SampleTraining, GanDiscriminatorLossFalls) {
  std::mt19937 rng(3);
  // "Real" images: a fixed bright pattern that G starts far from.
  Tensor real = uniform({64, 784}, rng, 0.5f, 1.0f);
  auto losses = train("gan", {{"real", real}}, 50);
  ASSERT_EQ(losses.size(), 2u);
  expectFalls(losses["d_step"], 0.8);
  for (double l : losses["g_step"])
    EXPECT_TRUE(std::isfinite(l));
}

} // namespace
} // namespace kiln
