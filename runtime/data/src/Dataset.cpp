// Dataset column operations: checks, rename, reshape, row selection, splits, safetensors files.
#include "kiln/data/Dataset.h"

#include "kiln/data/BatchIterator.h"

#include <cmath>
#include <cstring>
#include <set>

namespace kiln::data {

int64_t Dataset::size() const {
  if (columns.empty() || columns.front().second.rank() == 0)
    return 0;
  return columns.front().second.shape()[0];
}

const Tensor *Dataset::column(std::string_view name) const {
  for (const auto &[n, t] : columns)
    if (n == name)
      return &t;
  return nullptr;
}

Tensor *Dataset::column(std::string_view name) {
  for (auto &[n, t] : columns)
    if (n == name)
      return &t;
  return nullptr;
}

size_t rowBytes(const Tensor &t) {
  if (t.rank() == 0 || t.shape()[0] == 0)
    return 0;
  return t.byteSize() / size_t(t.shape()[0]);
}

Status checkDataset(const Dataset &ds, const std::string &what) {
  if (ds.columns.empty())
    return Status::error(what + ": error: dataset has no columns");
  std::set<std::string_view> seen;
  int64_t n = ds.size();
  for (const auto &[name, t] : ds.columns) {
    if (name.empty())
      return Status::error(what + ": error: dataset column with an empty name");
    if (!seen.insert(name).second)
      return Status::error(what + ": error: dataset column '" + name + "' appears twice");
    if (t.rank() == 0)
      return Status::error(what + ": error: dataset column '" + name +
                           "' is a scalar; columns need a leading example dimension");
    if (t.shape()[0] != n)
      return Status::error(what + ": error: dataset column '" + name + "' has " +
                           std::to_string(t.shape()[0]) + " examples but column '" +
                           ds.columns.front().first + "' has " + std::to_string(n));
  }
  return Status::ok();
}

Status renameColumn(Dataset &ds, std::string_view from, const std::string &to) {
  if (ds.column(to))
    return Status::error("error: cannot rename column '" + std::string(from) + "' to '" + to +
                         "': that name is taken");
  for (auto &[name, t] : ds.columns)
    if (name == from) {
      name = to;
      return Status::ok();
    }
  return Status::error("error: no dataset column '" + std::string(from) + "'");
}

Status reshapeColumn(Dataset &ds, std::string_view name, const Shape &exampleShape) {
  Tensor *t = ds.column(name);
  if (!t)
    return Status::error("error: no dataset column '" + std::string(name) + "'");
  Shape full{t->shape()[0]};
  full.insert(full.end(), exampleShape.begin(), exampleShape.end());
  if (checkedNumElements(full) != t->numElements())
    return Status::error("error: cannot reshape column '" + std::string(name) + "' " +
                         shapeToString(t->shape()) + " to examples of shape " +
                         shapeToString(exampleShape));
  // A fresh tensor of the new shape takes the same bytes; the old one is then released.
  Tensor out(t->dtype(), full);
  std::memcpy(out.raw(), t->raw(), t->byteSize());
  *t = std::move(out);
  return Status::ok();
}

Expected<Dataset> selectRows(const Dataset &ds, std::span<const int64_t> rows) {
  int64_t n = ds.size();
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i] < 0 || rows[i] >= n)
      return Status::error("error: row index " + std::to_string(rows[i]) + " (at position " +
                           std::to_string(i) + ") is outside the dataset's " + std::to_string(n) +
                           " examples");
  if (rows.empty())
    return Status::error("error: cannot select zero rows: a dataset needs at least one example");
  Dataset out;
  for (const auto &[name, t] : ds.columns) {
    Shape shape = t.shape();
    shape[0] = int64_t(rows.size());
    KILN_ASSIGN(Tensor sel, Tensor::create(t.dtype(), shape));
    size_t rb = rowBytes(t);
    const char *src = static_cast<const char *>(t.raw());
    char *dst = static_cast<char *>(sel.raw());
    for (size_t i = 0; i < rows.size(); ++i)
      std::memcpy(dst + i * rb, src + size_t(rows[i]) * rb, rb);
    out.columns.emplace_back(name, std::move(sel));
  }
  return out;
}

Expected<std::pair<Dataset, Dataset>> split(const Dataset &ds, double fraction,
                                            std::optional<uint64_t> shuffleSeed) {
  if (!(fraction > 0.0 && fraction < 1.0))
    return Status::error("error: split fraction " + std::to_string(fraction) + " is not in (0, 1)");
  int64_t n = ds.size();
  auto second = int64_t(std::llround(fraction * double(n)));
  int64_t first = n - second;
  if (second < 1 || first < 1)
    return Status::error("error: splitting " + std::to_string(n) + " examples by " +
                         std::to_string(fraction) + " leaves an empty part");
  std::vector<int64_t> order(size_t(n), 0);
  if (shuffleSeed) {
    // Epoch -1 keeps this permutation apart from the ones BatchIterator draws for epochs >= 0.
    order = shuffledOrder(n, *shuffleSeed, -1);
  } else {
    for (int64_t i = 0; i < n; ++i)
      order[size_t(i)] = i;
  }
  std::span<const int64_t> all(order);
  KILN_ASSIGN(Dataset a, selectRows(ds, all.first(size_t(first))));
  KILN_ASSIGN(Dataset b, selectRows(ds, all.subspan(size_t(first))));
  return std::pair<Dataset, Dataset>(std::move(a), std::move(b));
}

Expected<Dataset> bindInputs(Dataset ds, std::span<const InputBinding> bindings) {
  if (bindings.empty())
    return Status::error("error: no graph inputs to bind dataset columns to");
  std::vector<int> uses(ds.columns.size(), 0);
  for (const InputBinding &b : bindings)
    for (size_t c = 0; c < ds.columns.size(); ++c)
      uses[c] += ds.columns[c].first == b.column;
  Dataset out;
  for (const InputBinding &b : bindings) {
    size_t c = 0;
    while (c < ds.columns.size() && ds.columns[c].first != b.column)
      ++c;
    if (c == ds.columns.size()) {
      std::string names;
      for (const auto &col : ds.columns)
        names += (names.empty() ? "" : ", ") + col.first;
      return Status::error("error: no dataset column '" + b.column + "' for graph input '" +
                           b.input + "' (columns: " + names + ")");
    }
    const Tensor &t = ds.columns[c].second;
    if (t.dtype() != b.dtype)
      return Status::error("error: dataset column '" + b.column + "' is " +
                           std::string(dtypeName(t.dtype())) + " but graph input '" + b.input +
                           "' takes " + std::string(dtypeName(b.dtype)));
    Shape example(t.shape().begin() + 1, t.shape().end());
    int64_t want = b.exampleShape.empty() ? 1 : checkedNumElements(b.exampleShape);
    int64_t have = example.empty() ? 1 : checkedNumElements(example);
    if (want != have)
      return Status::error("error: dataset column '" + b.column + "' has examples of shape " +
                           shapeToString(example) + " (" + std::to_string(have) +
                           " elements) but graph input '" + b.input + "' takes " +
                           shapeToString(b.exampleShape) + " (" + std::to_string(want) + ")");
    // The last use of a column takes it; earlier uses copy it.
    Tensor col = --uses[c] == 0 ? std::move(ds.columns[c].second) : ds.columns[c].second;
    out.columns.emplace_back(b.input, std::move(col));
    if (example != b.exampleShape)
      KILN_TRY(reshapeColumn(out, b.input, b.exampleShape));
  }
  KILN_TRY(checkDataset(out, "bound inputs"));
  return out;
}

Expected<Dataset> readSafetensorsDataset(const std::string &path) {
  KILN_ASSIGN(NamedTensors tensors, readSafetensors(path));
  Dataset ds;
  ds.columns = std::move(tensors);
  if (ds.columns.empty())
    return Status::error(path + ": error: the file holds no tensors, so no dataset columns");
  KILN_TRY(checkDataset(ds, path));
  return ds;
}

} // namespace kiln::data
