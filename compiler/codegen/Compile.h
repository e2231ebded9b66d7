// kiln::codegen::compile: a graph through the pass pipeline, LLVM kernels and the JIT into an
// Executable (runtime/include/kiln/runtime/Executable.h). No LLVM headers: tools include this.
#pragma once

#include "compiler/ir/Graph.h"
#include "kiln/runtime/Executable.h"
#include "kiln/runtime/Status.h"

#include <memory>
#include <string>

namespace kiln::codegen {

/// CPU milliseconds of each compile phase (threadCpuMs; the LLVM phases summed over their
/// threads), and the wall-clock time of the whole compile, for the bench and `--time-passes`.
struct CompileTimes {
  double passesMs = 0;   ///< training graph + pass pipeline
  double emitMs = 0;     ///< kernels and entry functions as LLVM IR
  double optimizeMs = 0; ///< the LLVM optimisation pipeline (ModuleCompiler.h)
  double codegenMs = 0;  ///< machine code
  double wallMs = 0;     ///< everything, by the clock (less than the CPU total when parallel)
  double totalMs() const { return passesMs + emitMs + optimizeMs + codegenMs; }
  /// "passes 1.2 ms, emit 3.4 ms, O3 50.1 ms, codegen 80.0 ms, total 134.7 ms CPU, 80.2 ms wall".
  std::string str() const;
};

/// Text dumps for `kilnc print --emit=...`, filled when CompileOptions asks for them.
struct CompileDumps {
  std::string optimizedGraph; ///< --emit=opt: the graph after the pass pipeline
  std::string kernels;        ///< --emit=kernels: one line per kernel with its nodes
  std::string llvm;           ///< --emit=llvm: the modules before optimisation, entries' first
  std::string assembly;       ///< --emit=asm: host assembly of the optimised modules
};

/// The pass pipelines of the backends (docs/dnnl.md): generated code only (`llvm`, the default
/// of CompileOptions); every op oneDNN runs to oneDNN (`dnnl`); oneDNN where measured faster
/// (`auto`, kilnc's default).
inline constexpr const char *kLlvmPipeline = "decompose,fold,simplify,cse,dce,fuse,plan-memory";
inline constexpr const char *kDnnlPipeline =
    "decompose,fold,simplify,cse,dce,select-dnnl,fuse,plan-memory";
inline constexpr const char *kAutoPipeline =
    "decompose,fold,simplify,cse,dce,select-dnnl-auto,fuse,plan-memory";

/// What compile does besides the defaults.
struct CompileOptions {
  /// The pass pipeline (compiler/passes/Passes.def names). It must end in plan-memory.
  std::string pipeline = "decompose,fold,simplify,cse,dce,fuse,plan-memory";
  /// Build the training graph first (buildTrainingGraph) when the graph has train steps and no
  /// step programs yet; without it only `predict` is compiled.
  bool training = true;
  /// Threads of the generated parallel loops; <= 0: the OpenMP default.
  int threads = 0;
  /// Threads LLVM compiles on: the kernels are spread over this many modules, optimised and
  /// compiled in parallel (at most 8); <= 0: one per hardware thread.
  int compileThreads = 0;
  /// Verify the graph after every pass (tests turn it on; it costs a print per pass).
  bool verifyEach = false;
  /// Check every float result of every kernel for NaN and Inf; a run stops at the first one
  /// with an error naming the node and its location (a scan per kernel result: debugging only).
  bool checkNumerics = false;
  bool dumpOptimizedGraph = false;
  bool dumpKernels = false;
  bool dumpLlvm = false;
  bool dumpAsm = false;
  /// Where the dumps go (null: not filled).
  CompileDumps *dumps = nullptr;
  /// Where the phase times go (null: not reported).
  CompileTimes *times = nullptr;
};

/// Compiles `g` for the host: the pass pipeline, initial params (weights file or initializers)
/// in the state buffer, constants in the constants buffer, one LLVM kernel per top-level kernel
/// node (emitKernel), and one entry per program ("predict" for the outputs, one per step
/// program), optimised and compiled on compileThreads threads and linked by the JIT. An op without an LLVM lowering is an error naming it.
Expected<std::unique_ptr<Executable>> compile(const Graph &g, const CompileOptions &opts = {});

} // namespace kiln::codegen
