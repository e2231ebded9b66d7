// The contract between the program builder (which lays out buffers and calls kernels in order)
// and the per-op kernel emitters. Internal to compiler/codegen: includes LLVM.
//
// A kernel is one LLVM function per top-level kernel node of an optimised graph (a primitive op
// or a `fused` group), with the signature
//
//     void <symbol>(ptr result0, ..., ptr resultR-1, ptr operand0, ..., ptr operandO-1, i64 run)
//
// Every pointer is a dense row-major buffer of the value's static type (bool: one byte). `run`
// is the program's run counter, the stream counter of random ops (see runtime/Random.h: element i
// of stream (seed, run) is Philox of counter {i lo, i hi, run lo, run hi}, key {seed lo, seed hi}).
// Results may alias operands only where the memory plan made an elementwise op work in place;
// then the kernel must read each element's inputs before it stores that element's outputs.
#pragma once

#include "compiler/codegen/Jit.h"
#include "compiler/ir/Graph.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <string>

namespace kiln::codegen {

/// What an emitter may use while generating one kernel.
struct KernelContext {
  llvm::LLVMContext &context;
  llvm::Module &module;
  const HostTarget &target;
  uint64_t graphSeed = 0; ///< for random ops without a seed attribute (hashSeed(graphSeed, name))
};

/// Creates the kernel function for `node` (signature above) in ctx.module, named `symbol`, and
/// emits its body. Ops without an LLVM lowering yet return an error naming the op and the node
/// (never a silent fallback to the interpreter).
Expected<llvm::Function *> emitKernel(KernelContext &ctx, const Node &node, const std::string &symbol);

} // namespace kiln::codegen
