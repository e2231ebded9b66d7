// evalOp (the one switch over ops) and the graph-level Interpreter: feeds, params, run counter.
#include "compiler/interp/Interpreter.h"

#include "compiler/interp/Kernels.h"
#include "compiler/ir/Decompose.h"
#include "compiler/ir/Init.h"

#include <cmath>
#include <unordered_map>
#include <unordered_set>

namespace kiln {

using namespace interp;

static Expected<std::vector<Tensor>> single(Expected<Tensor> t) {
  if (!t)
    return t.status();
  std::vector<Tensor> out;
  out.push_back(t.take());
  return out;
}

Expected<std::vector<Tensor>> evalOp(const Node &node, std::span<const Tensor> in,
                                     const EvalContext &ctx) {
  if (in.size() != node.numOperands())
    return internalError(node, "given " + std::to_string(in.size()) + " operands, expects " +
                                   std::to_string(node.numOperands()));
  for (unsigned i = 0; i < node.numOperands(); ++i) {
    const TensorType &t = node.operand(i).type();
    if (in[i].dtype() != t.dtype || in[i].shape() != t.shape)
      return internalError(
          node, "operand " + std::to_string(i) + " is " + std::string(dtypeName(in[i].dtype())) +
                    shapeToString(in[i].shape()) + " but the node expects " + t.str());
  }
  switch (node.op()) {
  case Op::Input:
  case Op::Param:
    return internalError(node, "a source op is fed by the interpreter, not evaluated");
  case Op::Constant:
    if (!node.value())
      return internalError(node, "constant has no value");
    return single(Tensor(*node.value()));

  case Op::Neg:
    return single(evalNeg(node, in, ctx));
  case Op::Abs:
    return single(evalAbs(node, in, ctx));
  case Op::Exp:
    return single(evalExp(node, in, ctx));
  case Op::Log:
    return single(evalLog(node, in, ctx));
  case Op::Sqrt:
    return single(evalSqrt(node, in, ctx));
  case Op::Rsqrt:
    return single(evalRsqrt(node, in, ctx));
  case Op::Square:
    return single(evalSquare(node, in, ctx));
  case Op::Sign:
    return single(evalSign(node, in, ctx));
  case Op::Relu:
    return single(evalRelu(node, in, ctx));
  case Op::Sigmoid:
    return single(evalSigmoid(node, in, ctx));
  case Op::Tanh:
    return single(evalTanh(node, in, ctx));
  case Op::Softplus:
    return single(evalSoftplus(node, in, ctx));
  case Op::LeakyRelu:
    return single(evalLeakyRelu(node, in, ctx));
  case Op::Gelu:
    return single(evalGelu(node, in, ctx));
  case Op::Cast:
    return single(evalCast(node, in, ctx));
  case Op::StopGradient:
    return single(evalStopGradient(node, in, ctx));

  case Op::Add:
    return single(evalAdd(node, in, ctx));
  case Op::Sub:
    return single(evalSub(node, in, ctx));
  case Op::Mul:
    return single(evalMul(node, in, ctx));
  case Op::Div:
    return single(evalDiv(node, in, ctx));
  case Op::Pow:
    return single(evalPow(node, in, ctx));
  case Op::Maximum:
    return single(evalMaximum(node, in, ctx));
  case Op::Minimum:
    return single(evalMinimum(node, in, ctx));

  case Op::Equal:
    return single(evalEqual(node, in, ctx));
  case Op::NotEqual:
    return single(evalNotEqual(node, in, ctx));
  case Op::Less:
    return single(evalLess(node, in, ctx));
  case Op::LessEqual:
    return single(evalLessEqual(node, in, ctx));
  case Op::Greater:
    return single(evalGreater(node, in, ctx));
  case Op::GreaterEqual:
    return single(evalGreaterEqual(node, in, ctx));
  case Op::Select:
    return single(evalSelect(node, in, ctx));

  case Op::ReduceSum:
    return single(evalReduceSum(node, in, ctx));
  case Op::ReduceMean:
    return single(evalReduceMean(node, in, ctx));
  case Op::ReduceMax:
    return single(evalReduceMax(node, in, ctx));
  case Op::ReduceMin:
    return single(evalReduceMin(node, in, ctx));
  case Op::Argmax:
    return single(evalArgmax(node, in, ctx));

  case Op::Matmul:
    return single(evalMatmul(node, in, ctx));

  case Op::Reshape:
    return single(evalReshape(node, in, ctx));
  case Op::Flatten:
    return single(evalFlatten(node, in, ctx));
  case Op::Transpose:
    return single(evalTranspose(node, in, ctx));
  case Op::Concat:
    return single(evalConcat(node, in, ctx));
  case Op::Slice:
    return single(evalSlice(node, in, ctx));
  case Op::BroadcastTo:
    return single(evalBroadcastTo(node, in, ctx));
  case Op::Gather:
    return single(evalGather(node, in, ctx));
  case Op::OneHot:
    return single(evalOneHot(node, in, ctx));

  case Op::Conv2D:
    return single(evalConv2D(node, in, ctx));
  case Op::MaxPool2D:
    return single(evalMaxPool2D(node, in, ctx));
  case Op::AvgPool2D:
    return single(evalAvgPool2D(node, in, ctx));

  case Op::Softmax:
    return single(evalSoftmax(node, in, ctx));
  case Op::LogSoftmax:
    return single(evalLogSoftmax(node, in, ctx));
  case Op::LayerNorm:
    return single(evalLayerNorm(node, in, ctx));

  case Op::Dropout:
    return single(evalDropout(node, in, ctx));
  case Op::RandomUniform:
    return single(evalRandomUniform(node, in, ctx));
  case Op::RandomNormal:
    return single(evalRandomNormal(node, in, ctx));

  case Op::Conv2DBackpropInput:
    return single(evalConv2DBackpropInput(node, in, ctx));
  case Op::Conv2DBackpropFilter:
    return single(evalConv2DBackpropFilter(node, in, ctx));
  case Op::MaxPool2DGrad:
    return single(evalMaxPool2DGrad(node, in, ctx));
  case Op::AvgPool2DGrad:
    return single(evalAvgPool2DGrad(node, in, ctx));
  case Op::GatherGrad:
    return single(evalGatherGrad(node, in, ctx));
  case Op::SliceGrad:
    return single(evalSliceGrad(node, in, ctx));
  case Op::GeluGrad:
    return single(evalGeluGrad(node, in, ctx));

  // Layers and losses are compositions: Interpreter::create expands them first.
  case Op::Dense:
  case Op::SimpleRnn:
  case Op::Lstm:
  case Op::MultiHeadAttention:
  case Op::Mse:
  case Op::BinaryCrossEntropy:
  case Op::SigmoidCrossEntropy:
  case Op::SoftmaxCrossEntropy:
  case Op::Accuracy:
  case Op::BinaryAccuracy:
    return internalError(node, "layer ops must be decomposed before interpretation "
                               "(decomposeLayers)");

  case Op::Fused:
    return evalFused(node, in, ctx);
  }
  return internalError(node, "unknown op");
}

Expected<Interpreter> Interpreter::create(const Graph &graph) {
  auto g = std::make_unique<Graph>(graph.clone());
  KILN_TRY(decomposeLayers(*g));
  Interpreter interp(std::move(g));
  for (Node *p : interp.graph_->params()) {
    KILN_ASSIGN(Tensor value, initialParamValue(*p, interp.graph_->seed()));
    interp.paramIndex_[p] = interp.params_.size();
    interp.params_.emplace_back(p->name(), std::move(value));
  }
  for (Node *c : interp.graph_->constants()) {
    const auto &v = c->value();
    if (!v || v->dtype() != c->type().dtype || v->shape() != c->type().shape)
      return errorAt(c->loc(), "constant '" + c->name() + "': value does not match its type " +
                                   c->type().str());
  }
  return interp;
}

Status Interpreter::setParams(const NamedTensors &values) {
  for (auto &[name, t] : values) {
    Node *n = graph_->find(name);
    if (!n || !n->isParam())
      return Status::error("setParams: '" + name + "' is not a param of graph '" + graph_->name() +
                           "'");
    if (t.dtype() != n->type().dtype || t.shape() != n->type().shape)
      return Status::error("setParams: param '" + name + "' is " + n->type().str() + ", given " +
                           std::string(dtypeName(t.dtype())) + shapeToString(t.shape()));
  }
  for (auto &[name, t] : values)
    params_[paramIndex_.at(graph_->find(name))].second = t;
  return Status::ok();
}

Expected<NamedTensors> Interpreter::run(const NamedTensors &feeds) {
  std::vector<std::string> names;
  for (Value v : graph_->outputs())
    names.push_back(v.name());
  return evalValues(feeds, graph_->outputs(), names, /*training=*/false, /*requireAllInputs=*/true);
}

Expected<NamedTensors> Interpreter::evaluate(const NamedTensors &feeds,
                                             const std::vector<std::string> &names, bool training) {
  std::vector<Value> values;
  for (const std::string &name : names) {
    // Layers keep their name on the final node of their expansion, so original names resolve.
    std::optional<Value> v = graph_->lookupValue(name);
    if (!v)
      return Status::error("evaluate: graph '" + graph_->name() + "' has no value named '" + name +
                           "'");
    values.push_back(*v);
  }
  return evalValues(feeds, values, names, training, /*requireAllInputs=*/false);
}

namespace {
/// --check-numerics: the first NaN or Inf among `n`'s float results, as a located error.
Status checkFinite(const Node &n, const std::vector<Tensor> &results) {
  for (size_t r = 0; r < results.size(); ++r) {
    const Tensor &t = results[r];
    if (!isFloat(t.dtype()))
      continue;
    for (int64_t i = 0; i < t.numElements(); ++i) {
      double v = t.at(i);
      if (std::isfinite(v))
        continue;
      std::string what = std::isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
      return errorAt(n.loc(), std::string(n.info().mnemonic) + " '" +
                                  Value{const_cast<Node *>(&n), unsigned(r)}.name() +
                                  "' produced " + what + " at element " + std::to_string(i));
    }
  }
  return Status::ok();
}
} // namespace

Expected<NamedTensors> Interpreter::evalValues(const NamedTensors &feeds,
                                               const std::vector<Value> &values,
                                               const std::vector<std::string> &names, bool training,
                                               bool requireAllInputs) {
  // The nodes the requested values depend on (inputs only where needed for evaluate).
  std::unordered_set<const Node *> needed;
  std::vector<const Node *> stack;
  for (Value v : values)
    stack.push_back(v.node);
  while (!stack.empty()) {
    const Node *n = stack.back();
    stack.pop_back();
    if (!needed.insert(n).second)
      continue;
    for (Value o : n->operands())
      stack.push_back(o.node);
  }

  std::unordered_map<const Node *, std::vector<Tensor>> env;
  for (auto &[name, t] : feeds) {
    Node *n = graph_->find(name);
    if (!n || !n->isInput())
      return Status::error("feed '" + name + "' is not an input of graph '" + graph_->name() + "'");
    if (t.dtype() != n->type().dtype || t.shape() != n->type().shape)
      return errorAt(n->loc(), "input '" + name + "' expects " + n->type().str() + ", fed " +
                                   std::string(dtypeName(t.dtype())) + shapeToString(t.shape()));
    if (env.count(n))
      return Status::error("input '" + name + "' is fed twice");
    env[n].push_back(t);
  }
  for (Node *in : graph_->inputs())
    if ((requireAllInputs || needed.count(in)) && !env.count(in))
      return errorAt(in->loc(), "input '" + in->name() + "' (" + in->type().str() + ") is not fed");

  EvalContext ctx{training, graph_->seed(), runCount_++};
  for (auto &node : graph_->nodes()) {
    const Node *n = node.get();
    if (!needed.count(n) || n->isInput())
      continue;
    if (n->isParam()) {
      env[n].push_back(params_[paramIndex_.at(n)].second);
      continue;
    }
    std::vector<Tensor> operands;
    for (Value o : n->operands())
      operands.push_back(env.at(o.node)[o.index]);
    KILN_ASSIGN(env[n], evalOp(*n, operands, ctx));
    if (checkNumerics_)
      KILN_TRY(checkFinite(*n, env[n]));
  }

  NamedTensors out;
  for (size_t i = 0; i < values.size(); ++i)
    out.emplace_back(names[i], env.at(values[i].node)[values[i].index]);
  return out;
}

} // namespace kiln
