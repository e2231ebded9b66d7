// EmitUtil: KernelBuilder's loops and outlined parallel loops, and broadcast index arithmetic.
#include "compiler/codegen/EmitUtil.h"

#include "compiler/codegen/KernelAbi.h"
#include "compiler/support/FloatMath.h"

#include <llvm/IR/Function.h>

#include <algorithm>
#include <cmath>

namespace kiln::codegen {

using llvm::Value;

KernelBuilder::KernelBuilder(KernelContext &ctx, llvm::Function *fn, const Node &node)
    : ctx(ctx), b(ctx.context), node(node), kernel_(fn), current_(fn) {
  if (fn->empty())
    llvm::BasicBlock::Create(ctx.context, "entry", fn);
  b.SetInsertPoint(&fn->back());
  for (unsigned i = 0; i + 1 < fn->arg_size(); ++i)
    args_.push_back(fn->getArg(i));
  run_ = fn->getArg(fn->arg_size() - 1);
}

llvm::Type *KernelBuilder::elemType(DType t) {
  switch (t) {
  case DType::F32:
    return b.getFloatTy();
  case DType::F64:
    return b.getDoubleTy();
  case DType::I32:
    return b.getInt32Ty();
  case DType::I64:
    return b.getInt64Ty();
  case DType::Bool:
    return b.getInt8Ty();
  }
  return nullptr;
}

Value *KernelBuilder::constant(DType t, double v) {
  if (isFloat(t))
    return llvm::ConstantFP::get(elemType(t), v);
  if (t == DType::Bool)
    return b.getInt8(v != 0 ? 1 : 0);
  return llvm::ConstantInt::get(elemType(t), static_cast<uint64_t>(static_cast<int64_t>(v)),
                                true);
}

Value *KernelBuilder::at(DType t, Value *base, Value *index) {
  return b.CreateInBoundsGEP(elemType(t), base, index);
}
Value *KernelBuilder::load(DType t, Value *base, Value *index) {
  return b.CreateLoad(elemType(t), at(t, base, index));
}
void KernelBuilder::store(DType t, Value *v, Value *base, Value *index) {
  b.CreateStore(v, at(t, base, index));
}

void KernelBuilder::loop(Value *begin, Value *end, llvm::function_ref<void(Value *)> body,
                         bool independent) {
  llvm::LLVMContext &c = ctx.context;
  llvm::BasicBlock *pre = b.GetInsertBlock();
  llvm::BasicBlock *head = llvm::BasicBlock::Create(c, "loop", current_);
  llvm::BasicBlock *bodyBb = llvm::BasicBlock::Create(c, "body", current_);
  llvm::BasicBlock *exit = llvm::BasicBlock::Create(c, "exit", current_);
  b.CreateBr(head);
  b.SetInsertPoint(head);
  llvm::PHINode *iv = b.CreatePHI(b.getInt64Ty(), 2, "i");
  iv->addIncoming(begin, pre);
  b.CreateCondBr(b.CreateICmpSLT(iv, end), bodyBb, exit);
  b.SetInsertPoint(bodyBb);
  body(iv);
  Value *next = b.CreateAdd(iv, c64(1), "", /*HasNUW=*/true, /*HasNSW=*/true);
  iv->addIncoming(next, b.GetInsertBlock());
  llvm::BranchInst *latch = b.CreateBr(head);
  b.SetInsertPoint(exit);
  if (!independent)
    return;
  // The body's blocks: bodyBb and every block created after `exit`.
  llvm::MDNode *group = llvm::MDNode::getDistinct(c, {});
  auto tag = [&](llvm::BasicBlock &bb) {
    for (llvm::Instruction &inst : bb)
      if (inst.mayReadOrWriteMemory())
        inst.setMetadata(llvm::LLVMContext::MD_access_group, group);
  };
  tag(*bodyBb);
  for (auto it = std::next(exit->getIterator()); it != current_->end(); ++it)
    tag(*it);
  llvm::MDNode *parallel =
      llvm::MDNode::get(c, {llvm::MDString::get(c, "llvm.loop.parallel_accesses"), group});
  llvm::MDNode *id = llvm::MDNode::getDistinct(c, {nullptr, parallel});
  id->replaceOperandWith(0, id);
  latch->setMetadata(llvm::LLVMContext::MD_loop, id);
}

Value *KernelBuilder::slot(llvm::Type *ty, const char *name) {
  llvm::IRBuilder<> eb(&current_->getEntryBlock(), current_->getEntryBlock().begin());
  return eb.CreateAlloca(ty, nullptr, name);
}

void KernelBuilder::parallelFor(int64_t n, int64_t grain,
                                llvm::function_ref<void(Value *, Value *)> body) {
  llvm::LLVMContext &c = ctx.context;
  llvm::Type *ptr = b.getPtrTy(), *i64 = b.getInt64Ty();
  size_t nargs = args_.size();
  // Context: every pointer argument, then the run counter, in one stack array of i64/ptr slots.
  llvm::ArrayType *ctxTy = llvm::ArrayType::get(i64, nargs + 1);
  Value *ctxSlot = slot(ctxTy, "pctx");
  for (size_t i = 0; i < nargs; ++i)
    b.CreateStore(args_[i], b.CreateConstInBoundsGEP2_64(ctxTy, ctxSlot, 0, i));
  b.CreateStore(run_, b.CreateConstInBoundsGEP2_64(ctxTy, ctxSlot, 0, nargs));

  auto *bodyTy = llvm::FunctionType::get(b.getVoidTy(), {ptr, i64, i64}, false);
  auto *bodyFn = llvm::Function::Create(bodyTy, llvm::Function::InternalLinkage,
                                        kernel_->getName() + ".par" + std::to_string(helpers_++),
                                        ctx.module);
  bodyFn->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::IRBuilderBase::InsertPoint saved = b.saveIP();
  std::vector<Value *> savedArgs = args_;
  Value *savedRun = run_;
  llvm::Function *savedFn = current_;

  current_ = bodyFn;
  b.SetInsertPoint(llvm::BasicBlock::Create(c, "entry", bodyFn));
  Value *bctx = bodyFn->getArg(0);
  for (size_t i = 0; i < nargs; ++i)
    args_[i] = b.CreateLoad(ptr, b.CreateConstInBoundsGEP2_64(ctxTy, bctx, 0, i));
  run_ = b.CreateLoad(i64, b.CreateConstInBoundsGEP2_64(ctxTy, bctx, 0, nargs));
  body(bodyFn->getArg(1), bodyFn->getArg(2));
  b.CreateRetVoid();

  current_ = savedFn;
  args_ = std::move(savedArgs);
  run_ = savedRun;
  b.restoreIP(saved);
  llvm::FunctionCallee pf = declareAbiFunction(ctx.module, "kiln_parallel_for");
  b.CreateCall(pf, {bodyFn, ctxSlot, c64(n), c64(std::max<int64_t>(grain, 1))});
}

Value *emitExpDouble(llvm::IRBuilder<> &b, Value *xd) {
  // kiln::math::expDouble (compiler/support/FloatMath.h), operation for operation; see there.
  llvm::Type *dty = xd->getType();
  llvm::Type *ity = dty->getWithNewType(b.getInt64Ty());
  auto c = [&](double v) { return llvm::ConstantFP::get(dty, v); };
  Value *xc = b.CreateBinaryIntrinsic(llvm::Intrinsic::minnum,
                                      b.CreateBinaryIntrinsic(llvm::Intrinsic::maxnum, xd, c(-110)),
                                      c(100));
  Value *n = b.CreateUnaryIntrinsic(llvm::Intrinsic::rint, b.CreateFMul(xc, c(math::kLog2e)));
  Value *r = b.CreateFSub(b.CreateFSub(xc, b.CreateFMul(n, c(math::kLn2Hi))),
                          b.CreateFMul(n, c(math::kLn2Lo)));
  Value *p = c(math::kExpTaylor[0]);
  for (size_t k = 1; k < std::size(math::kExpTaylor); ++k)
    p = b.CreateFAdd(b.CreateFMul(p, r), c(math::kExpTaylor[k]));
  Value *bits = b.CreateShl(b.CreateAdd(b.CreateFPToSI(n, ity), llvm::ConstantInt::get(ity, 1023)),
                            llvm::ConstantInt::get(ity, 52));
  Value *y = b.CreateFMul(p, b.CreateBitCast(bits, dty));
  return b.CreateSelect(b.CreateFCmpUNO(xd, xd), xd, y);
}

Value *emitExp(KernelBuilder &kb, DType t, Value *x) {
  auto &b = kb.b;
  if (t != DType::F32)
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::exp, x);
  // In double, then one rounding to f32, which also produces the subnormal, zero and infinite
  // results. So the result is libm's correctly rounded expf in all but vanishingly rare ties,
  // and the loop vectorises.
  llvm::Type *dty = x->getType()->getWithNewType(b.getDoubleTy());
  return b.CreateFPTrunc(emitExpDouble(b, b.CreateFPExt(x, dty)), x->getType());
}

Value *emitTanhF32(llvm::IRBuilder<> &b, Value *x) {
  // kiln::math::tanhF32 (compiler/support/FloatMath.h), operation for operation, so that the
  // interpreter and generated code agree bit for bit; see there for the method and its error.
  llvm::Type *dty = x->getType()->getWithNewType(b.getDoubleTy());
  auto c = [&](double v) { return llvm::ConstantFP::get(dty, v); };
  Value *a = b.CreateBinaryIntrinsic(
      llvm::Intrinsic::minnum, b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, b.CreateFPExt(x, dty)),
      c(10.0));
  Value *y = b.CreateFMul(c(2), a);
  Value *p = c(math::expm1Coefficient(math::kExpm1Terms - 1));
  for (int k = math::kExpm1Terms - 2; k >= 0; --k)
    p = b.CreateFAdd(b.CreateFMul(p, y), c(math::expm1Coefficient(k)));
  Value *small = b.CreateFMul(p, y);
  Value *large = b.CreateFSub(emitExpDouble(b, y), c(1.0));
  Value *m = b.CreateSelect(b.CreateFCmpOLT(y, c(0.5)), small, large);
  Value *t = b.CreateFPTrunc(b.CreateFDiv(m, b.CreateFAdd(m, c(2.0))), x->getType());
  t = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, t, x);
  return b.CreateSelect(b.CreateFCmpUNO(x, x), x, t);
}

Value *emitLog(KernelBuilder &kb, DType t, Value *x) {
  auto &b = kb.b;
  if (t != DType::F32)
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::log, x);
  // In double (where every f32, subnormals included, is normal): x = m 2^e with m in
  // [sqrt(1/2), sqrt(2)), log m = 2 atanh(s) with s = (m-1)/(m+1), |s| < 0.172, by its series to
  // s^19 (error below 1e-15), plus e ln2; one rounding to f32.
  llvm::Type *dty = x->getType()->getWithNewType(b.getDoubleTy());
  llvm::Type *ity = x->getType()->getWithNewType(b.getInt64Ty());
  auto c = [&](double v) { return llvm::ConstantFP::get(dty, v); };
  auto ci = [&](uint64_t v) { return llvm::ConstantInt::get(ity, v); };
  Value *bits = b.CreateBitCast(b.CreateFPExt(x, dty), ity);
  Value *e = b.CreateSub(b.CreateAnd(b.CreateLShr(bits, ci(52)), ci(0x7ff)), ci(1023));
  Value *m = b.CreateBitCast(
      b.CreateOr(b.CreateAnd(bits, ci(0x000fffffffffffffULL)), ci(0x3ff0000000000000ULL)), dty);
  Value *big = b.CreateFCmpOGT(m, c(1.4142135623730951));
  m = b.CreateSelect(big, b.CreateFMul(m, c(0.5)), m);
  Value *ed = b.CreateSIToFP(b.CreateAdd(e, b.CreateZExt(big, ity)), dty);
  Value *s = b.CreateFDiv(b.CreateFSub(m, c(1)), b.CreateFAdd(m, c(1)));
  Value *z = b.CreateFMul(s, s);
  Value *p = c(2.0 / 19);
  for (int k = 17; k >= 1; k -= 2)
    p = b.CreateFAdd(b.CreateFMul(p, z), c(2.0 / k));
  Value *y = b.CreateFAdd(b.CreateFMul(ed, c(0.69314718055994530942)), b.CreateFMul(p, s));
  y = b.CreateFPTrunc(y, x->getType());
  auto cf = [&](double v) { return llvm::ConstantFP::get(x->getType(), v); };
  y = b.CreateSelect(b.CreateFCmpOEQ(x, cf(INFINITY)), x, y);
  y = b.CreateSelect(b.CreateFCmpOEQ(x, cf(0)), cf(-INFINITY), y);
  y = b.CreateSelect(b.CreateFCmpOLT(x, cf(0)), cf(NAN), y);
  return b.CreateSelect(b.CreateFCmpUNO(x, x), x, y);
}

std::vector<int64_t> rowMajorStrides(const Shape &s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int64_t d = int64_t(s.size()) - 2; d >= 0; --d)
    st[d] = st[d + 1] * s[d + 1];
  return st;
}

std::vector<int64_t> broadcastStrides(const Shape &in, const Shape &out) {
  std::vector<int64_t> inSt = rowMajorStrides(in);
  std::vector<int64_t> st(out.size(), 0);
  size_t shift = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d)
    st[d + shift] = (in[d] == 1 && out[d + shift] != 1) ? 0 : inSt[d];
  return st;
}

Value *offsetOf(KernelBuilder &kb, Value *flat, const Shape &shape,
                const std::vector<int64_t> &strides) {
  Value *off = kb.c64(0);
  Value *rest = flat;
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    bool last = d == 0;
    Value *idx = last ? rest : kb.b.CreateURem(rest, kb.c64(shape[d]));
    if (strides[d] != 0)
      off = kb.b.CreateAdd(off, kb.b.CreateMul(idx, kb.c64(strides[d])));
    if (!last)
      rest = kb.b.CreateUDiv(rest, kb.c64(shape[d]));
  }
  return off;
}

void emitRowLoop(KernelBuilder &kb, const RowLoop &space,
                 llvm::function_ref<void(const std::vector<Value *> &)> body) {
  const Shape &out = space.out;
  int64_t inner = out.empty() ? 1 : out.back();
  int64_t total = 1;
  for (int64_t d : out)
    total *= d;
  if (total == 0)
    return;
  int64_t rows = total / inner;
  Shape outer(out.begin(), out.end() - (out.empty() ? 0 : 1));
  // Chunks of at most kChunk elements of a row, so that a few long rows still spread.
  constexpr int64_t kChunk = 4096;
  int64_t chunk = std::min(inner, kChunk);
  int64_t perRow = (inner + chunk - 1) / chunk;
  std::vector<std::vector<int64_t>> outerStrides;
  std::vector<int64_t> innerStrides;
  for (const Shape &in : space.inputs) {
    std::vector<int64_t> st = broadcastStrides(in, out);
    innerStrides.push_back(st.empty() ? 0 : st.back());
    outerStrides.emplace_back(st.begin(), st.end() - (st.empty() ? 0 : 1));
  }
  std::vector<int64_t> ost = rowMajorStrides(out);
  innerStrides.push_back(1);
  outerStrides.emplace_back(ost.begin(), ost.end() - (ost.empty() ? 0 : 1));
  // About 32K elements per parallel chunk: smaller loops are not worth a thread.
  int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / chunk);
  kb.parallelFor(rows * perRow, grain, [&](Value *begin, Value *end) {
    kb.loop(begin, end, [&](Value *item) {
      Value *row = perRow == 1 ? item : kb.b.CreateUDiv(item, kb.c64(perRow));
      Value *i0 = perRow == 1 ? kb.c64(0)
                              : kb.b.CreateMul(kb.b.CreateURem(item, kb.c64(perRow)), kb.c64(chunk));
      Value *i1 = perRow == 1 ? kb.c64(inner)
                              : kb.b.CreateBinaryIntrinsic(llvm::Intrinsic::smin,
                                                           kb.b.CreateAdd(i0, kb.c64(chunk)),
                                                           kb.c64(inner));
      std::vector<Value *> rowOff;
      for (const auto &st : outerStrides)
        rowOff.push_back(offsetOf(kb, row, outer, st));
      kb.loop(i0, i1, [&](Value *i) {
        std::vector<Value *> offs;
        for (size_t k = 0; k < rowOff.size(); ++k)
          offs.push_back(innerStrides[k] == 0
                             ? rowOff[k]
                             : kb.b.CreateAdd(rowOff[k], kb.b.CreateMul(i, kb.c64(innerStrides[k]))));
        body(offs);
      }, /*independent=*/true);
    });
  });
}

} // namespace kiln::codegen
