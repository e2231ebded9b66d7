// The importer's internals, shared by ImportGraph.cpp, ImportNodes.cpp, ImportTrain.cpp and
// ImportUtil.cpp: one Importer object walks the parsed document and builds the Graph.
#pragma once

#include "compiler/ir/Graph.h"
#include "frontend/json/JsonLocations.h"

#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kiln::json {

/// ordered_json keeps keys in file order, so "unknown key" errors name the first one written.
using Json = nlohmann::ordered_json;

/// A short rendering of a JSON value for messages ("abc" quoted, long values cut).
std::string describe(const Json &j);

class Importer {
public:
  Importer(std::shared_ptr<const JsonLocations> locs, std::string baseDir);
  /// Builds and verifies the graph described by `root`.
  Expected<Graph> run(const Json &root);

  // ---- helpers (ImportUtil.cpp) ----
  Loc loc(const JsonPath &p) const { return locs_->loc(p); }
  /// A located error; `who` ("conv2d 'c1'", "input 'x'") prefixes the message if not empty.
  Status err(const JsonPath &p, const std::string &who, const std::string &msg) const;
  /// Rejects keys of the object `obj` that are not in `allowed`.
  Status checkKeys(const Json &obj, const JsonPath &p, const std::string &who,
                   std::initializer_list<std::string_view> allowed) const;
  Status requireObject(const Json &j, const JsonPath &p, const std::string &who,
                       const std::string &what) const;
  Status requireArray(const Json &j, const JsonPath &p, const std::string &who,
                      const std::string &what) const;
  /// obj[key], or an error naming the missing field.
  Expected<const Json *> field(const Json &obj, const JsonPath &p, const std::string &who,
                               const char *key) const;
  Expected<std::string> getString(const Json &j, const JsonPath &p, const std::string &who,
                                  const std::string &what) const;
  Expected<double> getNumber(const Json &j, const JsonPath &p, const std::string &who,
                             const std::string &what) const;
  Expected<int64_t> getInt(const Json &j, const JsonPath &p, const std::string &who,
                           const std::string &what) const;
  Expected<bool> getBool(const Json &j, const JsonPath &p, const std::string &who,
                         const std::string &what) const;
  Expected<uint64_t> getSeed(const Json &j, const JsonPath &p, const std::string &who) const;
  Expected<Shape> getShape(const Json &j, const JsonPath &p, const std::string &who) const;
  Expected<DType> getDType(const Json &j, const JsonPath &p, const std::string &who) const;
  /// Checks a name's spelling and that it is not used yet, then records it.
  Status declareName(const std::string &name, const JsonPath &namePath);
  /// Resolves "n" / "n:k" among values already built.
  std::optional<Value> lookup(const std::string &ref) const { return g_.lookupValue(ref); }

private:
  Status importTop(const Json &root);
  Status importInputs(const Json &list, const JsonPath &p);
  Status importParams(const Json &list, const JsonPath &p);
  Expected<Initializer> importInit(const Json &j, const JsonPath &p, const std::string &who,
                                   const TensorType &type);
  Status importConstants(const Json &list, const JsonPath &p);
  Expected<Tensor> importConstantValue(const Json &j, const JsonPath &p, const std::string &who,
                                       DType dtype, const Shape &shape);
  Status importNodes(const Json &list, const JsonPath &p);                 // ImportNodes.cpp
  Expected<AttrMap> importAttrs(const Json &attrs, const JsonPath &p, const OpInfo &info,
                                const std::string &who);                   // ImportNodes.cpp
  void installLocRefiner();                                                 // ImportNodes.cpp
  Status importOutputs(const Json &list, const JsonPath &p);
  Status importTrain(const Json &train, const JsonPath &p);                // ImportTrain.cpp
  Status importStep(const Json &j, const JsonPath &p, bool single);        // ImportTrain.cpp
  Status importOptimizer(const Json &j, const JsonPath &p, const std::string &who,
                         Optimizer &out);                                  // ImportTrain.cpp
  Status importSchedule(const Json &j, const JsonPath &p, const std::string &who,
                        LrSchedule &out);                                  // ImportTrain.cpp
  Status importWeights(const std::string &file, const JsonPath &p);

  std::shared_ptr<const JsonLocations> locs_;
  std::string baseDir_;
  Graph g_;
  std::unordered_map<std::string, JsonPath> names_; ///< every declared name -> its "name" field
};

} // namespace kiln::json
