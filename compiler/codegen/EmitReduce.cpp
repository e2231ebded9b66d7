// EmitReduce: reduce_sum, reduce_mean, reduce_max and reduce_min over any axes, as standalone
// kernels and as the tail of fused loop groups.
//
// The loops: one parallel loop over the output elements; for each, a loop over the leading
// reduced dimensions and an innermost loop along the last reduced one. When the last dimension
// is kept instead, blocks of output columns accumulate together along contiguous rows. Floats accumulate in
// double (the interpreter's choice, so results match); an f32 sum may be reassociated, which
// lets LLVM vectorise it, while f64 sums keep the interpreter's order for 1e-12 agreement.
#include "compiler/codegen/EmitOps.h"

#include <llvm/IR/Function.h>

#include <algorithm>
#include <limits>

namespace kiln::codegen {

using llvm::Value;

Status emitReduction(KernelBuilder &kb, const Node &reduce, unsigned result,
                     llvm::function_ref<Value *(Value *flat)> element) {
  auto &b = kb.b;
  Op op = reduce.op();
  bool sum = op == Op::ReduceSum || op == Op::ReduceMean;
  if (op != Op::ReduceSum && op != Op::ReduceMean && op != Op::ReduceMax && op != Op::ReduceMin)
    return Status::error("internal error: " + reduce.name() + " is not a reduction");
  DType t = reduce.operand(0).type().dtype;
  if (t == DType::Bool || (op == Op::ReduceMean && !isFloat(t)))
    return Status::error("internal error: " + std::string(reduce.info().mnemonic) + " '" +
                         reduce.name() + "': no kernel for dtype " + std::string(dtypeName(t)));
  const Shape &in = reduce.operand(0).type().shape;
  int64_t rank = int64_t(in.size());
  std::vector<bool> reduced(size_t(rank), !reduce.attrInts("axes").has_value());
  if (auto axes = reduce.attrInts("axes"))
    for (int64_t a : *axes) {
      if (a < -rank || a >= rank)
        return Status::error("internal error: " + reduce.name() + ": axis out of range");
      reduced[size_t(a < 0 ? a + rank : a)] = true;
    }
  std::vector<int64_t> inStrides = rowMajorStrides(in);
  Shape kept, red;
  std::vector<int64_t> keptSt, redSt;
  for (int64_t d = 0; d < rank; ++d) {
    (reduced[size_t(d)] ? red : kept).push_back(in[size_t(d)]);
    (reduced[size_t(d)] ? redSt : keptSt).push_back(inStrides[size_t(d)]);
  }
  int64_t outElems = 1, count = 1;
  for (int64_t v : kept)
    outElems *= v;
  for (int64_t v : red)
    count *= v;
  if (outElems == 0)
    return Status::ok();

  bool fp = isFloat(t);
  llvm::Type *accTy = fp ? b.getDoubleTy() : kb.elemType(t);
  DType accT = fp ? DType::F64 : t;
  DType outT = reduce.type().dtype;
  int64_t lastN = red.empty() ? 1 : red.back(), lastSt = red.empty() ? 0 : redSt.back();
  Shape outerRed(red.begin(), red.end() - (red.empty() ? 0 : 1));
  int64_t outerCount = count / std::max<int64_t>(lastN, 1);
  if (count == 0) // sum 0, mean 0/0 = NaN, max/min of nothing 0: as the interpreter
    outerCount = 0;
  double init = sum ? 0.0
                    : (op == Op::ReduceMax ? -std::numeric_limits<double>::infinity()
                                           : std::numeric_limits<double>::infinity());
  Value *initV = fp ? kb.constant(accT, init)
                    : (sum ? kb.constant(t, 0)
                           : llvm::ConstantInt::get(accTy, op == Op::ReduceMax
                                                               ? llvm::APInt::getSignedMinValue(
                                                                     accTy->getIntegerBitWidth())
                                                               : llvm::APInt::getSignedMaxValue(
                                                                     accTy->getIntegerBitWidth())));
  if (!sum && count == 0)
    initV = kb.constant(accT, 0);
  int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(count, 1));

  // acc (op) v, and the final value of an accumulator.
  auto combine = [&](Value *a, Value *v) -> Value * {
    if (fp)
      v = b.CreateFPExt(v, accTy);
    if (sum) {
      Value *next = fp ? b.CreateFAdd(a, v) : b.CreateAdd(a, v);
      if (fp && t == DType::F32)
        llvm::cast<llvm::Instruction>(next)->setHasAllowReassoc(true);
      return next;
    }
    if (fp) { // the first NaN sticks: a stays if it is NaN, else v wins if better or NaN
      Value *better = op == Op::ReduceMax ? b.CreateFCmpUGT(v, a) : b.CreateFCmpULT(v, a);
      return b.CreateSelect(b.CreateFCmpUNO(a, a), a, b.CreateSelect(better, v, a));
    }
    Value *better = op == Op::ReduceMax ? b.CreateICmpSGT(v, a) : b.CreateICmpSLT(v, a);
    return b.CreateSelect(better, v, a);
  };
  auto finish = [&](Value *r) {
    if (op == Op::ReduceMean)
      r = b.CreateFDiv(r, kb.constant(DType::F64, double(count)));
    if (fp && outT == DType::F32)
      r = b.CreateFPTrunc(r, b.getFloatTy());
    return r;
  };

  if (rank > 0 && !reduced[size_t(rank - 1)] && !red.empty() && count > 0) {
    // The last dimension is kept (a bias gradient: [N, C] -> [C]): accumulate a block of
    // columns at once, so that the inner loop runs along contiguous memory and vectorises.
    int64_t nL = in.back(), cols = std::min<int64_t>(nL, 512);
    int64_t perRow = (nL + cols - 1) / cols, koCount = outElems / nL;
    Shape keptOuter(kept.begin(), kept.end() - 1);
    std::vector<int64_t> keptOuterSt(keptSt.begin(), keptSt.end() - 1);
    int64_t colGrain = std::max<int64_t>(1, (int64_t(1) << 15) / (count * cols));
    kb.parallelFor(koCount * perRow, colGrain, [&](Value *begin, Value *end) {
      llvm::ArrayType *arrTy = llvm::ArrayType::get(accTy, uint64_t(cols));
      Value *acc = kb.slot(arrTy, "acc");
      auto accAt = [&](Value *l) { return b.CreateInBoundsGEP(arrTy, acc, {kb.c64(0), l}); };
      kb.loop(begin, end, [&](Value *item) {
        Value *ko = perRow == 1 ? item : b.CreateUDiv(item, kb.c64(perRow));
        Value *l0 = perRow == 1 ? kb.c64(0)
                                : b.CreateMul(b.CreateURem(item, kb.c64(perRow)), kb.c64(cols));
        Value *len = b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, kb.c64(cols),
                                             b.CreateSub(kb.c64(nL), l0));
        Value *start = b.CreateAdd(offsetOf(kb, ko, keptOuter, keptOuterSt), l0);
        kb.loop(kb.c64(0), len, [&](Value *l) { b.CreateStore(initV, accAt(l)); }, true);
        kb.loop(kb.c64(0), kb.c64(count), [&](Value *r) {
          Value *base = b.CreateAdd(start, offsetOf(kb, r, red, redSt));
          kb.loop(kb.c64(0), len, [&](Value *l) {
            Value *v = element(b.CreateAdd(base, l));
            Value *slotL = accAt(l);
            b.CreateStore(combine(b.CreateLoad(accTy, slotL), v), slotL);
          }, true);
        });
        Value *outBase = b.CreateAdd(b.CreateMul(ko, kb.c64(nL)), l0);
        kb.loop(kb.c64(0), len, [&](Value *l) {
          kb.store(outT, finish(b.CreateLoad(accTy, accAt(l))), kb.result(result),
                   b.CreateAdd(outBase, l));
        }, true);
      });
    });
    return Status::ok();
  }

  kb.parallelFor(outElems, grain, [&](Value *begin, Value *end) {
    Value *acc = kb.slot(accTy, "acc");
    kb.loop(begin, end, [&](Value *o) {
      b.CreateStore(initV, acc);
      Value *keptOff = offsetOf(kb, o, kept, keptSt);
      kb.loop(kb.c64(0), kb.c64(outerCount), [&](Value *ro) {
        Value *base = b.CreateAdd(keptOff, offsetOf(kb, ro, outerRed, redSt));
        kb.loop(kb.c64(0), kb.c64(lastN), [&](Value *i) {
          Value *v = element(b.CreateAdd(base, b.CreateMul(i, kb.c64(lastSt))));
          b.CreateStore(combine(b.CreateLoad(accTy, acc), v), acc);
        });
      });
      kb.store(outT, finish(b.CreateLoad(accTy, acc)), kb.result(result), o);
    });
  });
  return Status::ok();
}

Status emitReduce(KernelBuilder &kb, const Node &node) {
  DType t = node.operand(0).type().dtype;
  return emitReduction(kb, node, 0,
                       [&](Value *flat) { return kb.load(t, kb.operand(0), flat); });
}

} // namespace kiln::codegen
