// The importer's entry points and the graph's top level: format fields, inputs, params,
// constants, outputs and the weights file. Nodes and training steps have their own files.
#include "compiler/ir/Verifier.h"
#include "compiler/support/Diagnostic.h"
#include "frontend/json/Importer.h"
#include "frontend/json/JsonImporter.h"
#include "kiln/runtime/FileUtil.h"
#include "kiln/runtime/Safetensors.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace kiln {

using json::Json;

Expected<Graph> importJsonText(std::string_view text, const std::string &displayPath,
                               const std::string &baseDir) {
  KILN_TRY(json::checkHostileJson(text, displayPath));
  auto locs = std::make_shared<json::JsonLocations>(std::string(text), displayPath);
  Json root;
  try {
    root = Json::parse(locs->text());
  } catch (const nlohmann::json::parse_error &e) {
    return json::jsonSyntaxError(*locs, e.what(), e.byte);
  } catch (const nlohmann::json::out_of_range &e) {
    return json::jsonNumberOverflow(*locs, e.what());
  } catch (const nlohmann::json::exception &e) {
    return errorAt(locs->locAtOffset(0), std::string("invalid JSON: ") + e.what());
  }
  KILN_TRY(locs->scan());
  json::Importer importer(std::move(locs), baseDir);
  try {
    return importer.run(root);
  } catch (const nlohmann::json::exception &e) {
    // Every access is type-checked first, so this is a bug; still never throw out of the API.
    return Status::error(displayPath + ": error: internal error in the JSON importer: " +
                         e.what());
  }
}

Expected<Graph> importJsonFile(const std::string &path) {
  KILN_ASSIGN(std::string text, readFile(path, json::kMaxJsonBytes));
  size_t slash = path.rfind('/');
  std::string baseDir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  return importJsonText(text, path, baseDir);
}

} // namespace kiln

namespace kiln::json {

Expected<Graph> Importer::run(const Json &root) {
  KILN_TRY(importTop(root));
  KILN_TRY(verify(g_));
  return std::move(g_);
}

Status Importer::importTop(const Json &root) {
  JsonPath top;
  if (!root.is_object())
    return err(top, "", "the top level must be an object, got " + describe(root));
  KILN_TRY(checkKeys(root, top, "",
                     {"format", "version", "name", "seed", "weights", "inputs", "params",
                      "constants", "nodes", "outputs", "train"}));
  for (const char *key : {"format", "version", "name", "inputs", "nodes", "outputs"})
    if (!root.contains(key))
      return err(top, "", std::string("missing required field '") + key + "'");

  const Json &format = root["format"];
  if (!format.is_string() || format.get<std::string>() != "kiln-graph")
    return err(top / "format", "", "'format' must be \"kiln-graph\", got " + describe(format));
  const Json &version = root["version"];
  if (!version.is_number_integer() || !version.is_number_unsigned() ||
      version.get<uint64_t>() != 1)
    return err(top / "version", "",
               "unsupported version " + describe(version) + " (this reader knows version 1)");
  KILN_ASSIGN(std::string name, getString(root["name"], top / "name", "", "'name'"));
  if (!isValidName(name))
    return err(top / "name", "",
               "invalid graph name '" + name + "' (names match [A-Za-z_][A-Za-z0-9_./-]*)");
  g_.setName(name);
  if (root.contains("seed")) {
    KILN_ASSIGN(uint64_t seed, getSeed(root["seed"], top / "seed", ""));
    g_.setSeed(seed);
  }
  std::string weights;
  if (root.contains("weights")) {
    KILN_ASSIGN(weights, getString(root["weights"], top / "weights", "", "'weights'"));
    if (weights.empty())
      return err(top / "weights", "", "'weights' must name a file");
    g_.setWeightsFile(weights);
  }

  installLocRefiner();
  KILN_TRY(importInputs(root["inputs"], top / "inputs"));
  if (root.contains("params"))
    KILN_TRY(importParams(root["params"], top / "params"));
  if (root.contains("constants"))
    KILN_TRY(importConstants(root["constants"], top / "constants"));
  KILN_TRY(importNodes(root["nodes"], top / "nodes"));
  KILN_TRY(importOutputs(root["outputs"], top / "outputs"));
  if (root.contains("train"))
    KILN_TRY(importTrain(root["train"], top / "train"));
  if (!weights.empty())
    KILN_TRY(importWeights(weights, top / "weights"));
  return Status::ok();
}

Status Importer::importInputs(const Json &list, const JsonPath &p) {
  KILN_TRY(requireArray(list, p, "", "'inputs'"));
  for (size_t i = 0; i < list.size(); ++i) {
    const Json &e = list[i];
    JsonPath ep = p / i;
    KILN_TRY(requireObject(e, ep, "", "an input"));
    KILN_TRY(checkKeys(e, ep, "input", {"name", "dtype", "shape"}));
    KILN_ASSIGN(const Json *nameJ, field(e, ep, "input", "name"));
    KILN_ASSIGN(std::string name, getString(*nameJ, ep / "name", "input", "'name'"));
    KILN_TRY(declareName(name, ep / "name"));
    std::string who = "input '" + name + "'";
    TensorType type;
    if (e.contains("dtype")) {
      KILN_ASSIGN(type.dtype, getDType(e["dtype"], ep / "dtype", who));
    }
    KILN_ASSIGN(const Json *shapeJ, field(e, ep, who, "shape"));
    KILN_ASSIGN(type.shape, getShape(*shapeJ, ep / "shape", who));
    KILN_TRY(g_.addInput(name, std::move(type), loc(ep)).status());
  }
  return Status::ok();
}

Status Importer::importParams(const Json &list, const JsonPath &p) {
  KILN_TRY(requireArray(list, p, "", "'params'"));
  for (size_t i = 0; i < list.size(); ++i) {
    const Json &e = list[i];
    JsonPath ep = p / i;
    KILN_TRY(requireObject(e, ep, "", "a param"));
    KILN_TRY(checkKeys(e, ep, "param", {"name", "shape", "dtype", "init", "trainable"}));
    KILN_ASSIGN(const Json *nameJ, field(e, ep, "param", "name"));
    KILN_ASSIGN(std::string name, getString(*nameJ, ep / "name", "param", "'name'"));
    KILN_TRY(declareName(name, ep / "name"));
    std::string who = "param '" + name + "'";
    TensorType type;
    if (e.contains("dtype")) {
      KILN_ASSIGN(type.dtype, getDType(e["dtype"], ep / "dtype", who));
    }
    KILN_ASSIGN(const Json *shapeJ, field(e, ep, who, "shape"));
    KILN_ASSIGN(type.shape, getShape(*shapeJ, ep / "shape", who));
    // Without an init, Keras's Dense defaults: glorot_uniform for matrices, zeros otherwise.
    Initializer init;
    init.kind = type.rank() >= 2 ? InitKind::GlorotUniform : InitKind::Zeros;
    if (e.contains("init")) {
      KILN_ASSIGN(init, importInit(e["init"], ep / "init", who, type));
    }
    bool trainable = true;
    if (e.contains("trainable")) {
      KILN_ASSIGN(trainable, getBool(e["trainable"], ep / "trainable", who, "'trainable'"));
    }
    if (trainable && !isFloat(type.dtype))
      return err(e.contains("dtype") ? ep / "dtype" : ep, who,
                 "a trainable param must be f32 or f64, not " +
                     std::string(dtypeName(type.dtype)) +
                     " (set \"trainable\": false for other state)");
    KILN_TRY(g_.addParam(name, std::move(type), std::move(init), trainable, loc(ep)).status());
  }
  return Status::ok();
}

Expected<Initializer> Importer::importInit(const Json &j, const JsonPath &p,
                                           const std::string &who, const TensorType &type) {
  Initializer init;
  const std::string kinds = "zeros, ones, constant, uniform, normal, glorot_uniform, "
                            "glorot_normal, he_uniform, he_normal, value";
  if (j.is_string()) {
    auto kind = parseInitKind(j.get<std::string>());
    if (!kind)
      return err(p, who, "unknown init " + describe(j) + " (expected " + kinds + ")");
    if (*kind == InitKind::Value)
      return err(p, who, "init \"value\" needs an object with 'data'");
    init.kind = *kind;
    return init;
  }
  if (!j.is_object())
    return err(p, who, "'init' must be a string or an object, got " + describe(j));
  KILN_ASSIGN(const Json *kindJ, field(j, p, who, "kind"));
  auto kind = kindJ->is_string() ? parseInitKind(kindJ->get<std::string>()) : std::nullopt;
  if (!kind)
    return err(p / "kind", who, "unknown init " + describe(*kindJ) + " (expected " + kinds + ")");
  init.kind = *kind;
  std::string what = "init '" + std::string(initKindName(*kind)) + "'";
  switch (*kind) {
  case InitKind::Constant: KILN_TRY(checkKeys(j, p, who, {"kind", "value", "seed"})); break;
  case InitKind::Uniform: KILN_TRY(checkKeys(j, p, who, {"kind", "low", "high", "seed"})); break;
  case InitKind::Normal: KILN_TRY(checkKeys(j, p, who, {"kind", "mean", "stddev", "seed"})); break;
  case InitKind::Value: KILN_TRY(checkKeys(j, p, who, {"kind", "data", "seed"})); break;
  case InitKind::Zeros:
  case InitKind::Ones:
  case InitKind::GlorotUniform:
  case InitKind::GlorotNormal:
  case InitKind::HeUniform:
  case InitKind::HeNormal: KILN_TRY(checkKeys(j, p, who, {"kind", "seed"})); break;
  }
  auto number = [&](const char *key, double &out) -> Status {
    if (j.contains(key)) {
      KILN_ASSIGN(out, getNumber(j[key], p / key, who, std::string("'") + key + "'"));
    }
    return Status::ok();
  };
  KILN_TRY(number("value", init.value));
  KILN_TRY(number("low", init.low));
  KILN_TRY(number("high", init.high));
  KILN_TRY(number("mean", init.mean));
  KILN_TRY(number("stddev", init.stddev));
  if (init.low > init.high)
    return err(p, who, what + " needs low <= high");
  if (init.stddev < 0)
    return err(p / "stddev", who, what + " needs a non-negative stddev");
  if (j.contains("seed")) {
    KILN_ASSIGN(init.seed, getSeed(j["seed"], p / "seed", who));
  }
  if (*kind == InitKind::Value) {
    KILN_ASSIGN(const Json *data, field(j, p, who, "data"));
    if (!data->is_array())
      return err(p / "data", who, "init 'data' must be a flat list of numbers, got " +
                                      describe(*data));
    if (int64_t(data->size()) != type.numElements())
      return err(p / "data", who, "init data has " + std::to_string(data->size()) +
                                      " values but shape " + shapeToString(type.shape) +
                                      " needs " + std::to_string(type.numElements()));
    for (size_t k = 0; k < data->size(); ++k) {
      KILN_ASSIGN(double v, getNumber((*data)[k], p / "data" / k, who, "init data"));
      init.data.push_back(v);
    }
  }
  return init;
}

Status Importer::importConstants(const Json &list, const JsonPath &p) {
  KILN_TRY(requireArray(list, p, "", "'constants'"));
  for (size_t i = 0; i < list.size(); ++i) {
    const Json &e = list[i];
    JsonPath ep = p / i;
    KILN_TRY(requireObject(e, ep, "", "a constant"));
    KILN_TRY(checkKeys(e, ep, "constant", {"name", "shape", "dtype", "value"}));
    KILN_ASSIGN(const Json *nameJ, field(e, ep, "constant", "name"));
    KILN_ASSIGN(std::string name, getString(*nameJ, ep / "name", "constant", "'name'"));
    KILN_TRY(declareName(name, ep / "name"));
    std::string who = "constant '" + name + "'";
    DType dtype = DType::F32;
    if (e.contains("dtype")) {
      KILN_ASSIGN(dtype, getDType(e["dtype"], ep / "dtype", who));
    }
    KILN_ASSIGN(const Json *value, field(e, ep, who, "value"));
    // Without a shape, a number is a scalar and a list a vector.
    Shape shape;
    if (e.contains("shape")) {
      KILN_ASSIGN(shape, getShape(e["shape"], ep / "shape", who));
    } else if (value->is_array()) {
      shape = {int64_t(value->size())};
    }
    KILN_ASSIGN(Tensor t, importConstantValue(*value, ep / "value", who, dtype, shape));
    KILN_TRY(g_.addConstant(name, std::move(t), loc(ep)).status());
  }
  return Status::ok();
}

Expected<Tensor> Importer::importConstantValue(const Json &j, const JsonPath &p,
                                               const std::string &who, DType dtype,
                                               const Shape &shape) {
  int64_t n = checkedNumElements(shape);
  if (j.is_array() && j.empty())
    return err(p, who, "'value' must not be an empty list");
  if (j.is_array() && int64_t(j.size()) != n)
    return err(p, who, "value has " + std::to_string(j.size()) + " numbers but shape " +
                           shapeToString(shape) + " needs " + std::to_string(n));
  KILN_ASSIGN(Tensor t, Tensor::create(dtype, shape));
  std::string dt(dtypeName(dtype));
  auto store = [&](const Json &v, const JsonPath &vp, int64_t i) -> Status {
    switch (dtype) {
    case DType::Bool:
      if (!v.is_boolean())
        return err(vp, who, "bool values must be true or false, got " + describe(v));
      t.data<uint8_t>()[i] = v.get<bool>() ? 1 : 0;
      return Status::ok();
    case DType::I32:
    case DType::I64: {
      if (!v.is_number_integer())
        return err(vp, who, dt + " values must be integers, got " + describe(v));
      bool fits = v.is_number_unsigned()
                      ? v.get<uint64_t>() <= uint64_t(dtype == DType::I32
                                                          ? std::numeric_limits<int32_t>::max()
                                                          : std::numeric_limits<int64_t>::max())
                      : (dtype == DType::I64 ||
                         v.get<int64_t>() >= std::numeric_limits<int32_t>::min());
      if (!fits)
        return err(vp, who, "value " + describe(v) + " does not fit " + dt);
      if (dtype == DType::I32)
        t.data<int32_t>()[i] = int32_t(v.get<int64_t>());
      else
        t.data<int64_t>()[i] = v.get<int64_t>();
      return Status::ok();
    }
    case DType::F32:
    case DType::F64: {
      double d;
      // JSON has no infinities or NaN; the exporter writes them as these strings.
      if (v.is_string() && v.get<std::string>() == "inf")
        d = std::numeric_limits<double>::infinity();
      else if (v.is_string() && v.get<std::string>() == "-inf")
        d = -std::numeric_limits<double>::infinity();
      else if (v.is_string() && v.get<std::string>() == "nan")
        d = std::numeric_limits<double>::quiet_NaN();
      else if (v.is_number())
        d = v.get<double>();
      else
        return err(vp, who, dt + " values must be numbers, got " + describe(v));
      if (dtype == DType::F32 && std::isfinite(d) &&
          std::fabs(d) > double(std::numeric_limits<float>::max()))
        return err(vp, who, "value " + describe(v) + " does not fit f32");
      if (dtype == DType::F32)
        t.data<float>()[i] = float(d);
      else
        t.data<double>()[i] = d;
      return Status::ok();
    }
    }
    return Status::ok();
  };
  if (j.is_array()) {
    for (size_t k = 0; k < j.size(); ++k)
      KILN_TRY(store(j[k], p / k, int64_t(k)));
    return t;
  }
  if (j.is_object() || j.is_null())
    return err(p, who, "'value' must be a number or a flat list, got " + describe(j));
  KILN_TRY(store(j, p, 0));
  size_t width = dtypeSize(dtype);
  auto *bytes = static_cast<char *>(t.raw());
  for (int64_t k = 1; k < n; ++k)
    std::memcpy(bytes + size_t(k) * width, bytes, width);
  return t;
}

Status Importer::importOutputs(const Json &list, const JsonPath &p) {
  KILN_TRY(requireArray(list, p, "", "'outputs'"));
  if (list.empty())
    return err(p, "", "'outputs' must name at least one value");
  for (size_t i = 0; i < list.size(); ++i) {
    KILN_ASSIGN(std::string ref, getString(list[i], p / i, "", "an output"));
    auto v = lookup(ref);
    if (!v)
      return err(p / i, "", "output '" + ref + "' is not defined");
    g_.addOutput(*v);
  }
  return Status::ok();
}

Status Importer::importWeights(const std::string &file, const JsonPath &p) {
  std::string path = (!file.empty() && file[0] == '/') ? file : baseDir_ + file;
  std::string who = "weights file '" + file + "'";
  auto tensors = readSafetensors(path);
  if (!tensors) {
    // The runtime's messages read "PATH: error: [safetensors: ]what"; keep only "what".
    std::string msg = tensors.message();
    for (std::string prefix : {path + ": error: safetensors: ", path + ": error: "})
      if (msg.rfind(prefix, 0) == 0) {
        msg = msg.substr(prefix.size());
        break;
      }
    return err(p, who, msg);
  }
  for (auto &[name, tensor] : *tensors) {
    Node *n = g_.find(name);
    if (!n || !n->isParam())
      return err(p, who, "tensor '" + name + "' matches no param");
    TensorType have{tensor.dtype(), tensor.shape()};
    if (!(have == n->type()))
      return err(p, who, "tensor '" + name + "' is " + have.str() + " but param '" + name +
                             "' is " + n->type().str());
    n->setValue(std::make_shared<const Tensor>(std::move(tensor)));
  }
  return Status::ok();
}

} // namespace kiln::json
