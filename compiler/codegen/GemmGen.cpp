// GemmGen: emits the blocked, packed, multithreaded driver of a generated GEMM and JIT-compiles it.
//
// The loop nest follows BLIS, transposed for row-major C with vectors along N:
//   parallel over panels of N (or M)            kiln_parallel_for, one contiguous range per thread
//     for ic in M by mc                         packed A block (mc x kc)
//       for pc in K by kc                       pack A[ic.., pc..] into mr-row micro-panels
//         for jc in N by nc                     pack B[pc.., jc..] into nr-column micro-panels (L2)
//           for ir in mc by mr                  one A micro-panel, reused from L1 ...
//             for jr in nc by nr                ... against each B micro-panel
//               microkernel(mr x nr, kc)        accumulators in registers (GemmMicroKernel.cpp)
// Tiles at the M and N edges use microkernels specialised to the leftover rows and (masked)
// columns; every shape is static, so only the needed variants are emitted.
#include "compiler/codegen/GemmGen.h"

#include "compiler/codegen/GemmEmit.h"
#include "compiler/codegen/KernelAbi.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <array>

namespace kiln::codegen {

namespace {

using llvm::Value;

/// Emits `if (cond) thenFn() else elseFn()`; leaves the builder after the join.
void emitIf(llvm::IRBuilder<> &b, Value *cond, llvm::function_ref<void()> thenFn,
            llvm::function_ref<void()> elseFn) {
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  llvm::LLVMContext &ctx = b.getContext();
  auto *thenBlock = llvm::BasicBlock::Create(ctx, "then", fn);
  auto *elseBlock = llvm::BasicBlock::Create(ctx, "else", fn);
  auto *join = llvm::BasicBlock::Create(ctx, "join", fn);
  b.CreateCondBr(cond, thenBlock, elseBlock);
  b.SetInsertPoint(thenBlock);
  thenFn();
  b.CreateBr(join);
  b.SetInsertPoint(elseBlock);
  elseFn();
  b.CreateBr(join);
  b.SetInsertPoint(join);
}

/// Emits the GEMM of one spec and plan into a module.
class GemmEmitter {
public:
  GemmEmitter(llvm::Module &module, const GemmSpec &spec, const GemmPlan &plan, std::string name)
      : m_(module), ctx_(module.getContext()), b_(ctx_), s_(spec), p_(plan),
        name_(std::move(name)) {}

  void emit() {
    emitMicroKernels();
    if (p_.packA)
      emitPackA();
    if (p_.packB)
      emitPackB();
    emitBody();
    emitEntry();
  }

private:
  llvm::Type *f32() { return b_.getFloatTy(); }
  llvm::Type *i64() { return b_.getInt64Ty(); }
  llvm::Type *ptr() { return b_.getPtrTy(); }
  Value *c64(int64_t v) { return b_.getInt64(static_cast<uint64_t>(v)); }
  Value *at(Value *base, Value *index) { return b_.CreateInBoundsGEP(f32(), base, index); }
  Value *smin(Value *x, Value *y) { return b_.CreateSelect(b_.CreateICmpSLT(x, y), x, y); }

  llvm::FixedVectorType *vecTy() { return llvm::FixedVectorType::get(f32(), p_.lanes); }

  /// Transposes a lanes x lanes block held as `lanes` row vectors, in log2(lanes) rounds of
  /// two-input shuffles: round h swaps the off-diagonal h x h blocks of every 2h x 2h block.
  void transposeSquare(std::vector<Value *> &rows) {
    const int n = static_cast<int>(rows.size());
    for (int h = n / 2; h >= 1; h /= 2) {
      std::vector<int> lo(n), hi(n);
      for (int l = 0; l < n; ++l) {
        lo[l] = (l & h) ? n + l - h : l;
        hi[l] = (l & h) ? n + l : l + h;
      }
      for (int i = 0; i < n; ++i) {
        if (i & h)
          continue;
        Value *a = rows[i], *b = rows[i + h];
        rows[i] = b_.CreateShuffleVector(a, b, lo);
        rows[i + h] = b_.CreateShuffleVector(a, b, hi);
      }
    }
  }

  llvm::Function *newFunction(const std::string &suffix, llvm::Type *ret,
                              std::vector<llvm::Type *> params) {
    auto *fnTy = llvm::FunctionType::get(ret, params, false);
    auto *fn = llvm::Function::Create(fnTy, llvm::Function::InternalLinkage, name_ + suffix, m_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
    return fn;
  }

  /// The four tile shapes: [rows are full][columns are full]; null where that edge cannot occur.
  void emitMicroKernels() {
    MicroTile base;
    base.lanes = p_.lanes;
    base.mr = p_.mr;
    base.nv = p_.nv;
    base.tailLanes = p_.lanes;
    base.ldc = s_.n;
    if (p_.packA) {
      base.aStrideI = 1;
      base.aStrideK = p_.mr;
    } else if (s_.transposeA) {
      base.aStrideI = 1;
      base.aStrideK = s_.m;
    } else {
      base.aStrideI = s_.k;
      base.aStrideK = 1;
    }
    base.bStrideK = p_.packB ? p_.nr() : s_.n;
    int64_t tailRows = s_.m % p_.mr, tailCols = s_.n % p_.nr();
    for (int fullRows = 0; fullRows < 2; ++fullRows) {
      for (int fullCols = 0; fullCols < 2; ++fullCols) {
        if ((!fullRows && tailRows == 0) || (!fullCols && tailCols == 0))
          continue;
        MicroTile t = base;
        if (!fullRows)
          t.mr = static_cast<int>(tailRows);
        if (!fullCols) {
          t.nv = static_cast<int>((tailCols + p_.lanes - 1) / p_.lanes);
          t.tailLanes = static_cast<int>(tailCols - (t.nv - 1) * p_.lanes);
        }
        kernels_[fullRows][fullCols] = emitMicroKernel(
            m_, t, name_ + ".ukr" + std::to_string(t.mr) + "x" + std::to_string(fullCols));
      }
    }
  }

  /// packA(ap, a, ic, pc, mc, kc): A[ic.., pc..] into micro-panels ap[panel][k][i], mr rows each.
  void emitPackA() {
    packA_ = newFunction(".packA", b_.getVoidTy(), {ptr(), ptr(), i64(), i64(), i64(), i64()});
    Value *ap = packA_->getArg(0), *a = packA_->getArg(1), *ic = packA_->getArg(2);
    Value *pc = packA_->getArg(3), *mc = packA_->getArg(4), *kc = packA_->getArg(5);
    emitFor(
        b_, c64(0), mc, p_.mr,
        [&](Value *ir) {
          Value *rows = smin(c64(p_.mr), b_.CreateSub(mc, ir));
          Value *dst = at(ap, b_.CreateMul(ir, kc));
          Value *row0 = b_.CreateAdd(ic, ir);
          if (s_.transposeA) {
            // A is stored [K, M]: each k gives mr contiguous source elements.
            emitFor(
                b_, c64(0), kc, 1,
                [&](Value *k) {
                  Value *src =
                      at(a, b_.CreateAdd(b_.CreateMul(b_.CreateAdd(pc, k), c64(s_.m)), row0));
                  Value *d = at(dst, b_.CreateMul(k, c64(p_.mr)));
                  emitFor(
                      b_, c64(0), rows, 1,
                      [&](Value *i) { b_.CreateStore(b_.CreateLoad(f32(), at(src, i)), at(d, i)); },
                      "pa.i");
                },
                "pa.k");
            return;
          }
          emitFor(
              b_, c64(0), rows, 1,
              [&](Value *i) {
                Value *src =
                    at(a, b_.CreateAdd(b_.CreateMul(b_.CreateAdd(row0, i), c64(s_.k)), pc));
                emitFor(
                    b_, c64(0), kc, 1,
                    [&](Value *k) {
                      Value *d = at(dst, b_.CreateAdd(b_.CreateMul(k, c64(p_.mr)), i));
                      b_.CreateStore(b_.CreateLoad(f32(), at(src, k)), d);
                    },
                    "pa.k");
              },
              "pa.i");
        },
        "pa.panel");
    b_.CreateRetVoid();
  }

  /// packB(bp, b, pc, jc, kc, nc): B[pc.., jc..] into micro-panels bp[panel][k][j], nr columns.
  void emitPackB() {
    packB_ = newFunction(".packB", b_.getVoidTy(), {ptr(), ptr(), i64(), i64(), i64(), i64()});
    Value *bp = packB_->getArg(0), *bm = packB_->getArg(1), *pc = packB_->getArg(2);
    Value *jc = packB_->getArg(3), *kc = packB_->getArg(4), *nc = packB_->getArg(5);
    const int64_t nr = p_.nr();
    emitFor(
        b_, c64(0), nc, nr,
        [&](Value *jr) {
          Value *cols = smin(c64(nr), b_.CreateSub(nc, jr));
          Value *dst = at(bp, b_.CreateMul(jr, kc));
          Value *col0 = b_.CreateAdd(jc, jr);
          if (s_.transposeB) {
            // B is stored [N, K]. Full panels move lanes x lanes blocks through registers with an
            // in-register transpose (contiguous loads and stores); the tail panel and the k
            // remainder fall back to scalar copies, read contiguously and written with stride nr.
            const int lanes = p_.lanes;
            Value *kFull = b_.CreateAnd(kc, c64(~int64_t(lanes - 1)));
            Value *fullPanel = b_.CreateICmpEQ(cols, c64(nr));
            emitIf(
                b_, fullPanel,
                [&] {
                  emitFor(
                      b_, c64(0), kFull, lanes,
                      [&](Value *k0) {
                        for (int v = 0; v < p_.nv; ++v) {
                          std::vector<Value *> rows;
                          for (int t = 0; t < lanes; ++t) {
                            Value *j = b_.CreateAdd(col0, c64(v * lanes + t));
                            Value *src = at(
                                bm, b_.CreateAdd(b_.CreateMul(j, c64(s_.k)), b_.CreateAdd(pc, k0)));
                            rows.push_back(b_.CreateAlignedLoad(vecTy(), src, llvm::Align(4)));
                          }
                          transposeSquare(rows);
                          for (int t = 0; t < lanes; ++t) {
                            Value *d = at(
                                dst, b_.CreateAdd(b_.CreateMul(b_.CreateAdd(k0, c64(t)), c64(nr)),
                                                  c64(v * lanes)));
                            b_.CreateAlignedStore(rows[t], d, llvm::Align(4));
                          }
                        }
                      },
                      "pb.kv");
                },
                [] {});
            Value *kStart = b_.CreateSelect(fullPanel, kFull, c64(0));
            emitFor(
                b_, c64(0), cols, 1,
                [&](Value *j) {
                  Value *src =
                      at(bm, b_.CreateAdd(b_.CreateMul(b_.CreateAdd(col0, j), c64(s_.k)), pc));
                  emitFor(
                      b_, kStart, kc, 1,
                      [&](Value *k) {
                        Value *d = at(dst, b_.CreateAdd(b_.CreateMul(k, c64(nr)), j));
                        b_.CreateStore(b_.CreateLoad(f32(), at(src, k)), d);
                      },
                      "pb.k");
                },
                "pb.j");
            return;
          }
          emitFor(
              b_, c64(0), kc, 1,
              [&](Value *k) {
                Value *src =
                    at(bm, b_.CreateAdd(b_.CreateMul(b_.CreateAdd(pc, k), c64(s_.n)), col0));
                Value *d = at(dst, b_.CreateMul(k, c64(nr)));
                emitFor(
                    b_, c64(0), cols, 1,
                    [&](Value *j) { b_.CreateStore(b_.CreateLoad(f32(), at(src, j)), at(d, j)); },
                    "pb.j");
              },
              "pb.k");
        },
        "pb.panel");
    b_.CreateRetVoid();
  }

  /// body(ctx, begin, end): the whole blocked GEMM restricted to one thread's panels.
  void emitBody() {
    body_ = newFunction(".body", b_.getVoidTy(), {ptr(), i64(), i64()});
    Value *ctxp = body_->getArg(0), *begin = body_->getArg(1), *end = body_->getArg(2);
    auto *ctxTy = llvm::StructType::get(ctx_, {ptr(), ptr(), ptr()});
    Value *a = b_.CreateLoad(ptr(), b_.CreateStructGEP(ctxTy, ctxp, 0), "A");
    Value *bm = b_.CreateLoad(ptr(), b_.CreateStructGEP(ctxTy, ctxp, 1), "B");
    Value *c = b_.CreateLoad(ptr(), b_.CreateStructGEP(ctxTy, ctxp, 2), "C");
    const int64_t nr = p_.nr(), mr = p_.mr;
    Value *m0 = c64(0), *m1 = c64(s_.m), *n0 = c64(0), *n1 = c64(s_.n);
    if (p_.splitN) {
      n0 = b_.CreateMul(begin, c64(nr));
      n1 = smin(b_.CreateMul(end, c64(nr)), c64(s_.n));
    } else {
      m0 = b_.CreateMul(begin, c64(mr));
      m1 = smin(b_.CreateMul(end, c64(mr)), c64(s_.m));
    }
    // Packed panels live in the runtime's per-thread scratch, sized for the largest blocks.
    Value *ap = nullptr, *bp = nullptr;
    int64_t apFloats = p_.packA ? (p_.mc * p_.kc + 63) / 64 * 64 : 0;
    if (p_.packA || p_.packB) {
      llvm::FunctionCallee scratch = declareAbiFunction(m_, "kiln_thread_scratch");
      Value *buf = b_.CreateCall(scratch, {c64(gemmScratchBytes(p_))}, "scratch");
      ap = buf;
      bp = at(buf, c64(apFloats));
    }
    emitFor(
        b_, m0, m1, p_.mc,
        [&](Value *ic) {
          Value *mcur = smin(c64(p_.mc), b_.CreateSub(m1, ic));
          emitFor(
              b_, c64(0), c64(s_.k), p_.kc,
              [&](Value *pc) {
                Value *kcur = smin(c64(p_.kc), b_.CreateSub(c64(s_.k), pc));
                Value *accumulate =
                    s_.accumulate ? b_.getTrue() : b_.CreateICmpNE(pc, c64(0), "accumulate");
                if (p_.packA)
                  b_.CreateCall(packA_, {ap, a, ic, pc, mcur, kcur});
                emitFor(
                    b_, n0, n1, p_.nc,
                    [&](Value *jc) {
                      Value *ncur = smin(c64(p_.nc), b_.CreateSub(n1, jc));
                      if (p_.packB)
                        b_.CreateCall(packB_, {bp, bm, pc, jc, kcur, ncur});
                      emitFor(
                          b_, c64(0), mcur, mr,
                          [&](Value *ir) {
                            Value *row = b_.CreateAdd(ic, ir);
                            Value *aPtr;
                            if (p_.packA)
                              aPtr = at(ap, b_.CreateMul(ir, kcur));
                            else if (s_.transposeA)
                              aPtr = at(a, b_.CreateAdd(b_.CreateMul(pc, c64(s_.m)), row));
                            else
                              aPtr = at(a, b_.CreateAdd(b_.CreateMul(row, c64(s_.k)), pc));
                            emitFor(
                                b_, c64(0), ncur, nr,
                                [&](Value *jr) {
                                  Value *col = b_.CreateAdd(jc, jr);
                                  Value *bPtr =
                                      p_.packB
                                          ? at(bp, b_.CreateMul(jr, kcur))
                                          : at(bm, b_.CreateAdd(b_.CreateMul(pc, c64(s_.n)), col));
                                  Value *cPtr =
                                      at(c, b_.CreateAdd(b_.CreateMul(row, c64(s_.n)), col));
                                  std::array<Value *, 5> args = {aPtr, bPtr, cPtr, kcur,
                                                                 accumulate};
                                  emitTile(row, col, args);
                                },
                                "jr");
                          },
                          "ir");
                    },
                    "jc");
              },
              "pc");
        },
        "ic");
    b_.CreateRetVoid();
  }

  /// Calls the microkernel variant for the tile at (row, col): full, or an M/N edge.
  void emitTile(Value *row, Value *col, const std::array<Value *, 5> &args) {
    auto call = [&](bool fullRows, bool fullCols) {
      b_.CreateCall(kernels_[fullRows][fullCols], args);
    };
    auto byCols = [&](bool fullRows) {
      if (!kernels_[fullRows][0])
        return call(fullRows, true);
      Value *full = b_.CreateICmpSLE(b_.CreateAdd(col, c64(p_.nr())), c64(s_.n));
      emitIf(
          b_, full, [&] { call(fullRows, true); }, [&] { call(fullRows, false); });
    };
    if (!kernels_[0][1] && !kernels_[0][0])
      return byCols(true);
    Value *full = b_.CreateICmpSLE(b_.CreateAdd(row, c64(p_.mr)), c64(s_.m));
    emitIf(
        b_, full, [&] { byCols(true); }, [&] { byCols(false); });
  }

  /// The exported entry: void name(const float *A, const float *B, float *C).
  void emitEntry() {
    auto *fnTy = llvm::FunctionType::get(b_.getVoidTy(), {ptr(), ptr(), ptr()}, false);
    auto *fn = llvm::Function::Create(fnTy, llvm::Function::ExternalLinkage, name_, m_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
    auto *ctxTy = llvm::StructType::get(ctx_, {ptr(), ptr(), ptr()});
    Value *ctx = b_.CreateAlloca(ctxTy, nullptr, "ctx");
    for (unsigned i = 0; i < 3; ++i)
      b_.CreateStore(fn->getArg(i), b_.CreateStructGEP(ctxTy, ctx, i));
    llvm::FunctionCallee parallelFor = declareAbiFunction(m_, "kiln_parallel_for");
    b_.CreateCall(parallelFor, {body_, ctx, c64(p_.units), c64(p_.grain)});
    b_.CreateRetVoid();
  }

  llvm::Module &m_;
  llvm::LLVMContext &ctx_;
  llvm::IRBuilder<> b_;
  const GemmSpec &s_;
  const GemmPlan &p_;
  std::string name_;
  llvm::Function *kernels_[2][2] = {{nullptr, nullptr}, {nullptr, nullptr}};
  llvm::Function *packA_ = nullptr, *packB_ = nullptr, *body_ = nullptr;
};

} // namespace

int64_t gemmScratchBytes(const GemmPlan &plan) {
  int64_t apFloats = plan.packA ? (plan.mc * plan.kc + 63) / 64 * 64 : 0;
  int64_t bpFloats = plan.packB ? plan.kc * plan.nc : 0;
  return (apFloats + bpFloats) * 4;
}

namespace {

/// Rejects shapes and vector widths no kernel can be generated for.
Status checkGemmSpec(const GemmSpec &spec, const HostTarget &target) {
  if (spec.m <= 0 || spec.n <= 0 || spec.k <= 0)
    return Status::error("error: gemm shape " + std::to_string(spec.m) + "x" +
                         std::to_string(spec.n) + "x" + std::to_string(spec.k) +
                         " must be positive in every dimension");
  if (spec.floatLanes != 0 && spec.floatLanes != 4 && spec.floatLanes != 8 && spec.floatLanes != 16)
    return Status::error("error: gemm vector width must be 4, 8 or 16 floats");
  if (spec.floatLanes > target.floatLanes())
    return Status::error("error: gemm vector width " + std::to_string(spec.floatLanes) +
                         " exceeds the host's " + std::to_string(target.floatLanes()));
  return Status::ok();
}

} // namespace

Expected<llvm::Function *> emitGemmFunction(llvm::Module &module, const GemmSpec &spec,
                                            const HostTarget &target, const std::string &symbol) {
  KILN_TRY(checkGemmSpec(spec, target));
  GemmPlan plan = planGemm(spec, target);
  GemmEmitter(module, spec, plan, symbol).emit();
  return module.getFunction(symbol);
}

Expected<GemmKernel> compileGemm(Jit &jit, const GemmSpec &spec) {
  KILN_TRY(checkGemmSpec(spec, jit.target()));
  GemmKernel kernel;
  kernel.plan = planGemm(spec, jit.target());
  kernel.symbol = jit.uniqueName("kiln_gemm_" + std::to_string(spec.m) + "x" +
                                 std::to_string(spec.n) + "x" + std::to_string(spec.k));
  double start = threadCpuMs();
  auto context = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> module = jit.newModule(kernel.symbol, *context);
  KILN_TRY(emitGemmFunction(*module, spec, jit.target(), kernel.symbol).status());
  jit.applyTargetAttributes(*module);
  kernel.emitMs = threadCpuMs() - start;
  KILN_TRY(jit.addModule(std::move(module), std::move(context)));
  kernel.optimizeMs = jit.lastOptimizeMs();
  start = threadCpuMs();
  KILN_ASSIGN(void *addr, jit.lookup(kernel.symbol));
  kernel.codegenMs = threadCpuMs() - start;
  kernel.fn = reinterpret_cast<GemmFn>(addr);
  return kernel;
}

} // namespace kiln::codegen
