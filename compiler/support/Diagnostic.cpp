// Formatting of located diagnostics.
#include "compiler/support/Diagnostic.h"

namespace kiln {

std::string Loc::str() const {
  std::string s = file;
  if (line > 0) {
    s += ":" + std::to_string(line);
    if (col > 0)
      s += ":" + std::to_string(col);
  }
  return s;
}

std::string formatError(const Loc &loc, const std::string &message) {
  std::string s;
  if (loc.known())
    s = loc.str() + ": ";
  s += "error: " + message;
  if (!loc.path.empty())
    s += " (" + loc.path + ")";
  return s;
}

Status errorAt(const Loc &loc, const std::string &message) {
  return Status::error(formatError(loc, message));
}

} // namespace kiln
