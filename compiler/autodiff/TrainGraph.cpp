// buildTrainingGraph: every train step of a graph becomes a step program whose loss, gradients,
// clipping, schedule and optimizer updates are ordinary nodes of the same graph.
#include "compiler/autodiff/TrainGraph.h"

#include "compiler/autodiff/Differentiate.h"
#include "compiler/autodiff/TrainGraphInternal.h"
#include "compiler/ir/Decompose.h"
#include "compiler/ir/Verifier.h"
#include "compiler/support/Diagnostic.h"

namespace kiln {
namespace detail {

Value StepBuilder::op(Op op, const std::string &part, std::vector<Value> operands, AttrMap attrs) {
  if (!status_.isOk())
    return {};
  for (Value v : operands)
    if (!v)
      return {}; // an earlier node failed and status_ says why
  auto node = g_.addNode(op, g_.uniqueName(step_.name + "/" + part), std::move(operands),
                         std::move(attrs), step_.loc);
  if (!node) {
    status_ = node.status();
    return {};
  }
  return (*node)->result();
}

Value StepBuilder::scalar(const std::string &part, DType dtype, double value) {
  if (!status_.isOk())
    return {};
  auto node = g_.addConstant(g_.uniqueName(step_.name + "/" + part), Tensor::scalar(dtype, value),
                             step_.loc);
  if (!node) {
    status_ = node.status();
    return {};
  }
  return (*node)->result();
}

Node *StepBuilder::state(const std::string &part, TensorType type) {
  if (!status_.isOk())
    return nullptr;
  auto node = g_.addParam(g_.uniqueName(step_.name + "/" + part), std::move(type), Initializer{},
                          /*trainable=*/false, step_.loc);
  if (!node) {
    status_ = node.status();
    return nullptr;
  }
  return *node;
}

Value StepBuilder::castTo(Value v, DType dtype, const std::string &part) {
  if (!v || v.type().dtype == dtype)
    return v;
  return op(Op::Cast, part, {v}, {{"dtype", dtype}});
}

Value StepBuilder::stepCount(DType dtype) {
  Value &t = stepCount_[dtype];
  if (!t)
    t = castTo(counterNext_, dtype, "t_" + std::string(dtypeName(dtype)));
  return t;
}

Value StepBuilder::learningRate(DType dtype) {
  Value &lr = learningRate_[dtype];
  if (lr)
    return lr;
  const LrSchedule &s = step_.schedule;
  Value base = scalar("lr", dtype, step_.optimizer.lr);
  switch (s.kind) {
  case LrSchedule::Kind::None:
    lr = base;
    break;
  case LrSchedule::Kind::ExponentialDecay: {
    // lr * r^((t-1)/s), with t the 1-based count of this step.
    Value elapsed = sub("lr/elapsed", stepCount(dtype), scalar("lr/one", dtype, 1));
    Value exponent = div("lr/exponent", elapsed, scalar("lr/decay_steps", dtype, s.decaySteps));
    Value decay = op(Op::Pow, "lr/decay", {scalar("lr/decay_rate", dtype, s.decayRate), exponent});
    lr = mul("lr/scheduled", base, decay);
    break;
  }
  case LrSchedule::Kind::StepDecay: {
    // lr * f^floor((t-1)/e): integer division of the non-negative t-1 is the floor.
    Value elapsed = sub("lr/elapsed", counterNext_, scalar("lr/one", DType::I64, 1));
    Value periods = div("lr/periods", elapsed, scalar("lr/every", DType::I64, double(s.every)));
    Value exponent = castTo(periods, dtype, "lr/exponent");
    Value decay = op(Op::Pow, "lr/decay", {scalar("lr/factor", dtype, s.factor), exponent});
    lr = mul("lr/scheduled", base, decay);
    break;
  }
  }
  return lr;
}

Value StepBuilder::biasCorrection(double beta, const std::string &part, DType dtype) {
  Value &c = biasCorrection_[{part, dtype}];
  if (c)
    return c;
  Value power = op(Op::Pow, part + "_pow", {scalar(part, dtype, beta), stepCount(dtype)});
  c = sub(part + "_correction", scalar(part + "_one", dtype, 1), power);
  return c;
}

} // namespace detail

namespace {

using detail::StepBuilder;

/// The loss plus l1 * sum|p| + l2 * sum p^2 over the step's params (terms with a zero
/// coefficient are left out); the loss itself when there is nothing to add.
Value regularizedLoss(StepBuilder &b) {
  const TrainStep &s = b.step();
  DType dt = s.loss.type().dtype;
  Value reg;
  auto addTerm = [&](Node *p, Op elementwise, double coefficient, const char *kind) {
    std::string part = p->name() + "/" + kind;
    Value sum = b.op(Op::ReduceSum, part + "_sum", {b.op(elementwise, part, {p->result()})});
    Value term = b.mul(part + "_term", b.scalar(part + "_coefficient", dt, coefficient),
                       b.castTo(sum, dt, part + "_cast"));
    reg = reg ? b.add("regularization", reg, term) : term;
  };
  for (Node *p : s.params) {
    if (s.l1 != 0)
      addTerm(p, Op::Abs, s.l1, "l1");
    if (s.l2 != 0)
      addTerm(p, Op::Square, s.l2, "l2");
  }
  return reg ? b.add("loss", s.loss, reg) : s.loss;
}

/// TensorFlow's clip_by_global_norm: every gradient times c / max(n, c) = min(1, c/n), with n
/// the L2 norm of all gradients together (accumulated in the first gradient's dtype).
void clipGradients(StepBuilder &b, std::vector<Value> &grads, double clipNorm) {
  const TrainStep &s = b.step();
  DType dt = grads[0].type().dtype;
  Value total;
  for (size_t i = 0; i < grads.size(); ++i) {
    std::string part = s.params[i]->name() + "/grad_sq";
    Value sq = b.op(Op::ReduceSum, part, {b.op(Op::Square, part + "_elems", {grads[i]})});
    sq = b.castTo(sq, dt, part + "_cast");
    total = total ? b.add("grad_sq_total", total, sq) : sq;
  }
  Value norm = b.op(Op::Sqrt, "grad_norm", {total});
  Value c = b.scalar("clip_norm", dt, clipNorm);
  Value factor = b.div("clip_factor", c, b.op(Op::Maximum, "clip_denominator", {norm, c}));
  for (size_t i = 0; i < grads.size(); ++i) {
    std::string part = s.params[i]->name() + "/grad_clipped";
    grads[i] = b.mul(part, grads[i], b.castTo(factor, grads[i].type().dtype, part + "_factor"));
  }
}

/// Options the graph format leaves to the importer to check; a graph built by hand could skip
/// them, and they would otherwise turn into NaNs or a division by zero at run time.
Status checkOptions(const TrainStep &s) {
  std::string who = "train step '" + s.name + "': ";
  if (s.params.empty())
    return errorAt(s.loc, who + "updates no params");
  if (s.clipNorm && !(*s.clipNorm > 0))
    return errorAt(s.loc, who + "clip_norm must be positive");
  if (s.schedule.kind == LrSchedule::Kind::StepDecay && s.schedule.every < 1)
    return errorAt(s.loc, who + "step_decay 'every' must be at least 1");
  if (s.schedule.kind == LrSchedule::Kind::ExponentialDecay && !(s.schedule.decaySteps > 0))
    return errorAt(s.loc, who + "exponential_decay 'decay_steps' must be positive");
  if (!s.loss || !isFloat(s.loss.type().dtype) || !s.loss.type().isScalar())
    return errorAt(s.loc, who + "the loss must be a float scalar");
  return Status::ok();
}

Expected<StepProgram> buildStep(Graph &g, const TrainStep &s) {
  KILN_TRY(checkOptions(s));
  StepBuilder b(g, s);
  StepProgram program;
  program.name = s.name;
  program.metrics = s.metrics;
  program.loss = regularizedLoss(b);
  KILN_TRY(b.status());

  std::vector<Value> wrt;
  for (Node *p : s.params)
    wrt.push_back(p->result());
  KILN_ASSIGN(std::vector<Value> grads, differentiate(g, program.loss, wrt));
  if (grads.size() != wrt.size())
    return errorAt(s.loc, "train step '" + s.name + "': differentiate returned " +
                              std::to_string(grads.size()) + " gradients for " +
                              std::to_string(wrt.size()) + " params");
  if (s.clipNorm)
    clipGradients(b, grads, *s.clipNorm);

  // The counter counts completed steps; this step is number t' = t + 1 (1-based).
  Node *counter = b.state("t", TensorType{DType::I64, {}});
  Value next = counter ? b.add("t_new", counter->result(), b.scalar("t_one", DType::I64, 1))
                       : Value{};
  b.setCounter(next);

  for (size_t i = 0; i < grads.size(); ++i) {
    detail::ParamUpdate u = detail::emitOptimizerUpdate(b, s.params[i], grads[i]);
    KILN_TRY(b.status());
    program.updates.push_back(StateUpdate{s.params[i], u.param});
    for (const StateUpdate &slot : u.slots)
      program.updates.push_back(slot);
  }
  KILN_TRY(b.status());
  program.updates.push_back(StateUpdate{counter, next});
  return program;
}

} // namespace

Expected<Graph> buildTrainingGraph(const Graph &source) {
  if (!source.stepPrograms().empty())
    return errorAt(Loc{}, "graph '" + source.name() + "' is already a training graph");
  Graph g = source.clone();
  KILN_TRY(decomposeLayers(g));
  g.setInsertPoint(nullptr);
  // Copies: building a step adds nodes, never train steps, but keep the loop independent of it.
  std::vector<TrainStep> steps = g.trainSteps();
  for (const TrainStep &s : steps) {
    KILN_ASSIGN(StepProgram program, buildStep(g, s));
    g.addStepProgram(std::move(program));
  }
  // Every rule builds through Graph::addNode, so this only catches a bug here or in
  // differentiate; it is cheap next to running the graph.
  if (Status st = verify(g); !st)
    return errorAt(Loc{}, "internal error: the training graph of '" + source.name() +
                              "' does not verify: " + st.message());
  return g;
}

} // namespace kiln
