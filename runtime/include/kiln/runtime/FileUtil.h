// Reading whole files and writing them atomically (temp file, fsync, rename): a failed write
// never leaves a partial file and never destroys the previous one.
#pragma once

#include "kiln/runtime/Status.h"

#include <string>
#include <string_view>

namespace kiln {

/// Reads a file, refusing files larger than `maxBytes`.
Expected<std::string> readFile(const std::string &path, size_t maxBytes = size_t(1) << 32);
/// Writes `contents` to `path` through a temporary file in the same directory, fsynced and
/// renamed over `path`. On any error the temporary is removed and `path` is untouched.
Status writeFileAtomic(const std::string &path, std::string_view contents);

} // namespace kiln
