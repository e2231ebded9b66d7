// The GEMM's register-blocked microkernel and the small IR-building helpers it shares.
#include "compiler/codegen/GemmEmit.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Intrinsics.h>

#include <vector>

namespace kiln::codegen {

using llvm::Value;

llvm::Constant *laneMask(llvm::LLVMContext &ctx, int lanes, int valid) {
  std::vector<llvm::Constant *> bits;
  for (int i = 0; i < lanes; ++i)
    bits.push_back(llvm::ConstantInt::get(llvm::Type::getInt1Ty(ctx), i < valid ? 1 : 0));
  return llvm::ConstantVector::get(bits);
}

void emitFor(llvm::IRBuilder<> &b, Value *begin, Value *end, int64_t step,
             llvm::function_ref<void(Value *iv)> body, const llvm::Twine &name) {
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  llvm::LLVMContext &ctx = b.getContext();
  llvm::BasicBlock *pre = b.GetInsertBlock();
  auto *header = llvm::BasicBlock::Create(ctx, name + ".head", fn);
  auto *bodyBlock = llvm::BasicBlock::Create(ctx, name + ".body", fn);
  auto *exit = llvm::BasicBlock::Create(ctx, name + ".exit", fn);
  b.CreateBr(header);

  b.SetInsertPoint(header);
  llvm::PHINode *iv = b.CreatePHI(b.getInt64Ty(), 2, name + ".iv");
  iv->addIncoming(begin, pre);
  b.CreateCondBr(b.CreateICmpSLT(iv, end), bodyBlock, exit);

  b.SetInsertPoint(bodyBlock);
  body(iv);
  // The body may have created blocks; the back edge leaves from wherever it ended.
  Value *next = b.CreateAdd(iv, b.getInt64(step), name + ".next", /*HasNUW=*/true, /*HasNSW=*/true);
  iv->addIncoming(next, b.GetInsertBlock());
  b.CreateBr(header);

  b.SetInsertPoint(exit);
}

llvm::Function *emitMicroKernel(llvm::Module &module, const MicroTile &tile,
                                const llvm::Twine &name) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::IRBuilder<> b(ctx);
  llvm::Type *f32 = b.getFloatTy();
  auto *vecTy = llvm::FixedVectorType::get(f32, tile.lanes);
  llvm::Type *ptr = b.getPtrTy();
  auto *fnTy =
      llvm::FunctionType::get(b.getVoidTy(), {ptr, ptr, ptr, b.getInt64Ty(), b.getInt1Ty()}, false);
  auto *fn = llvm::Function::Create(fnTy, llvm::Function::InternalLinkage, name, module);
  for (unsigned i = 0; i < 3; ++i)
    fn->addParamAttr(i, llvm::Attribute::NoAlias);
  fn->addParamAttr(0, llvm::Attribute::ReadOnly);
  fn->addParamAttr(1, llvm::Attribute::ReadOnly);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  // One call per tile costs nothing next to its k loop, while inlining four variants into the
  // loop nest multiplies the optimiser's work (JIT time) for no speed.
  fn->addFnAttr(llvm::Attribute::NoInline);
  Value *a = fn->getArg(0), *bm = fn->getArg(1), *c = fn->getArg(2);
  Value *kc = fn->getArg(3), *accumulate = fn->getArg(4);

  auto *entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  auto *loop = llvm::BasicBlock::Create(ctx, "k.loop", fn);
  auto *store = llvm::BasicBlock::Create(ctx, "store", fn);
  b.SetInsertPoint(entry);
  b.CreateBr(loop);

  // The k loop: every accumulator is a phi, so they live in registers for the whole loop.
  b.SetInsertPoint(loop);
  llvm::PHINode *k = b.CreatePHI(b.getInt64Ty(), 2, "k");
  k->addIncoming(b.getInt64(0), entry);
  const bool masked = tile.tailLanes < tile.lanes;
  llvm::Constant *tailMask = laneMask(ctx, tile.lanes, tile.tailLanes);
  llvm::Constant *zero = llvm::ConstantAggregateZero::get(vecTy);
  std::vector<llvm::PHINode *> acc;
  for (int i = 0; i < tile.mr * tile.nv; ++i) {
    acc.push_back(b.CreatePHI(vecTy, 2, "acc"));
    acc.back()->addIncoming(zero, entry);
  }
  llvm::Align elemAlign(4);
  Value *bRow = b.CreateGEP(f32, bm, b.CreateMul(k, b.getInt64(tile.bStrideK)), "b.row");
  std::vector<Value *> bVec;
  for (int v = 0; v < tile.nv; ++v) {
    Value *p = b.CreateConstInBoundsGEP1_64(f32, bRow, static_cast<uint64_t>(v) * tile.lanes);
    if (masked && v == tile.nv - 1)
      bVec.push_back(b.CreateMaskedLoad(vecTy, p, elemAlign, tailMask, zero, "b.tail"));
    else
      bVec.push_back(b.CreateAlignedLoad(vecTy, p, elemAlign, "b.vec"));
  }
  Value *aCol = b.CreateGEP(f32, a, b.CreateMul(k, b.getInt64(tile.aStrideK)), "a.col");
  std::vector<Value *> next(acc.size());
  for (int i = 0; i < tile.mr; ++i) {
    Value *p = b.CreateConstInBoundsGEP1_64(f32, aCol, static_cast<uint64_t>(i * tile.aStrideI));
    Value *s = b.CreateAlignedLoad(f32, p, elemAlign, "a.elt");
    Value *splat = b.CreateVectorSplat(tile.lanes, s, "a.bcast");
    for (int v = 0; v < tile.nv; ++v) {
      int idx = i * tile.nv + v;
      next[idx] = b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vecTy}, {splat, bVec[v], acc[idx]});
    }
  }
  for (size_t i = 0; i < acc.size(); ++i)
    acc[i]->addIncoming(next[i], loop);
  Value *k1 = b.CreateAdd(k, b.getInt64(1), "k.next", true, true);
  k->addIncoming(k1, loop);
  b.CreateCondBr(b.CreateICmpSLT(k1, kc), loop, store);

  // Write back: C = acc (first K block with beta = 0) or C += acc (otherwise).
  b.SetInsertPoint(store);
  for (int i = 0; i < tile.mr; ++i) {
    for (int v = 0; v < tile.nv; ++v) {
      Value *p = b.CreateConstInBoundsGEP1_64(f32, c,
                                              static_cast<uint64_t>(i * tile.ldc + v * tile.lanes));
      bool tail = masked && v == tile.nv - 1;
      Value *old = tail ? static_cast<Value *>(
                              b.CreateMaskedLoad(vecTy, p, elemAlign, tailMask, zero, "c.tail"))
                        : b.CreateAlignedLoad(vecTy, p, elemAlign, "c.old");
      Value *sum = b.CreateFAdd(old, next[i * tile.nv + v]);
      Value *val = b.CreateSelect(accumulate, sum, next[i * tile.nv + v]);
      if (tail)
        b.CreateMaskedStore(val, p, elemAlign, tailMask);
      else
        b.CreateAlignedStore(val, p, elemAlign);
    }
  }
  b.CreateRetVoid();
  return fn;
}

} // namespace kiln::codegen
