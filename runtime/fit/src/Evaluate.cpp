// evaluate() and predict(): inference over every example exactly once with a static batch size.
#include "FitInternal.h"
#include "kiln/data/BatchIterator.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <set>

namespace kiln::fit {

double Evaluation::get(const std::string &name) const {
  return findLog(values, name).value_or(std::numeric_limits<double>::quiet_NaN());
}

namespace detail {

namespace {

/// Zero tensors for the inputs `exe` has that `bound` does not feed, so that the inference entry
/// (which requires every input) can run.
NamedTensors zeroFeeds(const Executable &exe, const data::Dataset &bound) {
  NamedTensors out;
  for (const BufferSlot &s : exe.inputs())
    if (!bound.column(s.name))
      out.emplace_back(s.name, Tensor(s.dtype, s.shape));
  return out;
}

/// Copies row `from` of every tensor over rows [first, B).
void fillRows(NamedTensors &batch, int64_t from, int64_t first) {
  for (auto &[name, t] : batch) {
    size_t row = data::rowBytes(t);
    char *base = static_cast<char *>(t.raw());
    for (int64_t r = first; r < t.shape()[0]; ++r)
      if (r != from)
        std::memcpy(base + size_t(r) * row, base + size_t(from) * row, row);
  }
}

/// Appends the zero feeds to a batch (copied: a run must not see a batch it can reorder).
NamedTensors withZeros(const NamedTensors &batch, const NamedTensors &zeros) {
  NamedTensors feeds = batch;
  feeds.insert(feeds.end(), zeros.begin(), zeros.end());
  return feeds;
}

} // namespace

Expected<Evaluation> evaluateBound(Executable &exe, const data::Dataset &bound, int64_t batch,
                                   const std::vector<std::string> &steps) {
  const EntryPoint *predictEntry = exe.findEntry("predict");
  if (!predictEntry)
    return Status::error("evaluate: graph '" + exe.graphName() + "' has no inference entry");
  // What to measure: each step's loss and metrics, read from the inference run's outputs.
  struct Measured {
    std::string log;
    size_t output;
  };
  std::vector<Measured> measured;
  bool several = steps.size() > 1;
  for (const std::string &step : steps) {
    const EntryPoint *e = exe.findEntry(step);
    for (const std::string &in : e->requiredInputs)
      if (!bound.column(in))
        return Status::error("evaluate: train step '" + step + "' reads input '" + in +
                             "', which the input mapping does not feed");
    for (size_t i = 0; i < e->results.size(); ++i) {
      const BufferSlot &r = e->results[i];
      auto outputIndex = [&](const std::string &name) {
        size_t k = 0;
        while (k < predictEntry->results.size() && predictEntry->results[k].name != name)
          ++k;
        return k;
      };
      size_t k = outputIndex(r.name);
      // A regularized step's loss is "<step>/loss" = the graph's loss + the penalty, which is
      // no output; evaluate then reports the data loss alone (Keras would add the penalty), when
      // the graph's loss is an output called "loss" as in every sample.
      if (k == predictEntry->results.size() && i == 0 && r.name == step + "/loss")
        k = outputIndex("loss");
      std::string what = i == 0 ? "loss" : "metric";
      if (k == predictEntry->results.size())
        return Status::error("evaluate: the " + what + " '" + r.name + "' of train step '" + step +
                             "' is not an output of graph '" + exe.graphName() +
                             "' (evaluate reads it from the inference run: list it in outputs)");
      if (predictEntry->results[k].shape.size() != 0)
        return Status::error("evaluate: the " + what + " '" + r.name + "' is not a scalar");
      measured.push_back({logName(step, i == 0 ? "loss" : r.name, several), k});
    }
  }

  KILN_ASSIGN(data::BatchIterator it,
              data::BatchIterator::create(bound, {batch, false, 0, data::LastBatch::Pad}));
  NamedTensors zeros = zeroFeeds(exe, bound);
  std::vector<double> sums(measured.size(), 0.0);
  NamedTensors rows;
  int64_t real = 0, count = 0;
  const double b = double(batch);
  while (it.next(rows, &real)) {
    if (real < batch)
      fillRows(rows, 0, real); // pad with copies of the batch's first row e
    KILN_ASSIGN(NamedTensors out, exe.run(withZeros(rows, zeros)));
    for (size_t k = 0; k < measured.size(); ++k)
      sums[k] += b * out[measured[k].output].second.at(0);
    if (real < batch) {
      // m1 = (S_real + (B-r) f(e)) / B and m2 = f(e) from a batch of B copies of e.
      fillRows(rows, 0, 1);
      KILN_ASSIGN(NamedTensors only, exe.run(withZeros(rows, zeros)));
      for (size_t k = 0; k < measured.size(); ++k)
        sums[k] -= double(batch - real) * only[measured[k].output].second.at(0);
    }
    count += real;
  }
  Evaluation result;
  result.examples = count;
  for (size_t k = 0; k < measured.size(); ++k)
    result.values.emplace_back(measured[k].log, sums[k] / double(count));
  return result;
}

} // namespace detail

Expected<Evaluation> evaluate(Executable &exe, data::Dataset ds, const InputMap &givenMap,
                              const std::vector<std::string> &steps) {
  KILN_ASSIGN(std::vector<std::string> names, detail::stepNames(exe, steps));
  InputMap map = givenMap;
  if (map.empty()) {
    KILN_ASSIGN(map, defaultInputMap(exe, ds));
  }
  KILN_ASSIGN(int64_t batch, batchSizeOf(exe, map));
  KILN_ASSIGN(data::Dataset bound, bindDataset(exe, std::move(ds), map));
  return detail::evaluateBound(exe, bound, batch, names);
}

Expected<NamedTensors> predict(Executable &exe, data::Dataset ds, const InputMap &map) {
  if (!exe.findEntry("predict"))
    return Status::error("predict: graph '" + exe.graphName() + "' has no inference entry");
  KILN_ASSIGN(int64_t batch, batchSizeOf(exe, map));
  KILN_ASSIGN(data::Dataset bound, bindDataset(exe, std::move(ds), map));
  KILN_ASSIGN(data::BatchIterator it,
              data::BatchIterator::create(bound, {batch, false, 0, data::LastBatch::Pad}));
  NamedTensors zeros = detail::zeroFeeds(exe, bound);
  const int64_t n = bound.size();
  NamedTensors result;
  std::vector<size_t> picked; // indices of the per-example outputs in a run's results
  NamedTensors rows;
  int64_t real = 0, at = 0;
  while (it.next(rows, &real)) {
    KILN_ASSIGN(NamedTensors out, exe.run(detail::withZeros(rows, zeros)));
    if (result.empty() && picked.empty()) {
      for (size_t k = 0; k < out.size(); ++k) {
        const Tensor &t = out[k].second;
        if (t.rank() < 1 || t.shape()[0] != batch)
          continue;
        Shape shape = t.shape();
        shape[0] = n;
        KILN_ASSIGN(Tensor all, Tensor::create(t.dtype(), shape));
        result.emplace_back(out[k].first, std::move(all));
        picked.push_back(k);
      }
      if (picked.empty())
        return Status::error("predict: graph '" + exe.graphName() +
                             "' has no output with the batch as its leading dimension");
    }
    for (size_t j = 0; j < picked.size(); ++j) {
      const Tensor &t = out[picked[j]].second;
      size_t row = data::rowBytes(t);
      std::memcpy(static_cast<char *>(result[j].second.raw()) + size_t(at) * row, t.raw(),
                  size_t(real) * row);
    }
    at += real;
  }
  return result;
}

} // namespace kiln::fit
