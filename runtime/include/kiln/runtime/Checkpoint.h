// Training checkpoints: every piece of a training run's state (params, optimizer slots, step
// counters, the run counter of the random streams) and the loop's position, in one safetensors
// file written atomically, so a crash mid-write leaves the previous checkpoint intact.
#pragma once

#include "kiln/runtime/Safetensors.h"
#include "kiln/runtime/Status.h"

#include <cstdint>
#include <string>

namespace kiln {

/// What a checkpoint holds. The state tensors are stored under their graph names; the rest goes
/// into the safetensors "__metadata__" under "kiln.*" keys, next to the caller's own entries.
struct Checkpoint {
  std::string graph;     ///< the graph's name: a checkpoint of another model is refused
  uint64_t runCount = 0; ///< the executable's run counter (random ops' stream position)
  int64_t step = 0;      ///< training steps (loop iterations) completed
  NamedTensors state;    ///< every param, optimizer slot and counter of the training graph
  /// The training loop's own position and settings (e.g. "epoch"), kept verbatim. Keys may not
  /// start with "kiln.".
  SafetensorsMetadata extra;
  /// The value of an `extra` key, or null.
  const std::string *find(const std::string &key) const;
};

/// Writes `ckpt` to `path` atomically (temporary file, fsync, rename, directory fsync).
Status writeCheckpoint(const std::string &path, const Checkpoint &ckpt);

/// Reads a checkpoint. A safetensors file that is not a Kiln checkpoint, or whose metadata is
/// malformed, is an error naming the file and the field.
Expected<Checkpoint> readCheckpoint(const std::string &path);

/// Checks that `ckpt` (read from `path`) fits a model named `graph` whose state is `current`:
/// the same names, each once, with the same dtypes and shapes. The message names the first
/// mismatch (missing, unexpected, or different tensor).
Status checkCheckpoint(const Checkpoint &ckpt, const std::string &graph,
                       const NamedTensors &current, const std::string &path);

} // namespace kiln
