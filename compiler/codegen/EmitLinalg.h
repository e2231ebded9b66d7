// EmitLinalg: shared pieces of the matmul, convolution and pooling kernels (codegen-internal).
//
// LinalgBuilder wraps one kernel function under construction: typed pointers, static loops,
// conditionals and parallel loops through kiln_parallel_for. ConvGeom and PoolGeom are the
// static index spaces of conv2d and the pools, resolved exactly as compiler/interp does.
#pragma once

#include "compiler/codegen/Jit.h"
#include "compiler/ir/Node.h"

#include <llvm/ADT/STLFunctionalExtras.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <string>
#include <vector>

namespace kiln::codegen {

/// Builds the body of one kernel function: `fn` has the KernelEmitter.h signature, and the
/// builder starts at the end of its entry block. All loop bounds are static.
class LinalgBuilder {
public:
  LinalgBuilder(llvm::Module &module, const HostTarget &target, llvm::Function *fn, DType dtype);

  llvm::IRBuilder<> b;
  llvm::Module &module;
  const HostTarget &target;
  llvm::Function *fn;
  DType dtype;

  /// The element type of `dtype` (float or double).
  llvm::Type *elt() { return dtype == DType::F64 ? b.getDoubleTy() : b.getFloatTy(); }
  llvm::Value *c64(int64_t v) { return b.getInt64(static_cast<uint64_t>(v)); }
  llvm::Value *fconst(double v) { return llvm::ConstantFP::get(elt(), v); }
  /// &base[index] in elements of `elt()`.
  llvm::Value *at(llvm::Value *base, llvm::Value *index) {
    return b.CreateInBoundsGEP(elt(), base, index);
  }
  llvm::Value *load(llvm::Value *base, llvm::Value *index) {
    return b.CreateLoad(elt(), at(base, index));
  }
  void store(llvm::Value *v, llvm::Value *base, llvm::Value *index) {
    b.CreateStore(v, at(base, index));
  }
  llvm::Value *add(llvm::Value *x, llvm::Value *y) { return b.CreateAdd(x, y); }
  llvm::Value *mul(llvm::Value *x, int64_t c) { return c == 1 ? x : b.CreateMul(x, c64(c)); }
  /// x * c + d, folded for the constants 0 and 1.
  llvm::Value *affine(llvm::Value *x, int64_t c, int64_t d) {
    llvm::Value *r = mul(x, c);
    return d == 0 ? r : b.CreateAdd(r, c64(d));
  }

  /// for (iv = begin; iv < end; ++iv) body(iv).
  void loop(llvm::Value *begin, llvm::Value *end, llvm::function_ref<void(llvm::Value *)> body);
  void loop(int64_t n, llvm::function_ref<void(llvm::Value *)> body) { loop(c64(0), c64(n), body); }
  /// if (cond) body().
  void ifThen(llvm::Value *cond, llvm::function_ref<void()> body);
  /// 0 <= v < n, as an i1.
  llvm::Value *inRange(llvm::Value *v, int64_t n);
  /// An entry-block stack slot of type `ty` (promoted to a register by the optimiser).
  llvm::Value *slot(llvm::Type *ty, const char *name);
  /// Sets dst[0, n) to zero with a vectorisable loop.
  void zero(llvm::Value *dst, int64_t n);

  /// Runs body(begin, end) over [0, n) split across threads by kiln_parallel_for, with at least
  /// `grain` iterations per thread. The body is emitted into a new internal function; the
  /// values it uses from the kernel must be pointers listed in `captures` (it receives them,
  /// in order, in `caps`). The builder is back in the kernel after the call.
  void parallelFor(int64_t n, int64_t grain, const std::vector<llvm::Value *> &captures,
                   llvm::function_ref<void(const std::vector<llvm::Value *> &caps,
                                           llvm::Value *begin, llvm::Value *end)>
                       body);

  /// The generated GEMM of `spec` (GemmGen.h) as an internal function of the module, shared by
  /// every kernel of the module that needs the same spec (it is named after the spec).
  Expected<llvm::Function *> gemm(const struct GemmSpec &spec);

  /// A fresh name for a helper function of this kernel: "<kernel>.<what><counter>".
  std::string helperName(const std::string &what);

private:
  int counter_ = 0;
};

/// Element strides of a rank-4 image (NHWC or NCHW) by logical dimension.
struct ImageStrides {
  int64_t h = 0, w = 0, c = 0; ///< logical sizes
  int64_t n = 0, y = 0, x = 0, ch = 0;
};

/// The index space of a conv2d, from its forward shapes (x, w, y) and attributes.
struct ConvGeom {
  bool nchw = false;
  int64_t batch = 0, kh = 0, kw = 0, cig = 0, co = 0, groups = 1, cog = 0;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1, padTop = 0, padLeft = 0;
  ImageStrides x, y;
  int64_t wY = 0, wX = 0, wI = 0, wO = 0; ///< filter strides (HWIO or OIHW)
};

/// Resolves the geometry of `node` (conv2d or one of its gradients) given the forward x, w and
/// y shapes; an error if they do not fit together.
Expected<ConvGeom> convGeom(const Node &node, const Shape &x, const Shape &w, const Shape &y);

/// The index space of a pooling op, from its input and output shapes.
struct PoolGeom {
  int64_t batch = 0, kh = 1, kw = 1, sh = 1, sw = 1, padTop = 0, padLeft = 0;
  ImageStrides x, y;
};
PoolGeom poolGeom(const Node &node, const Shape &x, const Shape &y);

/// Ok for f32 and f64; an error naming the node for any other dtype (these kernels are float
/// only, like the interpreter's).
Status checkFloatKernel(const Node &node, DType dtype);

// ---- the kernels of this family, each emitting the body of `fn` (ending with ret) ----
// Pointers: fn's arguments, results first, then operands (KernelEmitter.h).

/// matmul: the generated GEMM per batch (f32), a vectorised loop nest (f64).
Status emitMatmulKernel(llvm::Module &m, const HostTarget &t, llvm::Function *fn, const Node &node);
/// conv2d, conv2d_backprop_input, conv2d_backprop_filter.
Status emitConvKernel(llvm::Module &m, const HostTarget &t, llvm::Function *fn, const Node &node);
/// max_pool2d, avg_pool2d and their gradients.
Status emitPoolKernel(llvm::Module &m, const HostTarget &t, llvm::Function *fn, const Node &node);

/// A fused node of kind "matmul" or "conv": the matmul/conv into the last result, then the bias
/// add and activation in one pass over it (EmitFusedGemm.cpp).
Status emitFusedGemmKernel(llvm::Module &m, const HostTarget &t, llvm::Function *fn,
                           const Node &fused);

/// Emits matmul or conv2d `core` (a node of a fused body, or a plain node) into the buffer
/// `out`, reading operand pointers `operands`, without returning. For the epilogues.
Status emitMatmulInto(LinalgBuilder &lb, const Node &core, llvm::Value *out,
                      const std::vector<llvm::Value *> &operands);
Status emitConvInto(LinalgBuilder &lb, const Node &core, llvm::Value *out,
                    const std::vector<llvm::Value *> &operands);

// ---- f32 convolutions as im2col + the generated GEMM (EmitConvGemm.cpp) ----
/// Whether the conv of `g` in `dtype` takes the GEMM kernels below (f32; NCHW, or NHWC with one
/// group; one image's column matrix at most 256 MB) rather than the direct ones.
bool convUsesGemm(const ConvGeom &g, DType dtype);
Status emitConvForwardGemm(LinalgBuilder &lb, const ConvGeom &g, llvm::Value *out, llvm::Value *x,
                           llvm::Value *w, llvm::Value *bias);
Status emitConvBackpropInputGemm(LinalgBuilder &lb, const ConvGeom &g, llvm::Value *dx,
                                 llvm::Value *dy, llvm::Value *w);
Status emitConvBackpropFilterGemm(LinalgBuilder &lb, const ConvGeom &g, llvm::Value *dw,
                                  llvm::Value *x, llvm::Value *dy);

} // namespace kiln::codegen
