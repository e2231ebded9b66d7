// JSON paths and source positions for the importer: nlohmann gives no positions, so a second
// small scanner over the (already validated) text finds where each value starts.
#pragma once

#include "compiler/support/Loc.h"
#include "kiln/runtime/Status.h"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::json {

/// Hostile-input limits, checked before anything recursive or large runs.
inline constexpr size_t kMaxJsonBytes = size_t(256) << 20;
inline constexpr int kMaxJsonDepth = 64;
inline constexpr size_t kMaxEntries = 1000000; ///< per top-level list (nodes, params, ...)

/// One step of a JSON path: an object key or an array index.
struct PathStep {
  std::string key;
  size_t index = 0;
  bool isIndex = false;
};

/// A JSON path such as `$.nodes[3].attrs.strides`, built with `/`.
class JsonPath {
public:
  JsonPath() = default;
  JsonPath operator/(std::string_view key) const;
  JsonPath operator/(size_t index) const;
  const std::vector<PathStep> &steps() const { return steps_; }
  /// `$`, `$.nodes[3].attrs.strides`; keys that are not identifiers print as `["a b"]`.
  std::string str() const;
  /// The first `n` steps.
  JsonPath prefix(size_t n) const;

private:
  std::vector<PathStep> steps_;
};

/// The text of one JSON document with its line table and the start offsets of its values.
class JsonLocations {
public:
  JsonLocations(std::string text, std::string file);

  const std::string &text() const { return text_; }
  const std::string &file() const { return file_; }

  /// Scans the text (which nlohmann has accepted) once: records where the values of the first
  /// two levels start and rejects duplicate object keys. Iterative, so depth is no concern.
  Status scan();

  /// 1-based line and column of a byte offset.
  std::pair<int, int> lineCol(size_t offset) const;
  /// A location at a byte offset, with no JSON path.
  Loc locAtOffset(size_t offset) const;
  /// The location of the value at `path`. If the path does not exist in the document, the
  /// deepest existing prefix is used (both for the position and for the printed path).
  Loc loc(const JsonPath &path) const;

private:
  /// Byte offset of the deepest existing prefix of `path`, and that prefix's length.
  std::pair<size_t, size_t> find(const JsonPath &path) const;
  size_t skipWs(size_t i) const;
  size_t skipValue(size_t i) const;
  /// Decodes the string literal starting at `i` (a '"'); returns the offset after it.
  size_t readString(size_t i, std::string &out) const;

  struct TopLevel {
    size_t offset = 0;
    std::vector<size_t> elements;          ///< if the value is an array
    std::map<std::string, size_t> members; ///< if the value is an object
  };
  std::string text_;
  std::string file_;
  std::vector<size_t> lineStarts_;
  size_t rootOffset_ = 0;
  std::map<std::string, TopLevel> top_;
};

/// Rejects input that is too large, empty, or nested too deeply (a flat scan, no recursion).
Status checkHostileJson(std::string_view text, const std::string &file);

/// Turns a parse failure reported by nlohmann (its message and the byte it stopped at) into
/// one located message: "file:L:C: error: invalid JSON: unexpected '}'; expected ...".
Status jsonSyntaxError(const JsonLocations &locs, const std::string &what, size_t byte);
/// A number too large for a double (nlohmann's out_of_range 406), located at its token.
Status jsonNumberOverflow(const JsonLocations &locs, const std::string &what);

} // namespace kiln::json
