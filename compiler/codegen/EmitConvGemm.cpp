// EmitConvGemm: f32 conv2d and its gradients as im2col + the generated GEMM (GemmGen.cpp).
//
// Per image, the conv's taps are copied into a column matrix in the thread's scratch, then one
// GEMM per group does the arithmetic, blocked for registers and caches:
//   NHWC (groups 1)  col[P, K]  (P = OH*OW, K = KH*KW*Ci)
//     forward          y_n[P, Co]   = col · W[K, Co]                 (HWIO is W[K, Co] already)
//     backprop input   dcol[P, K]   = dy_n · W^T, then col2im adds dcol into dx_n
//     backprop filter  dW[K, Co]   += col^T · dy                     (a chunk of images at once)
//   NCHW (any groups) colT[K, P] (K = Ci/groups*KH*KW), per group g
//     forward          y_n,g[Co/g, P]  = W_g[Co/g, K] · colT
//     backprop input   dcolT[K, P]     = W_g^T · dy_n,g, then col2im
//     backprop filter  dW_g[Co/g, K]  += dy_n,g · colT^T
// The forward and backprop-input kernels split images across threads (each runs its GEMMs
// serially). Backprop filter adds every image into dW: in NHWC it takes images in chunks of up
// to 8 MB of columns, im2col split across threads by rows, then one GEMM per chunk (splitting
// across threads by itself); in NCHW it goes image by image. The GEMM's packed panels sit at
// the start of the thread's scratch buffer (gemmScratchBytes), the column matrix after them.
// NHWC with groups > 1 keeps the direct kernels of EmitConv.cpp.
#include "compiler/codegen/EmitLinalg.h"

#include "compiler/codegen/GemmGen.h"
#include "compiler/codegen/KernelAbi.h"

#include <llvm/IR/Function.h>

#include <algorithm>

namespace kiln::codegen {

using llvm::Value;

namespace {

/// Index helpers over the conv's column matrix of image n, group grp.
struct Columns {
  LinalgBuilder &lb;
  const ConvGeom &g;
  int64_t p() const { return g.y.h * g.y.w; }
  int64_t k() const { return g.kh * g.kw * g.cig; }

  /// Calls f(colIndex, xIndex, inside) for every element of the column matrix, in row order.
  void forEach(Value *n, Value *grp, llvm::function_ref<void(Value *, Value *, Value *)> f) {
    auto tap = [&](Value *oy, Value *ox, Value *ky, Value *kx, Value *i, Value *colIndex) {
      Value *iy = lb.b.CreateSub(lb.add(lb.mul(oy, g.sh), lb.mul(ky, g.dh)), lb.c64(g.padTop));
      Value *ix = lb.b.CreateSub(lb.add(lb.mul(ox, g.sw), lb.mul(kx, g.dw)), lb.c64(g.padLeft));
      Value *inside = lb.b.CreateAnd(lb.inRange(iy, g.x.h), lb.inRange(ix, g.x.w));
      // Outside the image, read a valid element (index 0 of the image) and discard it.
      iy = lb.b.CreateSelect(inside, iy, lb.c64(0));
      ix = lb.b.CreateSelect(inside, ix, lb.c64(0));
      Value *ch = lb.add(lb.mul(grp, g.cig), i);
      Value *xi = lb.add(lb.add(lb.mul(n, g.x.n), lb.mul(ch, g.x.ch)),
                         lb.add(lb.mul(iy, g.x.y), lb.mul(ix, g.x.x)));
      f(colIndex, xi, inside);
    };
    if (!g.nchw) {
      lb.loop(g.y.h, [&](Value *oy) {
        lb.loop(g.y.w, [&](Value *ox) {
          Value *row = lb.mul(lb.add(lb.mul(oy, g.y.w), ox), k());
          lb.loop(g.kh, [&](Value *ky) {
            lb.loop(g.kw, [&](Value *kx) {
              Value *c0 = lb.add(row, lb.mul(lb.add(lb.mul(ky, g.kw), kx), g.cig));
              lb.loop(g.cig, [&](Value *i) { tap(oy, ox, ky, kx, i, lb.add(c0, i)); });
            });
          });
        });
      });
      return;
    }
    lb.loop(g.cig, [&](Value *i) {
      lb.loop(g.kh, [&](Value *ky) {
        lb.loop(g.kw, [&](Value *kx) {
          Value *row = lb.mul(lb.add(lb.mul(lb.add(lb.mul(i, g.kh), ky), g.kw), kx), p());
          lb.loop(g.y.h, [&](Value *oy) {
            Value *r = lb.add(row, lb.mul(oy, g.y.w));
            lb.loop(g.y.w, [&](Value *ox) { tap(oy, ox, ky, kx, i, lb.add(r, ox)); });
          });
        });
      });
    });
  }

  /// NHWC: fills the column row `row` (K elements from col[row * K]) for output pixel (oy, ox)
  /// of image n: one contiguous run of channels per tap.
  void rowNhwc(Value *col, Value *row, Value *x, Value *n, Value *oy, Value *ox) {
    lb.loop(g.kh, [&](Value *ky) {
      Value *iy = lb.b.CreateSub(lb.add(lb.mul(oy, g.sh), lb.mul(ky, g.dh)), lb.c64(g.padTop));
      lb.loop(g.kw, [&](Value *kx) {
        Value *ix = lb.b.CreateSub(lb.add(lb.mul(ox, g.sw), lb.mul(kx, g.dw)), lb.c64(g.padLeft));
        Value *inside = lb.b.CreateAnd(lb.inRange(iy, g.x.h), lb.inRange(ix, g.x.w));
        Value *xBase = lb.add(lb.mul(n, g.x.n),
                              lb.add(lb.mul(lb.b.CreateSelect(inside, iy, lb.c64(0)), g.x.y),
                                     lb.mul(lb.b.CreateSelect(inside, ix, lb.c64(0)), g.x.x)));
        Value *c0 = lb.add(lb.mul(row, k()), lb.mul(lb.add(lb.mul(ky, g.kw), kx), g.cig));
        lb.loop(g.cig, [&](Value *i) {
          Value *v = lb.load(x, lb.add(xBase, i));
          lb.store(lb.b.CreateSelect(inside, v, lb.fconst(0)), col, lb.add(c0, i));
        });
      });
    });
  }

  /// col = im2col(x) for image n, group grp (zeros where a tap falls in the padding).
  void im2col(Value *col, Value *x, Value *n, Value *grp) {
    forEach(n, grp, [&](Value *ci, Value *xi, Value *inside) {
      lb.store(lb.b.CreateSelect(inside, lb.load(x, xi), lb.fconst(0)), col, ci);
    });
  }

  /// dx += col2im(col) for image n, group grp (taps in the padding are dropped).
  void col2im(Value *dx, Value *col, Value *n, Value *grp) {
    forEach(n, grp, [&](Value *ci, Value *xi, Value *inside) {
      lb.ifThen(inside,
                [&] { lb.store(lb.b.CreateFAdd(lb.load(dx, xi), lb.load(col, ci)), dx, xi); });
    });
  }
};

/// This thread's scratch: the GEMM's panels first, then `floats` floats of our own (returned).
Value *scratchAfterGemm(LinalgBuilder &lb, const GemmSpec &spec, int64_t floats) {
  int64_t offset = (gemmScratchBytes(planGemm(spec, lb.target)) + 63) / 64 * 64;
  llvm::FunctionCallee scratch = declareAbiFunction(lb.module, "kiln_thread_scratch");
  Value *buf = lb.b.CreateCall(scratch, {lb.c64(offset + floats * 4)});
  return lb.b.CreateInBoundsGEP(lb.b.getInt8Ty(), buf, lb.c64(offset));
}

} // namespace

bool convUsesGemm(const ConvGeom &g, DType dtype) {
  // One image's columns live in a thread's scratch; beyond 256 MB the direct kernels are used.
  int64_t columnBytes = g.y.h * g.y.w * g.kh * g.kw * g.cig * 4;
  return dtype == DType::F32 && (g.nchw || g.groups == 1) && columnBytes <= (int64_t(256) << 20);
}

Status emitConvForwardGemm(LinalgBuilder &lb, const ConvGeom &g, Value *out, Value *x, Value *w,
                           Value *bias) {
  Columns cols{lb, g};
  GemmSpec spec;
  if (g.nchw)
    spec.m = g.cog, spec.n = cols.p(), spec.k = cols.k();
  else
    spec.m = cols.p(), spec.n = g.co, spec.k = cols.k();
  KILN_ASSIGN(llvm::Function * gemm, lb.gemm(spec));
  std::vector<Value *> caps{out, x, w};
  if (bias)
    caps.push_back(bias);
  lb.parallelFor(g.batch, 1, caps, [&](const std::vector<Value *> &p, Value *begin, Value *end) {
    Value *po = p[0], *px = p[1], *pw = p[2], *pb = bias ? p[3] : nullptr;
    Value *col = scratchAfterGemm(lb, spec, cols.p() * cols.k());
    lb.loop(begin, end, [&](Value *n) {
      Value *yImg = lb.at(po, lb.mul(n, g.y.n));
      lb.loop(g.nchw ? g.groups : 1, [&](Value *grp) {
        cols.im2col(col, px, n, grp);
        if (g.nchw)
          lb.b.CreateCall(gemm, {lb.at(pw, lb.mul(grp, g.cog * g.wO)), col,
                                 lb.at(yImg, lb.mul(grp, g.cog * g.y.ch))});
        else
          lb.b.CreateCall(gemm, {col, pw, yImg});
      });
      if (!pb)
        return;
      lb.loop(cols.p(), [&](Value *q) {
        lb.loop(g.co, [&](Value *o) {
          Value *i = lb.add(lb.mul(q, g.y.x), lb.mul(o, g.y.ch));
          lb.store(lb.b.CreateFAdd(lb.load(yImg, i), lb.load(pb, o)), yImg, i);
        });
      });
    });
  });
  return Status::ok();
}

Status emitConvBackpropInputGemm(LinalgBuilder &lb, const ConvGeom &g, Value *dx, Value *dy,
                                 Value *w) {
  Columns cols{lb, g};
  GemmSpec spec;
  if (g.nchw)
    spec.m = cols.k(), spec.n = cols.p(), spec.k = g.cog, spec.transposeA = true;
  else
    spec.m = cols.p(), spec.n = cols.k(), spec.k = g.co, spec.transposeB = true;
  KILN_ASSIGN(llvm::Function * gemm, lb.gemm(spec));
  lb.parallelFor(g.batch, 1, {dx, dy, w},
                 [&](const std::vector<Value *> &p, Value *begin, Value *end) {
                   Value *pdx = p[0], *pdy = p[1], *pw = p[2];
                   Value *col = scratchAfterGemm(lb, spec, cols.p() * cols.k());
                   lb.loop(begin, end, [&](Value *n) {
                     lb.zero(lb.at(pdx, lb.mul(n, g.x.n)), g.x.n);
                     Value *dyImg = lb.at(pdy, lb.mul(n, g.y.n));
                     lb.loop(g.nchw ? g.groups : 1, [&](Value *grp) {
                       if (g.nchw)
                         lb.b.CreateCall(gemm, {lb.at(pw, lb.mul(grp, g.cog * g.wO)),
                                                lb.at(dyImg, lb.mul(grp, g.cog * g.y.ch)), col});
                       else
                         lb.b.CreateCall(gemm, {dyImg, pw, col});
                       cols.col2im(pdx, col, n, grp);
                     });
                   });
                 });
  return Status::ok();
}

namespace {

/// NHWC backprop filter: images in chunks whose columns fill at most kChunkBytes; each chunk's
/// im2col is split across threads by rows, then one GEMM over the whole chunk (K = rows) adds
/// col^T · dy into dW (dy of consecutive images is one contiguous [rows, Co] matrix).
Status emitBackpropFilterNhwc(LinalgBuilder &lb, const ConvGeom &g, Value *dw, Value *x,
                              Value *dy) {
  constexpr int64_t kChunkBytes = 8 << 20;
  Columns cols{lb, g};
  int64_t perImage = cols.p() * cols.k() * 4;
  int64_t chunks = (g.batch * perImage + kChunkBytes - 1) / kChunkBytes;
  chunks = std::clamp<int64_t>(chunks, 1, g.batch);
  int64_t chunk = (g.batch + chunks - 1) / chunks;
  chunks = (g.batch + chunk - 1) / chunk;
  int64_t last = g.batch - (chunks - 1) * chunk;
  auto specFor = [&](int64_t images) {
    GemmSpec spec;
    spec.accumulate = true, spec.transposeA = true;
    spec.m = cols.k(), spec.n = g.co, spec.k = images * cols.p();
    return spec;
  };
  GemmSpec full = specFor(chunk), tail = specFor(last);
  KILN_ASSIGN(llvm::Function * gemmFull, lb.gemm(full));
  KILN_ASSIGN(llvm::Function * gemmTail, lb.gemm(tail));
  lb.zero(dw, g.kh * g.kw * g.cig * g.co);
  GemmSpec bigger =
      gemmScratchBytes(planGemm(full, lb.target)) >= gemmScratchBytes(planGemm(tail, lb.target))
          ? full
          : tail;
  Value *col = scratchAfterGemm(lb, bigger, chunk * cols.p() * cols.k());
  // The chunk's first image travels to the parallel body through a stack slot.
  Value *firstSlot = lb.slot(lb.b.getInt64Ty(), "first");
  auto doChunk = [&](Value *first, int64_t images, llvm::Function *gemm) {
    lb.b.CreateStore(first, firstSlot);
    lb.parallelFor(images * cols.p(), 16, {col, x, firstSlot},
                   [&](const std::vector<Value *> &p, Value *begin, Value *end) {
                     Value *n0 = lb.b.CreateLoad(lb.b.getInt64Ty(), p[2]);
                     lb.loop(begin, end, [&](Value *row) {
                       Value *n = lb.add(n0, lb.b.CreateUDiv(row, lb.c64(cols.p())));
                       Value *q = lb.b.CreateURem(row, lb.c64(cols.p()));
                       Value *oy = lb.b.CreateUDiv(q, lb.c64(g.y.w));
                       Value *ox = lb.b.CreateURem(q, lb.c64(g.y.w));
                       cols.rowNhwc(p[0], row, p[1], n, oy, ox);
                     });
                   });
    lb.b.CreateCall(gemm, {col, lb.at(dy, lb.mul(first, g.y.n)), dw});
  };
  if (chunks > 1)
    lb.loop(chunks - 1, [&](Value *c) { doChunk(lb.mul(c, chunk), chunk, gemmFull); });
  doChunk(lb.c64((chunks - 1) * chunk), last, gemmTail);
  return Status::ok();
}

} // namespace

Status emitConvBackpropFilterGemm(LinalgBuilder &lb, const ConvGeom &g, Value *dw, Value *x,
                                  Value *dy) {
  if (!g.nchw)
    return emitBackpropFilterNhwc(lb, g, dw, x, dy);
  Columns cols{lb, g};
  GemmSpec spec;
  spec.accumulate = true;
  spec.m = g.cog, spec.n = cols.k(), spec.k = cols.p(), spec.transposeB = true;
  KILN_ASSIGN(llvm::Function * gemm, lb.gemm(spec));
  lb.zero(dw, g.kh * g.kw * g.cig * g.co);
  // Images one after the other (they all add into dW); each GEMM splits across the threads.
  Value *col = scratchAfterGemm(lb, spec, cols.p() * cols.k());
  lb.loop(g.batch, [&](Value *n) {
    Value *dyImg = lb.at(dy, lb.mul(n, g.y.n));
    lb.loop(g.groups, [&](Value *grp) {
      cols.im2col(col, x, n, grp);
      lb.b.CreateCall(gemm, {lb.at(dyImg, lb.mul(grp, g.cog * g.y.ch)), col,
                             lb.at(dw, lb.mul(grp, g.cog * g.wO))});
    });
  });
  return Status::ok();
}

} // namespace kiln::codegen
