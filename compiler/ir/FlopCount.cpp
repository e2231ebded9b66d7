// flopCount: FLOPs per node, per graph and per program entry (the convention is in FlopCount.h).
#include "compiler/ir/FlopCount.h"

#include "compiler/ir/Decompose.h"

#include <cassert>
#include <unordered_set>

namespace kiln {
namespace {

double elems(const TensorType &t) { return double(t.numElements()); }

/// Product of the `ksize` attribute of a pool or pool gradient (the window size).
double windowSize(const Node &n) {
  double w = 1;
  if (auto k = n.attrInts("ksize"))
    for (int64_t d : *k)
      w *= double(d);
  return w;
}

/// Multiply-adds per output element of a convolution whose filter has type `filter` and whose
/// output-channel count is `outChannels`: KH*KW*IC/groups, the filter's size over its OC.
double macsPerOutput(const TensorType &filter, int64_t outChannels) {
  return outChannels > 0 ? elems(filter) / double(outChannels) : 0;
}

/// The channel dimension of a 4-d activation in the node's data_format.
int64_t channels(const Node &n, const TensorType &activation) {
  if (activation.rank() != 4)
    return 0;
  return n.attrStr("data_format") == "NCHW" ? activation.shape[1] : activation.shape[3];
}

/// 2*M*N*K for every batch element of a (batched) matmul, read from its operands and result.
double matmulFlops(const Node &n) {
  const TensorType &a = n.operand(0).type();
  const TensorType &out = n.type();
  if (a.rank() < 2 || out.rank() < 2)
    return 0;
  int64_t k = n.attrBool("transpose_a") ? a.shape[a.rank() - 2] : a.shape[a.rank() - 1];
  return 2.0 * elems(out) * double(k);
}

/// A layer or loss counts as what it decomposes into: a one-node graph with typed inputs,
/// expanded by decomposeLayers (the one place layer semantics are written), then summed.
double layerFlops(const Node &n) {
  Graph g("flops");
  std::vector<Value> operands;
  for (unsigned i = 0; i < n.numOperands(); ++i) {
    auto in = g.addInput("in" + std::to_string(i), n.operand(i).type());
    assert(in.ok() && "a verified layer has valid operand types");
    if (!in.ok())
      return 0;
    operands.push_back((*in)->result());
  }
  auto layer = g.addNode(n.op(), "layer", std::move(operands), n.attrs());
  assert(layer.ok() && "a verified layer re-types in a fresh graph");
  if (!layer.ok())
    return 0;
  g.addOutput((*layer)->result());
  Status s = decomposeLayers(g);
  assert(s.isOk() && "a verified layer decomposes");
  if (!s.isOk())
    return 0;
  return flopCount(g);
}

/// Adds `roots` and every node they depend on through operands to `seen`.
void addCone(const std::vector<Value> &roots, std::unordered_set<const Node *> &seen) {
  std::vector<const Node *> stack;
  for (Value v : roots)
    if (v)
      stack.push_back(v.node);
  while (!stack.empty()) {
    const Node *n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second)
      continue;
    for (Value o : n->operands())
      stack.push_back(o.node);
  }
}

double sumOver(const std::unordered_set<const Node *> &nodes) {
  double total = 0;
  for (const Node *n : nodes)
    total += flopCount(*n);
  return total;
}

} // namespace

double flopCount(const Node &n) {
  switch (n.op()) {
  case Op::Input:
  case Op::Param:
  case Op::Constant:
  case Op::StopGradient:
  case Op::Reshape:
  case Op::Flatten:
  case Op::Transpose:
  case Op::Concat:
  case Op::Slice:
  case Op::SliceGrad:
  case Op::BroadcastTo:
  case Op::Gather:
  case Op::OneHot:
    return 0;

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
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Div:
  case Op::Pow:
  case Op::Maximum:
  case Op::Minimum:
  case Op::Equal:
  case Op::NotEqual:
  case Op::Less:
  case Op::LessEqual:
  case Op::Greater:
  case Op::GreaterEqual:
  case Op::Select:
  case Op::Dropout:
  case Op::RandomUniform:
  case Op::RandomNormal:
  case Op::GeluGrad:
    return elems(n.type());

  case Op::ReduceSum:
  case Op::ReduceMean:
  case Op::ReduceMax:
  case Op::ReduceMin:
  case Op::Argmax:
    return elems(n.operand(0).type());

  case Op::Matmul:
    return matmulFlops(n);

  case Op::Conv2D: {
    const TensorType &out = n.type();
    double flops = 2.0 * elems(out) * macsPerOutput(n.operand(1).type(), channels(n, out));
    return n.numOperands() > 2 ? flops + elems(out) : flops; // the bias add
  }
  case Op::Conv2DBackpropInput: {
    // dy has the forward output's shape; w is the forward filter.
    const TensorType &dy = n.operand(0).type();
    return 2.0 * elems(dy) * macsPerOutput(n.operand(1).type(), channels(n, dy));
  }
  case Op::Conv2DBackpropFilter: {
    // The result is the filter; dy (operand 1) has the forward output's shape.
    const TensorType &dy = n.operand(1).type();
    return 2.0 * elems(dy) * macsPerOutput(n.type(), channels(n, dy));
  }

  case Op::MaxPool2D:
  case Op::AvgPool2D:
    return elems(n.type()) * windowSize(n);
  case Op::MaxPool2DGrad:
    return elems(n.operand(1).type()) * windowSize(n);
  case Op::AvgPool2DGrad:
    return elems(n.operand(0).type()) * windowSize(n);
  case Op::GatherGrad:
    return elems(n.operand(1).type());

  case Op::Softmax:
  case Op::LogSoftmax:
    return 5.0 * elems(n.type());
  case Op::LayerNorm:
    return 7.0 * elems(n.type());

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
    return layerFlops(n);

  case Op::Fused:
    return n.body() ? flopCount(*n.body()) : 0;
  }
  assert(false && "unhandled op in flopCount");
  return 0;
}

double flopCount(const Graph &g) {
  double total = 0;
  for (const auto &n : g.nodes())
    total += flopCount(*n);
  return total;
}

Expected<double> flopCount(const Graph &g, std::string_view entry) {
  std::unordered_set<const Node *> cone;
  if (entry == "predict") {
    addCone(g.outputs(), cone);
    return sumOver(cone);
  }
  if (const StepProgram *p = g.findStepProgram(std::string(entry))) {
    std::vector<Value> roots{p->loss};
    roots.insert(roots.end(), p->metrics.begin(), p->metrics.end());
    for (const StateUpdate &u : p->updates)
      roots.push_back(u.value);
    addCone(roots, cone);
    return sumOver(cone);
  }
  if (const TrainStep *t = g.findTrainStep(std::string(entry))) {
    std::vector<Value> roots{t->loss};
    roots.insert(roots.end(), t->metrics.begin(), t->metrics.end());
    addCone(roots, cone);
    return sumOver(cone);
  }
  std::string known = "predict";
  for (const StepProgram &p : g.stepPrograms())
    known += ", " + p.name;
  for (const TrainStep &t : g.trainSteps())
    if (!g.findStepProgram(t.name))
      known += ", " + t.name;
  return Status::error("flopCount: graph '" + g.name() + "' has no entry '" + std::string(entry) +
                       "' (it has " + known + ")");
}

} // namespace kiln
