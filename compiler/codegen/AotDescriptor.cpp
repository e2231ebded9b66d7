// emitDescriptor: kiln_program and the tables it points to, laid out as kiln/runtime.h declares.
#include "compiler/codegen/AotDescriptor.h"

#include "kiln/runtime.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/GlobalVariable.h>

namespace kiln::codegen {

namespace {

// kiln/runtime.h declares every descriptor field 8 bytes wide so that these LLVM struct types
// (i64 and ptr only) have exactly the C layout. The static_asserts pin the C side.
static_assert(sizeof(kiln_buffer_desc) == 7 * 8, "kiln_buffer_desc layout");
static_assert(sizeof(kiln_entry_desc) == 7 * 8, "kiln_entry_desc layout");
static_assert(sizeof(kiln_program) == 14 * 8, "kiln_program layout");

int64_t dtypeCode(DType t) {
  switch (t) {
  case DType::F32:
    return KILN_F32;
  case DType::F64:
    return KILN_F64;
  case DType::I32:
    return KILN_I32;
  case DType::I64:
    return KILN_I64;
  case DType::Bool:
    return KILN_BOOL;
  }
  return -1;
}

int64_t regionCode(BufferRegion r) {
  switch (r) {
  case BufferRegion::Arena:
    return KILN_REGION_ARENA;
  case BufferRegion::State:
    return KILN_REGION_STATE;
  case BufferRegion::Constants:
    return KILN_REGION_CONSTANTS;
  }
  return -1;
}

class DescriptorEmitter {
public:
  explicit DescriptorEmitter(llvm::Module &m)
      : m_(m), ctx_(m.getContext()), i64_(llvm::Type::getInt64Ty(ctx_)),
        ptr_(llvm::PointerType::get(ctx_, 0)),
        bufferTy_(llvm::StructType::create(ctx_, {ptr_, i64_, i64_, i64_, i64_, ptr_, i64_},
                                           "kiln_buffer_desc")),
        entryTy_(llvm::StructType::create(ctx_, {ptr_, ptr_, i64_, i64_, ptr_, i64_, ptr_},
                                          "kiln_entry_desc")) {}

  llvm::Constant *i64(int64_t v) { return llvm::ConstantInt::get(i64_, uint64_t(v), true); }
  llvm::Constant *null() { return llvm::ConstantPointerNull::get(ptr_); }

  /// A private constant global holding `init`, aligned to `align` bytes.
  llvm::Constant *global(llvm::Constant *init, const std::string &name, unsigned align = 8) {
    auto *gv = new llvm::GlobalVariable(m_, init->getType(), /*isConstant=*/true,
                                        llvm::GlobalValue::PrivateLinkage, init, name);
    gv->setAlignment(llvm::Align(align));
    gv->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    return gv;
  }

  llvm::Constant *string(const std::string &s) {
    return global(llvm::ConstantDataArray::getString(ctx_, s, /*AddNull=*/true), "kiln.str", 1);
  }

  llvm::Constant *bytes(const std::vector<uint8_t> &data, const std::string &name) {
    if (data.empty())
      return null();
    return global(llvm::ConstantDataArray::get(ctx_, llvm::ArrayRef<uint8_t>(data)), name, 64);
  }

  llvm::Constant *buffer(const BufferSlot &s) {
    std::vector<uint64_t> dims(s.shape.begin(), s.shape.end());
    int64_t elements = 1;
    for (int64_t d : s.shape)
      elements *= d;
    llvm::Constant *shape =
        dims.empty() ? null()
                     : global(llvm::ConstantDataArray::get(ctx_, llvm::ArrayRef<uint64_t>(dims)),
                              "kiln.shape");
    return llvm::ConstantStruct::get(bufferTy_, {string(s.name), i64(dtypeCode(s.dtype)),
                                                 i64(regionCode(s.region)), i64(s.offset),
                                                 i64(int64_t(s.shape.size())), shape,
                                                 i64(elements)});
  }

  llvm::Constant *buffers(const std::vector<BufferSlot> &slots, const std::string &name) {
    if (slots.empty())
      return null();
    std::vector<llvm::Constant *> items;
    for (const BufferSlot &s : slots)
      items.push_back(buffer(s));
    return global(llvm::ConstantArray::get(llvm::ArrayType::get(bufferTy_, items.size()), items),
                  name);
  }

  llvm::Constant *strings(const std::vector<std::string> &list) {
    if (list.empty())
      return null();
    std::vector<llvm::Constant *> items;
    for (const std::string &s : list)
      items.push_back(string(s));
    return global(llvm::ConstantArray::get(llvm::ArrayType::get(ptr_, items.size()), items),
                  "kiln.names");
  }

  Expected<llvm::Constant *> entries(const ExecutableSpec &spec,
                                     const std::vector<EntryPlan> &plans) {
    std::vector<llvm::Constant *> items;
    for (size_t i = 0; i < spec.entries.size(); ++i) {
      const EntryPoint &e = spec.entries[i];
      llvm::Function *fn = m_.getFunction(plans[i].symbol);
      if (!fn || fn->isDeclaration())
        return Status::error("internal error: entry '" + e.name + "' has no function '" +
                             plans[i].symbol + "' in the linked module");
      items.push_back(llvm::ConstantStruct::get(
          entryTy_, {string(e.name), fn, i64(plans[i].training ? 1 : 0),
                     i64(int64_t(e.requiredInputs.size())), strings(e.requiredInputs),
                     i64(int64_t(e.results.size())), buffers(e.results, "kiln.results")}));
    }
    if (items.empty())
      return null();
    return global(llvm::ConstantArray::get(llvm::ArrayType::get(entryTy_, items.size()), items),
                  "kiln.entries");
  }

  llvm::StructType *programType() {
    std::vector<llvm::Type *> fields{i64_, ptr_, ptr_, i64_, i64_, i64_, ptr_,
                                     ptr_, i64_, ptr_, i64_, ptr_, i64_, ptr_};
    return llvm::StructType::create(ctx_, fields, "kiln_program");
  }

private:
  llvm::Module &m_;
  llvm::LLVMContext &ctx_;
  llvm::Type *i64_;
  llvm::PointerType *ptr_;
  llvm::StructType *bufferTy_, *entryTy_;
};

} // namespace

Status emitDescriptor(llvm::Module &module, const ExecutableSpec &spec,
                      const std::vector<EntryPlan> &plans, const std::string &symbol,
                      const std::string &targetCpu) {
  if (plans.size() != spec.entries.size())
    return Status::error("internal error: entry plans and entries differ");
  if (module.getNamedValue(symbol))
    return Status::error("error: the symbol '" + symbol +
                         "' is already used by the generated code; pick another --name");
  DescriptorEmitter d(module);
  KILN_ASSIGN(llvm::Constant *entries, d.entries(spec, plans));
  llvm::StructType *type = d.programType();
  llvm::Constant *init = llvm::ConstantStruct::get(
      type, {d.i64(KILN_PROGRAM_VERSION), d.string(spec.graphName), d.string(targetCpu),
             d.i64(spec.arenaBytes), d.i64(int64_t(spec.initialState.size())),
             d.i64(int64_t(spec.constants.size())), d.bytes(spec.initialState, "kiln.state"),
             d.bytes(spec.constants, "kiln.constants"), d.i64(int64_t(spec.inputs.size())),
             d.buffers(spec.inputs, "kiln.inputs"), d.i64(int64_t(spec.params.size())),
             d.buffers(spec.params, "kiln.params"), d.i64(int64_t(spec.entries.size())),
             entries});
  auto *gv = new llvm::GlobalVariable(module, type, /*isConstant=*/true,
                                      llvm::GlobalValue::ExternalLinkage, init, symbol);
  gv->setAlignment(llvm::Align(8));
  return Status::ok();
}

} // namespace kiln::codegen
