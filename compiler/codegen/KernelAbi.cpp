// KernelAbi: the codegen side of KernelABI.def, turning its type tokens into LLVM types.
#include "compiler/codegen/KernelAbi.h"

#include <llvm/IR/Function.h>

#include <cassert>
#include <initializer_list>
#include <vector>

namespace kiln::codegen {

namespace {

enum class AbiType { Void, I32, I64, F32, Ptr, FnPtr };

struct AbiSignature {
  const char *name;
  AbiType ret;
  std::vector<AbiType> params;
};

std::vector<AbiType> abiParams(std::initializer_list<AbiType> types) { return types; }

// The .def spells types as bare tokens; these constants give them meaning here.
namespace tok {
constexpr AbiType Void = AbiType::Void, I32 = AbiType::I32, I64 = AbiType::I64, F32 = AbiType::F32,
                  Ptr = AbiType::Ptr, FnPtr = AbiType::FnPtr;
} // namespace tok

#define KILN_ABI_EXPAND(...) abiParams({__VA_ARGS__})
const std::vector<AbiSignature> &abiTable() {
  using namespace tok;
  static const std::vector<AbiSignature> table = {
#define KILN_ABI_FN(name, ret, params) {#name, ret, KILN_ABI_EXPAND params},
#include "kiln/runtime/KernelABI.def"
  };
  return table;
}

llvm::Type *llvmType(llvm::LLVMContext &ctx, AbiType t) {
  switch (t) {
  case AbiType::Void:
    return llvm::Type::getVoidTy(ctx);
  case AbiType::I32:
    return llvm::Type::getInt32Ty(ctx);
  case AbiType::I64:
    return llvm::Type::getInt64Ty(ctx);
  case AbiType::F32:
    return llvm::Type::getFloatTy(ctx);
  case AbiType::Ptr:
  case AbiType::FnPtr:
    return llvm::PointerType::get(ctx, 0);
  }
  return nullptr;
}

} // namespace

llvm::FunctionCallee declareAbiFunction(llvm::Module &module, std::string_view name) {
  for (const AbiSignature &sig : abiTable()) {
    if (name != sig.name)
      continue;
    llvm::LLVMContext &ctx = module.getContext();
    std::vector<llvm::Type *> params;
    for (AbiType t : sig.params)
      params.push_back(llvmType(ctx, t));
    auto *fnTy = llvm::FunctionType::get(llvmType(ctx, sig.ret), params, false);
    llvm::FunctionCallee callee = module.getOrInsertFunction(sig.name, fnTy);
    if (auto *fn = llvm::dyn_cast<llvm::Function>(callee.getCallee()))
      fn->addFnAttr(llvm::Attribute::NoUnwind);
    return callee;
  }
  assert(false && "function not listed in KernelABI.def");
  return {};
}

} // namespace kiln::codegen
