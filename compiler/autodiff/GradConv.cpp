// Gradient rules of conv2d and the 2-d pools: each maps to a gradient-kernel op of its own
// (conv2d_backprop_input/filter, max_pool2d_grad, avg_pool2d_grad), which later backends lower
// to oneDNN's backward primitives; the bias gradient is a plain reduction.
#include "compiler/autodiff/GradRules.h"

namespace kiln::grad {

void gradConv2D(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  Value x = n.operand(0), w = n.operand(1);
  if (b.needs(0)) {
    AttrMap attrs = effectiveAttrs(n);
    attrs["input_shape"] = x.type().shape;
    dx[0] = b.op(Op::Conv2DBackpropInput, "backprop_input", {dy, w}, std::move(attrs));
  }
  if (b.needs(1)) {
    AttrMap attrs = effectiveAttrs(n);
    attrs["filter_shape"] = w.type().shape;
    dx[1] = b.op(Op::Conv2DBackpropFilter, "backprop_filter", {x, dy}, std::move(attrs));
  }
  // The bias is added at every batch element and pixel: sum over all axes but the channels.
  if (n.numOperands() == 3 && b.needs(2)) {
    bool nchw = n.attrStr("data_format") == "NCHW";
    dx[2] = b.reduceSum(dy, nchw ? std::vector<int64_t>{0, 2, 3} : std::vector<int64_t>{0, 1, 2},
                        false);
  }
}

// The kernel needs the input to find each window's first maximum again.
void gradMaxPool2D(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  dx[0] = b.op(Op::MaxPool2DGrad, "max_pool2d_grad", {n.operand(0), dy}, effectiveAttrs(n));
}

void gradAvgPool2D(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  AttrMap attrs = effectiveAttrs(n);
  attrs["input_shape"] = n.operand(0).type().shape;
  dx[0] = b.op(Op::AvgPool2DGrad, "avg_pool2d_grad", {dy}, std::move(attrs));
}

} // namespace kiln::grad
