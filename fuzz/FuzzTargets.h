// The fuzzed entry points, shared by the libFuzzer targets (fuzz/*Fuzzer.cpp) and the regression
// gtest (tests/fuzz/), so a crash input found by the fuzzer replays through the same code in
// `make test`.
#pragma once

#include <string>
#include <string_view>

namespace kiln::fuzz {

// Each check sets `*loaded` (if given) to whether the input was accepted, so tests can tell a
// passing check on a valid file from one on a rejected file.

/// Imports `bytes` as a graph-format JSON file. On success the graph must verify, print and
/// parse back to the same text, and export to JSON that imports back to the same graph.
/// Returns "" when every invariant held (an import error is fine) or what broke.
std::string checkJsonImport(std::string_view bytes, bool *loaded = nullptr);

/// Parses `bytes` as a safetensors image (with "__metadata__"). On success every tensor must
/// hold its declared size, and serializing what was read must parse back to the same tensors
/// and metadata. Returns "" or what broke.
std::string checkSafetensors(std::string_view bytes, bool *loaded = nullptr);

/// Parses `bytes` as IR text. On success the verifier runs (its verdict is not checked: the
/// parser leaves whole-graph rules to it) and the graph must print to text that parses back and
/// prints identically. Returns "" or what broke.
std::string checkIrParser(std::string_view bytes, bool *loaded = nullptr);

} // namespace kiln::fuzz
