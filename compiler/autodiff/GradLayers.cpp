// The rows of the gradient table that differentiate must never reach: source ops (leaves, whose
// gradient is the result itself), layers and losses (decomposed into primitives first, so
// that they are differentiated exactly as they compute), and the gradient-kernel ops (not
// differentiable: Kiln computes first derivatives only).
#include "compiler/autodiff/GradRules.h"

namespace kiln::grad {

namespace {

void sourceOp(GradBuilder &b) {
  b.fail("internal error: a source op has no gradient rule (it is a leaf)");
}

void layerOp(GradBuilder &b) {
  b.fail("internal error: layers and losses must be decomposed (decomposeLayers) before "
         "differentiating");
}

} // namespace

void gradInput(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { sourceOp(b); }
void gradParam(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { sourceOp(b); }
void gradConstant(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { sourceOp(b); }

void gradDense(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { layerOp(b); }
void gradSimpleRnn(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { layerOp(b); }
void gradLstm(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { layerOp(b); }
void gradMultiHeadAttention(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  layerOp(b);
}
void gradMse(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { layerOp(b); }
void gradBinaryCrossEntropy(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  layerOp(b);
}
void gradSigmoidCrossEntropy(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  layerOp(b);
}
void gradSoftmaxCrossEntropy(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  layerOp(b);
}
void gradAccuracy(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { layerOp(b); }
void gradBinaryAccuracy(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { layerOp(b); }

// ---- gradient kernels: first derivatives only ----
void gradConv2DBackpropInput(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  noGradient(dx);
}
void gradConv2DBackpropFilter(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  noGradient(dx);
}
void gradMaxPool2DGrad(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  noGradient(dx);
}
void gradAvgPool2DGrad(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  noGradient(dx);
}
void gradGatherGrad(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }
void gradSliceGrad(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }
void gradGeluGrad(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) { noGradient(dx); }

// Fusion runs after differentiation, so a fused node reaching autodiff is a pipeline bug.
void gradFused(GradBuilder &b, Node &n, Value dy, std::vector<Value> &dx) {
  b.fail("internal error: fused nodes are made after differentiation and have no gradient rule");
}

} // namespace kiln::grad
