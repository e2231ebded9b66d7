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
/// The header's "__metadata__": string keys to string values (read back sorted by key).
using SafetensorsMetadata = std::vector<std::pair<std::string, std::string>>;

/// Parses a safetensors image held in memory. `path` only names the file in messages. Rejects
/// (without large allocations) lying or broken headers: sizes past the end of the file,
/// overlapping or misordered data ranges, byte counts that disagree with dtype and shape,
/// unknown dtypes, duplicate names, absurd header lengths. Tensors come back in file order.
/// With `metadata`, the "__metadata__" entry is returned there (it must then be an object of
/// strings, as the format says); without, it is skipped unchecked.
Expected<NamedTensors> parseSafetensors(std::string_view bytes, const std::string &path,
                                        SafetensorsMetadata *metadata = nullptr);
/// Reads and parses a safetensors file.
Expected<NamedTensors> readSafetensors(const std::string &path,
                                       SafetensorsMetadata *metadata = nullptr);
/// Serialises tensors (in the given order) and, if not empty, the metadata to a safetensors image.
std::string serializeSafetensors(const NamedTensors &tensors,
                                 const SafetensorsMetadata &metadata = {});
/// Writes a safetensors file atomically (FileUtil.h: a crash leaves the old file or the new one).
Status writeSafetensors(const std::string &path, const NamedTensors &tensors,
                        const SafetensorsMetadata &metadata = {});

} // namespace kiln
