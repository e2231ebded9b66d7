// GemmEmit: codegen-internal pieces of the generated GEMM (includes LLVM; not a public header).
#pragma once

#include <llvm/ADT/STLFunctionalExtras.h>
#include <llvm/ADT/Twine.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <cstdint>

namespace kiln::codegen {

/// The static shape of one register tile: mr rows x nv vectors of `lanes` floats, of which the
/// last vector has only `tailLanes` valid lanes (masked loads and stores; == lanes when full).
/// A is read as a[i * aStrideI + k * aStrideK] (packed panels: 1 and mr), B as b[k * bStrideK + j]
/// (contiguous in j), C is written with row stride ldc.
struct MicroTile {
  int lanes = 16;
  int mr = 12;
  int nv = 2;
  int tailLanes = 16;
  int64_t aStrideI = 1, aStrideK = 12, bStrideK = 32, ldc = 0;
};

/// Emits `internal void name(ptr a, ptr b, ptr c, i64 kc, i1 accumulate)`: the register-blocked
/// microkernel. It keeps mr*nv accumulators in vector registers over k in [0, kc) (kc >= 1), one
/// fmuladd per A broadcast and B vector, then stores C = acc or C += acc.
llvm::Function *emitMicroKernel(llvm::Module &module, const MicroTile &tile,
                                const llvm::Twine &name);

/// Emits `for (iv = begin; iv < end; iv += step) body(iv)` at the builder's insertion point, with
/// i64 values; leaves the builder after the loop.
void emitFor(llvm::IRBuilder<> &b, llvm::Value *begin, llvm::Value *end, int64_t step,
             llvm::function_ref<void(llvm::Value *iv)> body, const llvm::Twine &name = "");

/// A constant <lanes x i1> mask with the first `valid` lanes set.
llvm::Constant *laneMask(llvm::LLVMContext &ctx, int lanes, int valid);

} // namespace kiln::codegen
