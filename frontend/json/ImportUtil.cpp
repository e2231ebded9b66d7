// Field readers of the importer: each checks one JSON value's type and range and, on failure,
// returns one located message naming the field and what was expected.
#include "compiler/support/Diagnostic.h"
#include "frontend/json/Importer.h"

#include <limits>

namespace kiln::json {

std::string describe(const Json &j) {
  std::string s = j.dump();
  if (s.size() > 40)
    s = s.substr(0, 37) + "...";
  return s;
}

Importer::Importer(std::shared_ptr<const JsonLocations> locs, std::string baseDir)
    : locs_(std::move(locs)), baseDir_(std::move(baseDir)) {}

Status Importer::err(const JsonPath &p, const std::string &who, const std::string &msg) const {
  return errorAt(loc(p), who.empty() ? msg : who + ": " + msg);
}

Status Importer::checkKeys(const Json &obj, const JsonPath &p, const std::string &who,
                           std::initializer_list<std::string_view> allowed) const {
  for (auto &[key, value] : obj.items()) {
    bool known = false;
    for (auto a : allowed)
      known = known || a == key;
    if (known)
      continue;
    std::string list;
    for (auto a : allowed)
      list += (list.empty() ? "" : ", ") + std::string(a);
    return err(p / key, who, "unknown field '" + key + "' (expected " + list + ")");
  }
  return Status::ok();
}

Status Importer::requireObject(const Json &j, const JsonPath &p, const std::string &who,
                               const std::string &what) const {
  if (j.is_object())
    return Status::ok();
  return err(p, who, what + " must be an object, got " + describe(j));
}

Status Importer::requireArray(const Json &j, const JsonPath &p, const std::string &who,
                              const std::string &what) const {
  if (!j.is_array())
    return err(p, who, what + " must be a list, got " + describe(j));
  if (j.size() > kMaxEntries)
    return err(p, who, what + " has " + std::to_string(j.size()) + " entries (the limit is " +
                           std::to_string(kMaxEntries) + ")");
  return Status::ok();
}

Expected<const Json *> Importer::field(const Json &obj, const JsonPath &p, const std::string &who,
                                       const char *key) const {
  auto it = obj.find(key);
  if (it == obj.end())
    return err(p, who, std::string("missing required field '") + key + "'");
  return &*it;
}

Expected<std::string> Importer::getString(const Json &j, const JsonPath &p, const std::string &who,
                                          const std::string &what) const {
  if (!j.is_string())
    return err(p, who, what + " must be a string, got " + describe(j));
  return j.get<std::string>();
}

Expected<double> Importer::getNumber(const Json &j, const JsonPath &p, const std::string &who,
                                     const std::string &what) const {
  if (!j.is_number())
    return err(p, who, what + " must be a number, got " + describe(j));
  return j.get<double>();
}

Expected<int64_t> Importer::getInt(const Json &j, const JsonPath &p, const std::string &who,
                                   const std::string &what) const {
  if (!j.is_number_integer())
    return err(p, who, what + " must be an integer, got " + describe(j));
  if (j.is_number_unsigned() && j.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
    return err(p, who, what + " is too large, got " + describe(j));
  return j.get<int64_t>();
}

Expected<bool> Importer::getBool(const Json &j, const JsonPath &p, const std::string &who,
                                 const std::string &what) const {
  if (!j.is_boolean())
    return err(p, who, what + " must be true or false, got " + describe(j));
  return j.get<bool>();
}

Expected<uint64_t> Importer::getSeed(const Json &j, const JsonPath &p,
                                     const std::string &who) const {
  if (j.is_number_unsigned())
    return j.get<uint64_t>();
  return err(p, who, "'seed' must be a non-negative integer, got " + describe(j));
}

Expected<Shape> Importer::getShape(const Json &j, const JsonPath &p, const std::string &who) const {
  if (!j.is_array())
    return err(p, who, "'shape' must be a list of positive integers, got " + describe(j));
  if (j.size() > 64)
    return err(p, who, "shape has rank " + std::to_string(j.size()) + " (the limit is 64)");
  Shape shape;
  for (size_t k = 0; k < j.size(); ++k) {
    const Json &d = j[k];
    if (!d.is_number_integer() || (!d.is_number_unsigned() && d.get<int64_t>() <= 0) ||
        (d.is_number_unsigned() && d.get<uint64_t>() == 0))
      return err(p / k, who, "shape dimensions must be positive integers, got " + describe(d));
    if (d.is_number_unsigned() && d.get<uint64_t>() > uint64_t(kMaxTensorElements))
      return err(p / k, who, "dimension " + describe(d) + " is too large (at most " +
                                 std::to_string(kMaxTensorElements) + " elements per tensor)");
    shape.push_back(d.get<int64_t>());
  }
  if (checkedNumElements(shape) < 0)
    return err(p, who, "shape " + shapeToString(shape) + " has more than " +
                           std::to_string(kMaxTensorElements) + " elements");
  return shape;
}

Expected<DType> Importer::getDType(const Json &j, const JsonPath &p, const std::string &who) const {
  if (j.is_string())
    if (auto dt = parseDType(j.get<std::string>()))
      return *dt;
  return err(p, who,
             "'dtype' must be one of \"f32\", \"f64\", \"i32\", \"i64\", \"bool\", got " +
                 describe(j));
}

Status Importer::declareName(const std::string &name, const JsonPath &namePath) {
  if (!isValidName(name))
    return err(namePath, "",
               "invalid name '" + name + "' (names match [A-Za-z_][A-Za-z0-9_./-]*)");
  auto [it, fresh] = names_.emplace(name, namePath);
  if (!fresh)
    return err(namePath, "",
               "name '" + name + "' is defined twice (first at " + loc(it->second).str() + ")");
  return Status::ok();
}

} // namespace kiln::json
