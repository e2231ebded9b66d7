/* kiln/runtime.h: the C API that runs ahead-of-time compiled Kiln models (kilnc compile). */
#ifndef KILN_RUNTIME_H
#define KILN_RUNTIME_H

/*
 * An object file written by `kilnc compile MODEL.json -o NAME.o --header NAME.h` exports one
 * descriptor, `const kiln_program NAME_program`, which says where every tensor lives and which
 * functions run the program. This API is generic over descriptors: create a model from one, write
 * its inputs through kiln_model_buffer(), run an entry ("predict" or a train step), and read the
 * results through kiln_model_buffer(). Link with `-lkiln_runtime -lm`.
 *
 * Nothing here aborts: errors are return values and a message from kiln_model_error().
 *
 * Threads: a kiln_model is used by one thread at a time (any thread, but calls on one model must
 * not overlap). Distinct models, including several made from the same descriptor, may run
 * concurrently on distinct threads: a descriptor is read-only, each model owns its arena and
 * state, and a run's kernel faults are reported to that run only. kiln_model_create and
 * kiln_model_destroy may be called from any thread. A run's parallel loops use OpenMP worker
 * threads (kiln_model_set_threads).
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The descriptor layout this runtime reads. A descriptor with another version is refused. */
#define KILN_PROGRAM_VERSION 1

/** Element types (the graph format's f32, f64, i32, i64, bool; bool is one byte). */
typedef enum kiln_dtype {
  KILN_F32 = 0,
  KILN_F64 = 1,
  KILN_I32 = 2,
  KILN_I64 = 3,
  KILN_BOOL = 4
} kiln_dtype;

/** Which of a model's three buffers a tensor lives in. */
typedef enum kiln_region {
  KILN_REGION_ARENA = 0,    /**< per-run memory: inputs, intermediates, most results */
  KILN_REGION_STATE = 1,    /**< persistent: params, optimizer slots, step counters */
  KILN_REGION_CONSTANTS = 2 /**< read-only: the graph's constants */
} kiln_region;

/*
 * The descriptor types below are written by kilnc as data in the object file. Every field is
 * 8 bytes wide (int64_t or a pointer), so the layout has no padding and is the same for every
 * C and C++ compiler on a 64-bit target.
 */

/** One tensor at a fixed place in one of the model's buffers. */
typedef struct kiln_buffer_desc {
  const char *name;      /**< graph name */
  int64_t dtype;         /**< a kiln_dtype */
  int64_t region;        /**< a kiln_region */
  int64_t offset;        /**< bytes from the region's start; -1: an input no entry reads */
  int64_t rank;
  const int64_t *shape;  /**< rank dimensions, row-major */
  int64_t elements;      /**< product of the shape */
} kiln_buffer_desc;

/** A generated entry function: reads and writes the arena, updates the state (train steps). */
typedef void (*kiln_entry_fn)(char *arena, char *state, const char *constants, int64_t run);

/** One program entry: "predict" or a train step. */
typedef struct kiln_entry_desc {
  const char *name;
  kiln_entry_fn function;
  int64_t training;                   /**< 1 for a train step (it updates the state) */
  int64_t num_required_inputs;
  const char *const *required_inputs; /**< the inputs the entry reads, by name */
  int64_t num_results;
  const kiln_buffer_desc *results;    /**< predict: the outputs; a step: loss, then metrics */
} kiln_entry_desc;

/** What an ahead-of-time object exports as NAME_program. */
typedef struct kiln_program {
  int64_t version;                /**< KILN_PROGRAM_VERSION */
  const char *name;               /**< the graph's name */
  const char *target_cpu;         /**< the CPU the code was compiled for, e.g. "x86-64-v3" */
  int64_t arena_bytes;
  int64_t state_bytes;            /**< params, optimizer slots and counters */
  int64_t constants_bytes;
  const uint8_t *initial_state;   /**< state_bytes: initial params (weights file or init) */
  const uint8_t *constants;       /**< constants_bytes, 64-byte aligned */
  int64_t num_inputs;
  const kiln_buffer_desc *inputs; /**< every graph input, in graph order (arena) */
  int64_t num_params;
  const kiln_buffer_desc *params; /**< every param and optimizer slot, in graph order (state) */
  int64_t num_entries;
  const kiln_entry_desc *entries; /**< "predict" first, then each train step */
} kiln_program;

/** A model instance: its own arena, state (initialised from the descriptor) and run counter. */
typedef struct kiln_model kiln_model;

/**
 * Creates a model from a descriptor: allocates the arena and the state (64-byte aligned) and
 * copies the initial params in. Returns NULL if the descriptor's version is not
 * KILN_PROGRAM_VERSION, it is malformed, or memory runs out; kiln_model_error(NULL) then says
 * why (per thread).
 */
kiln_model *kiln_model_create(const kiln_program *program);

/** Frees a model and everything it owns. NULL is allowed. */
void kiln_model_destroy(kiln_model *model);

/**
 * The data of a tensor by graph name: an input, an entry's result (output, loss, metric) or a
 * param/optimizer slot, looked up in that order. The pointer is stable for the model's lifetime.
 * Write inputs before every run (a run may reuse input memory for intermediates). After
 * kiln_model_run(entry), each of that entry's results has been copied into the buffer named
 * after it: after a train step, the buffer named after its loss holds that step's loss. Writing
 * a param changes the model's state. Integer and bool tensors are returned through the same
 * pointer (cast it; kiln_model_buffer_dtype says which). NULL if no tensor has that name (see
 * kiln_model_error).
 */
float *kiln_model_buffer(kiln_model *model, const char *name);

/** Elements of the tensor kiln_model_buffer(model, name) returns; -1 if none has that name. */
int64_t kiln_model_buffer_size(kiln_model *model, const char *name);

/** The kiln_dtype of that tensor; -1 if none has that name. */
int kiln_model_buffer_dtype(kiln_model *model, const char *name);

/**
 * Runs an entry ("predict" or a train step's name) on the current inputs and state. Returns 0 on
 * success; 1 if nothing ran (NULL model, unknown entry: the message lists the known ones); 2 if
 * a kernel met a run-time fault, such as a gather index out of range (the message is located at
 * the graph node; the faulting kernel wrote zeros). kiln_model_error() says why. Each run that
 * starts advances the run counter that random ops (dropout) draw from.
 */
int kiln_model_run(kiln_model *model, const char *entry);

/** The last error on `model` ("" if none); with NULL, the last kiln_model_create failure of
 * this thread. The string stays valid until the next call on the model. */
const char *kiln_model_error(kiln_model *model);

/** Threads the model's parallel loops use from now on (OpenMP); n <= 0: the default. */
void kiln_model_set_threads(kiln_model *model, int n);

/** Number of runs so far (the random-op stream counter of the next run). */
uint64_t kiln_model_run_count(const kiln_model *model);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KILN_RUNTIME_H */
