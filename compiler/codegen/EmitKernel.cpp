// EmitKernel: creates a kernel function with the KernelEmitter.h signature and dispatches on the
// op to the emitter of its family (EmitOps.h for the loop kernels, EmitLinalg.h for matmul,
// convolution and pooling).
#include "compiler/codegen/EmitLinalg.h"
#include "compiler/codegen/EmitOps.h"

#include <llvm/IR/Function.h>

namespace kiln::codegen {

namespace {

std::string describe(const Node &node) {
  return std::string(node.info().mnemonic) + " '" + node.name() + "'";
}

/// Runs `emit` on `fn` and adds the final return; an error names the node.
Status dispatch(KernelContext &ctx, llvm::Function *fn, const Node &node) {
  auto internal = [&](const char *why) {
    return Status::error("internal error: " + describe(node) + ": " + why);
  };
  auto mine = [&](Status (*emit)(KernelBuilder &, const Node &)) -> Status {
    KernelBuilder kb(ctx, fn, node);
    KILN_TRY(emit(kb, node));
    kb.b.CreateRetVoid();
    return Status::ok();
  };
  auto linalg = [&](Status (*emit)(llvm::Module &, const HostTarget &, llvm::Function *,
                                   const Node &)) { return emit(ctx.module, ctx.target, fn, node); };
  switch (node.op()) {
  case Op::Input:
  case Op::Param:
  case Op::Constant:
    return internal("source nodes have no kernel");
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
    return internal("layers and losses are decomposed before codegen");
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
    return mine(emitUnary);
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
    return mine(emitBinary);
  case Op::Select:
    return mine(emitSelect);
  case Op::ReduceSum:
  case Op::ReduceMean:
  case Op::ReduceMax:
  case Op::ReduceMin:
    return mine(emitReduce);
  case Op::Argmax:
    return mine(emitArgmax);
  case Op::Matmul:
    return linalg(emitMatmulKernel);
  case Op::Reshape:
  case Op::Flatten:
  case Op::Transpose:
  case Op::Concat:
  case Op::Slice:
  case Op::BroadcastTo:
  case Op::Gather:
  case Op::OneHot:
  case Op::GatherGrad:
  case Op::SliceGrad:
    return mine(emitMovement);
  case Op::Conv2D:
  case Op::Conv2DBackpropInput:
  case Op::Conv2DBackpropFilter:
    return linalg(emitConvKernel);
  case Op::MaxPool2D:
  case Op::AvgPool2D:
  case Op::MaxPool2DGrad:
  case Op::AvgPool2DGrad:
    return linalg(emitPoolKernel);
  case Op::Softmax:
  case Op::LogSoftmax:
  case Op::LayerNorm:
    return mine(emitNorm);
  case Op::Dropout:
  case Op::RandomUniform:
  case Op::RandomNormal:
    return mine(emitRandom);
  case Op::GeluGrad:
    return mine(emitGeluGrad);
  case Op::Fused:
    if (node.attrStr("kind") == "loop")
      return mine(emitFusedLoop);
    return linalg(emitFusedGemmKernel);
  }
  return internal("unknown op");
}

} // namespace

Expected<llvm::Function *> emitKernel(KernelContext &ctx, const Node &node,
                                      const std::string &symbol) {
  llvm::Type *ptr = llvm::PointerType::get(ctx.context, 0);
  std::vector<llvm::Type *> params(node.numResults() + node.numOperands(), ptr);
  params.push_back(llvm::Type::getInt64Ty(ctx.context));
  auto *fnTy = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx.context), params, false);
  // No noalias on the pointers: the memory plan lets elementwise ops work in place.
  auto *fn = llvm::Function::Create(fnTy, llvm::Function::ExternalLinkage, symbol, ctx.module);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  Status st = dispatch(ctx, fn, node);
  if (!st.isOk()) {
    // Drop the half-built kernel and the loop bodies outlined from it ("<symbol>.par<k>").
    std::vector<llvm::Function *> dead;
    for (llvm::Function &f : ctx.module)
      if (&f == fn || f.getName().starts_with(symbol + "."))
        dead.push_back(&f);
    for (llvm::Function *f : dead)
      f->dropAllReferences();
    for (llvm::Function *f : dead)
      f->eraseFromParent();
    return st;
  }
  return fn;
}

} // namespace kiln::codegen
