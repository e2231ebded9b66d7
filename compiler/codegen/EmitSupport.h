// EmitSupport: small helpers shared by the movement, normalisation and random kernels
// (EmitMovement.cpp, EmitGather.cpp, EmitNorm.cpp, EmitRandom.cpp; codegen-internal).
#pragma once

#include "compiler/codegen/EmitUtil.h"
#include "compiler/support/Diagnostic.h"

#include <llvm/IR/Intrinsics.h>

#include <string>

namespace kiln::codegen {

/// Elements a parallel chunk should move at least: below that a thread costs more than it saves.
constexpr int64_t kCopyGrain = 16384;

/// "gather 'g'": how messages name a node (as the interpreter's).
inline std::string who(const Node &node) {
  return std::string(node.info().mnemonic) + " '" + node.name() + "'";
}

/// A located internal error (an unverified graph or a bug), never a user mistake.
inline Status internalError(const Node &node, const std::string &message) {
  return errorAt(node.loc(), who(node) + ": internal error: " + message);
}

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// The product of shape[from, to).
inline int64_t shapeProduct(const Shape &s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i)
    p *= s[i];
  return p;
}

/// min(x, c) for a signed i64 x and a constant c.
inline llvm::Value *smin(KernelBuilder &kb, llvm::Value *x, int64_t c) {
  return kb.b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, x, kb.c64(c));
}

/// if (cond) body(); the builder continues after it.
template <typename F> void ifThen(KernelBuilder &kb, llvm::Value *cond, F &&body) {
  llvm::Function *f = kb.function();
  auto *then = llvm::BasicBlock::Create(kb.b.getContext(), "then", f);
  auto *join = llvm::BasicBlock::Create(kb.b.getContext(), "join", f);
  kb.b.CreateCondBr(cond, then, join);
  kb.b.SetInsertPoint(then);
  body();
  kb.b.CreateBr(join);
  kb.b.SetInsertPoint(join);
}

/// Sets result 0 (of type t) to all-zero bytes.
inline void zeroFill(KernelBuilder &kb, const TensorType &t) {
  kb.b.CreateMemSet(kb.result(0), kb.b.getInt8(0),
                    kb.c64(t.numElements() * int64_t(dtypeSize(t.dtype))), llvm::MaybeAlign(1));
}

/// A libm-backed intrinsic of one double (log, exp, cos, sqrt): lowered to the C library's
/// function, the one the interpreter's std::log etc. call, so results agree bit for bit.
inline llvm::Value *mathCall(KernelBuilder &kb, llvm::Intrinsic::ID id, llvm::Value *x) {
  return kb.b.CreateUnaryIntrinsic(id, x);
}

/// A call of the C library's `double name(double)` for functions without an LLVM intrinsic
/// (tanh, erf).
inline llvm::Value *libmCall(KernelBuilder &kb, const char *name, llvm::Value *x) {
  llvm::Type *f64 = kb.b.getDoubleTy();
  llvm::FunctionCallee fn = kb.ctx.module.getOrInsertFunction(name, f64, f64);
  return kb.b.CreateCall(fn, {x});
}

/// gather, gather_grad and one_hot (EmitGather.cpp); emitMovement forwards them.
Status emitGatherFamily(KernelBuilder &kb, const Node &node);

} // namespace kiln::codegen
