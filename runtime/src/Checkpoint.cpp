// Checkpoint files: state tensors plus "kiln.*" metadata in a safetensors image.
#include "kiln/runtime/Checkpoint.h"

#include <charconv>
#include <unordered_map>

namespace kiln {

namespace {

constexpr const char *kFormatKey = "kiln.format";
constexpr const char *kFormat = "kiln-checkpoint-1";

Status fail(const std::string &path, const std::string &message) {
  return Status::error(path + ": error: " + message);
}

/// A non-negative decimal integer, all of it.
bool parseCount(const std::string &text, uint64_t &out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

} // namespace

const std::string *Checkpoint::find(const std::string &key) const {
  for (auto &[k, v] : extra)
    if (k == key)
      return &v;
  return nullptr;
}

Status writeCheckpoint(const std::string &path, const Checkpoint &ckpt) {
  SafetensorsMetadata meta{{kFormatKey, kFormat},
                           {"kiln.graph", ckpt.graph},
                           {"kiln.run_count", std::to_string(ckpt.runCount)},
                           {"kiln.step", std::to_string(ckpt.step)}};
  for (auto &[key, value] : ckpt.extra) {
    if (key.rfind("kiln.", 0) == 0)
      return fail(path, "checkpoint metadata key '" + key + "' is reserved (\"kiln.*\")");
    meta.emplace_back(key, value);
  }
  return writeSafetensors(path, ckpt.state, meta);
}

Expected<Checkpoint> readCheckpoint(const std::string &path) {
  SafetensorsMetadata meta;
  KILN_ASSIGN(NamedTensors state, readSafetensors(path, &meta));
  std::unordered_map<std::string, std::string> kiln;
  Checkpoint ckpt;
  for (auto &[key, value] : meta) {
    if (key.rfind("kiln.", 0) == 0)
      kiln[key] = value;
    else
      ckpt.extra.emplace_back(key, value);
  }
  if (kiln[kFormatKey] != kFormat)
    return fail(path, "not a Kiln checkpoint (its safetensors metadata has no \"" +
                          std::string(kFormatKey) + "\": \"" + kFormat + "\")");
  uint64_t run = 0, step = 0;
  if (!parseCount(kiln["kiln.run_count"], run))
    return fail(path, "checkpoint metadata 'kiln.run_count' is not a count: '" +
                          kiln["kiln.run_count"] + "'");
  if (!parseCount(kiln["kiln.step"], step) || step > uint64_t(INT64_MAX))
    return fail(path, "checkpoint metadata 'kiln.step' is not a count: '" + kiln["kiln.step"] +
                          "'");
  ckpt.graph = kiln["kiln.graph"];
  ckpt.runCount = run;
  ckpt.step = int64_t(step);
  ckpt.state = std::move(state);
  return ckpt;
}

Status checkCheckpoint(const Checkpoint &ckpt, const std::string &graph,
                       const NamedTensors &current, const std::string &path) {
  if (ckpt.graph != graph)
    return fail(path, "checkpoint of graph '" + ckpt.graph + "', not of '" + graph + "'");
  std::unordered_map<std::string, const Tensor *> saved;
  for (auto &[name, t] : ckpt.state)
    saved[name] = &t;
  for (auto &[name, want] : current) {
    auto it = saved.find(name);
    if (it == saved.end())
      return fail(path, "checkpoint has no tensor '" + name + "'");
    const Tensor &got = *it->second;
    if (got.dtype() != want.dtype() || got.shape() != want.shape())
      return fail(path, "checkpoint tensor '" + name + "' is " +
                            std::string(dtypeName(got.dtype())) + shapeToString(got.shape()) +
                            ", the model's " + std::string(dtypeName(want.dtype())) +
                            shapeToString(want.shape()));
    saved.erase(it);
  }
  if (!saved.empty()) {
    // Report the first unexpected tensor in file order, so the message is deterministic.
    for (auto &[name, t] : ckpt.state)
      if (saved.count(name))
        return fail(path, "checkpoint tensor '" + name + "' is not part of graph '" + graph +
                              "'");
  }
  return Status::ok();
}

} // namespace kiln
