// A pre-parse guard for untrusted JSON: finds excessive nesting without recursion, before any
// parser (which may recurse or allocate per level) sees the text.
#pragma once

#include <cstddef>
#include <string_view>

namespace kiln {

/// The byte offset of the first '{' or '[' (outside strings) that opens level `maxDepth + 1`,
/// or std::string_view::npos if the text never nests deeper than `maxDepth`.
size_t findExcessiveNesting(std::string_view text, int maxDepth);

} // namespace kiln
