// fit_mnist: a Fashion-MNIST classifier built, compiled and trained from C++ (README, docs/fit.md).
// Usage: fit_mnist [DIR [EPOCHS [mlp|cnn]]]; DIR defaults to where dataset-fashion-mnist installs
// the files. `cnn` builds the network of samples/cnn_mnist.json instead of the README's MLP.
#include "compiler/codegen/Compile.h"
#include "frontend/builder/Builder.h"
#include "kiln/data/Formats.h"
#include "kiln/fit/Fit.h"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace kiln;
using builder::adam, builder::dense, builder::flatten, builder::init::glorotUniform,
    builder::init::heUniform, builder::init::zeros;

/// Prints a failed step's message and exits 1 (the sample's only error handling).
template <typename T> T orExit(Expected<T> value) {
  if (!value) {
    std::fprintf(stderr, "fit_mnist: %s\n", value.message().c_str());
    std::exit(1);
  }
  return value.take();
}
void orExit(const Status &status) {
  if (!status.isOk()) {
    std::fprintf(stderr, "fit_mnist: %s\n", status.message().c_str());
    std::exit(1);
  }
}

/// The CNN of samples/cnn_mnist.json: three valid 3x3 convolutions with relu, 2x2 max pools
/// after the first two, then dense 576 -> 64 (relu) -> 10.
builder::Tensor cnnLogits(builder::GraphBuilder &g, builder::Tensor x) {
  auto conv = [&](builder::Tensor in, const std::string &name, int64_t cin, int64_t cout) {
    builder::Tensor w = g.param(name + "_w", {3, 3, cin, cout}, glorotUniform());
    return relu(conv2d(in, w, g.param(name + "_b", {cout}, zeros())));
  };
  builder::Tensor p1 = maxPool2d(conv(x, "c1", 1, 32), {.ksize = {2, 2}});
  builder::Tensor p2 = maxPool2d(conv(p1, "c2", 32, 64), {.ksize = {2, 2}});
  builder::Tensor flat = flatten(conv(p2, "c3", 64, 64)); // [B, 3 * 3 * 64]
  builder::Tensor h = dense(flat, g.param("d1_w", {576, 64}, glorotUniform()),
                            g.param("d1_b", {64}), {.activation = "relu"});
  return dense(h, g.param("d2_w", {64, 10}, glorotUniform()), g.param("d2_b", {10}));
}

int main(int argc, char **argv) {
  std::string dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  int64_t epochs = argc > 2 ? std::atoll(argv[2]) : 2;
  bool cnn = argc > 3 && std::string(argv[3]) == "cnn";

  // The README's twenty lines start here.
  data::Dataset train = orExit(data::loadMnist(dir, "train"));
  data::Dataset test = orExit(data::loadMnist(dir, "test"));
  data::ColumnStats pixels = orExit(data::computeStats(train, "image")); // training data only
  orExit(data::normalize(train, "image", pixels));
  orExit(data::normalize(test, "image", pixels));

  builder::GraphBuilder g(cnn ? "fashion_cnn" : "fashion_mlp");
  g.seed(42); // the seed of samples/*.json, so `cnn` starts from the JSON sample's weights
  builder::Tensor x = g.input("x", DType::F32, {cnn ? 32 : 64, 28, 28, 1});
  builder::Tensor labels = g.input("labels", DType::I32, {cnn ? 32 : 64});
  builder::Tensor logits;
  if (cnn) {
    logits = cnnLogits(g, x);
  } else {
    builder::Tensor h = dense(flatten(x), g.param("w1", {784, 128}, heUniform()),
                              g.param("b1", {128}), {.activation = "relu"});
    logits = dense(h, g.param("w2", {128, 10}, heUniform()), g.param("b2", {10}));
  }
  builder::Tensor loss = softmaxCrossEntropy(logits, labels).named("loss");
  builder::Tensor acc = accuracy(logits, labels).named("acc");
  for (builder::Tensor t : {logits, loss, acc})
    g.output(t);
  g.train({.loss = loss, .optimizer = adam(1e-3), .metrics = {acc}});

  // The auto pipeline: generated code, with oneDNN where it is measured faster (convolutions).
  auto exe = orExit(codegen::compile(orExit(g.finish()), {.pipeline = codegen::kAutoPipeline}));
  fit::InputMap map = {{"image", "x"}, {"label", "labels"}};
  fit::ProgressBar progress;
  fit::History history =
      orExit(fit::fit(*exe, train, map, {.epochs = epochs, .seed = 1, .callbacks = {&progress}}));
  fit::Evaluation result = orExit(fit::evaluate(*exe, test, map));
  std::printf("test: %s over %lld examples\n", fit::formatLogs(result.values).c_str(),
              (long long)result.examples);
  return 0;
}
