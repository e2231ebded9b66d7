// EmitMatmul: the LLVM kernel of matmul (optional transposes, NumPy-broadcast batch dims).
//
// f32 calls the generated GEMM (GemmGen.cpp: packed, register-blocked, vectorised, split across
// threads) once per batch, with the broadcast batch dims resolved to pointer offsets. f64 is a
// plain loop nest over rows split across threads, whose inner loop is contiguous (B not
// transposed: C row += a * B row) or a dot product (B transposed), left to LLVM's vectoriser:
// f64 matmuls are rare (gradient checks), so they get no blocked kernel of their own. Small f32
// matrix-vector and outer products (isLoopMatmul) take the same loops.
#include "compiler/codegen/EmitLinalg.h"

#include "compiler/codegen/GemmGen.h"

#include <llvm/IR/Function.h>

namespace kiln::codegen {

using llvm::Value;

namespace {

/// Multiply-adds from which one batch's GEMM is split across threads rather than whole batches.
constexpr int64_t kSplitGemmFmas = 1 << 18;
/// f32 matrix-vector and outer products (n or k is 1: a dense layer with one output and its
/// gradients) of at most this many multiply-adds run as plain loops: the GEMM's register tiles
/// are mostly empty on them, and its packing routines and microkernels cost more compile time
/// than such products ever run.
constexpr int64_t kLoopMatmulFmas = 4096;


/// The static shape of one matmul.
struct MatmulShape {
  bool ta = false, tb = false;
  int64_t ar = 0, ac = 0, br = 0, bc = 0; ///< stored matrix shapes
  int64_t m = 0, n = 0, k = 0;
  Shape outBatch, aBatch, bBatch;
  int64_t batches = 1;
};

bool isLoopMatmul(const MatmulShape &s) {
  return (s.n == 1 || s.k == 1) && s.m * s.n * s.k <= kLoopMatmulFmas;
}

Expected<MatmulShape> matmulShape(const Node &node) {
  const Shape &as = node.operand(0).type().shape, &bs = node.operand(1).type().shape;
  const Shape &os = node.type().shape;
  if (as.size() < 2 || bs.size() < 2 || os.size() < 2)
    return Status::error("error: matmul '" + node.name() + "' needs operands of rank >= 2");
  MatmulShape s;
  s.ta = node.attrBool("transpose_a");
  s.tb = node.attrBool("transpose_b");
  s.ar = as[as.size() - 2], s.ac = as.back(), s.br = bs[bs.size() - 2], s.bc = bs.back();
  s.m = s.ta ? s.ac : s.ar;
  s.k = s.ta ? s.ar : s.ac;
  s.n = s.tb ? s.br : s.bc;
  s.outBatch.assign(os.begin(), os.end() - 2);
  s.aBatch.assign(as.begin(), as.end() - 2);
  s.bBatch.assign(bs.begin(), bs.end() - 2);
  for (int64_t d : s.outBatch)
    s.batches *= d;
  return s;
}

/// The flat batch index of an operand with batch dims `in` (broadcast to `out`) for output batch
/// `batch`, as a static sum of (batch / stride % dim) * inStride terms.
Value *batchOffset(LinalgBuilder &lb, Value *batch, const Shape &in, const Shape &out) {
  Value *off = lb.c64(0);
  int64_t outStride = 1, inStride = 1;
  for (size_t d = out.size(); d-- > 0;) {
    size_t rank = in.size(), align = out.size() - rank;
    int64_t inDim = d >= align ? in[d - align] : 1;
    if (inDim != 1) {
      Value *idx = lb.b.CreateURem(lb.b.CreateUDiv(batch, lb.c64(outStride)), lb.c64(out[d]));
      off = lb.add(off, lb.mul(idx, inStride));
    }
    outStride *= out[d];
    inStride *= inDim;
  }
  return off;
}

/// f64 (or any dtype without a generated GEMM), and small f32 matrix-vector and outer products
/// (isLoopMatmul): rows of all batches split across threads.
void emitLoopMatmul(LinalgBuilder &lb, const MatmulShape &s, Value *out, Value *a, Value *b) {
  int64_t rows = s.batches * s.m;
  int64_t grain = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, s.n * s.k));
  lb.parallelFor(
      rows, grain, {out, a, b}, [&](const std::vector<Value *> &p, Value *begin, Value *end) {
        Value *o = p[0], *pa = p[1], *pb = p[2];
        lb.loop(begin, end, [&](Value *row) {
          Value *batch = lb.b.CreateUDiv(row, lb.c64(s.m));
          Value *i = lb.b.CreateURem(row, lb.c64(s.m));
          Value *aBase = lb.mul(batchOffset(lb, batch, s.aBatch, s.outBatch), s.ar * s.ac);
          Value *bBase = lb.mul(batchOffset(lb, batch, s.bBatch, s.outBatch), s.br * s.bc);
          Value *cRow = lb.mul(row, s.n);
          auto aAt = [&](Value *p) {
            return s.ta ? lb.add(aBase, lb.add(lb.mul(p, s.ac), i))
                        : lb.add(aBase, lb.add(lb.mul(i, s.ac), p));
          };
          if (!s.tb) {
            // C row = sum_p A[i,p] * B row p: contiguous, vectorised over j.
            lb.loop(s.n, [&](Value *j) { lb.store(lb.fconst(0), o, lb.add(cRow, j)); });
            lb.loop(s.k, [&](Value *p) {
              Value *av = lb.load(pa, aAt(p));
              Value *bRow = lb.add(bBase, lb.mul(p, s.bc));
              lb.loop(s.n, [&](Value *j) {
                Value *ci = lb.add(cRow, j);
                Value *prod = lb.b.CreateFMul(av, lb.load(pb, lb.add(bRow, j)));
                lb.store(lb.b.CreateFAdd(lb.load(o, ci), prod), o, ci);
              });
            });
            return;
          }
          // B stored [N, K]: each C element is a dot product of two contiguous rows
          // (when A is not transposed); the sum is reassociated so it vectorises.
          Value *acc = lb.slot(lb.elt(), "acc");
          lb.loop(s.n, [&](Value *j) {
            lb.b.CreateStore(lb.fconst(0), acc);
            Value *bRow = lb.add(bBase, lb.mul(j, s.bc));
            lb.loop(s.k, [&](Value *p) {
              llvm::IRBuilderBase::FastMathFlagGuard guard(lb.b);
              llvm::FastMathFlags fmf;
              fmf.setAllowReassoc();
              fmf.setAllowContract();
              lb.b.setFastMathFlags(fmf);
              Value *prod = lb.b.CreateFMul(lb.load(pa, aAt(p)), lb.load(pb, lb.add(bRow, p)));
              Value *sum = lb.b.CreateFAdd(lb.b.CreateLoad(lb.elt(), acc), prod);
              lb.b.CreateStore(sum, acc);
            });
            lb.store(lb.b.CreateLoad(lb.elt(), acc), o, lb.add(cRow, j));
          });
        });
      });
}

} // namespace

Status emitMatmulInto(LinalgBuilder &lb, const Node &core, Value *out,
                      const std::vector<Value *> &operands) {
  KILN_ASSIGN(MatmulShape s, matmulShape(core));
  Value *a = operands.at(0), *b = operands.at(1);
  if (core.type().dtype != DType::F32 || isLoopMatmul(s)) {
    if (s.n == 1 && !s.tb) {
      // B [K, 1] is the same memory as B^T [1, K]: the dot-product form vectorises over K.
      s.tb = true;
      std::swap(s.br, s.bc);
    }
    emitLoopMatmul(lb, s, out, a, b);
    return Status::ok();
  }
  GemmSpec spec;
  spec.m = s.m, spec.n = s.n, spec.k = s.k;
  spec.transposeA = s.ta, spec.transposeB = s.tb;
  KILN_ASSIGN(llvm::Function * gemm, lb.gemm(spec));
  if (s.batches == 1) {
    lb.b.CreateCall(gemm, {a, b, out});
    return Status::ok();
  }
  auto callGemm = [&](Value *batch, Value *pa, Value *pb, Value *pc) {
    Value *aOff = lb.mul(batchOffset(lb, batch, s.aBatch, s.outBatch), s.ar * s.ac);
    Value *bOff = lb.mul(batchOffset(lb, batch, s.bBatch, s.outBatch), s.br * s.bc);
    lb.b.CreateCall(gemm, {lb.at(pa, aOff), lb.at(pb, bOff), lb.at(pc, lb.mul(batch, s.m * s.n))});
  };
  if (s.m * s.n * s.k >= kSplitGemmFmas) {
    // Large matrices: one GEMM per batch, each split across the threads by itself.
    lb.loop(s.batches, [&](Value *batch) { callGemm(batch, a, b, out); });
    return Status::ok();
  }
  // Many small matrices: threads take whole batches (a GEMM inside runs on its caller's thread).
  int64_t grain = std::max<int64_t>(1, kSplitGemmFmas / 8 / (s.m * s.n * s.k));
  lb.parallelFor(s.batches, grain, {out, a, b},
                 [&](const std::vector<Value *> &p, Value *begin, Value *end) {
                   lb.loop(begin, end, [&](Value *batch) { callGemm(batch, p[1], p[2], p[0]); });
                 });
  return Status::ok();
}

Status emitMatmulKernel(llvm::Module &m, const HostTarget &t, llvm::Function *fn,
                        const Node &node) {
  KILN_TRY(checkFloatKernel(node, node.type().dtype));
  LinalgBuilder lb(m, t, fn, node.type().dtype);
  KILN_TRY(emitMatmulInto(lb, node, fn->getArg(0), {fn->getArg(1), fn->getArg(2)}));
  lb.b.CreateRetVoid();
  return Status::ok();
}

} // namespace kiln::codegen
