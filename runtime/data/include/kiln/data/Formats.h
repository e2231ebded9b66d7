// Readers of dataset file formats: IDX (MNIST, Fashion-MNIST; gzip or plain), CIFAR-10 binary
// batches, and CSV with a header row.
#pragma once

#include "kiln/data/Dataset.h"

#include <string>
#include <vector>

namespace kiln::data {

/// Where the channel axis of an image column goes. Kiln graphs default to NHWC (the graph
/// format's convention, and what samples/cnn_mnist.json and cnn_cifar.json take); NCHW is for
/// graphs whose convolutions say data_format "NCHW".
enum class ImageLayout { NHWC, NCHW };

/// Reads an IDX file (gzip-compressed when it starts with the bytes 1f 8b, whatever its name).
/// Element types map to the closest Kiln dtype without loss: u8, i8 and i16 -> i32; i32 -> i32;
/// f32 -> f32; f64 -> f64. Values are converted from the file's big-endian order. Errors name
/// the file and the fault: bad magic, unknown type code, zero or oversized dimensions, a
/// truncated file, trailing bytes after the data.
Expected<Tensor> readIdx(const std::string &path);

/// Options of the image loaders.
struct ImageOptions {
  ImageLayout layout = ImageLayout::NHWC;
};

/// MNIST-format data in `dir` (MNIST or Fashion-MNIST): `split` is "train" (files
/// train-images-idx3-ubyte and train-labels-idx1-ubyte) or "test" (t10k-...), each plain or with
/// a .gz suffix. Columns: "image" f32 in [0,1] (pixel / 255), [n,rows,cols,1] for NHWC or
/// [n,1,rows,cols] for NCHW; "label" i32 [n] (what the samples' "labels" inputs take).
Expected<Dataset> loadMnist(const std::string &dir, const std::string &split,
                            ImageOptions options = {});

/// CIFAR-10 binary batches in `dir`: `split` "train" reads data_batch_1.bin .. data_batch_5.bin,
/// "test" reads test_batch.bin. Columns: "image" f32 in [0,1], [n,32,32,3] for NHWC (transposed
/// from the file's CHW records) or [n,3,32,32] for NCHW; "label" i32 [n] in 0..9.
Expected<Dataset> loadCifar10(const std::string &dir, const std::string &split,
                              ImageOptions options = {});
/// The same from an explicit list of batch files, concatenated in the given order.
Expected<Dataset> loadCifar10Files(const std::vector<std::string> &files,
                                   ImageOptions options = {});

/// How readCsv turns columns into a dataset.
struct CsvOptions {
  /// Header names of the feature columns, stacked in this order into one f32 [n,k] column.
  /// Empty: every column but the label.
  std::vector<std::string> features;
  /// Header name of the label column; empty for none.
  std::string label;
  /// i32 (class indices; a non-integral value is an error) or f32 (regression targets).
  DType labelDType = DType::I32;
  /// Names of the produced columns.
  std::string featuresName = "features";
  std::string labelName = "label";
  char delimiter = ',';
};

/// Reads a CSV file whose first non-blank line is a header. Fields may be quoted ("a ""b"""),
/// lines end in \n or \r\n, blank lines are skipped, and every used field must be a number
/// (nan/inf are refused). Errors read "file:line:col: error: ..." with the column's name.
Expected<Dataset> readCsv(const std::string &path, const CsvOptions &options);

} // namespace kiln::data
