// CSV reader: RFC 4180 fields (quotes, doubled quotes, quoted newlines), a header row, numeric
// feature and label columns, and errors that point at the line and column of the bad field.
#include "ByteSource.h"
#include "kiln/data/Formats.h"

#include <charconv>
#include <cmath>
#include <map>

namespace kiln::data {

namespace {

/// The largest CSV file read (into memory, then parsed).
constexpr size_t kMaxCsvBytes = size_t(1) << 30;

struct Field {
  std::string text;
  int64_t line = 0, col = 0;
};
using Record = std::vector<Field>;

class CsvLexer {
public:
  CsvLexer(std::string_view text, std::string path, char delim)
      : s_(text), path_(std::move(path)), delim_(delim) {}

  /// The next record, skipping blank lines; false at the end of the text.
  Expected<bool> next(Record &rec) {
    for (;;) {
      if (pos_ >= s_.size())
        return false;
      rec.clear();
      KILN_ASSIGN(bool blank, readRecord(rec));
      if (!blank)
        return true;
    }
  }

  std::string where(int64_t line, int64_t col) const {
    return path_ + ":" + std::to_string(line) + ":" + std::to_string(col);
  }

private:
  /// Reads one line's record; true if the line was blank (only whitespace).
  Expected<bool> readRecord(Record &rec) {
    bool blank = true;
    for (;;) {
      Field f;
      skipSpaces();
      f.line = line_;
      f.col = col_;
      if (pos_ < s_.size() && s_[pos_] == '"') {
        blank = false;
        KILN_TRY(readQuoted(f));
        skipSpaces();
      } else {
        while (pos_ < s_.size() && s_[pos_] != delim_ && s_[pos_] != '\n' && s_[pos_] != '\r') {
          if (s_[pos_] == '"')
            return Status::error(where(line_, col_) +
                                 ": error: csv: a quote inside an unquoted field");
          f.text += s_[pos_];
          advance();
        }
        while (!f.text.empty() && (f.text.back() == ' ' || f.text.back() == '\t'))
          f.text.pop_back();
        if (!f.text.empty())
          blank = false;
      }
      rec.push_back(std::move(f));
      if (pos_ >= s_.size())
        return blank && rec.size() == 1;
      char c = s_[pos_];
      if (c == delim_) {
        blank = false;
        advance();
        continue;
      }
      if (c == '\r' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n')
        ++pos_;
      if (c == '\n' || c == '\r') {
        advance();
        return blank && rec.size() == 1;
      }
      return Status::error(where(line_, col_) +
                           ": error: csv: unexpected character after a quoted field");
    }
  }

  Status readQuoted(Field &f) {
    int64_t line = line_, col = col_;
    advance(); // the opening quote
    for (;;) {
      if (pos_ >= s_.size())
        return Status::error(where(line, col) + ": error: csv: unterminated quoted field");
      char c = s_[pos_];
      if (c == '"') {
        if (pos_ + 1 < s_.size() && s_[pos_ + 1] == '"') {
          f.text += '"';
          advance();
          advance();
          continue;
        }
        advance();
        return Status::ok();
      }
      f.text += c;
      advance();
    }
  }

  void skipSpaces() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t') && delim_ != s_[pos_])
      advance();
  }

  void advance() {
    // A lone \r (classic Mac line ends) counts as a line break too; \r\n counts once, at \n.
    bool lineBreak =
        s_[pos_] == '\n' || (s_[pos_] == '\r' && (pos_ + 1 >= s_.size() || s_[pos_ + 1] != '\n'));
    if (lineBreak) {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }

  std::string_view s_;
  std::string path_;
  char delim_;
  size_t pos_ = 0;
  int64_t line_ = 1, col_ = 1;
};

/// Parses a finite number (an optional leading '+' allowed), or returns nullopt.
std::optional<double> parseNumber(const std::string &text) {
  std::string_view v = text;
  if (!v.empty() && v.front() == '+')
    v.remove_prefix(1);
  double d = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(d))
    return std::nullopt;
  return d;
}

} // namespace

Expected<Dataset> readCsv(const std::string &path, const CsvOptions &options) {
  if (options.labelDType != DType::I32 && options.labelDType != DType::F32)
    return Status::error(path + ": error: csv: the label dtype must be i32 or f32, not " +
                         std::string(dtypeName(options.labelDType)));
  if (!options.label.empty() && options.featuresName == options.labelName)
    return Status::error(path + ": error: csv: the features and the label would both be named '" +
                         options.labelName + "'");
  KILN_ASSIGN(ByteSource src, ByteSource::open(path));
  KILN_ASSIGN(std::string text, src.readAll(kMaxCsvBytes));
  std::string_view body = text;
  // Spreadsheet exports often start with a UTF-8 byte order mark; it is not part of the first name.
  if (body.substr(0, 3) == "\xEF\xBB\xBF")
    body.remove_prefix(3);
  CsvLexer lex(body, path, options.delimiter);
  Record header;
  KILN_ASSIGN(bool any, lex.next(header));
  if (!any)
    return Status::error(path + ": error: csv: no header line");
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < header.size(); ++i)
    if (!index.emplace(header[i].text, i).second)
      return Status::error(lex.where(header[i].line, header[i].col) +
                           ": error: csv: column name '" + header[i].text +
                           "' appears twice in the header");
  auto lookup = [&](const std::string &name) -> Expected<size_t> {
    auto it = index.find(name);
    if (it != index.end())
      return it->second;
    std::string names;
    for (const Field &f : header)
      names += (names.empty() ? "" : ", ") + f.text;
    return Status::error(lex.where(header.front().line, 1) + ": error: csv: no column '" + name +
                         "' in the header (columns: " + names + ")");
  };
  std::optional<size_t> labelCol;
  if (!options.label.empty()) {
    KILN_ASSIGN(size_t c, lookup(options.label));
    labelCol = c;
  }
  std::vector<size_t> featureCols;
  if (options.features.empty()) {
    for (size_t i = 0; i < header.size(); ++i)
      if (!labelCol || i != *labelCol)
        featureCols.push_back(i);
  } else {
    for (const std::string &name : options.features) {
      KILN_ASSIGN(size_t c, lookup(name));
      featureCols.push_back(c);
    }
  }
  if (featureCols.empty())
    return Status::error(path + ": error: csv: no feature columns (the header has only the label)");

  std::vector<float> features;
  // Doubles, so that i32 labels above 2^24 stay exact until the final conversion.
  std::vector<double> labels;
  Record rec;
  for (;;) {
    KILN_ASSIGN(bool more, lex.next(rec));
    if (!more)
      break;
    if (rec.size() != header.size())
      return Status::error(lex.where(rec.front().line, 1) +
                           ": error: csv: " + std::to_string(rec.size()) +
                           " fields, but the header has " + std::to_string(header.size()));
    auto number = [&](size_t c) -> Expected<double> {
      const Field &f = rec[c];
      std::optional<double> v = parseNumber(f.text);
      if (!v)
        return Status::error(lex.where(f.line, f.col) + ": error: csv: column '" + header[c].text +
                             "': '" + f.text + "' is not a finite number");
      return *v;
    };
    for (size_t c : featureCols) {
      KILN_ASSIGN(double v, number(c));
      features.push_back(float(v));
    }
    if (features.size() > size_t(kMaxTensorElements))
      return Status::error(lex.where(rec.front().line, 1) + ": error: csv: more than " +
                           std::to_string(kMaxTensorElements) +
                           " feature values, the most one tensor may hold");
    if (!labelCol)
      continue;
    KILN_ASSIGN(double v, number(*labelCol));
    if (options.labelDType == DType::I32 &&
        (v != std::floor(v) || v < -2147483648.0 || v > 2147483647.0)) {
      const Field &f = rec[*labelCol];
      return Status::error(lex.where(f.line, f.col) + ": error: csv: column '" + options.label +
                           "': '" + f.text + "' is not an integer class index");
    }
    labels.push_back(v);
  }
  auto n = int64_t(features.size() / featureCols.size());
  if (n == 0)
    return Status::error(path + ": error: csv: no data rows after the header");
  Dataset ds;
  ds.columns.emplace_back(options.featuresName,
                          Tensor::fromF32({n, int64_t(featureCols.size())}, features));
  if (labelCol) {
    Tensor label(options.labelDType, {n});
    for (int64_t i = 0; i < n; ++i)
      label.set(i, labels[size_t(i)]);
    ds.columns.emplace_back(options.labelName, std::move(label));
  }
  return ds;
}

} // namespace kiln::data
