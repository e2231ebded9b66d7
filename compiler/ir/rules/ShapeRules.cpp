// inferTypes: dispatches each op to its shape rule (rules are grouped by family in rules/*.cpp).
#include "compiler/ir/ShapeRules.h"

#include "compiler/ir/rules/RuleUtil.h"

#include <cassert>

namespace kiln {

using namespace rules;

std::optional<std::vector<TensorType>> inferTypes(Op op, std::span<const TensorType> operands,
                                                  const AttrMap &attrs, TypeError &error) {
  switch (op) {
  // Source ops declare their types; reaching here is a bug in the caller.
  case Op::Input:
  case Op::Param:
  case Op::Constant:
    assert(false && "inferTypes called on a source op");
    return fail(error, "internal error: '" + std::string(opName(op)) +
                           "' is a source op and has no shape rule");

  case Op::Neg:
  case Op::Abs:
  case Op::Exp:
  case Op::Log:
  case Op::Sqrt:
  case Op::Rsqrt:
  case Op::Square:
  case Op::Sign:
  case Op::Relu:
  case Op::Sigmoid:
  case Op::Tanh:
  case Op::Softplus:
  case Op::LeakyRelu:
  case Op::Gelu:
  case Op::Cast:
  case Op::StopGradient: return inferUnary(op, operands, attrs, error);

  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Div:
  case Op::Pow:
  case Op::Maximum:
  case Op::Minimum: return inferBinary(op, operands, attrs, error);

  case Op::Equal:
  case Op::NotEqual:
  case Op::Less:
  case Op::LessEqual:
  case Op::Greater:
  case Op::GreaterEqual: return inferCompare(op, operands, attrs, error);
  case Op::Select: return inferSelect(op, operands, attrs, error);

  case Op::ReduceSum:
  case Op::ReduceMean:
  case Op::ReduceMax:
  case Op::ReduceMin: return inferReduce(op, operands, attrs, error);
  case Op::Argmax: return inferArgmax(op, operands, attrs, error);

  case Op::Matmul: return inferMatmul(op, operands, attrs, error);

  case Op::Reshape: return inferReshape(op, operands, attrs, error);
  case Op::Flatten: return inferFlatten(op, operands, attrs, error);
  case Op::Transpose: return inferTranspose(op, operands, attrs, error);
  case Op::Concat: return inferConcat(op, operands, attrs, error);
  case Op::Slice: return inferSlice(op, operands, attrs, error);
  case Op::BroadcastTo: return inferBroadcastTo(op, operands, attrs, error);
  case Op::Gather: return inferGather(op, operands, attrs, error);
  case Op::OneHot: return inferOneHot(op, operands, attrs, error);

  case Op::Conv2D: return inferConv2D(op, operands, attrs, error);
  case Op::MaxPool2D:
  case Op::AvgPool2D: return inferPool2D(op, operands, attrs, error);

  case Op::Softmax:
  case Op::LogSoftmax: return inferSoftmax(op, operands, attrs, error);
  case Op::LayerNorm: return inferLayerNorm(op, operands, attrs, error);

  case Op::Dropout: return inferDropout(op, operands, attrs, error);
  case Op::RandomUniform:
  case Op::RandomNormal: return inferRandom(op, operands, attrs, error);

  case Op::Conv2DBackpropInput: return inferConv2DBackpropInput(op, operands, attrs, error);
  case Op::Conv2DBackpropFilter: return inferConv2DBackpropFilter(op, operands, attrs, error);
  case Op::MaxPool2DGrad:
  case Op::AvgPool2DGrad: return inferPool2DGrad(op, operands, attrs, error);
  case Op::GatherGrad: return inferGatherGrad(op, operands, attrs, error);
  case Op::SliceGrad: return inferSliceGrad(op, operands, attrs, error);
  case Op::GeluGrad: return inferGeluGrad(op, operands, attrs, error);

  case Op::Dense: return inferDense(op, operands, attrs, error);
  case Op::SimpleRnn: return inferSimpleRnn(op, operands, attrs, error);
  case Op::Lstm: return inferLstm(op, operands, attrs, error);
  case Op::MultiHeadAttention: return inferMultiHeadAttention(op, operands, attrs, error);

  case Op::Mse:
  case Op::BinaryCrossEntropy:
  case Op::SigmoidCrossEntropy:
  case Op::BinaryAccuracy: return inferElementwiseLoss(op, operands, attrs, error);
  case Op::SoftmaxCrossEntropy: return inferSoftmaxCrossEntropy(op, operands, attrs, error);
  case Op::Accuracy: return inferAccuracy(op, operands, attrs, error);

  // A fused node's result types are its body's outputs (Graph::addFused); reaching here is a
  // bug in the caller.
  case Op::Fused:
    assert(false && "inferTypes called on a fused node");
    return fail(error, "internal error: a fused node has no shape rule (its body gives its types)");
  }
  assert(false && "unhandled op");
  return fail(error, "internal error: unknown op");
}

} // namespace kiln
