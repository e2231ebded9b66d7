// Dataset operations: invariants, rename, reshape, row selection, splits, safetensors datasets,
// statistics and normalisation.
#include "kiln/data/Dataset.h"
#include "DataTestUtil.h"

#include <cmath>
#include <gtest/gtest.h>
#include <numeric>
#include <set>

using namespace kiln;
using namespace kiln::data;
using namespace kiln::data::testing;

namespace {

/// n examples: "x" f32 [n,2] = (i, 10 i), "y" i32 [n] = 100 + i.
Dataset makeDataset(int64_t n) {
  std::vector<float> x;
  std::vector<int32_t> y;
  for (int64_t i = 0; i < n; ++i) {
    x.push_back(float(i));
    x.push_back(float(10 * i));
    y.push_back(int32_t(100 + i));
  }
  Dataset ds;
  ds.columns.emplace_back("x", Tensor::fromF32({n, 2}, x));
  ds.columns.emplace_back("y", Tensor::fromI32({n}, y));
  return ds;
}

TEST(Dataset, SizeColumnsAndChecks) {
  Dataset ds = makeDataset(4);
  EXPECT_EQ(ds.size(), 4);
  EXPECT_EQ(ds.column("y")->shape(), (Shape{4}));
  EXPECT_EQ(ds.column("z"), nullptr);
  EXPECT_TRUE(checkDataset(ds, "t").isOk());
  EXPECT_EQ(rowBytes(*ds.column("x")), 8u);

  Dataset bad = makeDataset(4);
  bad.columns.emplace_back("z", Tensor::fromF32({3}, std::vector<float>{1, 2, 3}));
  EXPECT_EQ(checkDataset(bad, "t").message(),
            "t: error: dataset column 'z' has 3 examples but column 'x' has 4");
  Dataset dup = makeDataset(2);
  dup.columns.emplace_back("x", Tensor::fromF32({2}, std::vector<float>{1, 2}));
  EXPECT_EQ(checkDataset(dup, "t").message(), "t: error: dataset column 'x' appears twice");
  Dataset scalar;
  scalar.columns.emplace_back("s", Tensor::scalar(DType::F32, 1));
  EXPECT_EQ(checkDataset(scalar, "t").message(),
            "t: error: dataset column 's' is a scalar; columns need a leading example dimension");
  EXPECT_EQ(checkDataset(Dataset{}, "t").message(), "t: error: dataset has no columns");
}

TEST(Dataset, RenameAndReshape) {
  Dataset ds = makeDataset(3);
  ASSERT_TRUE(renameColumn(ds, "y", "labels").isOk());
  EXPECT_NE(ds.column("labels"), nullptr);
  EXPECT_EQ(renameColumn(ds, "x", "labels").message(),
            "error: cannot rename column 'x' to 'labels': that name is taken");
  EXPECT_EQ(renameColumn(ds, "q", "r").message(), "error: no dataset column 'q'");
  ASSERT_TRUE(reshapeColumn(ds, "x", {2, 1}).isOk());
  EXPECT_EQ(ds.column("x")->shape(), (Shape{3, 2, 1}));
  EXPECT_EQ(ds.column("x")->toDoubles(), (std::vector<double>{0, 0, 1, 10, 2, 20}));
  EXPECT_EQ(reshapeColumn(ds, "x", {3}).message(),
            "error: cannot reshape column 'x' [3,2,1] to examples of shape [3]");
}

TEST(Dataset, SelectRows) {
  Dataset ds = makeDataset(5);
  std::vector<int64_t> rows{4, 0, 4};
  Expected<Dataset> sel = selectRows(ds, rows);
  ASSERT_TRUE(sel.ok()) << sel.message();
  EXPECT_EQ(sel->column("x")->toDoubles(), (std::vector<double>{4, 40, 0, 0, 4, 40}));
  EXPECT_EQ(sel->column("y")->toDoubles(), (std::vector<double>{104, 100, 104}));
  std::vector<int64_t> out{1, 5};
  EXPECT_EQ(selectRows(ds, out).message(),
            "error: row index 5 (at position 1) is outside the dataset's 5 examples");
}

TEST(Dataset, SplitKeepsTailOrShufflesBySeed) {
  Dataset ds = makeDataset(10);
  auto parts = split(ds, 0.3);
  ASSERT_TRUE(parts.ok()) << parts.message();
  EXPECT_EQ(parts->first.size(), 7);
  EXPECT_EQ(parts->second.column("y")->toDoubles(), (std::vector<double>{107, 108, 109}));

  auto a = split(ds, 0.3, 42), b = split(ds, 0.3, 42), c = split(ds, 0.3, 43);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(a->second.column("y")->identical(*b->second.column("y")));
  EXPECT_FALSE(a->first.column("y")->identical(*c->first.column("y")));
  // The two parts partition the examples, and rows stay whole (x[i] = (i, 10 i) with y = 100 + i).
  std::multiset<double> ys;
  for (const Dataset *part : {&a->first, &a->second})
    for (int64_t i = 0; i < part->size(); ++i) {
      double y = part->column("y")->at(i);
      ys.insert(y);
      EXPECT_EQ(part->column("x")->at(2 * i), y - 100);
      EXPECT_EQ(part->column("x")->at(2 * i + 1), 10 * (y - 100));
    }
  EXPECT_EQ(ys, (std::multiset<double>{100, 101, 102, 103, 104, 105, 106, 107, 108, 109}));

  EXPECT_EQ(split(ds, 1.0).message(), "error: split fraction 1.000000 is not in (0, 1)");
  EXPECT_EQ(split(ds, 0.01).message(),
            "error: splitting 10 examples by 0.010000 leaves an empty part");
}

TEST(Dataset, BindInputsRenamesReshapesAndChecks) {
  Dataset ds = makeDataset(3);
  std::vector<InputBinding> ok{{"y", "labels", DType::I32, {}},
                               {"x", "features", DType::F32, {1, 2}},
                               {"x", "again", DType::F32, {2}}};
  Expected<Dataset> bound = bindInputs(ds, ok);
  ASSERT_TRUE(bound.ok()) << bound.message();
  ASSERT_EQ(bound->columns.size(), 3u);
  EXPECT_EQ(bound->columns[0].first, "labels");
  EXPECT_EQ(bound->columns[1].first, "features");
  EXPECT_EQ(bound->column("features")->shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(bound->column("again")->shape(), (Shape{3, 2}));
  EXPECT_EQ(bound->column("features")->toDoubles(), (std::vector<double>{0, 0, 1, 10, 2, 20}));
  EXPECT_EQ(bound->column("again")->toDoubles(), (std::vector<double>{0, 0, 1, 10, 2, 20}));
  EXPECT_EQ(bound->column("labels")->toDoubles(), (std::vector<double>{100, 101, 102}));

  std::vector<InputBinding> missing{{"img", "x", DType::F32, {2}}};
  EXPECT_EQ(bindInputs(ds, missing).message(),
            "error: no dataset column 'img' for graph input 'x' (columns: x, y)");
  std::vector<InputBinding> dtype{{"y", "labels", DType::F32, {}}};
  EXPECT_EQ(bindInputs(ds, dtype).message(),
            "error: dataset column 'y' is i32 but graph input 'labels' takes f32");
  std::vector<InputBinding> size{{"x", "in", DType::F32, {3}}};
  EXPECT_EQ(bindInputs(ds, size).message(),
            "error: dataset column 'x' has examples of shape [2] (2 elements) but graph input "
            "'in' takes [3] (3)");
}

TEST(Dataset, SafetensorsFile) {
  TempDir tmp;
  Dataset ds = makeDataset(3);
  ASSERT_TRUE(writeSafetensors(tmp / "d.safetensors", ds.columns).isOk());
  Expected<Dataset> back = readSafetensorsDataset(tmp / "d.safetensors");
  ASSERT_TRUE(back.ok()) << back.message();
  ASSERT_EQ(back->columns.size(), 2u);
  EXPECT_EQ(back->columns[0].first, "x");
  EXPECT_TRUE(back->column("x")->identical(*ds.column("x")));
  EXPECT_TRUE(back->column("y")->identical(*ds.column("y")));

  NamedTensors bad = ds.columns;
  bad.emplace_back("w", Tensor::fromF32({2}, std::vector<float>{1, 2}));
  ASSERT_TRUE(writeSafetensors(tmp / "bad.safetensors", bad).isOk());
  EXPECT_EQ(readSafetensorsDataset(tmp / "bad.safetensors").message(),
            tmp / "bad.safetensors" + ": error: dataset column 'w' has 2 examples but column 'x' "
                                      "has 3");
}

TEST(Normalize, ScalarStatsAndTransform) {
  Dataset ds;
  ds.columns.emplace_back("v", Tensor::fromF32({4}, std::vector<float>{1, 2, 3, 6}));
  Expected<ColumnStats> st = computeStats(ds, "v");
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(st->mean.size(), 1u);
  EXPECT_DOUBLE_EQ(st->mean[0], 3.0);
  // Population variance: (4 + 1 + 0 + 9) / 4 = 3.5.
  EXPECT_DOUBLE_EQ(st->std[0], std::sqrt(3.5));
  ASSERT_TRUE(normalize(ds, "v", *st).isOk());
  std::vector<double> v = ds.column("v")->toDoubles();
  for (size_t i = 0; i < 4; ++i)
    EXPECT_NEAR(v[i], (std::vector<double>{-2, -1, 0, 3})[i] / std::sqrt(3.5), 1e-6);
  Expected<ColumnStats> after = computeStats(ds, "v");
  EXPECT_NEAR(after->mean[0], 0.0, 1e-7);
  EXPECT_NEAR(after->std[0], 1.0, 1e-6);
}

TEST(Normalize, PerChannelNhwcAndNchw) {
  // [2 examples, 2x2 pixels, 3 channels], channel c of example n at pixel p = 10 c + n + p.
  std::vector<float> nhwc;
  for (int n = 0; n < 2; ++n)
    for (int p = 0; p < 4; ++p)
      for (int c = 0; c < 3; ++c)
        nhwc.push_back(float(10 * c + n + p));
  Dataset ds;
  ds.columns.emplace_back("img", Tensor::fromF32({2, 2, 2, 3}, nhwc));
  Expected<ColumnStats> st = computeStats(ds, "img", -1);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(st->mean.size(), 3u);
  // n + p over n in {0,1}, p in 0..3: mean 2, population variance 1.25 + 0.25 = 1.5.
  for (int c = 0; c < 3; ++c) {
    EXPECT_DOUBLE_EQ(st->mean[size_t(c)], 10.0 * c + 2.0);
    EXPECT_DOUBLE_EQ(st->std[size_t(c)], std::sqrt(1.5));
  }
  std::vector<double> mean{0, 10, 20}, sd{1, 2, 4};
  ASSERT_TRUE(normalize(ds, "img", mean, sd, 3).isOk());
  const float *x = ds.column("img")->data<float>();
  EXPECT_FLOAT_EQ(x[(1 * 4 + 3) * 3 + 2], (20.0f + 1 + 3 - 20) / 4); // n=1, p=3, c=2
  EXPECT_FLOAT_EQ(x[(0 * 4 + 2) * 3 + 1], (10.0f + 0 + 2 - 10) / 2); // n=0, p=2, c=1

  // NCHW: channel axis 1.
  Dataset nchw;
  nchw.columns.emplace_back("img",
                            Tensor::fromF64({1, 2, 1, 2}, std::vector<double>{1, 3, 10, 30}));
  Expected<ColumnStats> s2 = computeStats(nchw, "img", 1);
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->mean, (std::vector<double>{2, 20}));
  EXPECT_EQ(s2->std, (std::vector<double>{1, 10}));
  ASSERT_TRUE(normalize(nchw, "img", *s2, 1).isOk());
  EXPECT_EQ(nchw.column("img")->toDoubles(), (std::vector<double>{-1, 1, -1, 1}));
}

TEST(Normalize, Errors) {
  Dataset ds = makeDataset(2);
  std::vector<double> one{0}, two{1, 1}, zero{0};
  EXPECT_EQ(normalize(ds, "y", one, one).message(),
            "error: column 'y' is i32; only f32/f64 columns normalise");
  EXPECT_EQ(normalize(ds, "q", one, one).message(), "error: no dataset column 'q'");
  EXPECT_EQ(normalize(ds, "x", one, zero).message(),
            "error: normalize 'x': channel 0 has mean 0.000000 and std 0.000000; the std must be "
            "finite and > 0");
  EXPECT_EQ(normalize(ds, "x", one, two).message(),
            "error: normalize 'x': 1 means but 2 standard deviations");
  std::vector<double> three{1, 1, 1};
  EXPECT_EQ(normalize(ds, "x", three, three, -1).message(),
            "error: normalize 'x': 3 values for 2 channels (give 1 or 2)");
  EXPECT_EQ(computeStats(ds, "x", 0).message(),
            "error: channel axis 0 of column 'x' [2,2] must be one of its example axes (1..1 or "
            "negative)");
}

} // namespace
