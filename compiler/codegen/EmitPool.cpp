// EmitPool: the LLVM kernels of max_pool2d, avg_pool2d and their gradients.
//
// Windows are clipped to the image once per output pixel (padding is never read: max ignores
// it, the average does not count it, and a window made only of padding gives 0, as in the
// interpreter). The forward kernels keep the running max/sum in the output row and loop over
// channels innermost, so NHWC vectorises; they are split across threads by (image, output row).
// The gradients scatter into dx, so they are split by image (disjoint dx ranges). The max
// gradient gives each window's dy to its first maximum in row-major window order, where a NaN,
// once met, wins (the forward's rule).
#include "compiler/codegen/EmitLinalg.h"

#include <llvm/IR/Function.h>

#include <limits>

namespace kiln::codegen {

using llvm::Value;

namespace {

/// A pixel's flat index (channel 0).
Value *pixel(LinalgBuilder &lb, const ImageStrides &s, Value *n, Value *y, Value *x) {
  return lb.add(lb.add(lb.mul(n, s.n), lb.mul(y, s.y)), lb.mul(x, s.x));
}

Value *smax(LinalgBuilder &lb, Value *a, Value *b) {
  return lb.b.CreateSelect(lb.b.CreateICmpSGT(a, b), a, b);
}
Value *smin(LinalgBuilder &lb, Value *a, Value *b) {
  return lb.b.CreateSelect(lb.b.CreateICmpSLT(a, b), a, b);
}

/// The window of output pixel (oy, ox) clipped to the image: [y0, y1) x [x0, x1), and its size.
struct Window {
  Value *y0, *y1, *x0, *x1, *count;
};

Window window(LinalgBuilder &lb, const PoolGeom &g, Value *oy, Value *ox) {
  Window w;
  Value *ys = lb.b.CreateSub(lb.mul(oy, g.sh), lb.c64(g.padTop));
  Value *xs = lb.b.CreateSub(lb.mul(ox, g.sw), lb.c64(g.padLeft));
  w.y0 = smax(lb, ys, lb.c64(0));
  w.y1 = smin(lb, lb.add(ys, lb.c64(g.kh)), lb.c64(g.x.h));
  w.x0 = smax(lb, xs, lb.c64(0));
  w.x1 = smin(lb, lb.add(xs, lb.c64(g.kw)), lb.c64(g.x.w));
  Value *h = smax(lb, lb.b.CreateSub(w.y1, w.y0), lb.c64(0));
  Value *wd = smax(lb, lb.b.CreateSub(w.x1, w.x0), lb.c64(0));
  w.count = lb.b.CreateMul(h, wd);
  return w;
}

/// Calls body(y, x) for every pixel of the clipped window, row-major.
void forWindow(LinalgBuilder &lb, const Window &w,
               llvm::function_ref<void(Value *, Value *)> body) {
  lb.loop(w.y0, w.y1, [&](Value *y) { lb.loop(w.x0, w.x1, [&](Value *x) { body(y, x); }); });
}

void emitForward(LinalgBuilder &lb, const PoolGeom &g, bool isMax, Value *out, Value *in) {
  lb.parallelFor(
      g.batch * g.y.h, 1, {out, in}, [&](const std::vector<Value *> &p, Value *begin, Value *end) {
        Value *po = p[0], *px = p[1];
        lb.loop(begin, end, [&](Value *u) {
          Value *n = lb.b.CreateUDiv(u, lb.c64(g.y.h));
          Value *oy = lb.b.CreateURem(u, lb.c64(g.y.h));
          lb.loop(g.y.w, [&](Value *ox) {
            Value *yBase = pixel(lb, g.y, n, oy, ox);
            auto yAt = [&](Value *c) { return lb.add(yBase, lb.mul(c, g.y.ch)); };
            Value *init = lb.fconst(isMax ? -std::numeric_limits<double>::infinity() : 0);
            lb.loop(g.x.c, [&](Value *c) { lb.store(init, po, yAt(c)); });
            Window w = window(lb, g, oy, ox);
            forWindow(lb, w, [&](Value *y, Value *x) {
              Value *xBase = pixel(lb, g.x, n, y, x);
              lb.loop(g.x.c, [&](Value *c) {
                Value *v = lb.load(px, lb.add(xBase, lb.mul(c, g.x.ch)));
                Value *acc = lb.load(po, yAt(c));
                Value *r;
                if (isMax) // v > acc, or v is NaN: the first NaN met stays
                  r = lb.b.CreateSelect(
                      lb.b.CreateOr(lb.b.CreateFCmpOGT(v, acc), lb.b.CreateFCmpUNO(v, v)), v, acc);
                else
                  r = lb.b.CreateFAdd(acc, v);
                lb.store(r, po, yAt(c));
              });
            });
            Value *empty = lb.b.CreateICmpEQ(w.count, lb.c64(0));
            lb.loop(g.x.c, [&](Value *c) {
              Value *acc = lb.load(po, yAt(c));
              Value *r = isMax ? acc : lb.b.CreateFDiv(acc, lb.b.CreateSIToFP(w.count, lb.elt()));
              lb.store(lb.b.CreateSelect(empty, lb.fconst(0), r), po, yAt(c));
            });
          });
        });
      });
}

void emitMaxGrad(LinalgBuilder &lb, const PoolGeom &g, Value *dx, Value *x, Value *dy) {
  lb.parallelFor(
      g.batch, 1, {dx, x, dy}, [&](const std::vector<Value *> &p, Value *begin, Value *end) {
        Value *pdx = p[0], *px = p[1], *pdy = p[2];
        Value *best = lb.slot(lb.b.getInt64Ty(), "best");
        Value *bestV = lb.slot(lb.elt(), "bestV");
        lb.loop(begin, end, [&](Value *n) {
          Value *img = lb.mul(n, g.x.n);
          lb.loop(g.x.n, [&](Value *e) { lb.store(lb.fconst(0), pdx, lb.add(img, e)); });
          lb.loop(g.y.h, [&](Value *oy) {
            lb.loop(g.y.w, [&](Value *ox) {
              Window w = window(lb, g, oy, ox);
              Value *yBase = pixel(lb, g.y, n, oy, ox);
              lb.loop(g.x.c, [&](Value *c) {
                lb.b.CreateStore(lb.c64(-1), best);
                lb.b.CreateStore(lb.fconst(0), bestV);
                forWindow(lb, w, [&](Value *y, Value *xx) {
                  Value *xi = lb.add(pixel(lb, g.x, n, y, xx), lb.mul(c, g.x.ch));
                  Value *v = lb.load(px, xi);
                  Value *bv = lb.b.CreateLoad(lb.elt(), bestV);
                  Value *none =
                      lb.b.CreateICmpSLT(lb.b.CreateLoad(lb.b.getInt64Ty(), best), lb.c64(0));
                  // best < 0 || (!isnan(bestV) && (v > bestV || isnan(v)))
                  Value *take = lb.b.CreateOr(
                      none, lb.b.CreateAnd(lb.b.CreateFCmpORD(bv, bv), lb.b.CreateFCmpUGT(v, bv)));
                  lb.ifThen(take, [&] {
                    lb.b.CreateStore(xi, best);
                    lb.b.CreateStore(v, bestV);
                  });
                });
                Value *bi = lb.b.CreateLoad(lb.b.getInt64Ty(), best);
                lb.ifThen(lb.b.CreateICmpSGE(bi, lb.c64(0)), [&] {
                  Value *d = lb.load(pdy, lb.add(yBase, lb.mul(c, g.y.ch)));
                  lb.store(lb.b.CreateFAdd(lb.load(pdx, bi), d), pdx, bi);
                });
              });
            });
          });
        });
      });
}

void emitAvgGrad(LinalgBuilder &lb, const PoolGeom &g, Value *dx, Value *dy) {
  lb.parallelFor(
      g.batch, 1, {dx, dy}, [&](const std::vector<Value *> &p, Value *begin, Value *end) {
        Value *pdx = p[0], *pdy = p[1];
        lb.loop(begin, end, [&](Value *n) {
          Value *img = lb.mul(n, g.x.n);
          lb.loop(g.x.n, [&](Value *e) { lb.store(lb.fconst(0), pdx, lb.add(img, e)); });
          lb.loop(g.y.h, [&](Value *oy) {
            lb.loop(g.y.w, [&](Value *ox) {
              Window w = window(lb, g, oy, ox);
              Value *yBase = pixel(lb, g.y, n, oy, ox);
              Value *count = lb.b.CreateSIToFP(w.count, lb.elt());
              forWindow(lb, w, [&](Value *y, Value *xx) {
                Value *xBase = pixel(lb, g.x, n, y, xx);
                lb.loop(g.x.c, [&](Value *c) {
                  Value *share =
                      lb.b.CreateFDiv(lb.load(pdy, lb.add(yBase, lb.mul(c, g.y.ch))), count);
                  Value *xi = lb.add(xBase, lb.mul(c, g.x.ch));
                  lb.store(lb.b.CreateFAdd(lb.load(pdx, xi), share), pdx, xi);
                });
              });
            });
          });
        });
      });
}

} // namespace

Status emitPoolKernel(llvm::Module &m, const HostTarget &t, llvm::Function *fn, const Node &node) {
  KILN_TRY(checkFloatKernel(node, node.type().dtype));
  LinalgBuilder lb(m, t, fn, node.type().dtype);
  Value *out = fn->getArg(0), *a = fn->getArg(1);
  const Shape &os = node.type().shape, &as = node.operand(0).type().shape;
  // Not a switch over Op: this function handles four ops, and the dispatch sends only those.
  if (node.op() == Op::MaxPool2D || node.op() == Op::AvgPool2D) {
    emitForward(lb, poolGeom(node, as, os), node.op() == Op::MaxPool2D, out, a);
  } else if (node.op() == Op::MaxPool2DGrad) {
    // Operands x, dy; result dx.
    emitMaxGrad(lb, poolGeom(node, as, node.operand(1).type().shape), out, a, fn->getArg(2));
  } else if (node.op() == Op::AvgPool2DGrad) {
    // Operand dy; result dx (of the input_shape).
    emitAvgGrad(lb, poolGeom(node, os, as), out, a);
  } else {
    return Status::error("error: " + std::string(node.info().mnemonic) + " '" + node.name() +
                         "' is not a pooling op");
  }
  lb.b.CreateRetVoid();
  return Status::ok();
}

} // namespace kiln::codegen
