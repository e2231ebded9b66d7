// Jit: a small wrapper over LLVM's ORC LLJIT for the host, with the kernel ABI preloaded.
#pragma once

#include "kiln/runtime/Status.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

// Forward declarations keep LLVM's headers out of every file that includes this one: only
// compiler/codegen's own sources include LLVM.
namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace kiln::codegen {

struct ModuleUnit;

/// What the JIT compiles for: the host's CPU and the vector facts kernels are specialised to.
struct HostTarget {
  std::string triple;
  std::string cpu;      ///< llvm::sys::getHostCPUName(), e.g. "sapphirerapids"
  std::string features; ///< "+avx2,+fma,-avx512f,..." from llvm::sys::getHostCPUFeatures()
  bool avx512 = false;  ///< AVX-512F usable: 16-lane float vectors and 32 vector registers
  bool avx2 = false;    ///< AVX2 + FMA usable: 8-lane float vectors
  /// Float lanes of the widest vector worth using: 16, 8 or 4 (SSE only).
  int floatLanes() const { return avx512 ? 16 : avx2 ? 8 : 4; }
  /// Architectural vector registers (zmm0-31 with AVX-512, else 16).
  int vectorRegisters() const { return avx512 ? 32 : 16; }
};

/// CPU time of the calling thread, in milliseconds. Compile-time figures use it because, unlike
/// wall time, other processes' load on a shared machine does not inflate it.
double threadCpuMs();

/// One ORC LLJIT for the host. Modules added to it are optimised (ModuleCompiler.h) and compiled
/// to machine code for the host CPU right away, then linked in. The functions of KernelABI.def resolve to
/// the runtime's definitions. Create it once and keep it: creation costs milliseconds.
class Jit {
public:
  ~Jit();
  Jit(const Jit &) = delete;
  Jit &operator=(const Jit &) = delete;

  /// Creates a JIT for the host. Fails (never aborts) if LLVM has no target for it.
  static Expected<std::unique_ptr<Jit>> create();

  /// The host target the JIT compiles for.
  const HostTarget &target() const { return target_; }

  /// Optimises `module` (which must live in `context`), compiles it to machine code and links
  /// it into the JIT. Fails if the module does not verify or defines a symbol that already exists.
  Status addModule(std::unique_ptr<llvm::Module> module,
                   std::unique_ptr<llvm::LLVMContext> context);
  /// The same for several modules that may call each other's external functions, optimised and
  /// compiled on one thread each when `parallel` (ModuleCompiler.h). The units are consumed.
  Status addModules(std::vector<ModuleUnit> &units, bool parallel);

  /// The address of a symbol defined by an added module (compiling it if needed), or an error.
  Expected<void *> lookup(std::string_view name);

  /// CPU milliseconds (summed over threads) the optimisation pipeline and the machine-code step
  /// took in the last addModule(s), and the wall-clock milliseconds of the whole call.
  double lastOptimizeMs() const { return lastOptimizeMs_; }
  double lastCodegenMs() const { return lastCodegenMs_; }
  double lastWallMs() const { return lastWallMs_; }

  /// A symbol name not yet handed out by this JIT: `prefix` followed by a counter.
  std::string uniqueName(std::string_view prefix);

  /// Prepares a fresh module for this JIT's target (triple and data layout set).
  std::unique_ptr<llvm::Module> newModule(std::string_view name, llvm::LLVMContext &context) const;

  /// Sets "target-cpu", "target-features" and the 512-bit vector width attributes on every
  /// function definition in `module`, so explicit wide vectors are not split by the backend.
  void applyTargetAttributes(llvm::Module &module) const;

private:
  struct Impl;
  explicit Jit(std::unique_ptr<Impl> impl, HostTarget target);
  std::unique_ptr<Impl> impl_;
  HostTarget target_;
  uint64_t nextName_ = 0;
  double lastOptimizeMs_ = 0;
  double lastCodegenMs_ = 0;
  double lastWallMs_ = 0;
};

} // namespace kiln::codegen
