// EmitConv: the LLVM kernels of conv2d, conv2d_backprop_input and conv2d_backprop_filter.
//
// f32 convolutions go through im2col + the generated GEMM (EmitConvGemm.cpp) except NHWC with
// groups > 1; the rest (f64, grouped NHWC) use the direct kernels here. Each walks the forward
// conv's taps with the output (or filter) channel loop innermost, which is contiguous in
// NHWC/HWIO, so LLVM's loop vectoriser turns it into vector FMAs; outer loops are split across
// threads where the written ranges are disjoint:
//   conv2d                 parallel over (image, output row)   y[.., o] += x * w[.., o]
//   conv2d_backprop_input  parallel over images                dx[.., i] += sum_o dy[o] w[i, o]
//   conv2d_backprop_filter parallel over filter taps (ky, kx)  dw[.., o] += x * dy[o]
// Padding is never materialised: taps outside the image are skipped, as in the interpreter.
// (f64 NCHW gets the same loop order, with strided channel accesses.)
#include "compiler/codegen/EmitLinalg.h"

#include <llvm/IR/Function.h>

namespace kiln::codegen {

using llvm::Value;

namespace {

/// x[...]'s flat index of image n at (iy, ix), channel 0.
Value *pixel(LinalgBuilder &lb, const ImageStrides &s, Value *n, Value *y, Value *x) {
  return lb.add(lb.add(lb.mul(n, s.n), lb.mul(y, s.y)), lb.mul(x, s.x));
}

/// Calls body(iy, ix) for each tap (ky, kx) of output pixel (oy, ox) that lies inside the input.
void forEachTap(LinalgBuilder &lb, const ConvGeom &g, Value *oy, Value *ox,
                llvm::function_ref<void(Value *ky, Value *kx, Value *iy, Value *ix)> body) {
  lb.loop(g.kh, [&](Value *ky) {
    Value *iy = lb.b.CreateSub(lb.add(lb.mul(oy, g.sh), lb.mul(ky, g.dh)), lb.c64(g.padTop));
    lb.ifThen(lb.inRange(iy, g.x.h), [&] {
      lb.loop(g.kw, [&](Value *kx) {
        Value *ix = lb.b.CreateSub(lb.add(lb.mul(ox, g.sw), lb.mul(kx, g.dw)), lb.c64(g.padLeft));
        lb.ifThen(lb.inRange(ix, g.x.w), [&] { body(ky, kx, iy, ix); });
      });
    });
  });
}

/// The filter index of tap (ky, kx), input channel i of its group, output channel 0 of group grp.
Value *filterAt(LinalgBuilder &lb, const ConvGeom &g, Value *ky, Value *kx, Value *i, Value *grp) {
  Value *w = lb.add(lb.mul(ky, g.wY), lb.mul(kx, g.wX));
  return lb.add(lb.add(w, lb.mul(i, g.wI)), lb.mul(grp, g.cog * g.wO));
}

/// A reassociating builder scope, so that channel sums vectorise.
struct Reassoc {
  llvm::IRBuilderBase::FastMathFlagGuard guard;
  explicit Reassoc(llvm::IRBuilder<> &b) : guard(b) {
    llvm::FastMathFlags fmf;
    fmf.setAllowReassoc();
    fmf.setAllowContract();
    b.setFastMathFlags(fmf);
  }
};

void emitForward(LinalgBuilder &lb, const ConvGeom &g, Value *out, Value *x, Value *w,
                 Value *bias) {
  std::vector<Value *> caps{out, x, w};
  if (bias)
    caps.push_back(bias);
  lb.parallelFor(
      g.batch * g.y.h, 1, caps, [&](const std::vector<Value *> &p, Value *begin, Value *end) {
        Value *po = p[0], *px = p[1], *pw = p[2], *pb = bias ? p[3] : nullptr;
        lb.loop(begin, end, [&](Value *u) {
          Value *n = lb.b.CreateUDiv(u, lb.c64(g.y.h));
          Value *oy = lb.b.CreateURem(u, lb.c64(g.y.h));
          lb.loop(g.y.w, [&](Value *ox) {
            Value *yBase = pixel(lb, g.y, n, oy, ox);
            lb.loop(g.co, [&](Value *o) {
              Value *init = pb ? lb.load(pb, o) : lb.fconst(0);
              lb.store(init, po, lb.add(yBase, lb.mul(o, g.y.ch)));
            });
            Reassoc fast(lb.b);
            forEachTap(lb, g, oy, ox, [&](Value *ky, Value *kx, Value *iy, Value *ix) {
              Value *xBase = pixel(lb, g.x, n, iy, ix);
              lb.loop(g.groups, [&](Value *grp) {
                Value *yg = lb.add(yBase, lb.mul(grp, g.cog * g.y.ch));
                lb.loop(g.cig, [&](Value *i) {
                  Value *ch = lb.add(lb.mul(grp, g.cig), i);
                  Value *xv = lb.load(px, lb.add(xBase, lb.mul(ch, g.x.ch)));
                  Value *wBase = filterAt(lb, g, ky, kx, i, grp);
                  lb.loop(g.cog, [&](Value *o) {
                    Value *yi = lb.add(yg, lb.mul(o, g.y.ch));
                    Value *prod = lb.b.CreateFMul(xv, lb.load(pw, lb.add(wBase, lb.mul(o, g.wO))));
                    lb.store(lb.b.CreateFAdd(lb.load(po, yi), prod), po, yi);
                  });
                });
              });
            });
          });
        });
      });
}

void emitBackpropInput(LinalgBuilder &lb, const ConvGeom &g, Value *dx, Value *dy, Value *w) {
  lb.parallelFor(
      g.batch, 1, {dx, dy, w}, [&](const std::vector<Value *> &p, Value *begin, Value *end) {
        Value *pdx = p[0], *pdy = p[1], *pw = p[2];
        Value *acc = lb.slot(lb.elt(), "acc");
        lb.loop(begin, end, [&](Value *n) {
          Value *img = lb.mul(n, g.x.n);
          lb.loop(g.x.n, [&](Value *e) { lb.store(lb.fconst(0), pdx, lb.add(img, e)); });
          Reassoc fast(lb.b);
          lb.loop(g.y.h, [&](Value *oy) {
            lb.loop(g.y.w, [&](Value *ox) {
              Value *yBase = pixel(lb, g.y, n, oy, ox);
              forEachTap(lb, g, oy, ox, [&](Value *ky, Value *kx, Value *iy, Value *ix) {
                Value *xBase = pixel(lb, g.x, n, iy, ix);
                lb.loop(g.groups, [&](Value *grp) {
                  Value *yg = lb.add(yBase, lb.mul(grp, g.cog * g.y.ch));
                  lb.loop(g.cig, [&](Value *i) {
                    Value *wBase = filterAt(lb, g, ky, kx, i, grp);
                    lb.b.CreateStore(lb.fconst(0), acc);
                    lb.loop(g.cog, [&](Value *o) {
                      Value *prod = lb.b.CreateFMul(lb.load(pdy, lb.add(yg, lb.mul(o, g.y.ch))),
                                                    lb.load(pw, lb.add(wBase, lb.mul(o, g.wO))));
                      lb.b.CreateStore(lb.b.CreateFAdd(lb.b.CreateLoad(lb.elt(), acc), prod), acc);
                    });
                    Value *ch = lb.add(lb.mul(grp, g.cig), i);
                    Value *xi = lb.add(xBase, lb.mul(ch, g.x.ch));
                    lb.store(lb.b.CreateFAdd(lb.load(pdx, xi), lb.b.CreateLoad(lb.elt(), acc)), pdx,
                             xi);
                  });
                });
              });
            });
          });
        });
      });
}

void emitBackpropFilter(LinalgBuilder &lb, const ConvGeom &g, Value *dw, Value *x, Value *dy) {
  lb.parallelFor(
      g.kh * g.kw, 1, {dw, x, dy}, [&](const std::vector<Value *> &p, Value *begin, Value *end) {
        Value *pdw = p[0], *px = p[1], *pdy = p[2];
        lb.loop(begin, end, [&](Value *u) {
          Value *ky = lb.b.CreateUDiv(u, lb.c64(g.kw));
          Value *kx = lb.b.CreateURem(u, lb.c64(g.kw));
          Value *tap = lb.add(lb.mul(ky, g.wY), lb.mul(kx, g.wX));
          lb.loop(g.cig, [&](Value *i) {
            lb.loop(g.co, [&](Value *o) {
              lb.store(lb.fconst(0), pdw, lb.add(tap, lb.add(lb.mul(i, g.wI), lb.mul(o, g.wO))));
            });
          });
          Reassoc fast(lb.b);
          lb.loop(g.batch, [&](Value *n) {
            lb.loop(g.y.h, [&](Value *oy) {
              Value *iy =
                  lb.b.CreateSub(lb.add(lb.mul(oy, g.sh), lb.mul(ky, g.dh)), lb.c64(g.padTop));
              lb.ifThen(lb.inRange(iy, g.x.h), [&] {
                lb.loop(g.y.w, [&](Value *ox) {
                  Value *ix =
                      lb.b.CreateSub(lb.add(lb.mul(ox, g.sw), lb.mul(kx, g.dw)), lb.c64(g.padLeft));
                  lb.ifThen(lb.inRange(ix, g.x.w), [&] {
                    Value *xBase = pixel(lb, g.x, n, iy, ix);
                    Value *yBase = pixel(lb, g.y, n, oy, ox);
                    lb.loop(g.groups, [&](Value *grp) {
                      Value *yg = lb.add(yBase, lb.mul(grp, g.cog * g.y.ch));
                      lb.loop(g.cig, [&](Value *i) {
                        Value *ch = lb.add(lb.mul(grp, g.cig), i);
                        Value *xv = lb.load(px, lb.add(xBase, lb.mul(ch, g.x.ch)));
                        Value *wBase = filterAt(lb, g, ky, kx, i, grp);
                        lb.loop(g.cog, [&](Value *o) {
                          Value *wi = lb.add(wBase, lb.mul(o, g.wO));
                          Value *prod =
                              lb.b.CreateFMul(xv, lb.load(pdy, lb.add(yg, lb.mul(o, g.y.ch))));
                          lb.store(lb.b.CreateFAdd(lb.load(pdw, wi), prod), pdw, wi);
                        });
                      });
                    });
                  });
                });
              });
            });
          });
        });
      });
}

} // namespace

Status emitConvInto(LinalgBuilder &lb, const Node &core, Value *out,
                    const std::vector<Value *> &operands) {
  KILN_ASSIGN(ConvGeom g, convGeom(core, core.operand(0).type().shape, core.operand(1).type().shape,
                                   core.type().shape));
  Value *bias = operands.size() > 2 ? operands[2] : nullptr;
  if (convUsesGemm(g, core.type().dtype))
    return emitConvForwardGemm(lb, g, out, operands.at(0), operands.at(1), bias);
  emitForward(lb, g, out, operands.at(0), operands.at(1), bias);
  return Status::ok();
}

Status emitConvKernel(llvm::Module &m, const HostTarget &t, llvm::Function *fn, const Node &node) {
  KILN_TRY(checkFloatKernel(node, node.type().dtype));
  LinalgBuilder lb(m, t, fn, node.type().dtype);
  Value *out = fn->getArg(0), *a = fn->getArg(1), *b = fn->getArg(2);
  const Shape &as = node.operand(0).type().shape, &bs = node.operand(1).type().shape;
  const Shape &os = node.type().shape;
  // Not a switch over Op: this function handles three ops, and the dispatch sends only those.
  if (node.op() == Op::Conv2D) {
    std::vector<Value *> operands{a, b};
    if (node.numOperands() > 2)
      operands.push_back(fn->getArg(3));
    KILN_TRY(emitConvInto(lb, node, out, operands));
  } else if (node.op() == Op::Conv2DBackpropInput) {
    KILN_ASSIGN(ConvGeom g, convGeom(node, os, bs, as)); // operands dy, w; result dx
    if (convUsesGemm(g, node.type().dtype))
      KILN_TRY(emitConvBackpropInputGemm(lb, g, out, a, b));
    else
      emitBackpropInput(lb, g, out, a, b);
  } else if (node.op() == Op::Conv2DBackpropFilter) {
    KILN_ASSIGN(ConvGeom g, convGeom(node, as, os, bs)); // operands x, dy; result dw
    if (convUsesGemm(g, node.type().dtype))
      KILN_TRY(emitConvBackpropFilterGemm(lb, g, out, a, b));
    else
      emitBackpropFilter(lb, g, out, a, b);
  } else {
    return Status::error("error: " + std::string(node.info().mnemonic) + " '" + node.name() +
                         "' is not a convolution");
  }
  lb.b.CreateRetVoid();
  return Status::ok();
}

} // namespace kiln::codegen
