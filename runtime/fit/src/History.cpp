// Logs lookup and the per-epoch History, with its JSON form.
#include "kiln/fit/History.h"

#include "kiln/runtime/FileUtil.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace kiln::fit {

std::optional<double> findLog(const Logs &logs, const std::string &name) {
  for (auto &[key, value] : logs)
    if (key == name)
      return value;
  return std::nullopt;
}

void History::append(int64_t epoch, double secs, const Logs &logs) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  size_t before = epochs.size();
  epochs.push_back(epoch);
  seconds.push_back(secs);
  for (auto &[name, value] : logs) {
    std::vector<double> *s = nullptr;
    for (auto &[key, values] : series)
      if (key == name)
        s = &values;
    if (!s) {
      // A name first seen now (validation that starts late): earlier epochs had no value.
      series.emplace_back(name, std::vector<double>(before, nan));
      s = &series.back().second;
    }
    s->push_back(value);
  }
  for (auto &[key, values] : series)
    if (values.size() < epochs.size())
      values.push_back(nan);
}

const std::vector<double> *History::find(const std::string &name) const {
  for (auto &[key, values] : series)
    if (key == name)
      return &values;
  return nullptr;
}

namespace {

std::string number(double v) {
  if (!std::isfinite(v))
    return "null"; // JSON has no NaN or infinity
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

/// A JSON string literal; names come from graphs, which allow any printable text.
std::string quote(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

template <typename T> std::string array(const std::vector<T> &values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i)
    out += (i ? ", " : "") + number(double(values[i]));
  return out + "]";
}

} // namespace

std::string History::toJson() const {
  std::string out = "{\n  \"epochs\": " + array(epochs) + ",\n  \"seconds\": " + array(seconds);
  for (auto &[name, values] : series)
    out += ",\n  " + quote(name) + ": " + array(values);
  return out + "\n}\n";
}

Status writeHistoryJson(const std::string &path, const History &history) {
  return writeFileAtomic(path, history.toJson());
}

} // namespace kiln::fit
