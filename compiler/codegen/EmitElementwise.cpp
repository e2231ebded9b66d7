// EmitElementwise: kernels of the elementwise ops (unary, binary, comparisons, select, cast,
// stop_gradient) with NumPy broadcasting, element for element as compiler/interp computes them.
#include "compiler/codegen/EmitOps.h"

#include "compiler/codegen/KernelAbi.h"
#include "compiler/support/Diagnostic.h"

#include <llvm/IR/Function.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>

#include <cmath>
#include <numbers>

namespace kiln::codegen {

using llvm::Value;

namespace {

/// A call to the C math library function `name` (tanh, erf, log1p and their f suffixes), the
/// same functions the interpreter calls, so results match bit for bit.
Value *libm(KernelBuilder &kb, const char *name, DType t, Value *x) {
  std::string fn = std::string(name) + (t == DType::F32 ? "f" : "");
  llvm::Type *ty = kb.elemType(t);
  llvm::FunctionCallee callee =
      kb.ctx.module.getOrInsertFunction(fn, llvm::FunctionType::get(ty, {ty}, false));
  if (auto *f = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
    f->addFnAttr(llvm::Attribute::NoUnwind);
    f->setOnlyAccessesInaccessibleMemOrArgMem();
    f->setDoesNotThrow();
  }
  return kb.b.CreateCall(callee, {x});
}

Value *unaryIntrinsic(KernelBuilder &kb, llvm::Intrinsic::ID id, Value *x) {
  DType t = x->getType()->getScalarType()->isFloatTy() ? DType::F32 : DType::F64;
  if (id == llvm::Intrinsic::exp)
    return emitExp(kb, t, x);
  if (id == llvm::Intrinsic::log)
    return emitLog(kb, t, x);
  return kb.b.CreateUnaryIntrinsic(id, x);
}

/// cast: the interpreter's convertElement (truncation, saturation, NaN to 0, bool as != 0).
Value *emitCast(KernelBuilder &kb, DType from, DType to, Value *x) {
  auto &b = kb.b;
  llvm::Type *toTy = kb.elemType(to);
  if (from == DType::Bool) // any nonzero byte is true
    x = b.CreateZExt(b.CreateICmpNE(x, b.getInt8(0)), b.getInt8Ty());
  if (to == DType::Bool) {
    Value *nz = isFloat(from) ? b.CreateFCmpUNE(x, llvm::ConstantFP::get(x->getType(), 0.0))
                              : b.CreateICmpNE(x, llvm::ConstantInt::get(x->getType(), 0));
    return b.CreateZExt(nz, toTy);
  }
  if (from == to)
    return x;
  if (isFloat(from) && isFloat(to))
    return b.CreateFPCast(x, toTy);
  if (isFloat(from)) // fptosi.sat: truncates, saturates, NaN gives 0
    return b.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {toTy, x->getType()}, {x});
  if (isFloat(to))
    return from == DType::Bool ? b.CreateUIToFP(x, toTy) : b.CreateSIToFP(x, toTy);
  return from == DType::Bool ? b.CreateZExt(x, toTy) : b.CreateSExtOrTrunc(x, toTy);
}

Expected<Value *> emitUnaryScalar(KernelBuilder &kb, const Node &node, Value *x) {
  auto &b = kb.b;
  DType t = node.operand(0).type().dtype;
  bool fp = isFloat(t);
  auto c = [&](double v) { return kb.constant(t, v); };
  auto bad = [&]() -> Status {
    return Status::error("internal error: " + std::string(node.info().mnemonic) + " '" +
                         node.name() + "': no kernel for dtype " +
                         std::string(dtypeName(t)));
  };
  if (t == DType::Bool && node.op() != Op::Cast && node.op() != Op::StopGradient)
    return bad();
  if (!fp && node.info().has(kFloatOnly))
    return bad();
  switch (node.op()) {
  case Op::Neg:
    return fp ? b.CreateFSub(c(0), x) : b.CreateSub(c(0), x); // 0 - x, as wrapNeg
  case Op::Abs:
    return fp ? unaryIntrinsic(kb, llvm::Intrinsic::fabs, x)
              : b.CreateSelect(b.CreateICmpSLT(x, c(0)), b.CreateSub(c(0), x), x);
  case Op::Exp:
    return unaryIntrinsic(kb, llvm::Intrinsic::exp, x);
  case Op::Log:
    return unaryIntrinsic(kb, llvm::Intrinsic::log, x);
  case Op::Sqrt:
    return unaryIntrinsic(kb, llvm::Intrinsic::sqrt, x);
  case Op::Rsqrt:
    return b.CreateFDiv(c(1), unaryIntrinsic(kb, llvm::Intrinsic::sqrt, x));
  case Op::Square:
    return fp ? b.CreateFMul(x, x) : b.CreateMul(x, x);
  case Op::Sign: {
    if (!fp) {
      Value *pos = b.CreateZExt(b.CreateICmpSGT(x, c(0)), x->getType());
      Value *neg = b.CreateZExt(b.CreateICmpSLT(x, c(0)), x->getType());
      return b.CreateSub(pos, neg);
    }
    Value *s = b.CreateSelect(b.CreateFCmpOGT(x, c(0)), c(1),
                              b.CreateSelect(b.CreateFCmpOLT(x, c(0)), c(-1), c(0)));
    return b.CreateSelect(b.CreateFCmpUNO(x, x), x, s);
  }
  case Op::Relu:
    return b.CreateSelect(fp ? b.CreateFCmpOGT(x, c(0)) : b.CreateICmpSGT(x, c(0)), x, c(0));
  case Op::Sigmoid: {
    // The interpreter's two branches (exp never overflows): x >= 0 gives 1 / (1 + e^-x), x < 0
    // gives e^x / (1 + e^x). Both exponentials are e = exp(-|x|), so one exp serves both.
    Value *e = unaryIntrinsic(kb, llvm::Intrinsic::exp,
                              b.CreateFNeg(unaryIntrinsic(kb, llvm::Intrinsic::fabs, x)));
    Value *den = b.CreateFAdd(c(1), e);
    Value *r = b.CreateFDiv(b.CreateSelect(b.CreateFCmpOGE(x, c(0)), c(1), e), den);
    return b.CreateSelect(b.CreateFCmpUNO(x, x), x, r);
  }
  case Op::Tanh:
    return t == DType::F32 ? emitTanhF32(b, x) : libm(kb, "tanh", t, x);
  case Op::Softplus: {
    // max(x, 0) + log1p(exp(-|x|)); std::max(x, 0) keeps a NaN x.
    Value *m = b.CreateSelect(b.CreateFCmpOLT(x, c(0)), c(0), x);
    Value *e = unaryIntrinsic(kb, llvm::Intrinsic::exp,
                              b.CreateFNeg(unaryIntrinsic(kb, llvm::Intrinsic::fabs, x)));
    return b.CreateFAdd(m, libm(kb, "log1p", t, e));
  }
  case Op::LeakyRelu:
    return b.CreateSelect(b.CreateFCmpOGT(x, c(0)), x,
                          b.CreateFMul(c(node.attrFloat("alpha")), x));
  case Op::Gelu: {
    Value *half = b.CreateFMul(c(0.5), x);
    if (node.attrStr("approximate") == "tanh") {
      Value *k = t == DType::F32 ? c(double(float(std::sqrt(2.0 / std::numbers::pi))))
                                 : c(std::sqrt(2.0 / std::numbers::pi));
      Value *cube = b.CreateFMul(b.CreateFMul(b.CreateFMul(c(0.044715), x), x), x);
      Value *u = b.CreateFMul(k, b.CreateFAdd(x, cube));
      Value *th = t == DType::F32 ? emitTanhF32(b, u) : libm(kb, "tanh", t, u);
      return b.CreateFMul(half, b.CreateFAdd(c(1), th));
    }
    Value *r2 = t == DType::F32 ? c(double(float(std::numbers::sqrt2))) : c(std::numbers::sqrt2);
    return b.CreateFMul(half, b.CreateFAdd(c(1), libm(kb, "erf", t, b.CreateFDiv(x, r2))));
  }
  case Op::Cast:
    return emitCast(kb, t, node.type().dtype, x);
  case Op::StopGradient:
    return x;
  case Op::Input:
  case Op::Param:
  case Op::Constant:
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Div:
  case Op::Pow:
  case Op::Maximum:
  case Op::Minimum:
  case Op::Equal:
  case Op::NotEqual:
  case Op::Less:
  case Op::LessEqual:
  case Op::Greater:
  case Op::GreaterEqual:
  case Op::Select:
  case Op::ReduceSum:
  case Op::ReduceMean:
  case Op::ReduceMax:
  case Op::ReduceMin:
  case Op::Argmax:
  case Op::Matmul:
  case Op::Reshape:
  case Op::Flatten:
  case Op::Transpose:
  case Op::Concat:
  case Op::Slice:
  case Op::BroadcastTo:
  case Op::Gather:
  case Op::OneHot:
  case Op::Conv2D:
  case Op::MaxPool2D:
  case Op::AvgPool2D:
  case Op::Softmax:
  case Op::LogSoftmax:
  case Op::LayerNorm:
  case Op::Dropout:
  case Op::RandomUniform:
  case Op::RandomNormal:
  case Op::Conv2DBackpropInput:
  case Op::Conv2DBackpropFilter:
  case Op::MaxPool2DGrad:
  case Op::AvgPool2DGrad:
  case Op::GatherGrad:
  case Op::SliceGrad:
  case Op::GeluGrad:
  case Op::Dense:
  case Op::SimpleRnn:
  case Op::Lstm:
  case Op::MultiHeadAttention:
  case Op::Mse:
  case Op::BinaryCrossEntropy:
  case Op::SigmoidCrossEntropy:
  case Op::SoftmaxCrossEntropy:
  case Op::Accuracy:
  case Op::BinaryAccuracy:
  case Op::Fused:
    break; // not this family
  }
  return bad();
}

/// Integer division as the interpreter computes it (truncating; x / -1 wraps). Division by zero
/// is a run-time error there: here it reports the same located message through
/// kiln_runtime_error and gives 0, and the executable turns the report into an error.
Value *intDiv(KernelBuilder &kb, const Node &node, DType t, Value *a, Value *d) {
  auto &b = kb.b;
  Value *zero = kb.constant(t, 0), *one = kb.constant(t, 1), *minus1 = kb.constant(t, -1);
  Value *isZero = b.CreateICmpEQ(d, zero), *isM1 = b.CreateICmpEQ(d, minus1);
  auto *bad = llvm::BasicBlock::Create(b.getContext(), "div.zero", kb.function());
  auto *good = llvm::BasicBlock::Create(b.getContext(), "div.ok", kb.function());
  b.CreateCondBr(isZero, bad, good, llvm::MDBuilder(b.getContext()).createBranchWeights(1, 1000));
  b.SetInsertPoint(bad);
  std::string message = formatError(node.loc(), std::string(node.info().mnemonic) + " '" +
                                                    node.name() + "': integer division by zero");
  b.CreateCall(declareAbiFunction(kb.ctx.module, "kiln_runtime_error"),
               {b.CreateGlobalStringPtr(message, "div.message"), kb.c64(0)});
  b.CreateBr(good);
  b.SetInsertPoint(good);
  Value *safe = b.CreateSelect(b.CreateOr(isZero, isM1), one, d);
  Value *q = b.CreateSDiv(a, safe);
  return b.CreateSelect(isM1, b.CreateSub(zero, a), b.CreateSelect(isZero, zero, q));
}

Expected<Value *> emitBinaryScalar(KernelBuilder &kb, const Node &node, Value *a, Value *y) {
  auto &b = kb.b;
  DType t = node.operand(0).type().dtype;
  bool fp = isFloat(t), boolean = t == DType::Bool;
  Op op = node.op();
  bool compare = node.info().has(kCompare);
  if ((boolean && !compare) || (!fp && node.info().has(kFloatOnly)))
    return Status::error("internal error: " + std::string(node.info().mnemonic) + " '" +
                         node.name() + "': no kernel for dtype " + std::string(dtypeName(t)));
  auto toBool = [&](Value *v) { return b.CreateZExt(v, b.getInt8Ty()); };
  if (boolean) { // any nonzero byte is true
    a = toBool(b.CreateICmpNE(a, b.getInt8(0)));
    y = toBool(b.CreateICmpNE(y, b.getInt8(0)));
  }
  using P = llvm::CmpInst::Predicate;
  auto cmp = [&](P f, P s, P u) -> Value * {
    return toBool(fp ? b.CreateFCmp(f, a, y) : b.CreateICmp(boolean ? u : s, a, y));
  };
  switch (op) {
  case Op::Add:
    return fp ? b.CreateFAdd(a, y) : b.CreateAdd(a, y);
  case Op::Sub:
    return fp ? b.CreateFSub(a, y) : b.CreateSub(a, y);
  case Op::Mul:
    return fp ? b.CreateFMul(a, y) : b.CreateMul(a, y);
  case Op::Div:
    return fp ? b.CreateFDiv(a, y) : intDiv(kb, node, t, a, y);
  case Op::Pow:
    return b.CreateBinaryIntrinsic(llvm::Intrinsic::pow, a, y);
  case Op::Maximum:
  case Op::Minimum: {
    // NaN propagates: (isnan(a) || a > b) ? a : b, as the interpreter.
    bool mx = op == Op::Maximum;
    Value *take = fp ? b.CreateOr(b.CreateFCmpUNO(a, a), mx ? b.CreateFCmpOGT(a, y)
                                                             : b.CreateFCmpOLT(a, y))
                     : (mx ? b.CreateICmpSGT(a, y) : b.CreateICmpSLT(a, y));
    return b.CreateSelect(take, a, y);
  }
  case Op::Equal:
    return cmp(P::FCMP_OEQ, P::ICMP_EQ, P::ICMP_EQ);
  case Op::NotEqual:
    return cmp(P::FCMP_UNE, P::ICMP_NE, P::ICMP_NE);
  case Op::Less:
    return cmp(P::FCMP_OLT, P::ICMP_SLT, P::ICMP_ULT);
  case Op::LessEqual:
    return cmp(P::FCMP_OLE, P::ICMP_SLE, P::ICMP_ULE);
  case Op::Greater:
    return cmp(P::FCMP_OGT, P::ICMP_SGT, P::ICMP_UGT);
  case Op::GreaterEqual:
    return cmp(P::FCMP_OGE, P::ICMP_SGE, P::ICMP_UGE);
  case Op::Input:
  case Op::Param:
  case Op::Constant:
  case Op::Neg:
  case Op::Abs:
  case Op::Exp:
  case Op::Log:
  case Op::Sqrt:
  case Op::Rsqrt:
  case Op::Square:
  case Op::Sign:
  case Op::Relu:
  case Op::Sigmoid:
  case Op::Tanh:
  case Op::Softplus:
  case Op::LeakyRelu:
  case Op::Gelu:
  case Op::Cast:
  case Op::StopGradient:
  case Op::Select:
  case Op::ReduceSum:
  case Op::ReduceMean:
  case Op::ReduceMax:
  case Op::ReduceMin:
  case Op::Argmax:
  case Op::Matmul:
  case Op::Reshape:
  case Op::Flatten:
  case Op::Transpose:
  case Op::Concat:
  case Op::Slice:
  case Op::BroadcastTo:
  case Op::Gather:
  case Op::OneHot:
  case Op::Conv2D:
  case Op::MaxPool2D:
  case Op::AvgPool2D:
  case Op::Softmax:
  case Op::LogSoftmax:
  case Op::LayerNorm:
  case Op::Dropout:
  case Op::RandomUniform:
  case Op::RandomNormal:
  case Op::Conv2DBackpropInput:
  case Op::Conv2DBackpropFilter:
  case Op::MaxPool2DGrad:
  case Op::AvgPool2DGrad:
  case Op::GatherGrad:
  case Op::SliceGrad:
  case Op::GeluGrad:
  case Op::Dense:
  case Op::SimpleRnn:
  case Op::Lstm:
  case Op::MultiHeadAttention:
  case Op::Mse:
  case Op::BinaryCrossEntropy:
  case Op::SigmoidCrossEntropy:
  case Op::SoftmaxCrossEntropy:
  case Op::Accuracy:
  case Op::BinaryAccuracy:
  case Op::Fused:
    break; // not this family
  }
  return Status::error("internal error: " + std::string(node.info().mnemonic) +
                       " is not a binary elementwise op");
}

/// Whether emitScalar handles node's op and operand dtypes (the interpreter's rules).
Status checkSupported(const Node &node) {
  DType t = node.operand(node.op() == Op::Select ? 1 : 0).type().dtype;
  bool unaryOk = node.op() == Op::Cast || node.op() == Op::StopGradient;
  bool ok = node.op() == Op::Select ||
            (node.info().has(kUnary) && (t != DType::Bool || unaryOk)) ||
            (node.info().has(kBinary) && t != DType::Bool) || node.info().has(kCompare);
  if (ok && node.info().has(kFloatOnly) && !isFloat(t))
    ok = false;
  if (ok)
    return Status::ok();
  return Status::error("internal error: " + std::string(node.info().mnemonic) + " '" +
                       node.name() + "': no kernel for dtype " + std::string(dtypeName(t)));
}

/// The standalone kernel of an elementwise node: one broadcast row loop.
Status emitElementwiseNode(KernelBuilder &kb, const Node &node) {
  RowLoop space{node.type().shape, {}};
  for (kiln::Value v : node.operands())
    space.inputs.push_back(v.type().shape);
  // Check the op/dtype pair before any code exists, so errors leave no half-built loop.
  KILN_TRY(checkSupported(node));
  Status status = Status::ok();
  emitRowLoop(kb, space, [&](const std::vector<Value *> &offs) {
    if (!status.isOk())
      return;
    std::vector<Value *> in;
    for (unsigned k = 0; k < node.numOperands(); ++k)
      in.push_back(kb.load(node.operand(k).type().dtype, kb.operand(k), offs[k]));
    Expected<Value *> r = emitScalar(kb, node, in);
    if (!r.ok()) {
      status = r.status();
      return;
    }
    kb.store(node.type().dtype, *r, kb.result(0), offs.back());
  });
  return status;
}

} // namespace

Expected<Value *> emitScalar(KernelBuilder &kb, const Node &node, const std::vector<Value *> &in) {
  if (node.op() == Op::Select)
    return kb.b.CreateSelect(kb.b.CreateICmpNE(in[0], kb.b.getInt8(0)), in[1], in[2]);
  if (node.info().has(kUnary))
    return emitUnaryScalar(kb, node, in[0]);
  if (node.info().has(kBinary) || node.info().has(kCompare))
    return emitBinaryScalar(kb, node, in[0], in[1]);
  return Status::error("internal error: " + std::string(node.info().mnemonic) + " '" +
                       node.name() + "' is not elementwise");
}

Status emitUnary(KernelBuilder &kb, const Node &node) { return emitElementwiseNode(kb, node); }
Status emitBinary(KernelBuilder &kb, const Node &node) { return emitElementwiseNode(kb, node); }
Status emitSelect(KernelBuilder &kb, const Node &node) { return emitElementwiseNode(kb, node); }

} // namespace kiln::codegen
