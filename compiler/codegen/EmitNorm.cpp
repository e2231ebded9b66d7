// EmitNorm: the LLVM kernels of softmax, log_softmax, layer_norm, argmax and gelu_grad.
//
// Each repeats the interpreter's arithmetic (compiler/interp/NormKernels.cpp, ReductionKernels.cpp,
// GradKernels.cpp) operation by operation: f32 operands are widened to double and the result
// is rounded once to the operand's type. f64 kernels keep the interpreter's order and its C
// library calls (exp, log, sqrt, tanh, erf), so they agree to 1e-12. f32 kernels may differ in
// the last bit in rare near-ties, as EmitReduce's f32 sums do: their double sums may be
// reassociated and softmax's exp is the inline emitExpDouble (error 3e-13), so the row loops
// vectorise (a sequential double sum is latency-bound: layer_norm over 128 columns ran at 3 GB/s,
// and a libm exp call per element made the attention softmax a fifth of the transformer step).
// softmax and log_softmax work on "lanes" (outer index, inner index) with the reduced axis
// strided in between, so any axis works without a transpose;
// lanes are split across threads. layer_norm normalises rows of the trailing axes from `axis`
// (biased variance), argmax keeps the first maximum and lets the first NaN win (NumPy's rule).
#include "compiler/codegen/EmitOps.h"
#include "compiler/codegen/EmitSupport.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace kiln::codegen {

using llvm::Value;

namespace {

/// An axis split: the operand viewed as [outer, n, inner] around `axis`.
struct AxisGeom {
  int64_t outer = 1, n = 1, inner = 1;
};

Expected<AxisGeom> axisGeom(const Node &node, const Shape &s) {
  auto axis = normalizeAxis(node.attrInt("axis"), int64_t(s.size()));
  if (!axis)
    return internalError(node, "axis out of range");
  size_t ax = size_t(*axis);
  return AxisGeom{shapeProduct(s, 0, ax), s[ax], shapeProduct(s, ax + 1, s.size())};
}

/// Element k of lane u along the axis: (o * n + k) * inner + j for u = o * inner + j.
struct Lane {
  KernelBuilder &kb;
  const AxisGeom &g;
  Value *base; ///< o * n * inner + j

  Lane(KernelBuilder &kb, const AxisGeom &g, Value *u) : kb(kb), g(g) {
    llvm::IRBuilder<> &b = kb.b;
    Value *o = b.CreateUDiv(u, kb.c64(g.inner)), *j = b.CreateURem(u, kb.c64(g.inner));
    base = b.CreateAdd(b.CreateMul(o, kb.c64(g.n * g.inner)), j);
  }
  Value *index(Value *k) { return kb.b.CreateAdd(base, kb.b.CreateMul(k, kb.c64(g.inner))); }
};

/// Loads element `i` of operand `op` widened to double.
Value *loadDouble(KernelBuilder &kb, DType dt, unsigned op, Value *i) {
  Value *v = kb.load(dt, kb.operand(op), i);
  return dt == DType::F64 ? v : kb.b.CreateFPExt(v, kb.b.getDoubleTy());
}

/// Stores double `v` rounded to dt into result 0 at `i`.
void storeRounded(KernelBuilder &kb, DType dt, Value *v, Value *i) {
  if (dt != DType::F64)
    v = kb.b.CreateFPTrunc(v, kb.elemType(dt));
  kb.store(dt, v, kb.result(0), i);
}

Value *f64(KernelBuilder &kb, double v) { return llvm::ConstantFP::get(kb.b.getDoubleTy(), v); }

/// a + v, reassociable for f32 kernels (their double sums may run in any order, see the top).
Value *sumStep(KernelBuilder &kb, DType dt, Value *a, Value *v) {
  Value *next = kb.b.CreateFAdd(a, v);
  if (dt == DType::F32)
    llvm::cast<llvm::Instruction>(next)->setHasAllowReassoc(true);
  return next;
}

/// e^x of a double x in an f32 kernel (inline, vectorises) or an f64 one (libm, as the
/// interpreter).
Value *expOf(KernelBuilder &kb, DType dt, Value *x) {
  return dt == DType::F32 ? emitExpDouble(kb.b, x) : mathCall(kb, llvm::Intrinsic::exp, x);
}

/// A loop-carried double: a stack slot promoted to a register by the optimiser.
struct Acc {
  KernelBuilder &kb;
  Value *slot;
  Acc(KernelBuilder &kb, Value *init) : kb(kb), slot(kb.slot(kb.b.getDoubleTy(), "acc")) {
    kb.b.CreateStore(init, slot);
  }
  Value *get() { return kb.b.CreateLoad(kb.b.getDoubleTy(), slot); }
  void set(Value *v) { kb.b.CreateStore(v, slot); }
};

Status emitSoftmaxLike(KernelBuilder &kb, const Node &node, bool logarithm) {
  DType dt = node.type().dtype;
  if (!isFloat(dt))
    return internalError(node, "softmax needs a float operand");
  KILN_ASSIGN(AxisGeom g, axisGeom(node, node.type().shape));
  llvm::IRBuilder<> &b = kb.b;
  kb.parallelFor(
      g.outer * g.inner, std::max<int64_t>(1, kCopyGrain / (8 * g.n)),
      [&](Value *begin, Value *end) {
        kb.loop(begin, end, [&](Value *u) {
          Lane lane(kb, g, u);
          // mx = std::max(mx, v): keeps mx unless mx < v (so a NaN is kept only if it comes first).
          // f32 kernels take llvm.maximum from -inf over the whole lane instead, which vectorises:
          // the results are the same, since a NaN anywhere in the lane makes its sum, and so every
          // output, NaN either way (and x - (-0) equals x - 0).
          bool f32 = dt == DType::F32;
          Acc mx(kb, f32 ? f64(kb, -INFINITY) : loadDouble(kb, dt, 0, lane.base));
          kb.loop(kb.c64(f32 ? 0 : 1), kb.c64(g.n), [&](Value *k) {
            Value *v = loadDouble(kb, dt, 0, lane.index(k)), *m = mx.get();
            mx.set(f32 ? b.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, m, v)
                       : b.CreateSelect(b.CreateFCmpOLT(m, v), v, m));
          });
          Value *m = mx.get();
          Acc sum(kb, f64(kb, 0.0));
          kb.loop(kb.c64(0), kb.c64(g.n), [&](Value *k) {
            Value *shifted = b.CreateFSub(loadDouble(kb, dt, 0, lane.index(k)), m);
            sum.set(sumStep(kb, dt, sum.get(), expOf(kb, dt, shifted)));
          });
          Value *s = sum.get();
          Value *logSum = logarithm ? mathCall(kb, llvm::Intrinsic::log, s) : nullptr;
          kb.loop(kb.c64(0), kb.c64(g.n), [&](Value *k) {
            Value *i = lane.index(k);
            Value *shifted = b.CreateFSub(loadDouble(kb, dt, 0, i), m);
            Value *r = logarithm ? b.CreateFSub(shifted, logSum)
                                 : b.CreateFDiv(expOf(kb, dt, shifted), s);
            storeRounded(kb, dt, r, i);
          });
        });
      });
  return Status::ok();
}

Status emitLayerNorm(KernelBuilder &kb, const Node &node) {
  const Shape &s = node.type().shape;
  DType dt = node.type().dtype;
  auto axis = normalizeAxis(node.attrInt("axis"), int64_t(s.size()));
  if (!axis || !isFloat(dt))
    return internalError(node, "layer_norm needs a float operand and an axis in range");
  int64_t outer = shapeProduct(s, 0, size_t(*axis)),
          inner = shapeProduct(s, size_t(*axis), s.size());
  if (node.operand(1).type().numElements() != inner ||
      node.operand(2).type().numElements() != inner)
    return internalError(node, "gamma/beta do not match the normalised axes");
  double eps = node.attrFloat("epsilon");
  llvm::IRBuilder<> &b = kb.b;
  kb.parallelFor(
      outer, std::max<int64_t>(1, kCopyGrain / (4 * inner)), [&](Value *begin, Value *end) {
        kb.loop(begin, end, [&](Value *o) {
          Value *row = b.CreateMul(o, kb.c64(inner));
          auto x = [&](Value *j) { return loadDouble(kb, dt, 0, b.CreateAdd(row, j)); };
          Acc sum(kb, f64(kb, 0.0));
          kb.loop(kb.c64(0), kb.c64(inner),
                  [&](Value *j) { sum.set(sumStep(kb, dt, sum.get(), x(j))); });
          Value *mean = b.CreateFDiv(sum.get(), f64(kb, double(inner)));
          Acc var(kb, f64(kb, 0.0));
          kb.loop(kb.c64(0), kb.c64(inner), [&](Value *j) {
            Value *d = b.CreateFSub(x(j), mean);
            var.set(sumStep(kb, dt, var.get(), b.CreateFMul(d, d)));
          });
          Value *v =
              b.CreateFDiv(var.get(), f64(kb, double(inner))); // biased, as Keras and PyTorch
          Value *inv = b.CreateFDiv(
              f64(kb, 1.0), mathCall(kb, llvm::Intrinsic::sqrt, b.CreateFAdd(v, f64(kb, eps))));
          kb.loop(kb.c64(0), kb.c64(inner), [&](Value *j) {
            Value *y =
                b.CreateFMul(b.CreateFMul(b.CreateFSub(x(j), mean), inv), loadDouble(kb, dt, 1, j));
            storeRounded(kb, dt, b.CreateFAdd(y, loadDouble(kb, dt, 2, j)), b.CreateAdd(row, j));
          });
        });
      });
  return Status::ok();
}

} // namespace

Status emitNorm(KernelBuilder &kb, const Node &node) {
  if (node.op() == Op::Softmax || node.op() == Op::LogSoftmax)
    return emitSoftmaxLike(kb, node, node.op() == Op::LogSoftmax);
  if (node.op() == Op::LayerNorm)
    return emitLayerNorm(kb, node);
  return internalError(node, "not softmax, log_softmax or layer_norm");
}

Status emitArgmax(KernelBuilder &kb, const Node &node) {
  const TensorType &x = node.operand(0).type();
  if (node.type().dtype != DType::I32)
    return internalError(node, "argmax writes i32 indices");
  KILN_ASSIGN(AxisGeom g, axisGeom(node, x.shape));
  llvm::IRBuilder<> &b = kb.b;
  DType dt = x.dtype;
  llvm::Type *elt = kb.elemType(dt), *i64 = b.getInt64Ty();
  kb.parallelFor(
      g.outer * g.inner, std::max<int64_t>(1, kCopyGrain / g.n), [&](Value *begin, Value *end) {
        kb.loop(begin, end, [&](Value *u) {
          Lane lane(kb, g, u);
          Value *bestSlot = kb.slot(i64, "best"), *valueSlot = kb.slot(elt, "bestv");
          b.CreateStore(kb.c64(0), bestSlot);
          b.CreateStore(kb.load(dt, kb.operand(0), lane.base), valueSlot);
          kb.loop(kb.c64(1), kb.c64(g.n), [&](Value *k) {
            Value *v = kb.load(dt, kb.operand(0), lane.index(k));
            Value *best = b.CreateLoad(elt, valueSlot);
            Value *take;
            if (isFloat(dt)) {
              // Ties keep the first index; a NaN, once taken, stays (the interpreter stops there).
              take = b.CreateAnd(b.CreateFCmpORD(best, best),
                                 b.CreateOr(b.CreateFCmpOGT(v, best), b.CreateFCmpUNO(v, v)));
            } else {
              take = dt == DType::Bool ? b.CreateICmpUGT(v, best) : b.CreateICmpSGT(v, best);
            }
            b.CreateStore(b.CreateSelect(take, k, b.CreateLoad(i64, bestSlot)), bestSlot);
            b.CreateStore(b.CreateSelect(take, v, best), valueSlot);
          });
          kb.store(DType::I32, b.CreateTrunc(b.CreateLoad(i64, bestSlot), b.getInt32Ty()),
                   kb.result(0), u);
        });
      });
  return Status::ok();
}

Status emitGeluGrad(KernelBuilder &kb, const Node &node) {
  const TensorType &x = node.operand(0).type();
  DType dt = x.dtype;
  if (!isFloat(dt) || node.operand(1).type() != x || node.type() != x)
    return internalError(node, "needs f32 or f64 operands of one type");
  bool approximate = node.attrStr("approximate") == "tanh";
  const double k = std::sqrt(2.0 / std::numbers::pi), c = 0.044715;
  llvm::IRBuilder<> &b = kb.b;
  auto mul = [&](Value *p, Value *q) { return b.CreateFMul(p, q); };
  auto add = [&](Value *p, Value *q) { return b.CreateFAdd(p, q); };
  kb.parallelFor(x.numElements(), kCopyGrain / 8, [&](Value *begin, Value *end) {
    kb.loop(begin, end, [&](Value *i) {
      Value *v = loadDouble(kb, dt, 0, i), *d;
      if (approximate) {
        // d/dx 0.5x(1+tanh(u)), u = k(x + c x^3), in the interpreter's evaluation order.
        Value *cube = mul(mul(mul(f64(kb, c), v), v), v);
        Value *t = libmCall(kb, "tanh", mul(f64(kb, k), add(v, cube)));
        Value *left = mul(f64(kb, 0.5), add(f64(kb, 1.0), t));
        Value *oneMinus = b.CreateFSub(f64(kb, 1.0), mul(t, t));
        Value *poly = add(f64(kb, 1.0), mul(mul(f64(kb, 3 * c), v), v));
        d = add(left, mul(mul(mul(mul(f64(kb, 0.5), v), oneMinus), f64(kb, k)), poly));
      } else {
        // d/dx x Phi(x) = Phi(x) + x phi(x).
        Value *erf = libmCall(kb, "erf", b.CreateFDiv(v, f64(kb, std::numbers::sqrt2)));
        Value *cdf = mul(f64(kb, 0.5), add(f64(kb, 1.0), erf));
        Value *e = mathCall(kb, llvm::Intrinsic::exp, mul(mul(f64(kb, -0.5), v), v));
        Value *pdf = b.CreateFDiv(e, f64(kb, std::sqrt(2 * std::numbers::pi)));
        d = add(cdf, mul(v, pdf));
      }
      storeRounded(kb, dt, mul(d, loadDouble(kb, dt, 1, i)), i);
    });
  });
  return Status::ok();
}

} // namespace kiln::codegen
