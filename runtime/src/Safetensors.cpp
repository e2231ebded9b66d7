// Safetensors reader and writer. Layout: u64 little-endian header length N, N bytes of JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then data.
#include "kiln/runtime/Safetensors.h"

#include "kiln/runtime/FileUtil.h"
#include "kiln/runtime/JsonScan.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace kiln {

namespace {
/// Headers larger than this are refused outright (real ones are a few KiB per tensor).
constexpr uint64_t kMaxHeaderBytes = 100u << 20;
/// Deeper JSON than this in a header is hostile: real headers have depth 3.
constexpr int kMaxHeaderDepth = 8;

Status err(const std::string &path, const std::string &msg) {
  return Status::error(path + ": error: safetensors: " + msg);
}

} // namespace

Expected<NamedTensors> parseSafetensors(std::string_view bytes, const std::string &path,
                                        SafetensorsMetadata *metadata) {
  if (bytes.size() < 8)
    return err(path, "file is shorter than its 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | uint8_t(bytes[size_t(i)]);
  if (n > kMaxHeaderBytes || n > bytes.size() - 8)
    return err(path, "header length " + std::to_string(n) + " exceeds the file size " +
                         std::to_string(bytes.size()));
  std::string_view header = bytes.substr(8, size_t(n));
  std::string_view data = bytes.substr(8 + size_t(n));
  if (findExcessiveNesting(header, kMaxHeaderDepth) != std::string_view::npos)
    return err(path, "header is nested too deeply");
  // nlohmann keeps the last of two equal keys; a file naming a tensor twice is rejected instead.
  std::unordered_set<std::string> seen;
  std::string duplicate;
  auto onEvent = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json &parsed) {
    if (depth == 1 && event == nlohmann::json::parse_event_t::key && duplicate.empty()) {
      std::string key = parsed.get<std::string>();
      if (!seen.insert(key).second)
        duplicate = key;
    }
    return true;
  };
  nlohmann::json j = nlohmann::json::parse(header, onEvent, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return err(path, "header is not valid JSON");
  if (!duplicate.empty())
    return err(path, "tensor '" + duplicate + "' is named twice in the header");
  if (!j.is_object())
    return err(path, "header is not a JSON object");

  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (auto &[name, info] : j.items()) {
    if (name == "__metadata__") {
      if (!metadata)
        continue;
      if (!info.is_object())
        return err(path, "'__metadata__' is not an object");
      for (auto &[key, value] : info.items()) {
        if (!value.is_string())
          return err(path, "'__metadata__' entry '" + key + "' is not a string");
        metadata->emplace_back(key, value.get<std::string>());
      }
      continue;
    }
    std::string where = "tensor '" + name + "': ";
    if (!info.is_object())
      return err(path, where + "entry is not an object");
    auto dt = info.find("dtype");
    auto sh = info.find("shape");
    auto off = info.find("data_offsets");
    if (dt == info.end() || !dt->is_string())
      return err(path, where + "missing or non-string 'dtype'");
    auto dtype = parseSafetensorsDType(dt->get<std::string>());
    if (!dtype)
      return err(path, where + "unsupported dtype '" + dt->get<std::string>() +
                           "' (expected F32, F64, I32, I64 or BOOL)");
    if (sh == info.end() || !sh->is_array())
      return err(path, where + "missing or non-array 'shape'");
    Shape shape;
    for (auto &d : *sh) {
      if (!d.is_number_integer() || d.get<int64_t>() <= 0)
        return err(path, where + "shape entries must be positive integers");
      shape.push_back(d.get<int64_t>());
    }
    int64_t count = checkedNumElements(shape);
    if (count < 0)
      return err(path, where + "shape " + shapeToString(shape) + " is too large");
    if (off == info.end() || !off->is_array() || off->size() != 2 ||
        !(*off)[0].is_number_unsigned() || !(*off)[1].is_number_unsigned())
      return err(path, where + "'data_offsets' must be two non-negative integers");
    uint64_t b = (*off)[0].get<uint64_t>(), e = (*off)[1].get<uint64_t>();
    if (b > e || e > data.size())
      return err(path, where + "data_offsets [" + std::to_string(b) + ", " + std::to_string(e) +
                           "] lie outside the " + std::to_string(data.size()) + " data bytes");
    if (e - b != uint64_t(count) * dtypeSize(*dtype))
      return err(path, where + "data_offsets span " + std::to_string(e - b) + " bytes but " +
                           std::string(safetensorsName(*dtype)) + shapeToString(shape) +
                           " needs " + std::to_string(uint64_t(count) * dtypeSize(*dtype)));
    entries.push_back({name, *dtype, std::move(shape), b, e});
  }
  // Data ranges must not overlap (the format requires them to tile the buffer).
  std::vector<const Entry *> order;
  for (auto &e : entries)
    order.push_back(&e);
  std::sort(order.begin(), order.end(), [](auto *a, auto *b) { return a->begin < b->begin; });
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->begin < order[i - 1]->end)
      return err(path, "tensors '" + order[i - 1]->name + "' and '" + order[i]->name +
                           "' have overlapping data");

  NamedTensors out;
  out.reserve(entries.size());
  for (auto &e : entries) {
    Tensor t(e.dtype, e.shape);
    if (t.byteSize())
      std::memcpy(t.raw(), data.data() + e.begin, t.byteSize());
    out.emplace_back(e.name, std::move(t));
  }
  // nlohmann's object is sorted by key; report tensors in data order, as they were written.
  std::vector<size_t> idx(out.size());
  for (size_t i = 0; i < idx.size(); ++i)
    idx[i] = i;
  std::sort(idx.begin(), idx.end(),
            [&](size_t a, size_t b) { return entries[a].begin < entries[b].begin; });
  NamedTensors ordered;
  ordered.reserve(out.size());
  for (size_t i : idx)
    ordered.push_back(std::move(out[i]));
  return ordered;
}

Expected<NamedTensors> readSafetensors(const std::string &path, SafetensorsMetadata *metadata) {
  KILN_ASSIGN(std::string bytes, readFile(path));
  return parseSafetensors(bytes, path, metadata);
}

std::string serializeSafetensors(const NamedTensors &tensors,
                                 const SafetensorsMetadata &metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (auto &[key, value] : metadata)
      m[key] = value;
    header["__metadata__"] = std::move(m);
  }
  uint64_t offset = 0;
  for (auto &[name, t] : tensors) {
    header[name] = {{"dtype", std::string(safetensorsName(t.dtype()))},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + t.byteSize()}}};
    offset += t.byteSize();
  }
  std::string h = header.dump();
  // Pad the header with spaces to a multiple of 8 so that data is aligned, as the spec allows.
  while ((h.size() + 8) % 8)
    h += ' ';
  std::string out(8, '\0');
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i)
    out[size_t(i)] = char((n >> (8 * i)) & 0xff);
  out += h;
  for (auto &[name, t] : tensors)
    out.append(static_cast<const char *>(t.raw()), t.byteSize());
  return out;
}

Status writeSafetensors(const std::string &path, const NamedTensors &tensors,
                        const SafetensorsMetadata &metadata) {
  return writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

} // namespace kiln
