// Ahead-of-time compilation: a graph to one relocatable object file (the code compile() would
// JIT, the initial params and a kiln_program descriptor) plus its C header. No LLVM headers.
#pragma once

#include "compiler/codegen/Compile.h"

#include <string>
#include <vector>

namespace kiln::codegen {

/// The CPUs `kilnc compile --target-cpu` names in its help; any CPU LLVM's x86 backend knows
/// is accepted, and "native" means the host's CPU and features (what the JIT compiles for).
inline constexpr const char *kAotTargetCpus = "x86-64, x86-64-v2, x86-64-v3, x86-64-v4, znver4, native";

/// What compileAot does.
struct AotOptions {
  /// The pipeline and training flag as for compile(); `training` false compiles predict only.
  CompileOptions compile;
  /// Prefix of every symbol and identifier (`NAME_program`, `NAME_x`, `NAME_X_SIZE`). Empty: the
  /// graph's name made into a C identifier. Must be a C identifier.
  std::string name;
  /// The CPU to generate code for: an LLVM CPU name (x86-64-v3, znver4, ...) or "native".
  std::string targetCpu = "native";
  /// The model file, mentioned in the header's banner.
  std::string sourceFile;
  /// The header's own file name, for the banner comment.
  std::string headerFile;
  /// Initial values for params (or optimizer slots) by name, overriding `weights` and `init`;
  /// an unknown name or a wrong dtype or shape is an error.
  NamedTensors params;
  /// Where `params` came from, for error messages.
  std::string paramsFile;
};

/// What the object file exports and what a program needs to know about it.
struct AotArtifacts {
  std::string name;              ///< the symbol prefix used
  std::vector<char> object;      ///< a relocatable ELF object exporting only `name`_program
  std::string header;            ///< the C header text (C++ class under __cplusplus)
  std::vector<std::string> externals; ///< functions the object needs at link time, sorted
  int64_t arenaBytes = 0, stateBytes = 0, paramBytes = 0, constantBytes = 0;
  std::string cpu;               ///< the CPU the code was generated for (resolved "native")
  CompileTimes times;
};

/// True if `name` is a C identifier (letters, digits, '_', not starting with a digit, not a C
/// keyword) of at most 64 characters: what --name accepts.
bool isAotName(const std::string &name);

/// `graphName` made into a C identifier: other characters become '_', a leading digit gets '_'.
std::string aotNameFor(const std::string &graphName);

/// Compiles `g` ahead of time: the same lowering and LLVM optimisation as compile() (in parallel,
/// one module per thread), then the modules linked into one, every symbol made internal except
/// the kiln_program descriptor `NAME_program`, and machine code for opts.targetCpu. An unknown
/// CPU, a name that is not a C identifier, or an op without a lowering is an error.
Expected<AotArtifacts> compileAot(const Graph &g, const AotOptions &opts);

/// The C header for an object compileAot made from `spec`: the descriptor's declaration, sizes,
/// shapes and dtypes as constants, memory needs, one typed accessor per tensor, one run function
/// per entry, and a small RAII class when compiled as C++. `paramNames` are the graph's own
/// params (the rest of spec.params are optimizer slots).
std::string aotHeader(const ExecutableSpec &spec, const AotArtifacts &artifacts,
                      const std::vector<std::string> &paramNames, const AotOptions &opts);

} // namespace kiln::codegen
