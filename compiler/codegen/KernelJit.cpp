// KernelJit: compiles one node's kernel with a pointer-array thunk, for tests and tools that
// cannot include LLVM (see KernelJit.h).
#include "compiler/codegen/KernelJit.h"

#include "compiler/codegen/KernelEmitter.h"

#include <llvm/IR/Function.h>
#include <llvm/IR/IRBuilder.h>

namespace kiln::codegen {

Expected<KernelCall> jitKernel(Jit &jit, const Node &node, uint64_t graphSeed) {
  auto context = std::make_unique<llvm::LLVMContext>();
  std::string symbol = jit.uniqueName("kernel");
  std::unique_ptr<llvm::Module> module = jit.newModule(symbol, *context);
  KernelContext ctx{*context, *module, jit.target(), graphSeed};
  KILN_ASSIGN(llvm::Function * fn, emitKernel(ctx, node, symbol));

  // void thunk(ptr pointers, i64 run): kernel(pointers[0], ..., pointers[R+O-1], run).
  llvm::Type *ptr = llvm::PointerType::get(*context, 0);
  llvm::Type *i64 = llvm::Type::getInt64Ty(*context);
  auto *thunkTy = llvm::FunctionType::get(llvm::Type::getVoidTy(*context), {ptr, i64}, false);
  auto *thunk = llvm::Function::Create(thunkTy, llvm::Function::ExternalLinkage,
                                       symbol + ".thunk", *module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(*context, "entry", thunk));
  std::vector<llvm::Value *> args;
  for (unsigned i = 0; i + 1 < fn->arg_size(); ++i)
    args.push_back(b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, thunk->getArg(0), i)));
  args.push_back(thunk->getArg(1));
  b.CreateCall(fn, args);
  b.CreateRetVoid();

  jit.applyTargetAttributes(*module);
  KILN_TRY(jit.addModule(std::move(module), std::move(context)));
  KILN_ASSIGN(void *address, jit.lookup(symbol + ".thunk"));
  return reinterpret_cast<KernelCall>(address);
}

} // namespace kiln::codegen
