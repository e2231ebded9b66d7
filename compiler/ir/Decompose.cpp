// decomposeLayers: the driver that expands every layer node, and the Expander node factory.
#include "compiler/ir/Decompose.h"

#include "compiler/ir/DecomposeInternal.h"

#include <cassert>

namespace kiln {
namespace detail {

Value Expander::op(Op op, const std::string &part, std::vector<Value> operands, AttrMap attrs) {
  if (!status_.isOk())
    return {};
  for (Value v : operands)
    if (!v)
      return {}; // an earlier step failed and recorded why
  auto node = g_.addNode(op, g_.uniqueName(layer_->name() + "/" + scope_ + part), std::move(operands),
                         std::move(attrs), layer_->loc());
  if (!node) {
    status_ = node.status();
    return {};
  }
  return (*node)->result();
}

Value Expander::constant(const std::string &part, Tensor value) {
  if (!status_.isOk())
    return {};
  auto node = g_.addConstant(g_.uniqueName(layer_->name() + "/" + scope_ + part), std::move(value),
                             layer_->loc());
  if (!node) {
    status_ = node.status();
    return {};
  }
  return (*node)->result();
}

Value Expander::scalar(const std::string &part, DType dtype, double value) {
  return constant(part, Tensor::scalar(dtype, value));
}

Value Expander::slice(Value x, std::vector<int64_t> begin, std::vector<int64_t> end) {
  return op(Op::Slice, "slice", {x}, {{"begin", std::move(begin)}, {"end", std::move(end)}});
}

Value Expander::reshape(Value x, std::vector<int64_t> shape) {
  return op(Op::Reshape, "reshape", {x}, {{"shape", std::move(shape)}});
}

Value Expander::reduce(Op o, Value x, std::vector<int64_t> axes) {
  return op(o, std::string(opName(o)), {x}, {{"axes", std::move(axes)}});
}

Status Expander::finish(Value result) {
  if (!status_.isOk())
    return status_;
  assert(result && result.node != layer_ && !result.node->info().has(kSource) &&
         "an expansion must end in a node of its own");
  assert(result.type() == layer_->type() && "expansion changed the layer's result type");
  std::string name = layer_->name();
  g_.replaceAllUsesWith(layer_->result(), result);
  g_.erase(layer_);
  layer_ = nullptr;
  return g_.rename(result.node, name);
}

} // namespace detail

Status decomposeLayers(Graph &g) {
  std::vector<Node *> layers;
  for (auto &n : g.nodes())
    if (n->info().has(kLayer))
      layers.push_back(n.get());

  Status status;
  for (Node *layer : layers) {
    detail::Expander e(g, layer);
    switch (layer->op()) {
    case Op::Dense: status = detail::expandDense(e); break;
    case Op::SimpleRnn: status = detail::expandSimpleRnn(e); break;
    case Op::Lstm: status = detail::expandLstm(e); break;
    case Op::MultiHeadAttention: status = detail::expandMultiHeadAttention(e); break;
    case Op::Mse:
    case Op::BinaryCrossEntropy:
    case Op::SigmoidCrossEntropy:
    case Op::SoftmaxCrossEntropy:
    case Op::Accuracy:
    case Op::BinaryAccuracy: status = detail::expandLoss(e); break;
    // Primitives have no kLayer trait and never reach this switch; they are listed so that a new
    // row in Ops.def must decide here whether it is a layer.
    case Op::Input: case Op::Param: case Op::Constant:
    case Op::Neg: case Op::Abs: case Op::Exp: case Op::Log: case Op::Sqrt: case Op::Rsqrt:
    case Op::Square: case Op::Sign: case Op::Relu: case Op::Sigmoid: case Op::Tanh:
    case Op::Softplus: case Op::LeakyRelu: case Op::Gelu: case Op::Cast: case Op::StopGradient:
    case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Pow: case Op::Maximum:
    case Op::Minimum: case Op::Equal: case Op::NotEqual: case Op::Less: case Op::LessEqual:
    case Op::Greater: case Op::GreaterEqual: case Op::Select: case Op::ReduceSum:
    case Op::ReduceMean: case Op::ReduceMax: case Op::ReduceMin: case Op::Argmax:
    case Op::Matmul: case Op::Reshape: case Op::Flatten: case Op::Transpose: case Op::Concat:
    case Op::Slice: case Op::BroadcastTo: case Op::Gather: case Op::OneHot: case Op::Conv2D:
    case Op::MaxPool2D: case Op::AvgPool2D: case Op::Softmax: case Op::LogSoftmax:
    case Op::LayerNorm: case Op::Dropout: case Op::RandomUniform: case Op::RandomNormal:
    case Op::Conv2DBackpropInput: case Op::Conv2DBackpropFilter: case Op::MaxPool2DGrad:
    case Op::AvgPool2DGrad: case Op::GatherGrad: case Op::SliceGrad: case Op::GeluGrad:
    case Op::Fused:
      assert(false && "not a layer");
      break;
    }
    if (!status.isOk()) {
      g.setInsertPoint(nullptr);
      return status;
    }
  }
  g.setInsertPoint(nullptr);
  return Status::ok();
}

} // namespace kiln
