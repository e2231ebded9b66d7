// EmitOps: the per-family kernel emitters that emitKernel (EmitKernel.cpp) dispatches to.
//
// Each emitter generates the body of one kernel at kb.b's insert point, reading and writing
// through kb's pointers (KernelBuilder, EmitUtil.h); emitKernel adds the final `ret`. Every op
// of Ops.def has an emitter; a body an emitter cannot handle (some fused shapes) is an error
// saying "no LLVM lowering yet", never a silent fallback. The matmul, convolution and pooling kernels
// (and fused groups of kind matmul/conv) build their own function bodies: see EmitLinalg.h.
#pragma once

#include "compiler/codegen/EmitUtil.h"

namespace kiln::codegen {

// ---- K1a: EmitElementwise.cpp, EmitReduce.cpp, EmitFused.cpp ----

/// Every kUnary op, cast and stop_gradient, with the interpreter's numerics.
Status emitUnary(KernelBuilder &kb, const Node &node);
/// Every kBinary and kCompare op, with NumPy broadcasting.
Status emitBinary(KernelBuilder &kb, const Node &node);
/// select(cond, a, b), broadcasting all three.
Status emitSelect(KernelBuilder &kb, const Node &node);
/// reduce_sum, reduce_mean, reduce_max, reduce_min over any axes, keepdims or not.
Status emitReduce(KernelBuilder &kb, const Node &node);
/// A fused node of kind "loop" (elementwise body, possibly ending in a reduction).
Status emitFusedLoop(KernelBuilder &kb, const Node &node);
/// The loops of reduction `reduce` writing kb.result(result): element(flat) emits the value of
/// the reduction's input at row-major index `flat` of its shape (and may store other things
/// there, as fused groups do). Floats accumulate in double and keep the first NaN, like the
/// interpreter.
Status emitReduction(KernelBuilder &kb, const Node &reduce, unsigned result,
                     llvm::function_ref<llvm::Value *(llvm::Value *flat)> element);
/// One element of an elementwise op (kUnary, kBinary, kCompare, select): `in` holds one scalar
/// per operand, of the operand's dtype; the result has the node's result dtype. Used by the
/// standalone kernels and by fused loop bodies.
Expected<llvm::Value *> emitScalar(KernelBuilder &kb, const Node &node,
                                   const std::vector<llvm::Value *> &in);

// ---- K1b: movement, normalisation, random, argmax, gelu_grad ----

/// reshape, flatten, transpose, concat, slice, slice_grad, broadcast_to, gather, gather_grad,
/// one_hot.
Status emitMovement(KernelBuilder &kb, const Node &node);
/// softmax, log_softmax, layer_norm.
Status emitNorm(KernelBuilder &kb, const Node &node);
/// random_uniform, random_normal, dropout (Philox streams of runtime/Random.h, bit-exact with
/// the interpreter). For dropout it also defines `<kernel>_inference` in the same module: the
/// same signature, the identity (a copy unless in place), for inference entries; the kernel
/// itself always draws the mask (training entries).
Status emitRandom(KernelBuilder &kb, const Node &node);
/// argmax along one axis.
Status emitArgmax(KernelBuilder &kb, const Node &node);
/// gelu_grad(x, dy), exact and tanh forms.
Status emitGeluGrad(KernelBuilder &kb, const Node &node);

} // namespace kiln::codegen
