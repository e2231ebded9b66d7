// The eleven seed samples built with the C++ builder, checked against samples/*.json: the same
// graph (exportJson of both is identical), and each decomposes into verified primitives.
#include "frontend/builder/Builder.h"

#include "compiler/ir/Decompose.h"
#include "compiler/ir/Verifier.h"
#include "frontend/json/JsonImporter.h"

#include <functional>
#include <gtest/gtest.h>

namespace kiln::builder {
namespace {

using Sample = std::function<Expected<Graph>()>;

Tensor weight(GraphBuilder &g, const std::string &name, Shape shape) {
  return g.param(name, std::move(shape), init::glorotUniform());
}
Tensor bias(GraphBuilder &g, const std::string &name, int64_t n) {
  return g.param(name, {n}, init::zeros());
}

Expected<Graph> linreg() {
  GraphBuilder g("linreg");
  g.seed(42);
  Tensor x = g.input("x", DType::F32, {100, 1});
  Tensor y = g.input("y", DType::F32, {100, 1});
  Tensor w1 = weight(g, "d1_w", {1, 1}), b1 = bias(g, "d1_b", 1);
  Tensor w2 = weight(g, "d2_w", {1, 1}), b2 = bias(g, "d2_b", 1);
  Tensor h = dense(x, w1, b1).named("h");
  Tensor pred = dense(h, w2, b2).named("pred");
  Tensor loss = mse(pred, y).named("loss");
  g.output(pred);
  g.output(loss);
  g.train({.loss = loss, .optimizer = adam(1e-3)});
  return g.finish();
}

/// logreg and mlp_binary: dense layers to a sigmoid, binary cross-entropy and accuracy.
Expected<Graph> binaryClassifier(const std::string &name, int64_t batch, std::vector<int64_t> widths,
                                 Optimizer optimizer) {
  GraphBuilder g(name);
  g.seed(42);
  Tensor x = g.input("x", DType::F32, {batch, widths[0]});
  Tensor y = g.input("y", DType::F32, {batch, 1});
  bool single = widths.size() == 2;
  std::vector<std::pair<Tensor, Tensor>> layers;
  for (size_t i = 1; i < widths.size(); ++i) {
    std::string p = single ? "d" : "d" + std::to_string(i);
    Tensor w = weight(g, p + "_w", {widths[i - 1], widths[i]}); // declared before the bias
    layers.emplace_back(w, bias(g, p + "_b", widths[i]));
  }
  Tensor h = x;
  for (size_t i = 0; i + 1 < layers.size(); ++i)
    h = dense(h, layers[i].first, layers[i].second, {.activation = "relu"}).named("h");
  Tensor prob = dense(h, layers.back().first, layers.back().second, {.activation = "sigmoid"})
                    .named("prob");
  Tensor loss = binaryCrossEntropy(prob, y).named("loss");
  Tensor acc = binaryAccuracy(prob, y).named("acc");
  for (Tensor t : {prob, loss, acc})
    g.output(t);
  g.train({.loss = loss, .optimizer = optimizer, .metrics = {acc}});
  return g.finish();
}

Expected<Graph> softmaxReg() {
  GraphBuilder g("softmax_reg");
  g.seed(42);
  Tensor x = g.input("x", DType::F32, {64, 784});
  Tensor labels = g.input("labels", DType::I32, {64});
  Tensor w = weight(g, "d_w", {784, 10}), b = bias(g, "d_b", 10);
  Tensor logits = dense(x, w, b).named("logits");
  Tensor loss = softmaxCrossEntropy(logits, labels).named("loss");
  Tensor acc = accuracy(logits, labels).named("acc");
  for (Tensor t : {logits, loss, acc})
    g.output(t);
  g.train({.loss = loss,
           .optimizer = sgd(0.1, 0.9, true),
           .metrics = {acc},
           .regularization = Regularization{.l2 = 1e-4}});
  return g.finish();
}

Expected<Graph> mnistMlp() {
  GraphBuilder g("mnist_mlp");
  g.seed(42);
  Tensor x = g.input("x", DType::F32, {64, 28, 28});
  Tensor labels = g.input("labels", DType::I32, {64});
  Tensor w1 = weight(g, "d1_w", {784, 128}), b1 = bias(g, "d1_b", 128);
  Tensor w2 = weight(g, "d2_w", {128, 10}), b2 = bias(g, "d2_b", 10);
  Tensor flat = flatten(x).named("flat");
  Tensor h = dense(flat, w1, b1, {.activation = "relu"}).named("h");
  Tensor logits = dense(h, w2, b2).named("logits");
  Tensor loss = softmaxCrossEntropy(logits, labels).named("loss");
  Tensor acc = accuracy(logits, labels).named("acc");
  for (Tensor t : {logits, loss, acc})
    g.output(t);
  g.train({.loss = loss, .optimizer = adam(1e-3), .metrics = {acc}});
  return g.finish();
}

/// cnn_mnist and cnn_cifar: three valid 3x3 convolutions with two 2x2 max pools, two dense.
Expected<Graph> cnn(const std::string &name, int64_t side, int64_t channels) {
  GraphBuilder g(name);
  g.seed(42);
  Tensor x = g.input("x", DType::F32, {32, side, side, channels});
  Tensor labels = g.input("labels", DType::I32, {32});
  Tensor c1w = weight(g, "c1_w", {3, 3, channels, 32}), c1b = bias(g, "c1_b", 32);
  Tensor c2w = weight(g, "c2_w", {3, 3, 32, 64}), c2b = bias(g, "c2_b", 64);
  Tensor c3w = weight(g, "c3_w", {3, 3, 64, 64}), c3b = bias(g, "c3_b", 64);
  int64_t s = ((side - 2) / 2 - 2) / 2 - 2;
  Tensor d1w = weight(g, "d1_w", {s * s * 64, 64}), d1b = bias(g, "d1_b", 64);
  Tensor d2w = weight(g, "d2_w", {64, 10}), d2b = bias(g, "d2_b", 10);
  Tensor c1 = conv2d(x, c1w, c1b).named("c1");
  Tensor r1 = relu(c1).named("r1");
  Tensor p1 = maxPool2d(r1, {.ksize = {2, 2}}).named("p1");
  Tensor c2 = conv2d(p1, c2w, c2b).named("c2");
  Tensor r2 = relu(c2).named("r2");
  Tensor p2 = maxPool2d(r2, {.ksize = {2, 2}}).named("p2");
  Tensor c3 = conv2d(p2, c3w, c3b).named("c3");
  Tensor r3 = relu(c3).named("r3");
  Tensor flat = flatten(r3).named("flat");
  Tensor h = dense(flat, d1w, d1b, {.activation = "relu"}).named("h");
  Tensor logits = dense(h, d2w, d2b).named("logits");
  Tensor loss = softmaxCrossEntropy(logits, labels).named("loss");
  Tensor acc = accuracy(logits, labels).named("acc");
  for (Tensor t : {logits, loss, acc})
    g.output(t);
  g.train({.loss = loss, .optimizer = adam(1e-3), .metrics = {acc}});
  return g.finish();
}

Expected<Graph> lstmSample() {
  GraphBuilder g("lstm");
  g.seed(42);
  Tensor x = g.input("x", DType::F32, {32, 20, 8});
  Tensor y = g.input("y", DType::F32, {32, 1});
  std::vector<Tensor> k, r, b;
  for (int i = 1; i <= 3; ++i) {
    std::string p = "l" + std::to_string(i);
    k.push_back(weight(g, p + "_k", {i == 1 ? 8 : 50, 200}));
    r.push_back(weight(g, p + "_r", {50, 200}));
    b.push_back(bias(g, p + "_b", 200));
  }
  Tensor dw = weight(g, "d_w", {50, 1}), db = bias(g, "d_b", 1);
  Tensor l1 = lstm(x, k[0], r[0], b[0], {.returnSequences = true}).named("l1");
  Tensor l2 = lstm(l1, k[1], r[1], b[1], {.returnSequences = true}).named("l2");
  Tensor l3 = lstm(l2, k[2], r[2], b[2]).named("l3");
  Tensor pred = dense(l3, dw, db).named("pred");
  Tensor loss = mse(pred, y).named("loss");
  g.output(pred);
  g.output(loss);
  g.train({.loss = loss, .optimizer = adam(1e-3)});
  return g.finish();
}

Expected<Graph> autoencoder() {
  GraphBuilder g("autoencoder");
  g.seed(42);
  Tensor x = g.input("x", DType::F32, {256, 784});
  Tensor ew = weight(g, "enc_w", {784, 32}), eb = bias(g, "enc_b", 32);
  Tensor dw = weight(g, "dec_w", {32, 784}), db = bias(g, "dec_b", 784);
  Tensor code = dense(x, ew, eb, {.activation = "relu"}).named("code");
  Tensor recon = dense(code, dw, db, {.activation = "sigmoid"}).named("recon");
  Tensor loss = mse(recon, x).named("loss");
  g.output(recon);
  g.output(loss);
  g.train({.loss = loss, .optimizer = adam(1e-3)});
  return g.finish();
}

Expected<Graph> gan() {
  GraphBuilder g("gan");
  g.seed(42);
  Tensor real = g.input("real", DType::F32, {64, 784});
  Tensor g1w = weight(g, "g1_w", {64, 256}), g1b = bias(g, "g1_b", 256);
  Tensor g2w = weight(g, "g2_w", {256, 784}), g2b = bias(g, "g2_b", 784);
  Tensor d1w = weight(g, "d1_w", {784, 256}), d1b = bias(g, "d1_b", 256);
  Tensor d2w = weight(g, "d2_w", {256, 1}), d2b = bias(g, "d2_b", 1);
  Tensor ones = g.constant("ones", DType::F32, {64, 1}, 1.0);
  Tensor zeros = g.constant("zeros", DType::F32, {64, 1}, 0.0);
  Tensor z = g.randomNormal({64, 64}).named("z");
  Tensor gh = dense(z, g1w, g1b, {.activation = "relu"}).named("g_h");
  Tensor fake = dense(gh, g2w, g2b, {.activation = "tanh"}).named("fake");
  Tensor drh = dense(real, d1w, d1b, {.activation = "leaky_relu"}).named("d_real_h");
  Tensor dr = dense(drh, d2w, d2b).named("d_real");
  Tensor dfh = dense(fake, d1w, d1b, {.activation = "leaky_relu"}).named("d_fake_h");
  Tensor df = dense(dfh, d2w, d2b).named("d_fake");
  Tensor dlr = sigmoidCrossEntropy(dr, ones).named("d_loss_real");
  Tensor dlf = sigmoidCrossEntropy(df, zeros).named("d_loss_fake");
  Tensor dLoss = (dlr + dlf).named("d_loss");
  Tensor gLoss = sigmoidCrossEntropy(df, ones).named("g_loss");
  for (Tensor t : {fake, dLoss, gLoss})
    g.output(t);
  Optimizer opt = adam(2e-4, 0.5);
  g.train({.name = "d_step", .loss = dLoss, .params = {d1w, d1b, d2w, d2b}, .optimizer = opt});
  g.train({.name = "g_step", .loss = gLoss, .params = {g1w, g1b, g2w, g2b}, .optimizer = opt});
  return g.finish();
}

Expected<Graph> transformer() {
  GraphBuilder g("transformer");
  g.seed(42);
  Tensor x = g.input("x", DType::F32, {16, 64, 128});
  AttentionWeights w;
  w.wq = weight(g, "wq", {128, 128});
  w.wk = weight(g, "wk", {128, 128});
  w.wv = weight(g, "wv", {128, 128});
  w.wo = weight(g, "wo", {128, 128});
  w.bq = bias(g, "bq", 128);
  w.bk = bias(g, "bk", 128);
  w.bv = bias(g, "bv", 128);
  w.bo = bias(g, "bo", 128);
  Tensor ln1g = g.param("ln1_g", {128}, init::ones()), ln1b = bias(g, "ln1_b", 128);
  Tensor f1w = weight(g, "ff1_w", {128, 512}), f1b = bias(g, "ff1_b", 512);
  Tensor f2w = weight(g, "ff2_w", {512, 128}), f2b = bias(g, "ff2_b", 128);
  Tensor ln2g = g.param("ln2_g", {128}, init::ones()), ln2b = bias(g, "ln2_b", 128);
  Tensor attn = multiHeadAttention(x, x, x, w, {.heads = 4}).named("attn");
  Tensor res1 = (x + attn).named("res1");
  Tensor ln1 = layerNorm(res1, ln1g, ln1b).named("ln1");
  Tensor ff1 = dense(ln1, f1w, f1b, {.activation = "relu"}).named("ff1");
  Tensor ff2 = dense(ff1, f2w, f2b).named("ff2");
  Tensor res2 = (ln1 + ff2).named("res2");
  Tensor y = layerNorm(res2, ln2g, ln2b).named("y");
  Tensor sq = square(y).named("sq");
  Tensor loss = reduceMean(sq).named("loss");
  g.output(y);
  g.output(loss);
  g.train({.loss = loss, .optimizer = adam(1e-3)});
  return g.finish();
}

const std::vector<std::pair<std::string, Sample>> &samples() {
  static const std::vector<std::pair<std::string, Sample>> all = {
      {"linreg", linreg},
      {"logreg", [] { return binaryClassifier("logreg", 64, {4, 1}, sgd(0.5)); }},
      {"softmax_reg", softmaxReg},
      {"mlp_binary", [] { return binaryClassifier("mlp_binary", 32, {10, 10, 1}, adam(0.01)); }},
      {"mnist_mlp", mnistMlp},
      {"cnn_mnist", [] { return cnn("cnn_mnist", 28, 1); }},
      {"cnn_cifar", [] { return cnn("cnn_cifar", 32, 3); }},
      {"lstm", lstmSample},
      {"autoencoder", autoencoder},
      {"gan", gan},
      {"transformer", transformer},
  };
  return all;
}

class SampleTest : public ::testing::TestWithParam<std::string> {
protected:
  Expected<Graph> build() {
    for (auto &[name, fn] : samples())
      if (name == GetParam())
        return fn();
    return Status::error("no builder for sample " + GetParam());
  }
};

TEST_P(SampleTest, BuilderGraphEqualsTheJsonFile) {
  auto built = build();
  ASSERT_TRUE(built.ok()) << built.message();
  auto imported = importJsonFile(std::string(KILN_SOURCE_DIR) + "/samples/" + GetParam() + ".json");
  ASSERT_TRUE(imported.ok()) << imported.message();
  std::string a = exportJson(*built), b = exportJson(*imported);
  EXPECT_EQ(a, b);
}

TEST_P(SampleTest, DecomposesIntoVerifiedPrimitives) {
  auto built = build();
  ASSERT_TRUE(built.ok()) << built.message();
  std::vector<std::string> outputs;
  for (Value v : built->outputs())
    outputs.push_back(v.name());
  std::vector<TensorType> outputTypes;
  for (Value v : built->outputs())
    outputTypes.push_back(v.type());
  Status s = decomposeLayers(*built);
  ASSERT_TRUE(s.isOk()) << s.message();
  for (auto &n : built->nodes())
    EXPECT_FALSE(n->info().has(kLayer)) << n->name();
  Status v = verify(*built);
  EXPECT_TRUE(v.isOk()) << v.message();
  // Outputs keep their names and types; train-step losses still point at scalars.
  ASSERT_EQ(built->outputs().size(), outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_EQ(built->outputs()[i].name(), outputs[i]);
    EXPECT_EQ(built->outputs()[i].type(), outputTypes[i]);
  }
  for (const TrainStep &step : built->trainSteps())
    EXPECT_TRUE(step.loss.type().isScalar());
}

INSTANTIATE_TEST_SUITE_P(Samples, SampleTest,
                         ::testing::Values("linreg", "logreg", "softmax_reg", "mlp_binary",
                                           "mnist_mlp", "cnn_mnist", "cnn_cifar", "lstm",
                                           "autoencoder", "gan", "transformer"));

} // namespace
} // namespace kiln::builder
