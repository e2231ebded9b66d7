// EmitUtil: KernelBuilder, the small toolkit every kernel emitter shares (codegen-internal):
// the kernel's pointers, element types, loops, parallel loops and NumPy broadcast offsets.
#pragma once

#include "compiler/codegen/KernelEmitter.h"

#include <llvm/ADT/STLFunctionalExtras.h>
#include <llvm/IR/IRBuilder.h>

#include <vector>

namespace kiln::codegen {

/// Builds the body of one kernel function with the KernelEmitter.h signature. Pointers to the
/// kernel's buffers come from result()/operand()/run(); inside a parallelFor body they are
/// reloaded from the body's context, so emitters use them the same way in both places.
class KernelBuilder {
public:
  /// Wraps `fn` (already created with the contract's signature) for `node`; creates the entry
  /// block and puts the insert point at its end.
  KernelBuilder(KernelContext &ctx, llvm::Function *fn, const Node &node);

  KernelContext &ctx;
  llvm::IRBuilder<> b;
  const Node &node;

  /// The function currently being emitted (the kernel, or a parallelFor body).
  llvm::Function *function() const { return current_; }
  /// Result buffer i, operand buffer i, the run counter (valid in the current function).
  llvm::Value *result(unsigned i) const { return args_[i]; }
  llvm::Value *operand(unsigned i) const { return args_[node.numResults() + i]; }
  llvm::Value *run() const { return run_; }

  // ---- types and constants ----
  /// LLVM element type of a dtype: float, double, i32, i64, i8 (bool).
  llvm::Type *elemType(DType t);
  llvm::Value *c64(int64_t v) { return b.getInt64(static_cast<uint64_t>(v)); }
  /// A constant `v` of dtype t (bool: v != 0).
  llvm::Value *constant(DType t, double v);
  /// &base[index] in elements of dtype t; load/store one element.
  llvm::Value *at(DType t, llvm::Value *base, llvm::Value *index);
  llvm::Value *load(DType t, llvm::Value *base, llvm::Value *index);
  void store(DType t, llvm::Value *v, llvm::Value *base, llvm::Value *index);

  // ---- control flow ----
  /// for (iv = begin; iv < end; ++iv) body(iv); the builder continues after the loop. With
  /// `independent`, the loop is marked llvm.loop.parallel_accesses: its iterations touch
  /// disjoint elements (an in-place result aliases its operand only at the same index), so the
  /// vectoriser needs no run-time alias checks, which in-place buffers would always fail.
  void loop(llvm::Value *begin, llvm::Value *end, llvm::function_ref<void(llvm::Value *)> body,
            bool independent = false);
  /// An entry-block stack slot of type ty (promoted to a register by mem2reg).
  llvm::Value *slot(llvm::Type *ty, const char *name = "slot");

  /// Runs body(begin, end) over [0, n) through kiln_parallel_for with at least `grain`
  /// iterations per chunk. The body is outlined into an internal `void(ptr, i64, i64)` function;
  /// inside it result()/operand()/run() refer to that function's copies, and no other value of
  /// the enclosing function may be used. Not nestable.
  void parallelFor(int64_t n, int64_t grain,
                   llvm::function_ref<void(llvm::Value *begin, llvm::Value *end)> body);

private:
  llvm::Function *kernel_;
  llvm::Function *current_;
  std::vector<llvm::Value *> args_;
  llvm::Value *run_;
  int helpers_ = 0;
};

/// e^x for a scalar (or vector) x of dtype t. f32: a branch-free polynomial evaluated in double
/// and rounded once (libm's expf but for vanishingly rare ties), which LLVM's loop vectoriser
/// can vectorise; f64: llvm.exp (libm's exp, as the interpreter).
llvm::Value *emitExp(KernelBuilder &kb, DType t, llvm::Value *x);
/// e^x for a double scalar or vector x, inline (branch-free, vectorises), relative error below
/// 3e-13 for x >= -110, clamped below that: the exp of the f32 kernels that compute in double
/// (emitExp, softmax), where it rounds to libm's f32 result but for vanishingly rare ties.
llvm::Value *emitExpDouble(llvm::IRBuilder<> &b, llvm::Value *xd);
/// tanh(x) for an f32 scalar or vector x: kiln::math::tanhF32 (compiler/support/FloatMath.h)
/// operation for operation, branch-free so loops vectorise, equal to the interpreter's bit for bit.
llvm::Value *emitTanhF32(llvm::IRBuilder<> &b, llvm::Value *x);
/// log(x) likewise: f32 by a series in double rounded once, f64 by llvm.log (libm's log).
llvm::Value *emitLog(KernelBuilder &kb, DType t, llvm::Value *x);

/// Element strides that map an output index to an input index under NumPy broadcasting: for
/// each dimension of `out`, the row-major stride of `in`'s matching dimension, or 0 where `in`
/// is broadcast (missing or size 1).
std::vector<int64_t> broadcastStrides(const Shape &in, const Shape &out);

/// Row-major strides of a shape.
std::vector<int64_t> rowMajorStrides(const Shape &s);

/// The offset sum_d idx_d * strides[d] for the multi-index of `flat` in `shape` (static sizes;
/// dimensions with stride 0 cost nothing).
llvm::Value *offsetOf(KernelBuilder &kb, llvm::Value *flat, const Shape &shape,
                      const std::vector<int64_t> &strides);

/// An elementwise iteration space: the output shape and the shapes of the inputs that
/// broadcast to it.
struct RowLoop {
  Shape out;
  std::vector<Shape> inputs;
};
/// Emits a parallel loop over every element of space.out: the shape is split into rows of its
/// last dimension, and rows into chunks, spread across threads; the innermost loop runs along
/// the last dimension (unit or zero strides, which LLVM's loop vectoriser handles). body gets
/// the element offset of each input (broadcast) and, last, of the output element.
void emitRowLoop(KernelBuilder &kb, const RowLoop &space,
                 llvm::function_ref<void(const std::vector<llvm::Value *> &offsets)> body);

} // namespace kiln::codegen
