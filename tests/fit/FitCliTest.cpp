// `kilnc fit` end to end on small CSV and safetensors datasets: progress lines, the printed
// mapping, test accuracy, the files it writes, and located errors for bad input (exit 1).
#include "FitTestUtil.h"

#include "kiln/runtime/Safetensors.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sys/wait.h>

namespace kiln::fit {
namespace {

struct Result {
  int exitCode = -1; ///< -1 if killed by a signal
  std::string out, err;
};

std::string slurp(const std::string &p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

/// Runs kilnc with a time limit (a hang is a failure), capturing stdout and stderr in `tmp`.
Result kilnc(const testing::TempDir &tmp, const std::string &args) {
  std::string cmd = "timeout 60 " + std::string(KILN_BINARY_DIR) + "/compiler/driver/kilnc " +
                    args + " >" + (tmp / "out") + " 2>" + (tmp / "err");
  int status = std::system(cmd.c_str());
  Result r;
  if (WIFEXITED(status))
    r.exitCode = WEXITSTATUS(status);
  r.out = slurp(tmp / "out");
  r.err = slurp(tmp / "err");
  return r;
}

/// `n` rows of four features whose label is 1 exactly when a + b - c > 0 (|a + b - c| >= 0.2,
/// so a logistic regression separates them); d is noise.
void writeCsv(const std::string &path, int n, uint64_t seed) {
  std::ofstream f(path);
  f << "a,b,c,d,label\n";
  uint64_t s = seed;
  auto u = [&] {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return double(s >> 11) / 9007199254740992.0 * 2 - 1;
  };
  for (int i = 0; i < n;) {
    double a = u(), b = u(), c = u(), d = u();
    double m = a + b - c;
    if (std::fabs(m) < 0.2)
      continue;
    f << a << "," << b << "," << c << "," << d << "," << (m > 0 ? 1 : 0) << "\n";
    ++i;
  }
}

TEST(FitCli, TrainsLogisticRegressionOnCsvAndReportsTestAccuracy) {
  testing::TempDir tmp;
  writeCsv(tmp / "train.csv", 320, 1);
  writeCsv(tmp / "test.csv", 100, 2); // not a multiple of the batch (64)
  Result r = kilnc(tmp, "fit samples/logreg.json --dataset csv:" + (tmp / "train.csv") +
                            " --test-data " + (tmp / "test.csv") +
                            " --label-dtype f32 --epochs 15 --validation-split 0.2 --seed 4"
                            " --plot " +
                            (tmp / "curves.svg") + " --history " + (tmp / "history.json") +
                            " --save-checkpoint " + (tmp / "c.ckpt"));
  ASSERT_EQ(r.exitCode, 0) << r.err << r.out;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("mapping features -> x, label -> y (default"), std::string::npos) << r.out;
  // Not a terminal: one plain line per epoch, 256 training rows = 4 batches of 64.
  for (int e = 1; e <= 15; ++e)
    EXPECT_NE(r.out.find("epoch " + std::to_string(e) + "/15: 4 steps in "), std::string::npos)
        << e << "\n"
        << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m,
                                std::regex("test: loss ([0-9.]+)  acc ([0-9.]+)  \\(100 examples")))
      << r.out;
  EXPECT_GE(std::stod(m[2]), 0.95) << r.out;
  EXPECT_LT(std::stod(m[1]), 0.3) << r.out;
  std::string svg = slurp(tmp / "curves.svg");
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '\n') > 5, true);
  EXPECT_NE(svg.find("validation acc"), std::string::npos);
  std::string json = slurp(tmp / "history.json");
  EXPECT_NE(json.find("\"epochs\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"val_acc\": ["), std::string::npos);
  EXPECT_TRUE(readSafetensors(tmp / "c.ckpt").ok());
}

/// The values of `"name": [...]` in a history JSON, as written.
std::vector<std::string> series(const std::string &json, const std::string &name) {
  std::smatch m;
  std::string key = "\"" + name + "\": \\[([^\\]]*)\\]";
  if (!std::regex_search(json, m, std::regex(key)))
    return {};
  std::vector<std::string> out;
  std::string items = m[1];
  for (size_t start = 0; start < items.size();) {
    size_t comma = items.find(", ", start);
    out.push_back(items.substr(start, comma - start));
    start = comma == std::string::npos ? items.size() : comma + 2;
  }
  return out;
}

TEST(FitCli, ResumedRunContinuesExactly) {
  testing::TempDir tmp;
  writeCsv(tmp / "train.csv", 300, 7);
  std::string common = "fit samples/logreg.json --dataset csv:" + (tmp / "train.csv") +
                       " --label-dtype f32 --seed 5 --progress off --history ";
  Result straight = kilnc(tmp, common + (tmp / "straight.json") + " --epochs 4");
  ASSERT_EQ(straight.exitCode, 0) << straight.err;
  Result first = kilnc(tmp, common + (tmp / "first.json") + " --epochs 2 --save-checkpoint " +
                                (tmp / "c.ckpt"));
  ASSERT_EQ(first.exitCode, 0) << first.err;
  Result resumed =
      kilnc(tmp, common + (tmp / "resumed.json") + " --epochs 4 --resume " + (tmp / "c.ckpt"));
  ASSERT_EQ(resumed.exitCode, 0) << resumed.err;
  std::string a = slurp(tmp / "straight.json"), b = slurp(tmp / "resumed.json");
  std::vector<std::string> loss = series(a, "loss"), acc = series(a, "acc");
  ASSERT_EQ(loss.size(), 4u) << a;
  EXPECT_EQ(series(b, "epochs"), (std::vector<std::string>{"3", "4"})) << b;
  // Epochs 3 and 4 print the same 9 significant digits: the same batches on the same state.
  EXPECT_EQ(series(b, "loss"), (std::vector<std::string>{loss[2], loss[3]})) << a << b;
  EXPECT_EQ(series(b, "acc"), (std::vector<std::string>{acc[2], acc[3]})) << a << b;
}

TEST(FitCli, SafetensorsDatasetWithExplicitMapping) {
  testing::TempDir tmp;
  data::Dataset ds = testing::blobs(256);
  // softmax_reg wants x f32[64,784]: pad the two coordinates with zeros to 784 features.
  Tensor x(DType::F32, {256, 784});
  for (int64_t i = 0; i < 256; ++i)
    for (int k = 0; k < 2; ++k)
      x.data<float>()[i * 784 + k] = ds.columns[0].second.data<float>()[2 * i + k];
  ASSERT_TRUE(
      writeSafetensors(tmp / "d.safetensors", {{"pixels", x}, {"digit", ds.columns[1].second}})
          .isOk());
  Result r =
      kilnc(tmp, "fit samples/softmax_reg.json --dataset safetensors:" + (tmp / "d.safetensors") +
                     " --map pixels=x,digit=labels --epochs 3 --validation-split 0.25");
  ASSERT_EQ(r.exitCode, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("mapping pixels -> x, digit -> labels\n"), std::string::npos) << r.out;
  // 192 training rows = 3 batches. softmax_reg's step loss carries an L2 penalty, which is no
  // graph output: validation reports the graph's "loss" output (the data loss) instead.
  EXPECT_NE(r.out.find("epoch 3/3: 3 steps"), std::string::npos) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m,
                                std::regex("epoch 3/3: .*val_loss ([0-9.]+)  val_acc "
                                           "([0-9.]+)")))
      << r.out;
  EXPECT_GE(std::stod(m[2]), 0.9) << r.out;
}

/// Big-endian IDX: magic 0 0 8 (u8) rank, the dims, then the bytes.
void writeIdx(const std::string &path, const std::vector<int32_t> &dims,
              const std::vector<uint8_t> &bytes) {
  std::ofstream f(path, std::ios::binary);
  f.put(0).put(0).put(8).put(char(dims.size()));
  for (int32_t d : dims)
    for (int shift : {24, 16, 8, 0})
      f.put(char((d >> shift) & 0xff));
  f.write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
}

TEST(FitCli, MnistAndCifarDirectories) {
  testing::TempDir tmp;
  std::filesystem::create_directories(tmp / "mnist");
  std::filesystem::create_directories(tmp / "cifar");
  // MNIST-format files: 128 training and 70 test images whose brightness gives the class.
  for (auto [split, n] : {std::pair<std::string, int>{"train", 128}, {"t10k", 70}}) {
    std::vector<uint8_t> images, labels;
    for (int i = 0; i < n; ++i) {
      labels.push_back(uint8_t(i % 10));
      images.insert(images.end(), 784, uint8_t(20 * (i % 10)));
    }
    writeIdx(tmp / ("mnist/" + split + "-images-idx3-ubyte"), {n, 28, 28}, images);
    writeIdx(tmp / ("mnist/" + split + "-labels-idx1-ubyte"), {n}, labels);
  }
  // CIFAR-10 binary batches: 5 x 16 training records and 40 test records.
  auto cifarFile = [&](const std::string &name, int n) {
    std::ofstream f(tmp / ("cifar/" + name), std::ios::binary);
    for (int i = 0; i < n; ++i) {
      f.put(char(i % 10));
      f << std::string(3072, char(25 * (i % 10)));
    }
  };
  for (int b = 1; b <= 5; ++b)
    cifarFile("data_batch_" + std::to_string(b) + ".bin", 16);
  cifarFile("test_batch.bin", 40);

  Result mnist = kilnc(tmp, "fit samples/mnist_mlp.json --dataset mnist:" + (tmp / "mnist") +
                                " --epochs 2 --progress off");
  ASSERT_EQ(mnist.exitCode, 0) << mnist.err << mnist.out;
  EXPECT_NE(mnist.out.find("128 training examples, 70 test"), std::string::npos) << mnist.out;
  EXPECT_NE(mnist.out.find("mapping image -> x, label -> labels (default"), std::string::npos);
  EXPECT_NE(mnist.out.find("(70 examples"), std::string::npos) << mnist.out;
  Result cifar = kilnc(tmp, "fit samples/cnn_cifar.json --dataset cifar10:" + (tmp / "cifar") +
                                " --map image=x,label=labels --epochs 1 --progress lines");
  ASSERT_EQ(cifar.exitCode, 0) << cifar.err << cifar.out;
  EXPECT_NE(cifar.out.find("80 training examples, 40 test"), std::string::npos) << cifar.out;
  EXPECT_NE(cifar.out.find("epoch 1/1: 2 steps"), std::string::npos) << cifar.out;
  EXPECT_NE(cifar.out.find("(40 examples"), std::string::npos) << cifar.out;
}

TEST(TrainCli, PlotDrawsOnePointPerStepForEachValue) {
  testing::TempDir tmp;
  Result inputs = kilnc(tmp, "make-inputs samples/logreg.json --batches 2 --seed 1 -o " +
                                 (tmp / "b.safetensors"));
  ASSERT_EQ(inputs.exitCode, 0) << inputs.err;
  Result r = kilnc(tmp, "train samples/logreg.json --inputs " + (tmp / "b.safetensors") +
                            " --steps 12 --plot " + (tmp / "steps.svg"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::string svg = slurp(tmp / "steps.svg");
  // Two panels (loss and acc), each one curve of the 12 steps.
  std::regex poly("<polyline[^>]*points=\"([^\"]*)\"");
  std::vector<size_t> points;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), poly); it != std::sregex_iterator();
       ++it) {
    std::string pts = (*it)[1];
    points.push_back(size_t(std::count(pts.begin(), pts.end(), ' ') + 1));
  }
  EXPECT_EQ(points, (std::vector<size_t>{12, 12})) << svg;
  EXPECT_NE(svg.find(">loss</text>"), std::string::npos);
  EXPECT_NE(svg.find(">acc</text>"), std::string::npos);
}

TEST(DotCli, OptimizedDrawsTheGraphAfterThePassPipeline) {
  testing::TempDir tmp;
  Result before = kilnc(tmp, "dot samples/mnist_mlp.json");
  Result after = kilnc(tmp, "dot samples/mnist_mlp.json --optimized");
  ASSERT_EQ(before.exitCode, 0) << before.err;
  ASSERT_EQ(after.exitCode, 0) << after.err;
  // The dense layers become fusion groups (matmul, bias add, relu in one node) only after.
  EXPECT_EQ(before.out.find("fused"), std::string::npos) << before.out;
  EXPECT_NE(after.out.find("fused "), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("relu h\\n"), std::string::npos) << after.out;
}

TEST(FitCli, BadInputGivesALocatedErrorAndExitOne) {
  testing::TempDir tmp;
  writeCsv(tmp / "t.csv", 70, 3);
  Result unknown = kilnc(tmp, "fit samples/logreg.json --dataset imagenet");
  EXPECT_EQ(unknown.exitCode, 1);
  EXPECT_EQ(unknown.err, "kilnc fit: --dataset 'imagenet': unknown dataset (expected "
                         "fashion-mnist, fashion-mnist:DIR, mnist:DIR, cifar10:DIR, csv:FILE or "
                         "safetensors:FILE)\n");
  Result input = kilnc(tmp, "fit samples/logreg.json --dataset csv:" + (tmp / "t.csv") +
                                " --label-dtype f32 --map features=x,label=q");
  EXPECT_EQ(input.exitCode, 1);
  EXPECT_EQ(input.err, "kilnc fit: --map: 'q' is not an input of graph 'logreg' "
                       "(samples/logreg.json)\n");
  Result column = kilnc(tmp, "fit samples/logreg.json --dataset csv:" + (tmp / "t.csv") +
                                 " --label-dtype f32 --map feats=x,label=y");
  EXPECT_EQ(column.exitCode, 1);
  EXPECT_NE(column.err.find("--map 'feats=x': dataset csv (" + (tmp / "t.csv") +
                            ") has no column 'feats'"),
            std::string::npos)
      << column.err;
  // An i32 label for an f32 input: no silent cast, the message names both.
  Result dtype = kilnc(tmp, "fit samples/logreg.json --dataset csv:" + (tmp / "t.csv"));
  EXPECT_EQ(dtype.exitCode, 1);
  EXPECT_NE(dtype.err.find("'y'"), std::string::npos) << dtype.err;
  Result missing = kilnc(tmp, "fit samples/logreg.json --dataset csv:" + (tmp / "nope.csv"));
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.err.find("nope.csv"), std::string::npos) << missing.err;
  Result usage = kilnc(tmp, "fit samples/logreg.json --dataset fashion-mnist --map x");
  EXPECT_EQ(usage.exitCode, 2);
}

} // namespace
} // namespace kiln::fit
