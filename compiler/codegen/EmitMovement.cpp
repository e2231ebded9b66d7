// EmitMovement: the LLVM kernels of reshape, flatten, transpose, concat, slice, slice_grad and
// broadcast_to, and the dispatch of the data-movement family (gather, gather_grad and one_hot
// are in EmitGather.cpp).
//
// Apart from reshape and flatten (a memcpy, skipped when the plan put the result on the operand)
// and a concat of many operands of one shape (one loop over a table of operand pointers), each
// is one strided copy: out[outBase + sum i_d outStride_d] = in[inBase + sum i_d inStride_d]
// over a static index space. The copy first drops unit dims and merges neighbours contiguous in
// both buffers (a slice of whole rows becomes one long loop), then splits its rows across threads
// and lets LLVM vectorise the innermost loop. A transpose whose output's innermost axis and the
// input's contiguous axis are both long is tiled kTile x kTile so reads and writes stay in cache.
// Elements move as whole values of their type; slice_grad adds +0.0 on the way, as the
// interpreter's zero-initialised accumulator does (so -0.0 becomes +0.0, bit for bit).
#include "compiler/codegen/EmitOps.h"
#include "compiler/codegen/EmitSupport.h"

#include "compiler/ir/OpAttrs.h"

#include <algorithm>

namespace kiln::codegen {

using llvm::Value;

namespace {

constexpr int64_t kTile = 32; ///< transpose tile edge, in elements

/// One static strided copy from operand `from` to result 0.
struct StridedCopy {
  Shape dims;
  std::vector<int64_t> inStrides, outStrides;
  int64_t inBase = 0, outBase = 0;

  /// Drops unit dims and merges neighbours that are contiguous in both buffers.
  void coalesce() {
    StridedCopy c;
    c.inBase = inBase;
    c.outBase = outBase;
    for (size_t d = 0; d < dims.size(); ++d) {
      if (dims[d] == 1)
        continue;
      if (!c.dims.empty() && c.inStrides.back() == inStrides[d] * dims[d] &&
          c.outStrides.back() == outStrides[d] * dims[d]) {
        c.dims.back() *= dims[d];
        c.inStrides.back() = inStrides[d];
        c.outStrides.back() = outStrides[d];
        continue;
      }
      c.dims.push_back(dims[d]);
      c.inStrides.push_back(inStrides[d]);
      c.outStrides.push_back(outStrides[d]);
    }
    *this = std::move(c);
  }
};

/// Moves one element from operand `from` to result 0 (pointers of the current function).
struct Mover {
  KernelBuilder &kb;
  DType dtype;
  unsigned from = 0;
  bool plusZero = false; ///< add +0.0 on the way (slice_grad)

  void move(Value *dstIndex, Value *srcIndex) {
    Value *v = kb.load(dtype, kb.operand(from), srcIndex);
    if (plusZero)
      v = kb.b.CreateFAdd(v, kb.constant(dtype, 0.0));
    kb.store(dtype, v, kb.result(0), dstIndex);
  }
};

/// Decodes `u` over dims ds (last fastest) and adds each coordinate times its strides to the
/// offsets.
void addCoordinates(KernelBuilder &kb, const StridedCopy &c, const std::vector<size_t> &ds,
                    Value *u, Value *&inOff, Value *&outOff) {
  Value *rest = u;
  for (size_t k = ds.size(); k-- > 0;) {
    size_t d = ds[k];
    Value *idx = k == 0 ? rest : kb.b.CreateURem(rest, kb.c64(c.dims[d]));
    if (k > 0)
      rest = kb.b.CreateUDiv(rest, kb.c64(c.dims[d]));
    inOff = kb.b.CreateAdd(inOff, kb.b.CreateMul(idx, kb.c64(c.inStrides[d])));
    outOff = kb.b.CreateAdd(outOff, kb.b.CreateMul(idx, kb.c64(c.outStrides[d])));
  }
}

/// Tiled copy: output dim `last` (innermost) and dim `a` (the input's contiguous one) in
/// kTile x kTile blocks; threads take (other dims, block row) pairs.
void emitTiledCopy(KernelBuilder &kb, const StridedCopy &c, size_t a, Mover mv) {
  llvm::IRBuilder<> &b = kb.b;
  size_t last = c.dims.size() - 1;
  std::vector<size_t> others;
  int64_t otherCount = 1;
  for (size_t d = 0; d < last; ++d)
    if (d != a) {
      others.push_back(d);
      otherCount *= c.dims[d];
    }
  int64_t tilesA = ceilDiv(c.dims[a], kTile), tilesL = ceilDiv(c.dims[last], kTile);
  int64_t grain = std::max<int64_t>(1, kCopyGrain / (kTile * c.dims[last]));
  kb.parallelFor(otherCount * tilesA, grain, [&](Value *begin, Value *end) {
    kb.loop(begin, end, [&](Value *u) {
      Value *ta = b.CreateURem(u, kb.c64(tilesA));
      Value *inOff = kb.c64(c.inBase), *outOff = kb.c64(c.outBase);
      addCoordinates(kb, c, others, b.CreateUDiv(u, kb.c64(tilesA)), inOff, outOff);
      Value *a0 = b.CreateMul(ta, kb.c64(kTile));
      Value *a1 = smin(kb, b.CreateAdd(a0, kb.c64(kTile)), c.dims[a]);
      kb.loop(kb.c64(0), kb.c64(tilesL), [&](Value *tl) {
        Value *l0 = b.CreateMul(tl, kb.c64(kTile));
        Value *l1 = smin(kb, b.CreateAdd(l0, kb.c64(kTile)), c.dims[last]);
        kb.loop(a0, a1, [&](Value *ia) {
          Value *inRow = b.CreateAdd(inOff, b.CreateMul(ia, kb.c64(c.inStrides[a])));
          Value *outRow = b.CreateAdd(outOff, b.CreateMul(ia, kb.c64(c.outStrides[a])));
          kb.loop(l0, l1, [&](Value *il) {
            mv.move(b.CreateAdd(outRow, b.CreateMul(il, kb.c64(c.outStrides[last]))),
                    b.CreateAdd(inRow, b.CreateMul(il, kb.c64(c.inStrides[last]))));
          });
        });
      });
    });
  });
}

/// Emits the strided copy `c`.
void emitCopy(KernelBuilder &kb, StridedCopy c, Mover mv) {
  c.coalesce();
  llvm::IRBuilder<> &b = kb.b;
  size_t rank = c.dims.size();
  if (rank == 0) {
    mv.move(kb.c64(c.outBase), kb.c64(c.inBase));
    return;
  }
  size_t last = rank - 1;
  if (rank >= 2 && c.inStrides[last] != 1 && c.dims[last] >= kTile) {
    for (size_t a = 0; a < last; ++a)
      if (c.inStrides[a] == 1 && c.dims[a] >= kTile)
        return emitTiledCopy(kb, c, a, mv);
  }
  int64_t inner = c.dims[last], rows = 1;
  std::vector<size_t> outerDims;
  for (size_t d = 0; d < last; ++d) {
    outerDims.push_back(d);
    rows *= c.dims[d];
  }
  kb.parallelFor(rows, std::max<int64_t>(1, kCopyGrain / inner), [&](Value *begin, Value *end) {
    kb.loop(begin, end, [&](Value *u) {
      Value *inOff = kb.c64(c.inBase), *outOff = kb.c64(c.outBase);
      addCoordinates(kb, c, outerDims, u, inOff, outOff);
      kb.loop(kb.c64(0), kb.c64(inner), [&](Value *j) {
        mv.move(b.CreateAdd(outOff, b.CreateMul(j, kb.c64(c.outStrides[last]))),
                b.CreateAdd(inOff, b.CreateMul(j, kb.c64(c.inStrides[last]))));
      });
    });
  });
}

/// reshape and flatten: a byte copy, skipped when the result is the operand's buffer, split
/// across threads in 256 KiB chunks when large.
void emitByteCopy(KernelBuilder &kb, int64_t bytes) {
  llvm::IRBuilder<> &b = kb.b;
  constexpr int64_t kChunk = 256 * 1024;
  ifThen(kb, b.CreateICmpNE(kb.result(0), kb.operand(0)), [&] {
    if (bytes < 4 * kChunk) {
      b.CreateMemCpy(kb.result(0), llvm::MaybeAlign(1), kb.operand(0), llvm::MaybeAlign(1),
                     kb.c64(bytes));
      return;
    }
    kb.parallelFor(ceilDiv(bytes, kChunk), 1, [&](Value *begin, Value *end) {
      kb.loop(begin, end, [&](Value *k) {
        Value *off = b.CreateMul(k, kb.c64(kChunk));
        Value *len = smin(kb, b.CreateSub(kb.c64(bytes), off), kChunk);
        b.CreateMemCpy(b.CreateInBoundsGEP(b.getInt8Ty(), kb.result(0), off), llvm::MaybeAlign(1),
                       b.CreateInBoundsGEP(b.getInt8Ty(), kb.operand(0), off), llvm::MaybeAlign(1),
                       len);
      });
    });
  });
}

/// A slice's start positions: negative from the end, clamped into [0, dim] (as the interpreter).
std::vector<int64_t> sliceStarts(const Node &node, const Shape &full) {
  std::vector<int64_t> begin = *node.attrInts("begin"), start(full.size());
  for (size_t i = 0; i < full.size(); ++i) {
    int64_t dim = full[i];
    start[i] = std::clamp<int64_t>(begin[i] < 0 ? begin[i] + dim : begin[i], 0, dim);
  }
  return start;
}

std::vector<int64_t> sliceSteps(const Node &node, size_t rank) {
  return node.attrInts("strides").value_or(std::vector<int64_t>(rank, 1));
}

Status emitTranspose(KernelBuilder &kb, const Node &node) {
  const Shape &in = node.operand(0).type().shape, &out = node.type().shape;
  std::vector<int64_t> perm = transposePerm(node), inStrides = rowMajorStrides(in);
  StridedCopy c;
  c.dims = out;
  c.outStrides = rowMajorStrides(out);
  for (size_t d = 0; d < out.size(); ++d)
    c.inStrides.push_back(inStrides[size_t(perm[d])]);
  emitCopy(kb, c, Mover{kb, node.type().dtype});
  return Status::ok();
}

/// A concat of many operands of one shape (the per-step states of an unrolled RNN, the pieces
/// of a gradient): one loop over (operand, outer index) pairs that picks the operand's pointer
/// from a small table, instead of one copy loop per operand, so that the kernel's code does not
/// grow with the operand count (each copy loop is a parallel body of its own to compile).
void emitUniformConcat(KernelBuilder &kb, const Node &node, int64_t outer, int64_t row,
                       int64_t outRow) {
  llvm::IRBuilder<> &b = kb.b;
  DType dt = node.type().dtype;
  unsigned n = node.numOperands();
  kb.parallelFor(outer * n, std::max<int64_t>(1, kCopyGrain / row), [&](Value *begin, Value *end) {
    llvm::Type *table = llvm::ArrayType::get(b.getPtrTy(), n);
    Value *slots = kb.slot(table, "operands");
    for (unsigned k = 0; k < n; ++k)
      b.CreateStore(kb.operand(k), b.CreateConstInBoundsGEP2_64(table, slots, 0, k));
    kb.loop(begin, end, [&](Value *u) {
      Value *k = b.CreateUDiv(u, kb.c64(outer));
      Value *o = b.CreateURem(u, kb.c64(outer));
      Value *from = b.CreateLoad(b.getPtrTy(), b.CreateInBoundsGEP(table, slots, {kb.c64(0), k}));
      Value *inOff = b.CreateMul(o, kb.c64(row));
      Value *outOff = b.CreateAdd(b.CreateMul(o, kb.c64(outRow)), b.CreateMul(k, kb.c64(row)));
      kb.loop(kb.c64(0), kb.c64(row), [&](Value *j) {
        kb.store(dt, kb.load(dt, from, b.CreateAdd(inOff, j)), kb.result(0),
                 b.CreateAdd(outOff, j));
      });
    });
  });
}

Status emitConcat(KernelBuilder &kb, const Node &node) {
  const Shape &out = node.type().shape;
  auto axis = normalizeAxis(node.attrInt("axis"), int64_t(out.size()));
  if (!axis)
    return internalError(node, "axis out of range");
  size_t ax = size_t(*axis);
  int64_t outer = shapeProduct(out, 0, ax), inner = shapeProduct(out, ax + 1, out.size());
  int64_t outRow = out[ax] * inner, offset = 0;
  bool uniform = node.numOperands() >= 4;
  for (kiln::Value o : node.operands())
    uniform &= o.type() == node.operand(0).type();
  if (uniform) {
    emitUniformConcat(kb, node, outer, node.operand(0).type().shape[ax] * inner, outRow);
    return Status::ok();
  }
  for (unsigned k = 0; k < node.numOperands(); ++k) {
    int64_t row = node.operand(k).type().shape[ax] * inner;
    StridedCopy c;
    c.dims = {outer, row};
    c.inStrides = {row, 1};
    c.outStrides = {outRow, 1};
    c.outBase = offset;
    emitCopy(kb, c, Mover{kb, node.type().dtype, k});
    offset += row;
  }
  return Status::ok();
}

Status emitSlice(KernelBuilder &kb, const Node &node) {
  const Shape &in = node.operand(0).type().shape, &out = node.type().shape;
  std::vector<int64_t> start = sliceStarts(node, in), steps = sliceSteps(node, in.size());
  std::vector<int64_t> inStrides = rowMajorStrides(in);
  StridedCopy c;
  c.dims = out;
  c.outStrides = rowMajorStrides(out);
  for (size_t d = 0; d < in.size(); ++d) {
    c.inStrides.push_back(inStrides[d] * steps[d]);
    c.inBase += start[d] * inStrides[d];
  }
  emitCopy(kb, c, Mover{kb, node.type().dtype});
  return Status::ok();
}

Status emitSliceGrad(KernelBuilder &kb, const Node &node) {
  const Shape &dy = node.operand(0).type().shape, &out = node.type().shape;
  DType dt = node.type().dtype;
  if (!isFloat(dt) || node.operand(0).type().dtype != dt)
    return internalError(node, "needs an f32 or f64 gradient");
  std::vector<int64_t> start = sliceStarts(node, out), steps = sliceSteps(node, out.size());
  std::vector<int64_t> outStrides = rowMajorStrides(out);
  zeroFill(kb, node.type());
  StridedCopy c;
  c.dims = dy;
  c.inStrides = rowMajorStrides(dy);
  for (size_t d = 0; d < out.size(); ++d) {
    c.outStrides.push_back(outStrides[d] * steps[d]);
    c.outBase += start[d] * outStrides[d];
  }
  emitCopy(kb, c, Mover{kb, dt, 0, /*plusZero=*/true});
  return Status::ok();
}

Status emitBroadcastTo(KernelBuilder &kb, const Node &node) {
  const Shape &in = node.operand(0).type().shape, &out = node.type().shape;
  StridedCopy c;
  c.dims = out;
  c.outStrides = rowMajorStrides(out);
  c.inStrides = broadcastStrides(in, out);
  emitCopy(kb, c, Mover{kb, node.type().dtype});
  return Status::ok();
}

} // namespace

Status emitMovement(KernelBuilder &kb, const Node &node) {
  // An if-chain, not a switch: the family is a handful of the ops in Ops.def (EmitKernel.cpp's
  // switch lists them all).
  const TensorType &t = node.type();
  Op op = node.op();
  if (op == Op::Reshape || op == Op::Flatten) {
    if (t.dtype != node.operand(0).type().dtype ||
        t.numElements() != node.operand(0).type().numElements())
      return internalError(node, "element count or dtype changes");
    emitByteCopy(kb, t.numElements() * int64_t(dtypeSize(t.dtype)));
    return Status::ok();
  }
  if (op == Op::Transpose)
    return emitTranspose(kb, node);
  if (op == Op::Concat)
    return emitConcat(kb, node);
  if (op == Op::Slice)
    return emitSlice(kb, node);
  if (op == Op::SliceGrad)
    return emitSliceGrad(kb, node);
  if (op == Op::BroadcastTo)
    return emitBroadcastTo(kb, node);
  if (op == Op::Gather || op == Op::GatherGrad || op == Op::OneHot)
    return emitGatherFamily(kb, node);
  return internalError(node, "not a data-movement op");
}

} // namespace kiln::codegen
