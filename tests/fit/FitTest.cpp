// fit, evaluate and predict on a compiled three-class classifier: the loss falls, the history
// holds what it should, every example is evaluated exactly once, and a resumed fit is exact.
#include "FitTestUtil.h"

#include "kiln/fit/Fit.h"
#include "kiln/runtime/Checkpoint.h"

#include <algorithm>
#include <cmath>

namespace kiln::fit {
namespace {

using testing::blobs;
using testing::compiledClassifier;
using testing::TempDir;

const InputMap kMap = {{"point", "x"}, {"class", "labels"}};

TEST(Fit, LowersTheLossAndReachesAccuracyWithValidation) {
  auto exe = compiledClassifier(16);
  ASSERT_TRUE(exe);
  data::Dataset train = blobs(300, 1), val = blobs(99, 2);
  FitOptions opts{.epochs = 8, .seed = 3, .validationData = &val};
  auto h = fit(*exe, train, kMap, opts);
  ASSERT_TRUE(h.ok()) << h.message();
  ASSERT_EQ(h->epochs, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  ASSERT_EQ(h->seconds.size(), 8u);
  std::vector<std::string> names;
  for (auto &[name, values] : h->series) {
    names.push_back(name);
    EXPECT_EQ(values.size(), 8u) << name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"loss", "acc", "val_loss", "val_acc"}));
  const auto &loss = *h->find("loss");
  // Separable clusters: the mean cross-entropy falls several-fold and validation is near perfect.
  EXPECT_LT(loss.back(), 0.3 * loss.front());
  EXPECT_GE(h->find("val_acc")->back(), 0.97);
  EXPECT_LT(h->find("val_loss")->back(), 0.2);
  // The history's validation numbers are what evaluate() says after training.
  auto ev = evaluate(*exe, val, kMap);
  ASSERT_TRUE(ev.ok()) << ev.message();
  EXPECT_EQ(ev->examples, 99);
  EXPECT_DOUBLE_EQ(ev->get("acc"), h->find("val_acc")->back());
}

TEST(Fit, ValidationSplitHoldsOutTheLastRows) {
  auto exe = compiledClassifier(16);
  ASSERT_TRUE(exe);
  // 200 rows, 0.25 held out: 150 train rows are 9 full batches of 16 (the tail of 6 dropped).
  struct Count : Callback {
    int64_t steps = 0, examples = 0;
    void onTrainBegin(FitContext &ctx) override {
      steps = ctx.stepsPerEpoch, examples = ctx.examples;
    }
  } count;
  FitOptions opts{.epochs = 1, .validationSplit = 0.25, .callbacks = {&count}};
  auto h = fit(*exe, blobs(200), kMap, opts);
  ASSERT_TRUE(h.ok()) << h.message();
  EXPECT_EQ(count.examples, 150);
  EXPECT_EQ(count.steps, 9);
  EXPECT_TRUE(h->find("val_acc"));
}

TEST(Evaluate, CountsEveryExampleExactlyOnce) {
  auto exe = compiledClassifier(16);
  ASSERT_TRUE(exe);
  ASSERT_TRUE(fit(*exe, blobs(96), kMap, {.epochs = 2}).ok());
  // 37 examples = 2 full batches + 5 real rows: labels chosen so that exactly 20 predictions
  // are right, in positions that put right and wrong ones in the padded batch.
  data::Dataset ds = blobs(37, 5);
  auto pred = predict(*exe, ds, {{"point", "x"}});
  ASSERT_TRUE(pred.ok()) << pred.message();
  ASSERT_EQ(pred->size(), 1u);
  const Tensor &logits = (*pred)[0].second;
  ASSERT_EQ(logits.shape(), (Shape{37, 3}));
  auto *labels = ds.column("class")->data<int32_t>();
  double refLoss = 0;
  int right = 0;
  for (int64_t i = 0; i < 37; ++i) {
    const float *l = logits.data<float>() + 3 * i;
    int arg = int(std::max_element(l, l + 3) - l);
    bool makeRight = i % 2 == 0 || i == 1; // the 19 even indices and 1
    labels[i] = makeRight ? arg : (arg + 1) % 3;
    right += makeRight;
    double mx = *std::max_element(l, l + 3), z = 0;
    for (int k = 0; k < 3; ++k)
      z += std::exp(double(l[k]) - mx);
    refLoss += -(double(l[labels[i]]) - mx - std::log(z));
  }
  ASSERT_EQ(right, 20);
  auto ev = evaluate(*exe, ds, kMap);
  ASSERT_TRUE(ev.ok()) << ev.message();
  EXPECT_EQ(ev->examples, 37);
  // A padded row counted as real (or a real row dropped) moves accuracy by 1/37 > 0.02.
  EXPECT_NEAR(ev->get("acc"), 20.0 / 37.0, 1e-6);
  EXPECT_NEAR(ev->get("loss"), refLoss / 37.0, 1e-5 * std::max(1.0, refLoss / 37.0));
}

TEST(Evaluate, FewerExamplesThanOneBatch) {
  auto exe = compiledClassifier(16);
  ASSERT_TRUE(exe);
  data::Dataset ds = blobs(3, 9);
  auto pred = predict(*exe, ds, {{"point", "x"}});
  ASSERT_TRUE(pred.ok()) << pred.message();
  auto *labels = ds.column("class")->data<int32_t>();
  const float *l = (*pred)[0].second.data<float>();
  // Only example 1 is labelled with its prediction.
  for (int i = 0; i < 3; ++i) {
    int arg = int(std::max_element(l + 3 * i, l + 3 * i + 3) - (l + 3 * i));
    labels[i] = i == 1 ? arg : (arg + 2) % 3;
  }
  auto ev = evaluate(*exe, ds, kMap);
  ASSERT_TRUE(ev.ok()) << ev.message();
  EXPECT_EQ(ev->examples, 3);
  EXPECT_NEAR(ev->get("acc"), 1.0 / 3.0, 1e-6);
}

TEST(Fit, ResumedRunEqualsUninterruptedBitForBit) {
  TempDir tmp;
  data::Dataset train = blobs(100);
  auto straight = compiledClassifier(16);
  ASSERT_TRUE(straight);
  ASSERT_TRUE(fit(*straight, train, kMap, {.epochs = 3, .seed = 11}).ok());

  std::string ckpt = tmp / "fit.ckpt";
  auto first = compiledClassifier(16);
  ASSERT_TRUE(first);
  ASSERT_TRUE(fit(*first, train, kMap, {.epochs = 1, .seed = 11, .checkpointPath = ckpt}).ok());
  auto second = compiledClassifier(16);
  ASSERT_TRUE(second);
  auto h = fit(*second, train, kMap, {.epochs = 3, .seed = 11, .resumeFrom = ckpt});
  ASSERT_TRUE(h.ok()) << h.message();
  EXPECT_EQ(h->epochs, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(second->runCount(), straight->runCount());
  NamedTensors a = straight->params(), b = second->params();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(a[i].second.identical(b[i].second)) << a[i].first;
  // The checkpoint records where the loop was: epoch 1 and 6 steps (floor(100/16)).
  auto read = readCheckpoint(ckpt);
  ASSERT_TRUE(read.ok()) << read.message();
  EXPECT_EQ(read->step, 6);
  EXPECT_EQ(*read->find("fit.epoch"), "1");

  // Another seed cannot continue the run: its batches would differ.
  auto third = compiledClassifier(16);
  auto bad = fit(*third, train, kMap, {.epochs = 3, .seed = 12, .resumeFrom = ckpt});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("seed 11"), std::string::npos) << bad.message();
}

TEST(Fit, MappingErrorsNameTheColumnAndTheInput) {
  auto exe = compiledClassifier(16);
  ASSERT_TRUE(exe);
  auto bad = fit(*exe, blobs(64), {{"point", "x"}, {"class", "nope"}}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("'nope' is not an input of graph 'blobs'"), std::string::npos)
      << bad.message();
  auto missing = fit(*exe, blobs(64), {{"pixels", "x"}, {"class", "labels"}}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("pixels"), std::string::npos) << missing.message();
  // The default mapping finds point -> x and class -> labels by dtype and element count.
  auto map = defaultInputMap(*exe, blobs(4));
  ASSERT_TRUE(map.ok()) << map.message();
  EXPECT_EQ(inputMapString(*map), "point -> x, class -> labels");
  // Two f32 columns of two elements each fit x: ambiguous, so an error.
  data::Dataset two = blobs(4);
  two.columns.emplace_back("other", two.columns[0].second);
  auto ambiguous = defaultInputMap(*exe, two);
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_NE(ambiguous.message().find("several dataset columns"), std::string::npos);
}

} // namespace
} // namespace kiln::fit
