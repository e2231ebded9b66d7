// CSV reading: header names, feature selection and order, label dtypes, quoting, blank lines,
// CRLF, gzip, and every error with its line and column.
#include "DataTestUtil.h"
#include "kiln/data/Formats.h"

#include <gtest/gtest.h>

using namespace kiln;
using namespace kiln::data;
using namespace kiln::data::testing;

namespace {

Expected<Dataset> parse(const TempDir &tmp, const std::string &text, const CsvOptions &opt) {
  writeBytes(tmp / "d.csv", text);
  return readCsv(tmp / "d.csv", opt);
}

TEST(Csv, FeaturesAndIntegerLabel) {
  TempDir tmp;
  CsvOptions opt;
  opt.label = "class";
  Expected<Dataset> ds = parse(tmp,
                               "x1,\"x 2\",class,x3\r\n"
                               "1.5,-2,0,1e3\r\n"
                               "\r\n"
                               "  \n"
                               "\"+0.25\", 7 ,2,\"-4\"\n"
                               "3,4,1,5", // no final newline
                               opt);
  ASSERT_TRUE(ds.ok()) << ds.message();
  ASSERT_EQ(ds->columns.size(), 2u);
  EXPECT_EQ(ds->columns[0].first, "features");
  EXPECT_EQ(ds->columns[1].first, "label");
  const Tensor &f = *ds->column("features");
  EXPECT_EQ(f.dtype(), DType::F32);
  EXPECT_EQ(f.shape(), (Shape{3, 3}));
  EXPECT_EQ(f.toDoubles(), (std::vector<double>{1.5, -2, 1000, 0.25, 7, -4, 3, 4, 5}));
  const Tensor &l = *ds->column("label");
  EXPECT_EQ(l.dtype(), DType::I32);
  EXPECT_EQ(l.toDoubles(), (std::vector<double>{0, 2, 1}));
}

TEST(Csv, ChosenFeaturesFloatLabelAndNames) {
  TempDir tmp;
  CsvOptions opt;
  opt.features = {"c", "a"}; // order as given; "id" is never parsed
  opt.label = "y";
  opt.labelDType = DType::F32;
  opt.featuresName = "x";
  opt.labelName = "target";
  Expected<Dataset> ds = parse(tmp,
                               "id,a,b,c,y\n"
                               "row-one,1,2,3,0.5\n"
                               "\"quoted, with \"\"comma\"\"\",4,5,6,-1.25\n",
                               opt);
  ASSERT_TRUE(ds.ok()) << ds.message();
  EXPECT_EQ(ds->column("x")->toDoubles(), (std::vector<double>{3, 1, 6, 4}));
  EXPECT_EQ(ds->column("target")->dtype(), DType::F32);
  EXPECT_EQ(ds->column("target")->toDoubles(), (std::vector<double>{0.5, -1.25}));
}

TEST(Csv, NoLabelAndLargeIntegerLabels) {
  TempDir tmp;
  CsvOptions semi;
  semi.delimiter = ';';
  Expected<Dataset> ds = parse(tmp, "a;b\n1;2\n", semi);
  ASSERT_TRUE(ds.ok()) << ds.message();
  EXPECT_EQ(ds->columns.size(), 1u);
  EXPECT_EQ(ds->column("features")->shape(), (Shape{1, 2}));
  CsvOptions opt;
  opt.label = "k";
  // 16777217 = 2^24 + 1 is not representable in f32: labels must not pass through float.
  Expected<Dataset> big = parse(tmp, "v,k\n0,16777217\n", opt);
  ASSERT_TRUE(big.ok()) << big.message();
  EXPECT_EQ(big->column("label")->data<int32_t>()[0], 16777217);
}

TEST(Csv, ByteOrderMarkAndCarriageReturnLines) {
  TempDir tmp;
  CsvOptions opt;
  opt.label = "a";
  Expected<Dataset> ds = parse(tmp,
                               "\xEF\xBB\xBF"
                               "a,b\r1,2\r3,4\r",
                               opt);
  ASSERT_TRUE(ds.ok()) << ds.message();
  EXPECT_EQ(ds->column("label")->toDoubles(), (std::vector<double>{1, 3}));
  EXPECT_EQ(ds->column("features")->toDoubles(), (std::vector<double>{2, 4}));
  Expected<Dataset> bad = parse(tmp, "a,b\r1,2\r3,x\r", opt);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(),
            tmp / "d.csv" + ":3:3: error: csv: column 'b': 'x' is not a finite number");
}

TEST(Csv, GzipFile) {
  TempDir tmp;
  writeGzip(tmp / "d.csv.gz", "a,b\n1,2\n3,4\n");
  CsvOptions opt;
  opt.label = "b";
  Expected<Dataset> ds = readCsv(tmp / "d.csv.gz", opt);
  ASSERT_TRUE(ds.ok()) << ds.message();
  EXPECT_EQ(ds->column("label")->toDoubles(), (std::vector<double>{2, 4}));
}

TEST(Csv, ErrorsNameFileLineAndColumn) {
  TempDir tmp;
  std::string p = tmp / "d.csv";
  CsvOptions opt;
  opt.label = "y";
  auto err = [&](const std::string &text, const CsvOptions &o) {
    Expected<Dataset> ds = parse(tmp, text, o);
    EXPECT_FALSE(ds.ok());
    return ds.ok() ? std::string() : ds.message();
  };
  EXPECT_EQ(err("a,y\n1,2\n\n3,abc\n", opt),
            p + ":4:3: error: csv: column 'y': 'abc' is not a finite number");
  EXPECT_EQ(err("a,y\n1,2\n  ,1\n", opt),
            p + ":3:3: error: csv: column 'a': '' is not a finite number");
  EXPECT_EQ(err("a,y\nnan,1\n", opt),
            p + ":2:1: error: csv: column 'a': 'nan' is not a finite number");
  EXPECT_EQ(err("a,y\n1,2.5\n", opt),
            p + ":2:3: error: csv: column 'y': '2.5' is not an integer class index");
  EXPECT_EQ(err("a,y\n1,2\n1,2,3\n", opt), p + ":3:1: error: csv: 3 fields, but the header has 2");
  EXPECT_EQ(err("a,y\n1,\"2\n", opt), p + ":2:3: error: csv: unterminated quoted field");
  EXPECT_EQ(err("a,y\n1,\"2\"x\n", opt),
            p + ":2:6: error: csv: unexpected character after a quoted field");
  EXPECT_EQ(err("a,y\n1,2\"\n", opt), p + ":2:4: error: csv: a quote inside an unquoted field");
  EXPECT_EQ(err("a,b,a\n1,2,3\n", {}), p + ":1:5: error: csv: column name 'a' appears twice in "
                                           "the header");
  EXPECT_EQ(err("a,b\n1,2\n", opt),
            p + ":1:1: error: csv: no column 'y' in the header (columns: a, b)");
  EXPECT_EQ(err("\n\n", opt), p + ": error: csv: no header line");
  EXPECT_EQ(err("a,y\n\n", opt), p + ": error: csv: no data rows after the header");
  EXPECT_EQ(err("y\n1\n", opt),
            p + ": error: csv: no feature columns (the header has only the label)");
  CsvOptions same = opt;
  same.featuresName = "label";
  EXPECT_EQ(err("a,y\n1,2\n", same),
            p + ": error: csv: the features and the label would both be named 'label'");
  CsvOptions i64 = opt;
  i64.labelDType = DType::I64;
  EXPECT_EQ(err("a,y\n1,2\n", i64),
            p + ": error: csv: the label dtype must be i32 or f32, not i64");
}

} // namespace
