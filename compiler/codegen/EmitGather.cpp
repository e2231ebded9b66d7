// EmitGather: the LLVM kernels of gather, gather_grad (its scatter-add adjoint) and one_hot.
//
// gather and gather_grad check every index before anything is written, as the interpreter does.
// An index outside [0, n) calls the runtime's kiln_runtime_error (KernelABI.def) with the
// interpreter's located message ("gather 'g': index 12 is out of range [0, 10)"), which the
// executable reports after the run; the kernel then zero-fills its result and returns.
// gather copies one contiguous row per (outer, index) pair, split across threads. gather_grad
// scatter-adds per (outer, column block): each task owns its slice of the result and adds dy's
// rows in index order, so repeated indices sum in the interpreter's order whatever the threads
// do; f32 sums in double in the thread's scratch (kiln_thread_scratch), as the interpreter does,
// so the results are bit-exact. one_hot zeroes each row and sets the in-range index to one.
#include "compiler/codegen/EmitSupport.h"

#include "compiler/codegen/KernelAbi.h"

#include <algorithm>

namespace kiln::codegen {

using llvm::Value;

namespace {

constexpr int64_t kColumnBlock = 512;      ///< gather_grad: columns per task at most
constexpr int64_t kScratchBytes = 4 << 20; ///< gather_grad: f32 accumulator per thread at most

/// Element i of an i32/i64 index buffer, as i64.
Value *loadIndex(KernelBuilder &kb, DType dt, Value *indices, Value *i) {
  return kb.b.CreateSExt(kb.load(dt, indices, i), kb.b.getInt64Ty());
}

/// Checks indices[0, count) against [0, n) before anything is written: the first bad one reports
/// the interpreter's message through kiln_runtime_error, zero-fills the result and returns.
void emitIndexCheck(KernelBuilder &kb, const Node &node, unsigned indexOperand, int64_t n) {
  llvm::IRBuilder<> &b = kb.b;
  const TensorType &indices = node.operand(indexOperand).type();
  std::string message = formatError(node.loc(), who(node) + ": index {} is out of range [0, " +
                                                    std::to_string(n) + ")");
  kb.loop(kb.c64(0), kb.c64(indices.numElements()), [&](Value *i) {
    Value *idx = loadIndex(kb, indices.dtype, kb.operand(indexOperand), i);
    auto *bad = llvm::BasicBlock::Create(b.getContext(), "index.bad", kb.function());
    auto *good = llvm::BasicBlock::Create(b.getContext(), "index.ok", kb.function());
    // One unsigned compare covers both bounds.
    b.CreateCondBr(b.CreateICmpUGE(idx, kb.c64(n)), bad, good);
    b.SetInsertPoint(bad);
    b.CreateCall(declareAbiFunction(kb.ctx.module, "kiln_runtime_error"),
                 {b.CreateGlobalStringPtr(message, "index.message"), idx});
    zeroFill(kb, node.type());
    b.CreateRetVoid();
    b.SetInsertPoint(good);
  });
}

/// The table (or its gradient) viewed as [outer, n, inner], with `count` indices.
struct GatherGeom {
  int64_t outer = 1, n = 1, inner = 1, count = 1;
};

Expected<GatherGeom> gatherGeom(const Node &node, const Shape &table, int64_t count) {
  auto axis = normalizeAxis(node.attrInt("axis"), int64_t(table.size()));
  if (!axis)
    return internalError(node, "axis out of range");
  size_t ax = size_t(*axis);
  return GatherGeom{shapeProduct(table, 0, ax), table[ax],
                    shapeProduct(table, ax + 1, table.size()), count};
}

Status emitGather(KernelBuilder &kb, const Node &node) {
  const TensorType &table = node.operand(0).type(), &indices = node.operand(1).type();
  if (!isInteger(indices.dtype))
    return internalError(node, "indices must be i32 or i64");
  KILN_ASSIGN(GatherGeom g, gatherGeom(node, table.shape, indices.numElements()));
  llvm::IRBuilder<> &b = kb.b;
  DType dt = table.dtype;
  emitIndexCheck(kb, node, 1, g.n);
  kb.parallelFor(
      g.outer * g.count, std::max<int64_t>(1, kCopyGrain / g.inner), [&](Value *begin, Value *end) {
        kb.loop(begin, end, [&](Value *u) {
          Value *o = b.CreateUDiv(u, kb.c64(g.count)), *i = b.CreateURem(u, kb.c64(g.count));
          Value *idx = loadIndex(kb, indices.dtype, kb.operand(1), i);
          Value *src = b.CreateMul(b.CreateAdd(b.CreateMul(o, kb.c64(g.n)), idx), kb.c64(g.inner));
          Value *dst = b.CreateMul(u, kb.c64(g.inner));
          kb.loop(kb.c64(0), kb.c64(g.inner), [&](Value *j) {
            kb.store(dt, kb.load(dt, kb.operand(0), b.CreateAdd(src, j)), kb.result(0),
                     b.CreateAdd(dst, j));
          });
        });
      });
  return Status::ok();
}

Status emitGatherGrad(KernelBuilder &kb, const Node &node) {
  const TensorType &indices = node.operand(0).type(), &dy = node.operand(1).type();
  const TensorType &out = node.type();
  if (!isInteger(indices.dtype))
    return internalError(node, "indices must be i32 or i64");
  if (!isFloat(dy.dtype) || dy.dtype != out.dtype)
    return internalError(node, "needs an f32 or f64 gradient");
  KILN_ASSIGN(GatherGeom g, gatherGeom(node, out.shape, indices.numElements()));
  llvm::IRBuilder<> &b = kb.b;
  DType dt = out.dtype;
  bool viaScratch = dt == DType::F32; // f32 sums in double, as the interpreter does
  llvm::Type *f64 = b.getDoubleTy();
  emitIndexCheck(kb, node, 0, g.n);
  // The f32 accumulator holds n rows of `block` doubles: narrow blocks for big tables.
  int64_t block = std::min(g.inner, kColumnBlock);
  if (viaScratch)
    block = std::max<int64_t>(1, std::min(block, kScratchBytes / (8 * g.n)));
  int64_t blocks = ceilDiv(g.inner, block);
  int64_t work = (g.count + g.n) * block;
  kb.parallelFor(
      g.outer * blocks, std::max<int64_t>(1, kCopyGrain / work), [&](Value *begin, Value *end) {
        Value *scratch = nullptr;
        if (viaScratch)
          scratch = b.CreateCall(declareAbiFunction(kb.ctx.module, "kiln_thread_scratch"),
                                 {kb.c64(g.n * block * 8)});
        kb.loop(begin, end, [&](Value *u) {
          Value *o = b.CreateUDiv(u, kb.c64(blocks));
          Value *j0 = b.CreateMul(b.CreateURem(u, kb.c64(blocks)), kb.c64(block));
          Value *j1 = smin(kb, b.CreateAdd(j0, kb.c64(block)), g.inner);
          auto outIndex = [&](Value *r, Value *j) {
            return b.CreateAdd(
                b.CreateMul(b.CreateAdd(b.CreateMul(o, kb.c64(g.n)), r), kb.c64(g.inner)), j);
          };
          // The accumulator of dt[o, r, j]: the result itself (f64) or scratch[r, j - j0] (f32).
          auto accAt = [&](Value *r, Value *j) {
            if (!viaScratch)
              return kb.at(dt, kb.result(0), outIndex(r, j));
            Value *k = b.CreateAdd(b.CreateMul(r, kb.c64(block)), b.CreateSub(j, j0));
            return b.CreateInBoundsGEP(f64, scratch, k);
          };
          llvm::Type *accTy = viaScratch ? f64 : kb.elemType(dt);
          kb.loop(kb.c64(0), kb.c64(g.n), [&](Value *r) {
            kb.loop(j0, j1, [&](Value *j) {
              b.CreateStore(llvm::ConstantFP::get(accTy, 0.0), accAt(r, j));
            });
          });
          kb.loop(kb.c64(0), kb.c64(g.count), [&](Value *i) {
            Value *r = loadIndex(kb, indices.dtype, kb.operand(0), i);
            Value *dyRow =
                b.CreateMul(b.CreateAdd(b.CreateMul(o, kb.c64(g.count)), i), kb.c64(g.inner));
            kb.loop(j0, j1, [&](Value *j) {
              Value *v = kb.load(dt, kb.operand(1), b.CreateAdd(dyRow, j));
              if (viaScratch)
                v = b.CreateFPExt(v, f64);
              Value *acc = accAt(r, j);
              b.CreateStore(b.CreateFAdd(b.CreateLoad(accTy, acc), v), acc);
            });
          });
          if (!viaScratch)
            return;
          kb.loop(kb.c64(0), kb.c64(g.n), [&](Value *r) {
            kb.loop(j0, j1, [&](Value *j) {
              Value *v = b.CreateFPTrunc(b.CreateLoad(f64, accAt(r, j)), kb.elemType(dt));
              kb.store(dt, v, kb.result(0), outIndex(r, j));
            });
          });
        });
      });
  return Status::ok();
}

Status emitOneHot(KernelBuilder &kb, const Node &node) {
  const TensorType &indices = node.operand(0).type(), &out = node.type();
  if (!isInteger(indices.dtype))
    return internalError(node, "indices must be i32 or i64");
  int64_t depth = node.attrInt("depth");
  llvm::IRBuilder<> &b = kb.b;
  Value *one = kb.constant(out.dtype, 1.0);
  int64_t rowBytes = depth * int64_t(dtypeSize(out.dtype));
  kb.parallelFor(indices.numElements(), std::max<int64_t>(1, kCopyGrain / depth),
                 [&](Value *begin, Value *end) {
                   kb.loop(begin, end, [&](Value *i) {
                     Value *row = b.CreateMul(i, kb.c64(depth));
                     b.CreateMemSet(kb.at(out.dtype, kb.result(0), row), b.getInt8(0),
                                    kb.c64(rowBytes), llvm::MaybeAlign(1));
                     // An out-of-range index leaves its row all zero (TensorFlow's rule, as the
                     // interpreter).
                     Value *idx = loadIndex(kb, indices.dtype, kb.operand(0), i);
                     ifThen(kb, b.CreateICmpULT(idx, kb.c64(depth)),
                            [&] { kb.store(out.dtype, one, kb.result(0), b.CreateAdd(row, idx)); });
                   });
                 });
  return Status::ok();
}

} // namespace

Status emitGatherFamily(KernelBuilder &kb, const Node &node) {
  if (node.op() == Op::Gather)
    return emitGather(kb, node);
  if (node.op() == Op::GatherGrad)
    return emitGatherGrad(kb, node);
  if (node.op() == Op::OneHot)
    return emitOneHot(kb, node);
  return internalError(node, "not gather, gather_grad or one_hot");
}

} // namespace kiln::codegen
