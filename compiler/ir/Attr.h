// Node attributes: values, the per-op attribute schemas declared in Ops.def, and checking.
#pragma once

#include "kiln/runtime/DType.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace kiln {

/// One attribute value. `pad` attributes hold a string ("valid"/"same") or four ints.
using AttrValue =
    std::variant<bool, int64_t, double, std::string, std::vector<int64_t>, std::vector<double>, DType>;
/// Attributes by name, sorted so that printing is deterministic.
using AttrMap = std::map<std::string, AttrValue>;

enum class AttrKind { Int, Float, Bool, Str, Ints, Floats, DTypeKind, Pad, Enum };

/// One entry of an op's attribute schema (parsed from the string in Ops.def).
struct AttrSpec {
  std::string name;
  AttrKind kind = AttrKind::Int;
  std::vector<std::string> enumValues; ///< for Enum
  bool required = false;               ///< no default, must be given
  std::optional<AttrValue> defaultValue;
  /// Optional with no default ("axes:ints?"): absence has its own meaning.
};

/// Parses an Ops.def schema string. Internal errors (a bad Ops.def) assert.
std::vector<AttrSpec> parseAttrSchema(const char *schema);

/// Checks that `value` fits `spec`, converting where the graph format allows it (an int where a
/// float is expected). Returns an error message, or "" when the value is acceptable.
std::string checkAttrValue(const AttrSpec &spec, AttrValue &value);

/// A readable name of an attribute kind: "an integer", "a list of integers", ...
std::string attrKindDescription(const AttrSpec &spec);

/// Text form of a value as used in the text IR and in messages: 3, 0.5, true, "same", [1,2], f32.
std::string attrValueToString(const AttrValue &v);

} // namespace kiln
