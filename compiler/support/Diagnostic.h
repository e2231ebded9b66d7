// Located error messages in the usual compiler form: "file:line:col: error: message ($.path)".
#pragma once

#include "compiler/support/Loc.h"
#include "kiln/runtime/Status.h"

#include <string>

namespace kiln {

/// Formats a located error: `mnist.json:14:9: error: conv2d 'c1': ... ($.nodes[2])`.
std::string formatError(const Loc &loc, const std::string &message);
/// A Status carrying a located error.
Status errorAt(const Loc &loc, const std::string &message);

} // namespace kiln
