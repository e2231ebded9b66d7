// The JSON frontend's public API: graph-format files (docs: graph-format.md) to and from Graphs.
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Status.h"

#include <string>
#include <string_view>

namespace kiln {

/// Reads, parses, checks and verifies a graph file; `weights` is resolved relative to the file.
/// Every error is one located message: `file.json:LINE:COL: error: <what> ($.json.path)`.
Expected<Graph> importJsonFile(const std::string &path);

/// Same from text; `displayPath` names the file in messages, `baseDir` resolves `weights`.
Expected<Graph> importJsonText(std::string_view text, const std::string &displayPath,
                               const std::string &baseDir);

/// Writes a graph back as graph-format JSON (pretty, 2-space indent). import(export(g)) gives g
/// again: same nodes in the same order, attributes as stored, values, train steps.
std::string exportJson(const Graph &g);

/// Writes exportJson(g) to `path` atomically (never leaves a partial file).
Status exportJsonFile(const Graph &g, const std::string &path);

} // namespace kiln
