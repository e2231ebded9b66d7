// The C API of kiln/runtime.h: models made from ahead-of-time descriptors, run by entry name.
#include "kiln/runtime.h"

#include "kiln/runtime/Parallel.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

constexpr size_t kAlignment = 64;

/// Zeroed 64-byte aligned memory (at least one block, so a zero-sized buffer is still valid).
char *alignedZeroed(int64_t bytes) {
  size_t size = (size_t(bytes > 0 ? bytes : 1) + kAlignment - 1) / kAlignment * kAlignment;
  auto *p = static_cast<char *>(std::aligned_alloc(kAlignment, size));
  if (p)
    std::memset(p, 0, size);
  return p;
}

int64_t dtypeBytes(int64_t dtype) {
  switch (dtype) {
  case KILN_F32:
  case KILN_I32:
    return 4;
  case KILN_F64:
  case KILN_I64:
    return 8;
  case KILN_BOOL:
    return 1;
  }
  return 0;
}

/// The failure of kiln_model_create on this thread, for kiln_model_error(NULL).
thread_local std::string createError;

/// One name kiln_model_buffer can return: where its data is and what it holds.
struct Named {
  char *data = nullptr;
  const kiln_buffer_desc *desc = nullptr;
};

/// Checks that a slot of `region` lies inside a buffer of `size` bytes.
bool fits(const kiln_buffer_desc &d, int64_t size, std::string &why) {
  int64_t bytes = d.elements * dtypeBytes(d.dtype);
  if (!d.name) {
    why = "descriptor: a tensor has no name";
    return false;
  }
  if (dtypeBytes(d.dtype) == 0 || d.elements < 0 || d.offset < 0 || d.offset + bytes > size) {
    why = "descriptor: tensor '" + std::string(d.name ? d.name : "?") +
          "' does not fit its buffer of " + std::to_string(size) + " bytes";
    return false;
  }
  return true;
}

} // namespace

struct kiln_model {
  const kiln_program *program = nullptr;
  char *arena = nullptr;
  char *state = nullptr;
  uint64_t runs = 0;
  int threads = 0;
  std::string error;
  /// Inputs, then results, then params, by name (the first of a name wins).
  std::unordered_map<std::string, Named> names;
  /// Stable copies of results, and backing memory for inputs that no entry reads.
  std::vector<char *> owned;

  ~kiln_model() {
    std::free(arena);
    std::free(state);
    for (char *p : owned)
      std::free(p);
  }

  char *base(int64_t region) const {
    return region == KILN_REGION_ARENA   ? arena
           : region == KILN_REGION_STATE ? state
                                         : const_cast<char *>(reinterpret_cast<const char *>(
                                               program->constants));
  }

  int64_t regionBytes(int64_t region) const {
    return region == KILN_REGION_ARENA   ? program->arena_bytes
           : region == KILN_REGION_STATE ? program->state_bytes
                                         : program->constants_bytes;
  }

  bool fail(std::string message) {
    error = std::move(message);
    return false;
  }

  /// Builds the name table; false (with `error` set) on a malformed descriptor.
  bool index() {
    const kiln_program &p = *program;
    for (int64_t i = 0; i < p.num_inputs; ++i) {
      const kiln_buffer_desc &d = p.inputs[i];
      char *data = nullptr;
      if (d.offset < 0 && !d.name) {
        return fail("descriptor: an input has no name");
      } else if (d.offset < 0) {
        // Nothing reads it, but a caller may still write it: give it memory of its own.
        data = alignedZeroed(d.elements * dtypeBytes(d.dtype));
        if (!data)
          return fail("out of memory");
        owned.push_back(data);
      } else if (!fits(d, p.arena_bytes, error)) {
        return false;
      } else {
        data = arena + d.offset;
      }
      names.emplace(d.name, Named{data, &d});
    }
    for (int64_t e = 0; e < p.num_entries; ++e) {
      const kiln_entry_desc &entry = p.entries[e];
      if (!entry.function || !entry.name)
        return fail("descriptor: an entry has no function or name");
      for (int64_t r = 0; r < entry.num_results; ++r) {
        const kiln_buffer_desc &d = entry.results[r];
        if (!fits(d, regionBytes(d.region), error))
          return false;
        if (names.count(d.name))
          continue;
        char *copy = alignedZeroed(d.elements * dtypeBytes(d.dtype));
        if (!copy)
          return fail("out of memory");
        owned.push_back(copy);
        names.emplace(d.name, Named{copy, &d});
      }
    }
    for (int64_t i = 0; i < p.num_params; ++i) {
      const kiln_buffer_desc &d = p.params[i];
      if (!fits(d, p.state_bytes, error))
        return false;
      names.emplace(d.name, Named{state + d.offset, &d});
    }
    return true;
  }
};

extern "C" {

kiln_model *kiln_model_create(const kiln_program *program) {
  createError.clear();
  if (!program) {
    createError = "kiln_model_create: the program descriptor is NULL";
    return nullptr;
  }
  if (program->version != KILN_PROGRAM_VERSION) {
    createError = "kiln_model_create: program '" +
                  std::string(program->name ? program->name : "?") + "' has descriptor version " +
                  std::to_string(program->version) + ", this runtime reads version " +
                  std::to_string(KILN_PROGRAM_VERSION) + " (recompile it with this kilnc)";
    return nullptr;
  }
  if (!program->name) {
    createError = "kiln_model_create: the descriptor has no program name (malformed)";
    return nullptr;
  }
  auto *model = new (std::nothrow) kiln_model;
  if (!model) {
    createError = "kiln_model_create: out of memory";
    return nullptr;
  }
  model->program = program;
  model->arena = alignedZeroed(program->arena_bytes);
  model->state = alignedZeroed(program->state_bytes);
  if (!model->arena || !model->state) {
    createError = "kiln_model_create: cannot allocate " + std::to_string(program->arena_bytes) +
                  " bytes of arena and " + std::to_string(program->state_bytes) +
                  " bytes of state";
    delete model;
    return nullptr;
  }
  if (program->state_bytes > 0 && program->initial_state)
    std::memcpy(model->state, program->initial_state, size_t(program->state_bytes));
  try {
    if (!model->index()) {
      createError = "kiln_model_create: program '" + std::string(program->name) +
                    "': " + model->error;
      delete model;
      return nullptr;
    }
  } catch (const std::bad_alloc &) {
    createError = "kiln_model_create: out of memory";
    delete model;
    return nullptr;
  }
  return model;
}

void kiln_model_destroy(kiln_model *model) { delete model; }

float *kiln_model_buffer(kiln_model *model, const char *name) {
  if (!model)
    return nullptr;
  auto it = name ? model->names.find(name) : model->names.end();
  if (it == model->names.end()) {
    model->error = "program '" + std::string(model->program->name) + "' has no tensor named '" +
                   std::string(name ? name : "(null)") + "'";
    return nullptr;
  }
  return reinterpret_cast<float *>(it->second.data);
}

int64_t kiln_model_buffer_size(kiln_model *model, const char *name) {
  if (!model || !name)
    return -1;
  auto it = model->names.find(name);
  return it == model->names.end() ? -1 : it->second.desc->elements;
}

int kiln_model_buffer_dtype(kiln_model *model, const char *name) {
  if (!model || !name)
    return -1;
  auto it = model->names.find(name);
  return it == model->names.end() ? -1 : int(it->second.desc->dtype);
}

int kiln_model_run(kiln_model *model, const char *entryName) {
  if (!model)
    return 1;
  const kiln_program &p = *model->program;
  const kiln_entry_desc *entry = nullptr;
  std::string known;
  for (int64_t e = 0; e < p.num_entries; ++e) {
    if (entryName && std::strcmp(p.entries[e].name, entryName) == 0)
      entry = &p.entries[e];
    known += (known.empty() ? "" : ", ") + std::string(p.entries[e].name);
  }
  if (!entry) {
    model->error = "program '" + std::string(p.name) + "' has no entry '" +
                   std::string(entryName ? entryName : "(null)") + "' (it has " + known + ")";
    return 1;
  }
  model->error.clear();
  // The thread count is an OpenMP setting of the calling thread: set it on every run, so a model
  // that asked for the default is not run with another model's count on a shared thread.
  kiln::runtime::setNumThreads(model->threads);
  // This run's kernel faults (on this thread and the workers of its parallel loops) go to this
  // scope, so models running concurrently on other threads never see each other's faults.
  kiln::runtime::KernelErrorScope faults;
  entry->function(model->arena, model->state, reinterpret_cast<const char *>(p.constants),
                  int64_t(model->runs++));
  // Results are copied out even after a fault (the faulting kernel wrote zeros), so the buffers
  // always hold what the run produced.
  for (int64_t r = 0; r < entry->num_results; ++r) {
    const kiln_buffer_desc &d = entry->results[r];
    Named &n = model->names.at(d.name);
    if (n.desc->region == KILN_REGION_ARENA && n.data >= model->arena &&
        n.data < model->arena + p.arena_bytes)
      continue; // an input returned as a result: already in place
    std::memmove(n.data, model->base(d.region) + d.offset,
                 size_t(d.elements * dtypeBytes(d.dtype)));
  }
  if (std::string fault = faults.take(); !fault.empty()) {
    model->error = fault;
    return 2;
  }
  return 0;
}

const char *kiln_model_error(kiln_model *model) {
  return model ? model->error.c_str() : createError.c_str();
}

void kiln_model_set_threads(kiln_model *model, int n) {
  if (model)
    model->threads = n;
}

uint64_t kiln_model_run_count(const kiln_model *model) { return model ? model->runs : 0; }

} // extern "C"
