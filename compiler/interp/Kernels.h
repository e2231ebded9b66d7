// Internal to the interpreter: one kernel per primitive op, plus the element-type dispatch and
// index helpers the kernel files share. Kernels trust their node's verified types: the node's
// result type gives the result's dtype and shape, and evalOp has checked the operands against it.
#pragma once

#include "compiler/interp/Interpreter.h"
#include "compiler/support/Diagnostic.h"

#include <cstdint>
#include <span>
#include <string>
#include <utility>

namespace kiln::interp {

using Operands = std::span<const Tensor>;

/// "conv2d 'c1'": how messages name a node.
std::string who(const Node &node);
/// A located internal error (a bug or an unverified graph, never a user mistake).
Status internalError(const Node &node, const std::string &message);
/// A zero-filled tensor of the node's result type.
Tensor makeResult(const Node &node, unsigned index = 0);

/// Row-major strides of `shape`.
Shape stridesOf(const Shape &shape);

/// Maps flat indices of a tensor of shape `out` to flat indices of an operand of shape `in`
/// that NumPy-broadcasts to `out`.
class BroadcastMap {
public:
  BroadcastMap(const Shape &in, const Shape &out);
  int64_t operator()(int64_t flatOut) const;

private:
  Shape outDims_;
  Shape inStrides_; ///< aligned with outDims_, 0 where the operand is broadcast
};

/// Calls f.template operator()<T>() with T the element type of `dt` (bool is uint8_t).
template <typename F> decltype(auto) dispatchAny(DType dt, F &&f) {
  switch (dt) {
  case DType::F32:
    return f.template operator()<float>();
  case DType::F64:
    return f.template operator()<double>();
  case DType::I32:
    return f.template operator()<int32_t>();
  case DType::I64:
    return f.template operator()<int64_t>();
  case DType::Bool:
    return f.template operator()<uint8_t>();
  }
  return f.template operator()<float>(); // unreachable: every DType is listed
}

/// Padding resolved to four numbers, shared by conv and pooling.
struct Pads2D {
  int64_t top = 0, bottom = 0, left = 0, right = 0;
};
/// Resolves a `pad` attribute ("valid", "same" or [t, b, l, r]) for input size (h, w), kernel
/// extents (already dilated) and strides, TensorFlow's way: "same" gives out = ceil(in/stride)
/// and puts the smaller half of the total on top/left.
Pads2D resolvePads(const AttrValue &padding, int64_t inH, int64_t inW, int64_t effKH, int64_t effKW,
                   int64_t strideH, int64_t strideW);

/// Flat offsets of a rank-4 image tensor in either layout (conv, pooling and their gradients).
struct ImageLayout {
  bool nchw;
  int64_t h, w, c;
  int64_t at(int64_t n, int64_t y, int64_t x, int64_t ch) const {
    return nchw ? ((n * c + ch) * h + y) * w + x : ((n * h + y) * w + x) * c + ch;
  }
};

inline ImageLayout imageLayout(const Shape &s, bool nchw) {
  return nchw ? ImageLayout{true, s[2], s[3], s[1]} : ImageLayout{false, s[1], s[2], s[3]};
}

/// A two-int attribute (ksize, strides, dilations), or `dflt` when absent.
inline std::pair<int64_t, int64_t> twoInts(const Node &node, const std::string &name,
                                           std::pair<int64_t, int64_t> dflt) {
  auto v = node.attrInts(name);
  if (!v || v->size() != 2)
    return dflt;
  return {(*v)[0], (*v)[1]};
}

// ---- kernels, one per primitive op (in Ops.def order) ----
#define KILN_INTERP_KERNEL(Name)                                                                   \
  Expected<Tensor> eval##Name(const Node &node, Operands in, const EvalContext &ctx)

// ElementwiseKernels.cpp
KILN_INTERP_KERNEL(Neg);
KILN_INTERP_KERNEL(Abs);
KILN_INTERP_KERNEL(Exp);
KILN_INTERP_KERNEL(Log);
KILN_INTERP_KERNEL(Sqrt);
KILN_INTERP_KERNEL(Rsqrt);
KILN_INTERP_KERNEL(Square);
KILN_INTERP_KERNEL(Sign);
KILN_INTERP_KERNEL(Relu);
KILN_INTERP_KERNEL(Sigmoid);
KILN_INTERP_KERNEL(Tanh);
KILN_INTERP_KERNEL(Softplus);
KILN_INTERP_KERNEL(LeakyRelu);
KILN_INTERP_KERNEL(Gelu);
KILN_INTERP_KERNEL(Cast);
KILN_INTERP_KERNEL(StopGradient);
// BinaryKernels.cpp
KILN_INTERP_KERNEL(Add);
KILN_INTERP_KERNEL(Sub);
KILN_INTERP_KERNEL(Mul);
KILN_INTERP_KERNEL(Div);
KILN_INTERP_KERNEL(Pow);
KILN_INTERP_KERNEL(Maximum);
KILN_INTERP_KERNEL(Minimum);
KILN_INTERP_KERNEL(Equal);
KILN_INTERP_KERNEL(NotEqual);
KILN_INTERP_KERNEL(Less);
KILN_INTERP_KERNEL(LessEqual);
KILN_INTERP_KERNEL(Greater);
KILN_INTERP_KERNEL(GreaterEqual);
KILN_INTERP_KERNEL(Select);
// ReductionKernels.cpp
KILN_INTERP_KERNEL(ReduceSum);
KILN_INTERP_KERNEL(ReduceMean);
KILN_INTERP_KERNEL(ReduceMax);
KILN_INTERP_KERNEL(ReduceMin);
KILN_INTERP_KERNEL(Argmax);
// MatmulKernels.cpp
KILN_INTERP_KERNEL(Matmul);
// MovementKernels.cpp
KILN_INTERP_KERNEL(Reshape);
KILN_INTERP_KERNEL(Flatten);
KILN_INTERP_KERNEL(Transpose);
KILN_INTERP_KERNEL(Concat);
KILN_INTERP_KERNEL(Slice);
KILN_INTERP_KERNEL(BroadcastTo);
KILN_INTERP_KERNEL(Gather);
KILN_INTERP_KERNEL(OneHot);
// ConvKernels.cpp
KILN_INTERP_KERNEL(Conv2D);
KILN_INTERP_KERNEL(MaxPool2D);
KILN_INTERP_KERNEL(AvgPool2D);
// NormKernels.cpp
KILN_INTERP_KERNEL(Softmax);
KILN_INTERP_KERNEL(LogSoftmax);
KILN_INTERP_KERNEL(LayerNorm);
// RandomKernels.cpp
KILN_INTERP_KERNEL(Dropout);
KILN_INTERP_KERNEL(RandomUniform);
KILN_INTERP_KERNEL(RandomNormal);
// GradKernels.cpp (adjoints of the forward kernels above)
KILN_INTERP_KERNEL(Conv2DBackpropInput);
KILN_INTERP_KERNEL(Conv2DBackpropFilter);
KILN_INTERP_KERNEL(MaxPool2DGrad);
KILN_INTERP_KERNEL(AvgPool2DGrad);
KILN_INTERP_KERNEL(GatherGrad);
KILN_INTERP_KERNEL(SliceGrad);
KILN_INTERP_KERNEL(GeluGrad);

#undef KILN_INTERP_KERNEL

// FusedKernel.cpp: a fused node runs its body node by node with evalOp; all results.
Expected<std::vector<Tensor>> evalFused(const Node &node, Operands in, const EvalContext &ctx);

} // namespace kiln::interp
