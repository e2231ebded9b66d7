// Safetensors files (the format PyTorch, JAX and Hugging Face tools share): reading, with every
// header field checked against the file, and atomic writing.
#pragma once

#include "kiln/runtime/Status.h"
#include "kiln/runtime/Tensor.h"

#include <string>
#include <utility>
#include <vector>

namespace kiln {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

/// Parses a safetensors image held in memory. `path` only names the file in messages. Rejects
/// (without large allocations) lying or broken headers: sizes past the end of the file,
/// overlapping or misordered data ranges, byte counts that disagree with dtype and shape,
/// unknown dtypes, duplicate names, absurd header lengths. Tensors come back in file order.
Expected<NamedTensors> parseSafetensors(std::string_view bytes, const std::string &path);
/// Reads and parses a safetensors file.
Expected<NamedTensors> readSafetensors(const std::string &path);
/// Serialises tensors (in the given order) to a safetensors image.
std::string serializeSafetensors(const NamedTensors &tensors);
/// Writes a safetensors file atomically.
Status writeSafetensors(const std::string &path, const NamedTensors &tensors);

} // namespace kiln
