// EmitRandom: the LLVM kernels of random_uniform, random_normal and dropout (Philox4x32-10 in IR).
//
// Element i of a node's draw is Philox4x32-10 of counter {i lo, i hi, run lo, run hi} and key
// {seed lo, seed hi} (kiln/runtime/Random.h). The emitted rounds, the bit-to-unit conversions and
// the Box-Muller transform repeat runtime/src/Random.cpp operation by operation (no fast-math
// flags, no contraction; log and cos are the C library's, as std::log and std::cos are), so the
// kernels draw exactly the interpreter's numbers. The seed is static (the `seed` attribute, else
// hashSeed(graph seed, node name)), so the key schedule folds to constants; the element loop is
// split across threads and, for uniform draws and dropout, vectorised by LLVM (32-bit lanes).
//
// dropout has two kernels with one signature: `<symbol>` draws the mask (training), and
// `<symbol>_inference` copies x (the interpreter's rule for inference runs). The program builder
// picks one per entry.
#include "compiler/codegen/EmitOps.h"
#include "compiler/codegen/EmitSupport.h"

#include "kiln/runtime/Random.h"

#include <llvm/IR/Function.h>

#include <array>
#include <cmath>
#include <numbers>
#include <variant>

namespace kiln::codegen {

using llvm::Value;

namespace {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;
constexpr int64_t kRandomGrain = 4096;

/// The node's stream seed: its `seed` attr if set, else hashSeed(graph seed, node name).
uint64_t nodeSeed(const Node &node, uint64_t graphSeed) {
  if (auto s = node.attr("seed"))
    return uint64_t(std::get<int64_t>(*s));
  return hashSeed(graphSeed, node.name());
}

/// The four words of element `index` (i64) of stream (seed, run): Philox4x32-10 in IR.
std::array<Value *, 4> philoxWords(llvm::IRBuilder<> &b, uint64_t seed, Value *run, Value *index) {
  llvm::Type *i32 = b.getInt32Ty(), *i64 = b.getInt64Ty();
  auto lo = [&](Value *v) { return b.CreateTrunc(v, i32); };
  auto hi = [&](Value *v) { return b.CreateTrunc(b.CreateLShr(v, 32), i32); };
  std::array<Value *, 4> ctr = {lo(index), hi(index), lo(run), hi(run)};
  uint32_t key0 = uint32_t(seed), key1 = uint32_t(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key0 += kPhiloxW0;
      key1 += kPhiloxW1;
    }
    // 32x32 -> 64-bit products, split into high and low words (mulhilo).
    // The product fits in 64 unsigned bits (nuw) but not always in 63 (no nsw).
    Value *p0 = b.CreateMul(b.getInt64(kPhiloxM0), b.CreateZExt(ctr[0], i64), "", true, false);
    Value *p1 = b.CreateMul(b.getInt64(kPhiloxM1), b.CreateZExt(ctr[2], i64), "", true, false);
    Value *hi0 = hi(p0), *lo0 = lo(p0), *hi1 = hi(p1), *lo1 = lo(p1);
    ctr = {b.CreateXor(b.CreateXor(hi1, ctr[1]), b.getInt32(key0)), lo1,
           b.CreateXor(b.CreateXor(hi0, ctr[3]), b.getInt32(key1)), lo0};
  }
  return ctr;
}

/// ((hi << 32 | lo) >> 11) * 2^-53 in double: uniform in [0, 1) with 53 bits.
Value *wordsToUnit(llvm::IRBuilder<> &b, Value *hiWord, Value *loWord) {
  llvm::Type *i64 = b.getInt64Ty();
  Value *bits = b.CreateOr(b.CreateShl(b.CreateZExt(hiWord, i64), 32), b.CreateZExt(loWord, i64));
  bits = b.CreateLShr(bits, 11);
  // The value has 53 bits, so the signed conversion is exact and vectorises better.
  Value *d = b.CreateSIToFP(bits, b.getDoubleTy());
  return b.CreateFMul(d, llvm::ConstantFP::get(b.getDoubleTy(), 0x1.0p-53));
}

/// uniform01(seed, run, index): Random.h's 53-bit double in [0, 1).
Value *uniform01(llvm::IRBuilder<> &b, uint64_t seed, Value *run, Value *index) {
  auto w = philoxWords(b, seed, run, index);
  return wordsToUnit(b, w[0], w[1]);
}

/// normal01(seed, run, index): Box-Muller exactly as runtime/src/Random.cpp computes it.
Value *normal01(llvm::IRBuilder<> &b, uint64_t seed, Value *run, Value *index) {
  llvm::Type *f64 = b.getDoubleTy();
  auto w = philoxWords(b, seed, run, index);
  Value *u1 = b.CreateFSub(llvm::ConstantFP::get(f64, 1.0), wordsToUnit(b, w[0], w[1]));
  Value *u2 = wordsToUnit(b, w[2], w[3]);
  Value *radius = b.CreateUnaryIntrinsic(
      llvm::Intrinsic::sqrt, b.CreateFMul(llvm::ConstantFP::get(f64, -2.0),
                                          b.CreateUnaryIntrinsic(llvm::Intrinsic::log, u1)));
  Value *angle = b.CreateFMul(llvm::ConstantFP::get(f64, 2.0 * std::numbers::pi), u2);
  return b.CreateFMul(radius, b.CreateUnaryIntrinsic(llvm::Intrinsic::cos, angle));
}

/// Stores double `v` rounded to dt (f32 or f64) into result 0 at `i`.
void storeRounded(KernelBuilder &kb, DType dt, Value *v, Value *i) {
  if (dt != DType::F64)
    v = kb.b.CreateFPTrunc(v, kb.elemType(dt));
  kb.store(dt, v, kb.result(0), i);
}

Value *f64(KernelBuilder &kb, double v) { return llvm::ConstantFP::get(kb.b.getDoubleTy(), v); }

Status emitRandomUniform(KernelBuilder &kb, const Node &node, uint64_t seed) {
  DType dt = node.type().dtype;
  double low = node.attrFloat("low"), high = node.attrFloat("high");
  if (!isFloat(dt))
    return internalError(node, "random_uniform needs a float result");
  if (!(low < high))
    return errorAt(node.loc(), who(node) + ": needs low < high");
  llvm::IRBuilder<> &b = kb.b;
  // Rounding to f32 may reach `high`; the interval is half-open, so that becomes the largest
  // value below it (the interpreter's nextafter).
  llvm::Constant *top = dt == DType::F32
                            ? llvm::ConstantFP::get(b.getFloatTy(), double(float(high)))
                            : llvm::ConstantFP::get(b.getDoubleTy(), high);
  llvm::Constant *below =
      dt == DType::F32
          ? llvm::ConstantFP::get(b.getFloatTy(), double(std::nextafter(float(high), float(low))))
          : llvm::ConstantFP::get(b.getDoubleTy(), std::nextafter(high, low));
  kb.parallelFor(node.type().numElements(), kRandomGrain, [&](Value *begin, Value *end) {
    kb.loop(begin, end, [&](Value *i) {
      Value *u = uniform01(b, seed, kb.run(), i);
      Value *v = b.CreateFAdd(f64(kb, low), b.CreateFMul(f64(kb, high - low), u));
      if (dt == DType::F32)
        v = b.CreateFPTrunc(v, b.getFloatTy());
      kb.store(dt, b.CreateSelect(b.CreateFCmpOLT(v, top), v, below), kb.result(0), i);
    });
  });
  return Status::ok();
}

Status emitRandomNormal(KernelBuilder &kb, const Node &node, uint64_t seed) {
  DType dt = node.type().dtype;
  if (!isFloat(dt))
    return internalError(node, "random_normal needs a float result");
  double mean = node.attrFloat("mean"), stddev = node.attrFloat("stddev");
  llvm::IRBuilder<> &b = kb.b;
  kb.parallelFor(node.type().numElements(), kRandomGrain / 4, [&](Value *begin, Value *end) {
    kb.loop(begin, end, [&](Value *i) {
      Value *n = normal01(b, seed, kb.run(), i);
      storeRounded(kb, dt, b.CreateFAdd(f64(kb, mean), b.CreateFMul(f64(kb, stddev), n)), i);
    });
  });
  return Status::ok();
}

/// dropout in training: element i is kept (scaled by 1 / (1 - rate)) iff its uniform draw is
/// >= rate. With rate 0 it is a plain copy.
void emitDropoutMask(KernelBuilder &kb, const Node &node, uint64_t seed, double rate) {
  DType dt = node.type().dtype;
  llvm::IRBuilder<> &b = kb.b;
  int64_t count = node.type().numElements();
  Value *scale = dt == DType::F32 ? kb.constant(dt, double(float(1.0 / (1.0 - rate))))
                                  : kb.constant(dt, 1.0 / (1.0 - rate));
  kb.parallelFor(count, kRandomGrain, [&](Value *begin, Value *end) {
    kb.loop(begin, end, [&](Value *i) {
      Value *x = kb.load(dt, kb.operand(0), i);
      if (rate == 0) {
        kb.store(dt, x, kb.result(0), i);
        return;
      }
      Value *keep = b.CreateFCmpOGE(uniform01(b, seed, kb.run(), i), f64(kb, rate));
      kb.store(dt, b.CreateSelect(keep, b.CreateFMul(x, scale), kb.constant(dt, 0.0)), kb.result(0),
               i);
    });
  });
}

/// dropout at inference: the identity (a copy unless the plan made it in place).
void emitDropoutIdentity(KernelBuilder &kb, const Node &node) {
  const TensorType &t = node.type();
  ifThen(kb, kb.b.CreateICmpNE(kb.result(0), kb.operand(0)), [&] {
    kb.b.CreateMemMove(kb.result(0), llvm::MaybeAlign(1), kb.operand(0), llvm::MaybeAlign(1),
                       kb.c64(t.numElements() * int64_t(dtypeSize(t.dtype))));
  });
}

Status emitDropout(KernelBuilder &kb, const Node &node, uint64_t seed) {
  DType dt = node.type().dtype;
  double rate = node.attrFloat("rate");
  if (!isFloat(dt) || !(rate >= 0 && rate < 1))
    return internalError(node, "dropout needs a float operand and 0 <= rate < 1");
  emitDropoutMask(kb, node, seed, rate);
  // The inference variant: same signature, named `<kernel>_inference`, complete with its ret.
  llvm::Function *kernel = kb.function();
  llvm::Function *inference =
      llvm::Function::Create(kernel->getFunctionType(), llvm::Function::ExternalLinkage,
                             kernel->getName() + "_inference", kb.ctx.module);
  KernelBuilder ib(kb.ctx, inference, node);
  emitDropoutIdentity(ib, node);
  ib.b.CreateRetVoid();
  return Status::ok();
}

} // namespace

Status emitRandom(KernelBuilder &kb, const Node &node) {
  uint64_t seed = nodeSeed(node, kb.ctx.graphSeed);
  if (node.op() == Op::RandomUniform)
    return emitRandomUniform(kb, node, seed);
  if (node.op() == Op::RandomNormal)
    return emitRandomNormal(kb, node, seed);
  if (node.op() == Op::Dropout)
    return emitDropout(kb, node, seed);
  return internalError(node, "not random_uniform, random_normal or dropout");
}

} // namespace kiln::codegen
