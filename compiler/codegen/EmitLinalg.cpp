// EmitLinalg: LinalgBuilder (loops, conditionals, parallel loops) and the conv/pool geometry.
#include "compiler/codegen/EmitLinalg.h"

#include "compiler/codegen/GemmEmit.h"
#include "compiler/codegen/GemmGen.h"
#include "compiler/codegen/KernelAbi.h"
#include "compiler/interp/Kernels.h"

#include <llvm/IR/Function.h>

namespace kiln::codegen {

using llvm::Value;

LinalgBuilder::LinalgBuilder(llvm::Module &module, const HostTarget &target, llvm::Function *fn,
                             DType dtype)
    : b(module.getContext()), module(module), target(target), fn(fn), dtype(dtype) {
  if (fn->empty())
    llvm::BasicBlock::Create(module.getContext(), "entry", fn);
  b.SetInsertPoint(&fn->back());
}

void LinalgBuilder::loop(Value *begin, Value *end, llvm::function_ref<void(Value *)> body) {
  emitFor(b, begin, end, 1, body, "l");
}

void LinalgBuilder::ifThen(Value *cond, llvm::function_ref<void()> body) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  auto *thenBlock = llvm::BasicBlock::Create(b.getContext(), "then", f);
  auto *join = llvm::BasicBlock::Create(b.getContext(), "join", f);
  b.CreateCondBr(cond, thenBlock, join);
  b.SetInsertPoint(thenBlock);
  body();
  b.CreateBr(join);
  b.SetInsertPoint(join);
}

Value *LinalgBuilder::inRange(Value *v, int64_t n) {
  // One unsigned compare covers both bounds.
  return b.CreateICmpULT(v, c64(n));
}

Value *LinalgBuilder::slot(llvm::Type *ty, const char *name) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::IRBuilder<> entry(&f->getEntryBlock(), f->getEntryBlock().begin());
  return entry.CreateAlloca(ty, nullptr, name);
}

void LinalgBuilder::zero(Value *dst, int64_t n) {
  loop(n, [&](Value *i) { store(fconst(0), dst, i); });
}

std::string LinalgBuilder::helperName(const std::string &what) {
  return fn->getName().str() + "." + what + std::to_string(counter_++);
}

Expected<llvm::Function *> LinalgBuilder::gemm(const GemmSpec &spec) {
  std::string name = "kiln.gemm." + std::to_string(spec.m) + "x" + std::to_string(spec.n) + "x" +
                     std::to_string(spec.k) + (spec.transposeA ? ".ta" : "") +
                     (spec.transposeB ? ".tb" : "") + (spec.accumulate ? ".acc" : "");
  if (llvm::Function *existing = module.getFunction(name))
    return existing;
  KILN_ASSIGN(llvm::Function * fn, emitGemmFunction(module, spec, target, name));
  fn->setLinkage(llvm::Function::InternalLinkage);
  return fn;
}

void LinalgBuilder::parallelFor(
    int64_t n, int64_t grain, const std::vector<Value *> &captures,
    llvm::function_ref<void(const std::vector<Value *> &, Value *, Value *)> body) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Type *ptr = b.getPtrTy(), *i64 = b.getInt64Ty();
  auto *arrTy = llvm::ArrayType::get(ptr, std::max<size_t>(captures.size(), 1));
  // The captured pointers travel in a stack array of the kernel.
  Value *ctxArr = slot(arrTy, "par.ctx");
  for (size_t i = 0; i < captures.size(); ++i)
    b.CreateStore(captures[i], b.CreateConstInBoundsGEP2_64(arrTy, ctxArr, 0, i));
  auto *bodyTy = llvm::FunctionType::get(b.getVoidTy(), {ptr, i64, i64}, false);
  auto *bodyFn =
      llvm::Function::Create(bodyTy, llvm::Function::InternalLinkage, helperName("par"), module);
  bodyFn->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::IRBuilderBase::InsertPoint saved = b.saveIP();
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", bodyFn));
  std::vector<Value *> caps;
  for (size_t i = 0; i < captures.size(); ++i)
    caps.push_back(b.CreateLoad(ptr, b.CreateConstInBoundsGEP2_64(arrTy, bodyFn->getArg(0), 0, i)));
  body(caps, bodyFn->getArg(1), bodyFn->getArg(2));
  b.CreateRetVoid();
  b.restoreIP(saved);
  llvm::FunctionCallee parallel = declareAbiFunction(module, "kiln_parallel_for");
  b.CreateCall(parallel, {bodyFn, ctxArr, c64(n), c64(std::max<int64_t>(grain, 1))});
}

Status checkFloatKernel(const Node &node, DType dtype) {
  if (dtype == DType::F32 || dtype == DType::F64)
    return Status::ok();
  return Status::error("error: " + std::string(node.info().mnemonic) + " '" + node.name() +
                       "': " + std::string(node.info().mnemonic) + " of " +
                       std::string(dtypeName(dtype)) + " has no LLVM lowering yet");
}

namespace {

ImageStrides imageStrides(const Shape &s, bool nchw) {
  ImageStrides r;
  if (nchw) {
    r.c = s[1], r.h = s[2], r.w = s[3];
    r.x = 1, r.y = r.w, r.ch = r.h * r.w, r.n = r.c * r.h * r.w;
  } else {
    r.h = s[1], r.w = s[2], r.c = s[3];
    r.ch = 1, r.x = r.c, r.y = r.w * r.c, r.n = r.h * r.w * r.c;
  }
  return r;
}

} // namespace

Expected<ConvGeom> convGeom(const Node &node, const Shape &xs, const Shape &ws, const Shape &ys) {
  if (xs.size() != 4 || ws.size() != 4 || ys.size() != 4)
    return interp::internalError(node, "conv operands must have rank 4");
  ConvGeom g;
  g.nchw = node.attrStr("data_format") == "NCHW";
  std::tie(g.sh, g.sw) = interp::twoInts(node, "strides", {1, 1});
  std::tie(g.dh, g.dw) = interp::twoInts(node, "dilations", {1, 1});
  g.groups = node.attrInt("groups");
  g.kh = g.nchw ? ws[2] : ws[0];
  g.kw = g.nchw ? ws[3] : ws[1];
  g.cig = g.nchw ? ws[1] : ws[2];
  g.co = g.nchw ? ws[0] : ws[3];
  g.x = imageStrides(xs, g.nchw);
  g.y = imageStrides(ys, g.nchw);
  g.batch = xs[0];
  if (g.groups < 1 || g.x.c != g.cig * g.groups || g.co % g.groups != 0 || g.y.c != g.co)
    return interp::internalError(node, "conv channel counts do not match groups");
  g.cog = g.co / g.groups;
  if (g.nchw) {
    g.wX = 1, g.wY = g.kw, g.wI = g.kh * g.kw, g.wO = g.cig * g.kh * g.kw;
  } else {
    g.wO = 1, g.wI = g.co, g.wX = g.cig * g.co, g.wY = g.kw * g.cig * g.co;
  }
  interp::Pads2D pads =
      interp::resolvePads(*node.attr("padding"), g.x.h, g.x.w, (g.kh - 1) * g.dh + 1,
                          (g.kw - 1) * g.dw + 1, g.sh, g.sw);
  g.padTop = pads.top;
  g.padLeft = pads.left;
  return g;
}

PoolGeom poolGeom(const Node &node, const Shape &xs, const Shape &ys) {
  PoolGeom g;
  bool nchw = node.attrStr("data_format") == "NCHW";
  std::tie(g.kh, g.kw) = interp::twoInts(node, "ksize", {1, 1});
  std::tie(g.sh, g.sw) = interp::twoInts(node, "strides", {g.kh, g.kw});
  g.x = imageStrides(xs, nchw);
  g.y = imageStrides(ys, nchw);
  g.batch = xs[0];
  interp::Pads2D pads =
      interp::resolvePads(*node.attr("padding"), g.x.h, g.x.w, g.kh, g.kw, g.sh, g.sw);
  g.padTop = pads.top;
  g.padLeft = pads.left;
  return g;
}

} // namespace kiln::codegen
