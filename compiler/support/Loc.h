// Loc: where a node came from, so that every error (even at run time) can name the user's source.
#pragma once

#include <string>

namespace kiln {

/// A source location: a file position and, for JSON input, the JSON path of the element
/// ("$.nodes[3].attrs.axis"); for the C++ builder, the caller's file, line and function.
struct Loc {
  std::string file;
  int line = 0;
  int col = 0;
  std::string path; ///< JSON path, or empty.

  bool known() const { return !file.empty(); }
  /// "file:line:col" (parts that are unknown are left out).
  std::string str() const;
  bool operator==(const Loc &) const = default;
};

} // namespace kiln
