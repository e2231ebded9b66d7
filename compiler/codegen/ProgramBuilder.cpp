// ProgramBuilder: kernels for the scheduled nodes and the entry functions that call them in order.
#include "compiler/codegen/ProgramBuilder.h"

#include "compiler/codegen/KernelAbi.h"
#include "compiler/codegen/KernelKey.h"
#include "compiler/ir/Printer.h"
#include "compiler/passes/MemoryPlan.h"
#include "compiler/support/Diagnostic.h"

#include <llvm/IR/Function.h>
#include <llvm/IR/Verifier.h>

#include <algorithm>
#include <climits>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

namespace kiln::codegen {

namespace {

int64_t byteSize(const TensorType &t) { return t.numElements() * int64_t(dtypeSize(t.dtype)); }

/// Builds one entry function: GEPs into the three buffers, a call per kernel node, the updates.
class EntryEmitter {
public:
  EntryEmitter(KernelContext &ctx, const ProgramLayout &layout,
               const std::unordered_map<const Node *, llvm::Function *> &kernels,
               const std::unordered_map<const Node *, std::vector<int64_t>> &shifts)
      : ctx_(ctx), layout_(layout), kernels_(kernels), shifts_(shifts), b_(ctx.context) {}

  Status emit(const EntryPlan &plan) {
    llvm::Function *fn = newFunction(plan.symbol, llvm::Function::ExternalLinkage);
    // The kernel calls go into internal functions of at most kCallsPerPart calls each: LLVM's
    // instruction selection and scheduling grow faster than linearly with the size of a basic
    // block, and an unrolled LSTM's step has more than a thousand calls.
    for (size_t first = 0; first < plan.nodes.size(); first += kCallsPerPart) {
      llvm::Function *part = newFunction(plan.symbol + ".part" + std::to_string(first / kCallsPerPart),
                                         llvm::Function::InternalLinkage);
      part->addFnAttr(llvm::Attribute::NoInline);
      size_t last = std::min(plan.nodes.size(), first + kCallsPerPart);
      for (size_t i = first; i < last; ++i)
        KILN_TRY(emitNode(*plan.nodes[i], plan.training));
      b_.CreateRetVoid();
      enter(fn, /*newBlock=*/false);
      b_.CreateCall(part, {arena_, state_, constants_, run_});
      // A fault (an index out of range, a NaN under --check-numerics) stops the entry here,
      // before any later kernel and before a step's updates touch the state.
      returnIf(b_.CreateCall(declareAbiFunction(ctx_.module, "kiln_fault_pending"), {}));
    }
    KILN_TRY(emitUpdates(plan));
    b_.CreateRetVoid();
    return Status::ok();
  }

private:
  static constexpr size_t kCallsPerPart = 64;

  /// A new `void name(ptr arena, ptr state, ptr constants, i64 run)` to emit into.
  llvm::Function *newFunction(const std::string &name, llvm::Function::LinkageTypes linkage) {
    llvm::Type *ptr = llvm::PointerType::getUnqual(ctx_.context);
    llvm::Type *i64 = llvm::Type::getInt64Ty(ctx_.context);
    auto *type = llvm::FunctionType::get(b_.getVoidTy(), {ptr, ptr, ptr, i64}, false);
    llvm::Function *fn = llvm::Function::Create(type, linkage, name, ctx_.module);
    for (llvm::Argument &a : fn->args())
      a.addAttr(llvm::Attribute::NoUndef);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    enter(fn, /*newBlock=*/true);
    return fn;
  }

  /// Returns from the function being emitted when `failed` (an i32) is not 0; emission goes on
  /// in a new block, the function's last, otherwise.
  void returnIf(llvm::Value *failed) {
    llvm::Function *fn = b_.GetInsertBlock()->getParent();
    auto *stop = llvm::BasicBlock::Create(ctx_.context, "fault", fn);
    auto *cont = llvm::BasicBlock::Create(ctx_.context, "ok", fn);
    b_.CreateCondBr(b_.CreateICmpNE(failed, b_.getInt32(0)), stop, cont);
    b_.SetInsertPoint(stop);
    b_.CreateRetVoid();
    b_.SetInsertPoint(cont);
  }

  /// Under --check-numerics: every float result of `n` is checked; the first NaN or Inf is
  /// recorded with the node's location and name, and the function returns.
  Status checkResults(const Node &n) {
    if (!layout_.checkNumerics)
      return Status::ok();
    for (unsigned r = 0; r < n.numResults(); ++r) {
      Value v{const_cast<Node *>(&n), r};
      DType dt = v.type().dtype;
      if (dt != DType::F32 && dt != DType::F64)
        continue;
      KILN_ASSIGN(llvm::Value * p, pointer(v));
      std::string what = n.op() == Op::Fused ? "fused group" : std::string(n.info().mnemonic);
      std::string message = formatError(n.loc(), what + " '" + v.name() + "' produced {}");
      llvm::Value *failed = b_.CreateCall(
          declareAbiFunction(ctx_.module, "kiln_check_finite"),
          {p, b_.getInt64(uint64_t(v.type().numElements())), b_.getInt32(dt == DType::F64),
           b_.CreateGlobalStringPtr(message, "numerics.message")});
      returnIf(failed);
    }
    return Status::ok();
  }

  /// Continues emitting at the end of `fn`, whose arguments become the buffer bases.
  void enter(llvm::Function *fn, bool newBlock) {
    arena_ = fn->getArg(0);
    state_ = fn->getArg(1);
    constants_ = fn->getArg(2);
    run_ = fn->getArg(3);
    if (newBlock)
      llvm::BasicBlock::Create(ctx_.context, "entry", fn);
    b_.SetInsertPoint(&fn->back());
  }

  Expected<llvm::Value *> pointer(Value v) {
    KILN_ASSIGN(BufferSlot s, slotOf(v, layout_, v.name()));
    llvm::Value *base = s.region == BufferRegion::Arena   ? arena_
                        : s.region == BufferRegion::State ? state_
                                                          : constants_;
    return b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), base, uint64_t(s.offset));
  }

  /// A oneDNN node: its tensors' addresses in a stack array, then kiln_dnnl_execute.
  Status emitDnnlCall(const Node &n, const DnnlCall &call) {
    auto *arrTy = llvm::ArrayType::get(b_.getPtrTy(), call.sources.size());
    llvm::Value *arr = b_.CreateAlloca(arrTy, nullptr, "dnnl.args");
    for (size_t i = 0; i < call.sources.size(); ++i) {
      int src = call.sources[i];
      Value v = src < 0 ? Value{const_cast<Node *>(&n), 0} : n.operand(unsigned(src));
      KILN_ASSIGN(llvm::Value * p, pointer(v));
      b_.CreateStore(p, b_.CreateConstInBoundsGEP2_64(arrTy, arr, 0, i));
    }
    auto *global = ctx_.module.getNamedGlobal(kDnnlTableSymbol);
    if (!global)
      global = new llvm::GlobalVariable(ctx_.module, b_.getPtrTy(), /*isConstant=*/false,
                                        llvm::GlobalValue::ExternalLinkage,
                                        llvm::ConstantPointerNull::get(b_.getPtrTy()),
                                        kDnnlTableSymbol);
    llvm::Value *table = b_.CreateLoad(b_.getPtrTy(), global, "dnnl.table");
    b_.CreateCall(declareAbiFunction(ctx_.module, "kiln_dnnl_execute"),
                  {table, b_.getInt64(uint64_t(call.index)), arr});
    return Status::ok();
  }

  Status emitNode(const Node &n, bool training) {
    KILN_TRY(emitNodeCall(n, training));
    return checkResults(n);
  }

  Status emitNodeCall(const Node &n, bool training) {
    if (auto it = layout_.dnnlCalls.find(&n); it != layout_.dnnlCalls.end())
      return emitDnnlCall(n, it->second);
    std::vector<llvm::Value *> args;
    for (unsigned r = 0; r < n.numResults(); ++r) {
      KILN_ASSIGN(llvm::Value * p, pointer(Value{const_cast<Node *>(&n), r}));
      args.push_back(p);
    }
    for (Value o : n.operands()) {
      KILN_ASSIGN(llvm::Value * p, pointer(o));
      args.push_back(p);
    }
    if (auto it = shifts_.find(&n); it != shifts_.end()) {
      // A slice (or a loop group's sliced operand) running another node's kernel: move the
      // operand so that the kernel's fixed origin lands on this node's first element. Not
      // inbounds: the moved pointer itself may lie before the tensor; every address the kernel
      // reads is inside it.
      for (unsigned k = 0; k < it->second.size(); ++k) {
        if (it->second[k] == 0)
          continue;
        int64_t bytes = it->second[k] * int64_t(dtypeSize(n.operand(k).type().dtype));
        args[n.numResults() + k] = b_.CreateGEP(b_.getInt8Ty(), args[n.numResults() + k],
                                                b_.getInt64(uint64_t(bytes)));
      }
    }
    args.push_back(run_);
    llvm::Function *kernel = kernels_.at(&n);
    if (n.op() == Op::Dropout && !training) {
      // Dropout is the identity at inference: its inference kernel, else a copy.
      if (llvm::Function *inference =
              kernel->getParent()->getFunction(kernel->getName().str() + "_inference")) {
        b_.CreateCall(callee(inference), args);
        return Status::ok();
      }
      if (args[0] != args[1])
        b_.CreateMemMove(args[0], llvm::MaybeAlign(64), args[1], llvm::MaybeAlign(64),
                         uint64_t(byteSize(n.type())));
      return Status::ok();
    }
    b_.CreateCall(callee(kernel), args);
    return Status::ok();
  }

  /// `kernel` as the entry's module sees it: itself, or a declaration when another partition
  /// defines it (the JIT links the two).
  llvm::FunctionCallee callee(llvm::Function *kernel) {
    if (kernel->getParent() == &ctx_.module)
      return kernel;
    // Types belong to a context: rebuild the kernel signature (pointers, then the i64 run
    // counter) in the entry module's.
    std::vector<llvm::Type *> params;
    for (llvm::Type *t : kernel->getFunctionType()->params())
      params.push_back(t->isPointerTy() ? static_cast<llvm::Type *>(b_.getPtrTy())
                                        : static_cast<llvm::Type *>(b_.getInt64Ty()));
    return ctx_.module.getOrInsertFunction(
        kernel->getName(), llvm::FunctionType::get(b_.getVoidTy(), params, false));
  }

  /// Copies every update value into its state slot. All updates read the state as it was before
  /// the step, so updates whose value is itself state (an unchanged param) are copied first, and
  /// one that reads a slot another update overwrites cannot be ordered (it is refused).
  Status emitUpdates(const EntryPlan &plan) {
    std::set<const Node *> targets;
    for (const StateUpdate &u : plan.updates)
      targets.insert(u.state);
    std::vector<const StateUpdate *> ordered;
    for (const StateUpdate &u : plan.updates)
      if (u.value.node->isParam()) {
        if (u.value.node != u.state && targets.count(u.value.node))
          return Status::error("step '" + plan.name + "': update of '" + u.state->name() +
                               "' reads param '" + u.value.node->name() +
                               "', which the same step updates (not supported by --backend=llvm)");
        ordered.push_back(&u);
      }
    for (const StateUpdate &u : plan.updates)
      if (!u.value.node->isParam())
        ordered.push_back(&u);
    for (const StateUpdate *u : ordered) {
      if (u->value.node == u->state)
        continue;
      auto it = layout_.stateOffset.find(u->state);
      if (it == layout_.stateOffset.end())
        return errorAt(u->state->loc(), "step '" + plan.name + "' updates '" + u->state->name() +
                                            "', which is not a param");
      if (u->value.type() != u->state->type())
        return errorAt(u->state->loc(), "step '" + plan.name + "': update of '" +
                                            u->state->name() + "' has type " +
                                            u->value.type().str() + ", the param " +
                                            u->state->type().str());
      llvm::Value *dst = b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), state_, it->second);
      KILN_ASSIGN(llvm::Value * src, pointer(u->value));
      b_.CreateMemCpy(dst, llvm::MaybeAlign(64), src, llvm::MaybeAlign(64),
                      uint64_t(byteSize(u->state->type())));
    }
    return Status::ok();
  }

  KernelContext &ctx_;
  const ProgramLayout &layout_;
  const std::unordered_map<const Node *, llvm::Function *> &kernels_;
  const std::unordered_map<const Node *, std::vector<int64_t>> &shifts_;
  llvm::IRBuilder<> b_;
  llvm::Value *arena_ = nullptr, *state_ = nullptr, *constants_ = nullptr, *run_ = nullptr;
};

std::string bodyOps(const Node &n) {
  if (!n.body())
    return "";
  std::string ops;
  for (const auto &b : n.body()->nodes())
    if (!b->isInput() && !b->isConstant())
      ops += (ops.empty() ? "" : ", ") + std::string(b->info().mnemonic);
  return " [" + ops + "]";
}

} // namespace

Expected<BufferSlot> slotOf(Value v, const ProgramLayout &layout, const std::string &name) {
  BufferSlot s;
  s.name = name;
  s.dtype = v.type().dtype;
  s.shape = v.type().shape;
  if (v.node->isParam()) {
    s.region = BufferRegion::State;
    s.offset = layout.stateOffset.at(v.node);
  } else if (v.node->isConstant()) {
    s.region = BufferRegion::Constants;
    s.offset = layout.constantOffset.at(v.node);
  } else {
    s.region = BufferRegion::Arena;
    s.offset = v.node->arenaOffset(v.index);
    if (s.offset < 0)
      return errorAt(v.node->loc(), "internal error: value '" + v.name() +
                                        "' has no arena offset (run plan-memory last)");
  }
  return s;
}

Status buildProgram(std::vector<KernelContext> &parts, const Graph &g,
                    const ProgramLayout &layout, const std::vector<EntryPlan> &plans,
                    std::string *listing) {
  if (parts.empty())
    return Status::error("internal error: buildProgram needs at least one module");
  // Instructions emitted into each partition so far: a new kernel goes to the lightest one, so
  // the partitions take about the same time to compile on their threads.
  std::vector<unsigned> weight(parts.size(), 0);
  // The entries go into parts[0]: count their calls (a few instructions per argument) up front,
  // so that kernels go to the other partitions first. An unrolled LSTM's entries are almost half
  // of its IR.
  std::vector<unsigned> reserved(parts.size(), 0);
  for (const EntryPlan &p : plans)
    for (const Node *n : p.nodes)
      reserved[0] += 2 * (n->numOperands() + n->numResults()) + 3;
  weight = reserved;
  // One kernel per node that some entry runs, in graph order.
  std::unordered_set<const Node *> scheduled;
  for (const EntryPlan &p : plans)
    scheduled.insert(p.nodes.begin(), p.nodes.end());
  std::unordered_map<const Node *, llvm::Function *> kernels;
  std::unordered_map<std::string, llvm::Function *> byKey;
  std::unordered_map<std::string, const Node *> firstOf;     // the node each kernel was made for
  std::unordered_map<const Node *, std::vector<int64_t>> shifts; // see kernelKey: per operand
  int index = 0;
  for (const auto &node : g.nodes()) {
    const Node *n = node.get();
    if (!scheduled.count(n))
      continue;
    if (layout.dnnlCalls.count(n)) {
      if (listing)
        *listing += "dnnl" + std::to_string(layout.dnnlCalls.at(n).index) + ": oneDNN '" +
                    n->name() + "'" + bodyOps(*n) + "\n";
      continue;
    }
    std::string key = kernelKey(*n, /*topLevel=*/true);
    llvm::Function *&shared = byKey[key];
    bool reused = !key.empty() && shared;
    if (reused) {
      std::vector<std::optional<int64_t>> mine = movableOrigins(*n),
                                          first = movableOrigins(*firstOf.at(key));
      std::vector<int64_t> shift(mine.size(), 0);
      bool any = false;
      for (size_t k = 0; k < mine.size(); ++k)
        if (mine[k] && first[k]) {
          shift[k] = *mine[k] - *first[k];
          any |= shift[k] != 0;
        }
      if (any)
        shifts[n] = std::move(shift);
    }
    if (!reused && !key.empty())
      firstOf[key] = n;
    if (!reused) {
      std::string symbol =
          "kiln_k" + std::to_string(index++) + "_" + std::string(n->info().mnemonic);
      size_t part = size_t(std::min_element(weight.begin(), weight.end()) - weight.begin());
      KILN_ASSIGN(llvm::Function * fn, emitKernel(parts[part], *n, symbol));
      weight[part] = reserved[part] + parts[part].module.getInstructionCount();
      if (!key.empty())
        shared = fn;
      kernels[n] = fn;
    } else {
      kernels[n] = shared;
    }
    if (listing)
      *listing += kernels[n]->getName().str() + ": " + std::string(n->info().mnemonic) + " '" +
                  n->name() + "'" + bodyOps(*n) + (reused ? " (shared)" : "") + "\n";
  }
  EntryEmitter emitter(parts[0], layout, kernels, shifts);
  for (const EntryPlan &p : plans) {
    KILN_TRY(emitter.emit(p));
    if (listing) {
      *listing += "entry " + p.name + ":";
      for (const Node *n : p.nodes)
        *listing += " " + (layout.dnnlCalls.count(n)
                               ? "dnnl" + std::to_string(layout.dnnlCalls.at(n).index)
                               : kernels.at(n)->getName().str());
      *listing += p.updates.empty() ? "\n" : " + " + std::to_string(p.updates.size()) +
                                                 " state updates\n";
    }
  }
  return Status::ok();
}

} // namespace kiln::codegen
