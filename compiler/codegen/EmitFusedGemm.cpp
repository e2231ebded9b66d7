// EmitFusedGemm: the kernel of a fused group of kind "matmul" or "conv" (compiler/passes/
// FusePass.cpp): the matmul/conv, then at most one bias add and at most one activation.
//
// The matmul (the generated GEMM) or conv writes straight into the group's last result buffer;
// one more pass over that buffer, split across threads by rows, applies the epilogue in
// registers: v = acc (+ bias, broadcast) (stored too if the add is itself a result), then the
// activation. So the pre-activation tensor never makes a round trip through its own buffer.
#include "compiler/codegen/EmitLinalg.h"
#include "compiler/codegen/EmitUtil.h"

#include "compiler/ir/Graph.h"

#include <llvm/IR/Function.h>

#include <unordered_map>

namespace kiln::codegen {

using llvm::Value;

namespace {

/// The fused body's chain: core (matmul or conv2d), then an optional add and activation.
struct Chain {
  const Node *core = nullptr, *add = nullptr, *act = nullptr;
  int biasOperand = -1; ///< which operand of `add` is the bias
};

Status unsupported(const Node &fused, const std::string &why) {
  return Status::error("error: fused '" + fused.name() + "' of kind " + fused.attrStr("kind") +
                       ": " + why + " has no LLVM lowering yet");
}

/// e^x by range reduction (x = n ln2 + r, |r| <= ln2/2) and a Taylor polynomial of r, exact to
/// the type's precision; x is clamped so that 2^n stays a normal number, and NaN passes through.
Value *emitExp(LinalgBuilder &lb, Value *x) {
  llvm::IRBuilder<> &b = lb.b;
  bool f64 = lb.dtype == DType::F64;
  Value *lo = lb.fconst(f64 ? -708.0 : -87.0), *hi = lb.fconst(f64 ? 709.0 : 88.0);
  Value *c = b.CreateSelect(b.CreateFCmpOLT(x, lo), lo, x);
  c = b.CreateSelect(b.CreateFCmpOGT(c, hi), hi, c);
  Value *n =
      b.CreateUnaryIntrinsic(llvm::Intrinsic::rint, b.CreateFMul(c, lb.fconst(1.4426950408889634)));
  Value *r = b.CreateFSub(c, b.CreateFMul(n, lb.fconst(0.693145751953125)));
  r = b.CreateFSub(r, b.CreateFMul(n, lb.fconst(1.4286068203094173e-06)));
  int terms = f64 ? 14 : 8;
  double coeff = 1;
  for (int k = 1; k < terms; ++k)
    coeff /= k;
  Value *p = lb.fconst(coeff);
  for (int k = terms - 1; k-- > 0;) {
    coeff *= (k + 1);
    p = b.CreateFAdd(b.CreateFMul(p, r), lb.fconst(coeff));
  }
  llvm::Type *intTy = f64 ? b.getInt64Ty() : b.getInt32Ty();
  Value *ni = b.CreateFPToSI(n, intTy);
  Value *bits = b.CreateShl(b.CreateAdd(ni, llvm::ConstantInt::get(intTy, f64 ? 1023 : 127)),
                            llvm::ConstantInt::get(intTy, f64 ? 52 : 23));
  Value *e = b.CreateFMul(p, b.CreateBitCast(bits, lb.elt()));
  return b.CreateSelect(b.CreateFCmpUNO(x, x), x, e);
}

/// tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|).
Value *emitTanh(LinalgBuilder &lb, Value *x) {
  llvm::IRBuilder<> &b = lb.b;
  Value *ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  Value *e = emitExp(lb, b.CreateFMul(ax, lb.fconst(-2)));
  Value *t = b.CreateFDiv(b.CreateFSub(lb.fconst(1), e), b.CreateFAdd(lb.fconst(1), e));
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, t, x);
}

/// erf(x): its Maclaurin series for |x| <= 3 (50 terms: exact to a few ulps of 1 there), and
/// 1 - erfc(|x|) with erfc's continued fraction (30 levels) beyond, with x's sign. Both sides are
/// computed and selected, so the loop stays branch-free and vectorises.
Value *emitErf(LinalgBuilder &lb, Value *x) {
  llvm::IRBuilder<> &b = lb.b;
  const double twoOverSqrtPi = 1.1283791670955126, sqrtPi = 1.7724538509055159;
  Value *x2 = b.CreateFMul(x, x);
  std::vector<double> c(50);
  double fact = 1;
  for (int n = 0; n < 50; ++n) {
    if (n > 0)
      fact *= n;
    c[size_t(n)] = (n % 2 ? -1.0 : 1.0) / (fact * (2 * n + 1));
  }
  Value *sum = lb.fconst(c.back());
  for (size_t n = c.size() - 1; n-- > 0;)
    sum = b.CreateFAdd(b.CreateFMul(sum, x2), lb.fconst(c[n]));
  Value *series = b.CreateFMul(lb.fconst(twoOverSqrtPi), b.CreateFMul(x, sum));
  Value *ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  Value *a = b.CreateSelect(b.CreateFCmpOGT(ax, lb.fconst(3)), ax, lb.fconst(3));
  a = b.CreateSelect(b.CreateFCmpOLT(a, lb.fconst(10)), a, lb.fconst(10));
  Value *t = a;
  for (int k = 30; k >= 1; --k)
    t = b.CreateFAdd(a, b.CreateFDiv(lb.fconst(k / 2.0), t));
  Value *erfc = b.CreateFDiv(emitExp(lb, b.CreateFNeg(b.CreateFMul(a, a))),
                             b.CreateFMul(lb.fconst(sqrtPi), t));
  Value *tail =
      b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, b.CreateFSub(lb.fconst(1), erfc), x);
  return b.CreateSelect(b.CreateFCmpOGT(ax, lb.fconst(3)), tail, series);
}

/// The activation applied to one element, as in compiler/interp/ElementwiseKernels.cpp.
Expected<Value *> activation(LinalgBuilder &lb, const Node &act, Value *v) {
  llvm::IRBuilder<> &b = lb.b;
  if (act.op() == Op::Relu)
    return b.CreateSelect(b.CreateFCmpOGT(v, lb.fconst(0)), v, lb.fconst(0));
  if (act.op() == Op::LeakyRelu)
    return b.CreateSelect(b.CreateFCmpOGT(v, lb.fconst(0)), v,
                          b.CreateFMul(lb.fconst(act.attrFloat("alpha")), v));
  if (act.op() == Op::Sigmoid) {
    // e = exp(-|x|) never overflows: x >= 0 gives 1 / (1 + e), x < 0 gives e / (1 + e).
    Value *e = emitExp(lb, b.CreateFNeg(b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, v)));
    Value *den = b.CreateFAdd(lb.fconst(1), e);
    Value *num = b.CreateSelect(b.CreateFCmpOGE(v, lb.fconst(0)), lb.fconst(1), e);
    return b.CreateSelect(b.CreateFCmpUNO(v, v), v, b.CreateFDiv(num, den));
  }
  if (act.op() == Op::Tanh)
    return lb.dtype == DType::F32 ? emitTanhF32(b, v) : emitTanh(lb, v);
  if (act.op() == Op::Gelu && act.attrStr("approximate") == "tanh") {
    // 0.5 x (1 + tanh(k (x + 0.044715 x^3))), k = sqrt(2 / pi).
    Value *x3 = b.CreateFMul(b.CreateFMul(v, v), v);
    Value *u = b.CreateFMul(lb.fconst(0.7978845608028654),
                            b.CreateFAdd(v, b.CreateFMul(lb.fconst(0.044715), x3)));
    Value *th = lb.dtype == DType::F32 ? emitTanhF32(b, u) : emitTanh(lb, u);
    Value *t = b.CreateFAdd(lb.fconst(1), th);
    return b.CreateFMul(b.CreateFMul(lb.fconst(0.5), v), t);
  }
  if (act.op() == Op::Gelu) {
    // 0.5 x (1 + erf(x / sqrt 2)).
    Value *e = emitErf(lb, b.CreateFMul(v, lb.fconst(0.7071067811865476)));
    return b.CreateFMul(b.CreateFMul(lb.fconst(0.5), v), b.CreateFAdd(lb.fconst(1), e));
  }
  return Status::error("error: activation " + std::string(act.info().mnemonic) + " '" + act.name() +
                       "' in a matmul/conv epilogue has no LLVM lowering yet");
}

/// The bias's element offset for output row `row` (all dims but the last) of shape `out`.
Value *biasRowOffset(LinalgBuilder &lb, Value *row, const Shape &bias, const Shape &out) {
  Value *off = lb.c64(0);
  int64_t rowStride = 1, biasStride = bias.empty() ? 1 : bias.back();
  size_t align = out.size() - bias.size();
  for (size_t d = out.size() - 1; d-- > 0;) {
    int64_t bd = d >= align ? bias[d - align] : 1;
    if (bd != 1) {
      Value *idx = lb.b.CreateURem(lb.b.CreateUDiv(row, lb.c64(rowStride)), lb.c64(out[d]));
      off = lb.add(off, lb.mul(idx, biasStride));
    }
    rowStride *= out[d];
    biasStride *= bd;
  }
  return off;
}

} // namespace

Status emitFusedGemmKernel(llvm::Module &m, const HostTarget &t, llvm::Function *fn,
                           const Node &fused) {
  const Graph *body = fused.body();
  if (!body)
    return unsupported(fused, "a fused node without a body");
  // Body inputs, in order, are the kernel's operands (after the results).
  std::unordered_map<const Node *, Value *> pointerOf;
  std::vector<Node *> inputs = body->inputs();
  for (size_t i = 0; i < inputs.size(); ++i)
    pointerOf[inputs[i]] = fn->getArg(fused.numResults() + unsigned(i));
  Chain chain;
  for (const auto &np : body->nodes()) {
    const Node *n = np.get();
    if (n->isInput())
      continue;
    if (!chain.core && (n->op() == Op::Matmul || n->op() == Op::Conv2D))
      chain.core = n;
    else if (chain.core && !chain.add && !chain.act && n->op() == Op::Add)
      chain.add = n;
    else if (chain.core && !chain.act && n->numOperands() == 1)
      chain.act = n;
    else
      return unsupported(fused, "body node '" + n->name() + "'");
  }
  if (!chain.core)
    return unsupported(fused, "a body without a matmul or conv2d");
  const Node *prev = chain.core;
  if (chain.add) {
    bool first = chain.add->operand(0).node == chain.core;
    chain.biasOperand = first ? 1 : 0;
    if (chain.add->operand(first ? 0 : 1).node != chain.core)
      return unsupported(fused, "an add that does not take the matmul/conv result");
    prev = chain.add;
  }
  if (chain.act && chain.act->operand(0).node != prev)
    return unsupported(fused, "an activation that does not follow the chain");
  // Checked before anything is emitted, so that a refusal leaves no half-built helper behind.
  Op actOp = chain.act ? chain.act->op() : Op::Relu;
  if (actOp != Op::Relu && actOp != Op::LeakyRelu && actOp != Op::Sigmoid && actOp != Op::Tanh &&
      actOp != Op::Gelu)
    return unsupported(fused, "activation '" + chain.act->name() + "'");
  const Node *root = chain.act ? chain.act : prev;
  // Results: the root, and possibly the add (an extra result); the core is never one.
  Value *rootOut = nullptr, *addOut = nullptr;
  for (size_t r = 0; r < body->outputs().size(); ++r) {
    const Node *o = body->outputs()[r].node;
    if (o == root)
      rootOut = fn->getArg(unsigned(r));
    else if (o == chain.add)
      addOut = fn->getArg(unsigned(r));
    else
      return unsupported(fused, "result '" + o->name() + "'");
  }
  if (!rootOut)
    return unsupported(fused, "a body whose last node is not a result");

  std::vector<Value *> coreOperands;
  for (const kiln::Value &v : chain.core->operands()) {
    auto it = pointerOf.find(v.node);
    if (it == pointerOf.end())
      return unsupported(fused, "a matmul/conv operand computed inside the body");
    coreOperands.push_back(it->second);
  }
  Value *bias = nullptr;
  if (chain.add) {
    auto it = pointerOf.find(chain.add->operand(unsigned(chain.biasOperand)).node);
    if (it == pointerOf.end())
      return unsupported(fused, "a bias computed inside the body");
    bias = it->second;
  }

  KILN_TRY(checkFloatKernel(fused, root->type().dtype));
  LinalgBuilder lb(m, t, fn, root->type().dtype);
  if (chain.core->op() == Op::Matmul)
    KILN_TRY(emitMatmulInto(lb, *chain.core, rootOut, coreOperands));
  else
    KILN_TRY(emitConvInto(lb, *chain.core, rootOut, coreOperands));
  if (!chain.add && !chain.act) {
    lb.b.CreateRetVoid();
    return Status::ok();
  }
  // The epilogue: one pass over the result, rows split across threads.
  const Shape &shape = root->type().shape;
  int64_t last = shape.empty() ? 1 : shape.back(), rows = 1;
  for (size_t d = 0; d + 1 < shape.size(); ++d)
    rows *= shape[d];
  Shape biasShape = bias ? chain.add->operand(unsigned(chain.biasOperand)).type().shape : Shape{};
  bool biasLastBroadcast = biasShape.empty() || biasShape.back() == 1;
  std::vector<Value *> caps{rootOut};
  if (bias)
    caps.push_back(bias);
  if (addOut)
    caps.push_back(addOut);
  Status status = Status::ok();
  lb.parallelFor(rows, std::max<int64_t>(1, 4096 / last), caps,
                 [&](const std::vector<Value *> &p, Value *begin, Value *end) {
                   Value *out = p[0], *pb = bias ? p[1] : nullptr;
                   Value *pa = addOut ? p.back() : nullptr;
                   lb.loop(begin, end, [&](Value *row) {
                     Value *bRow = pb ? biasRowOffset(lb, row, biasShape, shape) : nullptr;
                     Value *base = lb.mul(row, last);
                     lb.loop(last, [&](Value *j) {
                       Value *i = lb.add(base, j);
                       Value *v = lb.load(out, i);
                       if (pb)
                         v = lb.b.CreateFAdd(
                             v, lb.load(pb, biasLastBroadcast ? bRow : lb.add(bRow, j)));
                       if (pa)
                         lb.store(v, pa, i);
                       if (chain.act) {
                         auto a = activation(lb, *chain.act, v);
                         if (!a.ok()) {
                           status = a.status();
                           return;
                         }
                         v = *a;
                       }
                       lb.store(v, out, i);
                     });
                   });
                 });
  KILN_TRY(status);
  lb.b.CreateRetVoid();
  return Status::ok();
}

} // namespace kiln::codegen
