// GraphBuilder, Tensor handles, error recording, initializers and optimizers of the builder API.
#include "frontend/builder/BuilderInternal.h"

#include "compiler/ir/Verifier.h"
#include "compiler/support/Diagnostic.h"

#include <set>

namespace kiln::builder {

Loc toLoc(const SrcLoc &loc) {
  std::string file = loc.file_name();
  if (size_t slash = file.find_last_of('/'); slash != std::string::npos)
    file = file.substr(slash + 1);
  return Loc{file, int(loc.line()), int(loc.column()), ""};
}

std::string BuilderState::autoName(std::string_view base) {
  auto it = counters.find(base);
  if (it == counters.end())
    it = counters.emplace(std::string(base), 0).first;
  return graph.uniqueName(std::string(base) + "_" + std::to_string(++it->second));
}

Tensor BuilderState::make(Op op, const std::vector<Tensor> &operands, AttrMap attrs,
                          const SrcLoc &loc) {
  if (!ok())
    return {};
  std::vector<Value> values;
  for (const Tensor &t : operands)
    values.push_back(t.value());
  auto node = graph.addNode(op, autoName(opName(op)), std::move(values), std::move(attrs),
                            toLoc(loc));
  if (!node) {
    fail(node.status());
    return {};
  }
  return wrap((*node)->result());
}

Tensor BuilderState::scalar(double value, DType dtype, const SrcLoc &loc) {
  if (!ok())
    return {};
  auto node = graph.addConstant(autoName("constant"), kiln::Tensor::scalar(dtype, value), toLoc(loc));
  if (!node) {
    fail(node.status());
    return {};
  }
  return wrap((*node)->result());
}

BuilderState *stateOf(std::string_view op, const std::vector<Tensor> &operands, const SrcLoc &loc) {
  BuilderState *state = nullptr;
  for (const Tensor &t : operands)
    if (t.state()) {
      state = t.state();
      break;
    }
  if (!state || !state->ok())
    return nullptr; // no builder to record in, or an error is already recorded
  for (size_t i = 0; i < operands.size(); ++i) {
    std::string which = std::string(op) + ": input " + std::to_string(i);
    if (!operands[i].valid()) {
      state->fail(errorAt(toLoc(loc), which + " is undefined (a default-constructed Tensor)"));
      return nullptr;
    }
    if (operands[i].state() != state) {
      state->fail(errorAt(toLoc(loc), which + " belongs to another GraphBuilder"));
      return nullptr;
    }
  }
  return state;
}

Tensor build(Op op, const std::vector<Tensor> &operands, AttrMap attrs, const SrcLoc &loc) {
  BuilderState *state = stateOf(opName(op), operands, loc);
  return state ? state->make(op, operands, std::move(attrs), loc) : Tensor{};
}

void setAttr(AttrMap &attrs, Op op, const std::string &name, AttrValue value) {
  const AttrSpec *spec = opInfo(op).findAttr(name);
  if (spec && spec->defaultValue && *spec->defaultValue == value)
    return;
  attrs[name] = std::move(value);
}

Tensor Tensor::named(const std::string &name, SrcLoc loc) const {
  if (!valid() || !state_->ok())
    return *this;
  if (Status s = state_->graph.rename(value_.node, name); !s.isOk()) {
    // Point at the .named() call, which is where the clash was written.
    std::string msg = s.message();
    size_t at = msg.find("error: ");
    state_->fail(errorAt(toLoc(loc), at == std::string::npos ? msg : msg.substr(at + 7)));
    return {};
  }
  return *this;
}

// ---- initializers ----
namespace init {
static Initializer of(InitKind kind) {
  Initializer i;
  i.kind = kind;
  return i;
}
Initializer zeros() { return of(InitKind::Zeros); }
Initializer ones() { return of(InitKind::Ones); }
Initializer constant(double value) {
  Initializer i = of(InitKind::Constant);
  i.value = value;
  return i;
}
Initializer uniform(double low, double high) {
  Initializer i = of(InitKind::Uniform);
  i.low = low;
  i.high = high;
  return i;
}
Initializer normal(double mean, double stddev) {
  Initializer i = of(InitKind::Normal);
  i.mean = mean;
  i.stddev = stddev;
  return i;
}
Initializer glorotUniform() { return of(InitKind::GlorotUniform); }
Initializer glorotNormal() { return of(InitKind::GlorotNormal); }
Initializer heUniform() { return of(InitKind::HeUniform); }
Initializer heNormal() { return of(InitKind::HeNormal); }
Initializer value(std::vector<double> data) {
  Initializer i = of(InitKind::Value);
  i.data = std::move(data);
  return i;
}
Initializer seeded(Initializer init, uint64_t seed) {
  init.seed = seed;
  return init;
}
} // namespace init

// ---- optimizers ----
Optimizer sgd(double lr, double momentum, bool nesterov) {
  Optimizer o = Optimizer::defaults(Optimizer::Kind::Sgd);
  o.lr = lr;
  o.momentum = momentum;
  o.nesterov = nesterov;
  return o;
}
Optimizer rmsprop(double lr, double rho, double epsilon) {
  Optimizer o = Optimizer::defaults(Optimizer::Kind::RmsProp);
  o.lr = lr;
  o.rho = rho;
  o.epsilon = epsilon;
  return o;
}
Optimizer adam(double lr, double beta1, double beta2, double epsilon) {
  Optimizer o = Optimizer::defaults(Optimizer::Kind::Adam);
  o.lr = lr;
  o.beta1 = beta1;
  o.beta2 = beta2;
  o.epsilon = epsilon;
  return o;
}
Optimizer adamw(double lr, double weightDecay, double beta1, double beta2, double epsilon) {
  Optimizer o = adam(lr, beta1, beta2, epsilon);
  o.kind = Optimizer::Kind::AdamW;
  o.weightDecay = weightDecay;
  return o;
}

// ---- GraphBuilder ----
GraphBuilder::GraphBuilder(std::string name)
    : state_(std::make_unique<BuilderState>(std::move(name))) {}
GraphBuilder::~GraphBuilder() = default;
GraphBuilder::GraphBuilder(GraphBuilder &&) noexcept = default;
GraphBuilder &GraphBuilder::operator=(GraphBuilder &&) noexcept = default;

GraphBuilder &GraphBuilder::seed(uint64_t seed) {
  state_->graph.setSeed(seed);
  return *this;
}

GraphBuilder &GraphBuilder::weights(std::string file) {
  state_->graph.setWeightsFile(std::move(file));
  return *this;
}

/// Wraps a source node just added, recording its error.
static Tensor source(BuilderState &s, Expected<Node *> node) {
  if (!node) {
    s.fail(node.status());
    return {};
  }
  return s.wrap((*node)->result());
}

Tensor GraphBuilder::input(const std::string &name, DType dtype, Shape shape, SrcLoc loc) {
  if (!state_->ok())
    return {};
  return source(*state_, state_->graph.addInput(name, {dtype, std::move(shape)}, toLoc(loc)));
}

Tensor GraphBuilder::param(const std::string &name, Shape shape, Initializer init,
                           ParamOptions options, SrcLoc loc) {
  if (!state_->ok())
    return {};
  return source(*state_, state_->graph.addParam(name, {options.dtype, std::move(shape)},
                                                std::move(init), options.trainable, toLoc(loc)));
}

Tensor GraphBuilder::constant(const std::string &name, kiln::Tensor value, SrcLoc loc) {
  if (!state_->ok())
    return {};
  return source(*state_, state_->graph.addConstant(name, std::move(value), toLoc(loc)));
}

Tensor GraphBuilder::constant(const std::string &name, DType dtype, Shape shape, double fill,
                              SrcLoc loc) {
  if (!state_->ok())
    return {};
  auto value = kiln::Tensor::create(dtype, shape);
  if (!value) {
    state_->fail(errorAt(toLoc(loc), "constant '" + name + "': shape " + shapeToString(shape) +
                                         " is invalid or too large"));
    return {};
  }
  for (int64_t i = 0; i < value->numElements(); ++i)
    value->set(i, fill);
  return constant(name, value.take(), loc);
}

Tensor GraphBuilder::scalar(double value, DType dtype, SrcLoc loc) {
  return state_->scalar(value, dtype, loc);
}

Tensor GraphBuilder::randomUniform(Shape shape, RandomUniformOptions o, SrcLoc loc) {
  AttrMap attrs{{"shape", std::move(shape)}};
  setAttr(attrs, Op::RandomUniform, "dtype", o.dtype);
  setAttr(attrs, Op::RandomUniform, "low", o.low);
  setAttr(attrs, Op::RandomUniform, "high", o.high);
  if (o.seed)
    attrs["seed"] = *o.seed;
  return state_->make(Op::RandomUniform, {}, std::move(attrs), loc);
}

Tensor GraphBuilder::randomNormal(Shape shape, RandomNormalOptions o, SrcLoc loc) {
  AttrMap attrs{{"shape", std::move(shape)}};
  setAttr(attrs, Op::RandomNormal, "dtype", o.dtype);
  setAttr(attrs, Op::RandomNormal, "mean", o.mean);
  setAttr(attrs, Op::RandomNormal, "stddev", o.stddev);
  if (o.seed)
    attrs["seed"] = *o.seed;
  return state_->make(Op::RandomNormal, {}, std::move(attrs), loc);
}

void GraphBuilder::output(Tensor t, SrcLoc loc) {
  if (!state_->ok())
    return;
  if (!t.valid() || t.state() != state_.get())
    return state_->fail(errorAt(toLoc(loc), "output: not a value of this graph builder"));
  state_->graph.addOutput(t.value());
}

void GraphBuilder::train(TrainOptions o, SrcLoc loc) {
  if (!state_->ok())
    return;
  auto mine = [&](const Tensor &t) { return t.valid() && t.state() == state_.get(); };
  std::string who = "train step '" + o.name + "'";
  if (!mine(o.loss))
    return state_->fail(errorAt(toLoc(loc), who + ": the loss is not a value of this graph builder"));
  TrainStep step;
  step.name = o.name;
  step.loss = o.loss.value();
  step.paramsGiven = !o.params.empty();
  for (const Tensor &p : o.params) {
    if (!mine(p) || !p.node()->isParam())
      return state_->fail(errorAt(toLoc(loc), who + ": '" + p.name() + "' is not a param"));
    step.params.push_back(p.node());
  }
  for (const Tensor &m : o.metrics) {
    if (!mine(m))
      return state_->fail(errorAt(toLoc(loc), who + ": a metric is not a value of this graph builder"));
    step.metrics.push_back(m.value());
  }
  step.optimizer = o.optimizer;
  if (o.regularization) {
    step.hasRegularization = true;
    step.l1 = o.regularization->l1;
    step.l2 = o.regularization->l2;
  }
  step.clipNorm = o.clipNorm;
  step.schedule = o.schedule;
  step.loc = toLoc(loc);
  state_->graph.addTrainStep(std::move(step));
}

const Status &GraphBuilder::status() const { return state_->error; }
const Graph &GraphBuilder::graph() const { return state_->graph; }

/// Every trainable param `loss` depends on, in the graph's param order (the importer's rule for
/// a step that lists no params).
static std::vector<Node *> dependentParams(const Graph &g, Value loss) {
  std::set<const Node *> seen;
  std::vector<const Node *> work{loss.node};
  while (!work.empty()) {
    const Node *n = work.back();
    work.pop_back();
    if (!seen.insert(n).second)
      continue;
    for (Value v : n->operands())
      work.push_back(v.node);
  }
  std::vector<Node *> out;
  for (Node *p : g.params())
    if (p->trainable() && seen.count(p))
      out.push_back(p);
  return out;
}

Expected<Graph> GraphBuilder::finish() {
  if (state_->finished)
    return Status::error("GraphBuilder::finish called twice");
  if (!state_->error.isOk())
    return state_->error;
  Graph &g = state_->graph;
  for (TrainStep &step : g.trainSteps()) {
    if (step.paramsGiven)
      continue;
    step.params = dependentParams(g, step.loss);
    if (step.params.empty())
      return errorAt(step.loc, "train step '" + step.name + "': the loss '" + step.loss.name() +
                                   "' depends on no trainable param");
  }
  KILN_TRY(verify(g));
  state_->finished = true;
  return std::move(g);
}

} // namespace kiln::builder
