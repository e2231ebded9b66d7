// DnnlTable: oneDNN primitives described without oneDNN types, created once per executable.
#pragma once

#include "kiln/runtime/PrimitiveTable.h"
#include "kiln/runtime/Status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kiln::runtime::dnnl {

/// What one oneDNN node computes. Argument order (the `args` of kiln_dnnl_execute, and
/// DnnlOpDesc::args) is the IR node's: its result, then its operands.
enum class DnnlKind {
  Matmul,              ///< dst = src x weights (+ bias), post-ops; args dst, src, weights[, bias]
  ConvForward,         ///< args dst, src, weights[, bias]; NHWC/NCHW as the strides say
  ConvBackwardData,    ///< args diff_src, diff_dst, weights
  ConvBackwardWeights, ///< args diff_weights, src, diff_dst
  MaxPool,             ///< args dst, src
  AvgPool,             ///< args dst, src (padding excluded from the divisor)
  MaxPoolBackward,     ///< args diff_src, src, diff_dst (forward re-run for its workspace)
  AvgPoolBackward,     ///< args diff_src, diff_dst
  Softmax,             ///< args dst, src; `axis`
  LogSoftmax,          ///< args dst, src; `axis`
  LayerNorm,           ///< args dst, src, scale, shift; normalised over the last dim, `epsilon`
};

/// A dense f32 tensor as oneDNN sees it: logical dims in oneDNN's order (N, C, H, W for images,
/// O, I, H, W for filters, G, O, I, H, W for grouped ones) and the element strides that place
/// them in the buffer Kiln laid out, so no reorder is needed at the boundary.
struct DnnlTensor {
  std::vector<int64_t> dims;
  std::vector<int64_t> strides;
  bool operator==(const DnnlTensor &) const = default;
};

/// An activation applied to the result in the same primitive (a oneDNN eltwise post-op).
struct DnnlPostOp {
  enum class Kind { Relu, Sigmoid, Tanh, GeluErf, GeluTanh };
  Kind kind = Kind::Relu;
  float alpha = 0; ///< relu's negative slope (leaky_relu)
  bool operator==(const DnnlPostOp &) const = default;
};

/// One primitive to create: what it computes, its tensors and its parameters.
struct DnnlOpDesc {
  DnnlKind kind = DnnlKind::Matmul;
  std::string name;             ///< the IR node's name, for run-time errors
  std::vector<DnnlTensor> args; ///< in the node's argument order (see DnnlKind)
  bool hasBias = false;         ///< Matmul/ConvForward: the last arg is the bias
  /// ConvForward: the filter is a param or constant, so it changes only with the executable's
  /// state version and an inference call may reuse its reordered copy (PrimitiveTable.h).
  bool stateWeights = false;
  std::vector<DnnlPostOp> postOps;
  std::vector<int64_t> strides, dilations, padLeft, padRight, kernel; ///< conv (dilation - 1) / pool
  int axis = -1;                ///< softmax
  float epsilon = 1e-5f;        ///< layer norm
  bool operator==(const DnnlOpDesc &) const = default;
  /// A text key that identifies the primitive (kind, tensors, parameters, post-ops).
  std::string key() const;
};

/// Creates every primitive of `ops` on the CPU engine once (nodes with equal descriptors share
/// one primitive: an unrolled RNN's steps); the table then runs them by index. A descriptor
/// oneDNN refuses is an error naming the node.
Expected<std::unique_ptr<PrimitiveTable>> createDnnlTable(const std::vector<DnnlOpDesc> &ops);

/// Number of distinct primitives a table made from `ops` holds (the cache's effect, for tests).
size_t distinctPrimitives(const std::vector<DnnlOpDesc> &ops);

} // namespace kiln::runtime::dnnl
