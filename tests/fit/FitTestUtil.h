// Helpers of the fit tests: a self-deleting temp dir, a separable three-class dataset, and a
// small softmax classifier built with the C++ builder and compiled by the LLVM backend.
#pragma once

#include "compiler/codegen/Compile.h"
#include "frontend/builder/Builder.h"
#include "kiln/data/Dataset.h"

#include <cmath>
#include <filesystem>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <unistd.h>

namespace kiln::fit::testing {

/// A directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("kiln-fit-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  std::string operator/(const std::string &name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

/// `n` points in three well separated clusters (centres on a circle of radius 3, unit spread
/// from a fixed LCG), columns "point" f32 [n,2] and "class" i32 [n].
inline data::Dataset blobs(int64_t n, uint64_t seed = 1) {
  Tensor x(DType::F32, {n, 2}), y(DType::I32, {n});
  uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
  auto uniform = [&] {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return (double(s >> 11) + 0.5) / 9007199254740992.0;
  };
  for (int64_t i = 0; i < n; ++i) {
    int c = int(i % 3);
    double angle = 2.0943951023931953 * c;
    // Box-Muller: a normal spread of 0.6 keeps the clusters separable by a linear model.
    double r = std::sqrt(-2 * std::log(uniform())), t = 6.283185307179586 * uniform();
    x.data<float>()[2 * i] = float(3 * std::cos(angle) + 0.6 * r * std::cos(t));
    x.data<float>()[2 * i + 1] = float(3 * std::sin(angle) + 0.6 * r * std::sin(t));
    y.data<int32_t>()[i] = c;
  }
  data::Dataset ds;
  ds.columns.emplace_back("point", std::move(x));
  ds.columns.emplace_back("class", std::move(y));
  return ds;
}

/// Softmax regression on two features, batch `batch`: inputs x f32[B,2], labels i32[B];
/// outputs logits, loss, acc; Adam with learning rate `lr`.
inline Expected<Graph> classifier(int64_t batch, double lr = 0.05) {
  using namespace builder;
  GraphBuilder g("blobs");
  g.seed(7);
  builder::Tensor x = g.input("x", DType::F32, {batch, 2});
  builder::Tensor labels = g.input("labels", DType::I32, {batch});
  builder::Tensor w = g.param("w", {2, 3}, init::glorotUniform());
  builder::Tensor b = g.param("b", {3}, init::zeros());
  builder::Tensor logits = dense(x, w, b).named("logits");
  builder::Tensor loss = softmaxCrossEntropy(logits, labels).named("loss");
  builder::Tensor acc = accuracy(logits, labels).named("acc");
  for (builder::Tensor t : {logits, loss, acc})
    g.output(t);
  g.train({.loss = loss, .optimizer = adam(lr), .metrics = {acc}});
  return g.finish();
}

/// The classifier compiled on one thread (the tests run in parallel under ctest -j).
inline std::unique_ptr<Executable> compiledClassifier(int64_t batch, double lr = 0.05) {
  auto g = classifier(batch, lr);
  EXPECT_TRUE(g.ok()) << g.message();
  if (!g.ok())
    return nullptr;
  codegen::CompileOptions opts;
  opts.threads = 1;
  opts.compileThreads = 1;
  auto exe = codegen::compile(*g, opts);
  EXPECT_TRUE(exe.ok()) << exe.message();
  return exe.ok() ? exe.take() : nullptr;
}

} // namespace kiln::fit::testing
