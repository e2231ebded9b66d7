// EmitFused: the kernel of a fused group of kind "loop" (compiler/passes/FusePass.cpp): one loop
// over the group's shape evaluating the body per element as scalar SSA values, each operand
// read through its own broadcast mapping, every result stored by the same loop. A slice in the
// body is a strided read of its operand (a view: per-dimension strides and a base offset), so
// its copy is never made; a concat root of operands of one shape is one write view per operand,
// so the pieces land in place. A group whose root is a reduction loops over the reduction's input
// shape instead (EmitReduce.cpp), accumulating into the reduced result while storing the extra
// elementwise results.
#include "compiler/codegen/EmitOps.h"

#include <algorithm>
#include <unordered_map>

namespace kiln::codegen {

using llvm::Value;

namespace {

std::string who(const Node &node) {
  return std::string(node.info().mnemonic) + " '" + node.name() + "'";
}

/// One load per element: a body input read through broadcasting, or a slice node of the body
/// read from its operand (a body input) through the slice's view.
struct Read {
  const Node *node;  ///< the body input or slice whose value the load gives
  unsigned operand;  ///< the fused node's operand it loads from
};

/// The reads of a loop body: each body input that some non-slice node (or an output) uses, then
/// each slice of a body input. Slices of anything else are left to the evaluator (an error).
std::vector<Read> bodyReads(const Graph &body) {
  std::vector<Node *> inputs = body.inputs();
  std::unordered_map<const Node *, unsigned> position;
  for (size_t k = 0; k < inputs.size(); ++k)
    position[inputs[k]] = unsigned(k);
  std::vector<Read> reads;
  for (size_t k = 0; k < inputs.size(); ++k) {
    bool direct = std::any_of(inputs[k]->uses().begin(), inputs[k]->uses().end(),
                              [](const Use &u) { return u.user->op() != Op::Slice; });
    for (kiln::Value out : body.outputs())
      direct |= out.node == inputs[k];
    if (direct)
      reads.push_back(Read{inputs[k], unsigned(k)});
  }
  for (const auto &np : body.nodes())
    if (np->op() == Op::Slice && position.count(np->operand(0).node))
      reads.push_back(Read{np.get(), position.at(np->operand(0).node)});
  return reads;
}

/// Evaluates a loop group's body at one element of the group's shape.
class BodyEvaluator {
public:
  BodyEvaluator(KernelBuilder &kb, const Node &fused, const Node *reduction,
                std::vector<Read> reads)
      : kb_(kb), fused_(fused), body_(*fused.body()), reduction_(reduction),
        reads_(std::move(reads)) {}

  /// Computes every body value but the reduction from the reads' element offsets `offsets`.
  Status evaluate(const std::vector<Value *> &offsets) {
    values_.clear();
    for (size_t k = 0; k < reads_.size(); ++k)
      values_[reads_[k].node] =
          kb_.load(reads_[k].node->type().dtype, kb_.operand(reads_[k].operand), offsets[k]);
    for (const auto &np : body_.nodes()) {
      const Node *n = np.get();
      // A concat root moves its operands' values; the caller stores them (emitFusedLoop).
      if (n->isInput() || n == reduction_ || values_.count(n) || n->op() == Op::Concat)
        continue;
      if (n->isConstant()) {
        if (!n->value() || n->value()->numElements() != 1)
          return Status::error("error: " + who(fused_) + ": non-scalar constant '" + n->name() +
                               "' in a fused loop body has no LLVM lowering yet");
        values_[n] = kb_.constant(n->type().dtype, n->value()->at(0));
        continue;
      }
      if (!n->info().isElementwise() || n->info().has(kRandom) || n->numResults() != 1)
        return Status::error("error: " + who(fused_) + ": " + who(*n) +
                             " in a fused loop body has no LLVM lowering yet");
      std::vector<Value *> in;
      for (kiln::Value o : n->operands()) {
        if (o.node == reduction_)
          return Status::error("error: " + who(fused_) + ": a value computed from the "
                               "reduction inside the group has no LLVM lowering yet");
        in.push_back(values_.at(o.node));
      }
      KILN_ASSIGN(values_[n], emitScalar(kb_, *n, in));
    }
    return Status::ok();
  }

  Value *value(const Node *n) const { return values_.at(n); }

private:
  KernelBuilder &kb_;
  const Node &fused_;
  const Graph &body_;
  const Node *reduction_;
  std::vector<Read> reads_;
  std::unordered_map<const Node *, Value *> values_;
};

/// Where a read finds element (i_0, ..., i_n) of the group's shape: base + sum i_d strides[d].
struct View {
  std::vector<int64_t> strides;
  int64_t base = 0;
};

/// The view of a slice node (stride-1 or strided; starts clamped as the slice kernel does).
View sliceView(const Node &slice) {
  const Shape &in = slice.operand(0).type().shape;
  std::vector<int64_t> begin = *slice.attrInts("begin");
  std::vector<int64_t> steps =
      slice.attrInts("strides").value_or(std::vector<int64_t>(in.size(), 1));
  std::vector<int64_t> inStrides = rowMajorStrides(in);
  View v;
  for (size_t d = 0; d < in.size(); ++d) {
    int64_t start = std::clamp<int64_t>(begin[d] < 0 ? begin[d] + in[d] : begin[d], 0, in[d]);
    v.base += start * inStrides[d];
    v.strides.push_back(inStrides[d] * steps[d]);
  }
  return v;
}

/// The loop of emitRowLoop (EmitUtil.cpp) over `shape`, rows split across threads, the inner
/// loop left to the vectoriser, but with each read through its own view; the output offset is
/// the last. Used when a body has slices or a concat root, whose views broadcasting cannot
/// express.
void emitViewLoop(KernelBuilder &kb, const Shape &shape, std::vector<View> views,
                  llvm::function_ref<void(const std::vector<Value *> &)> body) {
  int64_t inner = shape.empty() ? 1 : shape.back();
  int64_t total = 1;
  for (int64_t d : shape)
    total *= d;
  if (total == 0)
    return;
  int64_t rows = total / inner;
  Shape outer(shape.begin(), shape.end() - (shape.empty() ? 0 : 1));
  views.push_back(View{rowMajorStrides(shape), 0});
  // Rows of at least about 32K elements per parallel chunk: smaller loops are not worth a thread.
  // (Splitting an LSTM cell's 32 rows over two threads was measured: predict 7% faster, the
  // train step 30% slower, as the second thread sleeps between the backward's serial kernels.)
  int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / inner);
  kb.parallelFor(rows, grain, [&](Value *begin, Value *end) {
    kb.loop(begin, end, [&](Value *row) {
      std::vector<Value *> rowOff;
      for (const View &v : views) {
        std::vector<int64_t> st(v.strides.begin(), v.strides.end() - (shape.empty() ? 0 : 1));
        Value *off = outer.empty() ? kb.c64(0) : offsetOf(kb, row, outer, st);
        rowOff.push_back(kb.b.CreateAdd(off, kb.c64(v.base)));
      }
      kb.loop(kb.c64(0), kb.c64(inner), [&](Value *i) {
        std::vector<Value *> offs;
        for (size_t k = 0; k < views.size(); ++k) {
          int64_t step = shape.empty() ? 0 : views[k].strides.back();
          offs.push_back(step == 0 ? rowOff[k]
                                   : kb.b.CreateAdd(rowOff[k], kb.b.CreateMul(i, kb.c64(step))));
        }
        body(offs);
      }, /*independent=*/true);
    });
  });
}

} // namespace

Status emitFusedLoop(KernelBuilder &kb, const Node &node) {
  const Graph *body = node.body();
  if (!body || body->inputs().size() != node.numOperands() ||
      body->outputs().size() != node.numResults())
    return Status::error("internal error: " + who(node) + ": malformed fused body");
  const Node *reduction = nullptr;
  for (const auto &np : body->nodes())
    if (np->info().has(kReduction)) {
      if (reduction)
        return Status::error("error: " + who(node) +
                             ": a loop group with two reductions has no LLVM lowering yet");
      reduction = np.get();
    }
  // A concat root (FusePass): the loop runs over its operands' shape and stores each operand's
  // element straight into its place of the concat's result (a write view per operand).
  const Node *concat = nullptr;
  for (const auto &np : body->nodes())
    if (np->op() == Op::Concat) {
      if (concat || reduction || !np->uses().empty() || np->numOperands() == 0)
        return Status::error("error: " + who(node) + ": a concat in a loop group other than "
                             "its single root has no LLVM lowering yet");
      concat = np.get();
    }
  Shape shape = reduction ? reduction->operand(0).type().shape
                : concat  ? concat->operand(0).type().shape
                          : node.type(0).shape;
  if (concat)
    for (kiln::Value o : concat->operands())
      if (o.type().shape != shape)
        return Status::error("error: " + who(node) + ": a concat of operands of different "
                             "shapes in a loop group has no LLVM lowering yet");
  for (unsigned r = 0; r < node.numResults(); ++r) {
    kiln::Value out = body->outputs()[r];
    if (out.node != reduction && out.node != concat && out.type().shape != shape)
      return Status::error("error: " + who(node) + ": result " + std::to_string(r) +
                           " of another shape than the group's has no LLVM lowering yet");
    if (out.node->isInput())
      return Status::error("error: " + who(node) + ": a body input returned as a result has "
                           "no LLVM lowering yet");
  }
  std::vector<Read> reads = bodyReads(*body);
  bool views = concat || std::any_of(reads.begin(), reads.end(), [](const Read &r) {
                 return r.node->op() == Op::Slice;
               });
  if (views && reduction)
    return Status::error("error: " + who(node) + ": a slice in a loop group with a reduction "
                         "has no LLVM lowering yet");
  BodyEvaluator eval(kb, node, reduction, reads);
  Status status = Status::ok();
  auto storeResults = [&](Value *offset) {
    for (unsigned r = 0; r < node.numResults(); ++r) {
      kiln::Value out = body->outputs()[r];
      if (out.node != reduction)
        kb.store(out.type().dtype, eval.value(out.node), kb.result(r), offset);
    }
  };

  auto element = [&](const std::vector<Value *> &offs) {
    Status st = eval.evaluate(offs);
    if (!st.isOk()) {
      status = st;
      return;
    }
    if (!concat) {
      storeResults(offs.back());
      return;
    }
    // offs: the reads, then one write view per concat operand, then the group's own offset.
    for (unsigned r = 0; r < node.numResults(); ++r) {
      kiln::Value out = body->outputs()[r];
      if (out.node != concat) {
        kb.store(out.type().dtype, eval.value(out.node), kb.result(r), offs.back());
        continue;
      }
      for (unsigned k = 0; k < concat->numOperands(); ++k)
        kb.store(out.type().dtype, eval.value(concat->operand(k).node), kb.result(r),
                 offs[reads.size() + k]);
    }
  };
  if (!reduction && views) {
    std::vector<View> viewOf;
    for (const Read &r : reads) {
      if (r.node->op() == Op::Slice) {
        viewOf.push_back(sliceView(*r.node));
        continue;
      }
      const Shape &in = r.node->type().shape;
      View v{broadcastStrides(in, shape), 0};
      if (v.strides.empty())
        v.strides = rowMajorStrides(shape);
      viewOf.push_back(std::move(v));
    }
    if (concat) {
      const Shape &out = concat->type().shape;
      auto axis = normalizeAxis(concat->attrInt("axis"), int64_t(out.size()));
      if (!axis)
        return Status::error("internal error: " + who(node) + ": concat axis out of range");
      std::vector<int64_t> outStrides = rowMajorStrides(out);
      for (unsigned k = 0; k < concat->numOperands(); ++k)
        viewOf.push_back(View{outStrides, int64_t(k) * shape[size_t(*axis)] *
                                              outStrides[size_t(*axis)]});
    }
    emitViewLoop(kb, shape, std::move(viewOf), element);
    return status;
  }
  if (!reduction) {
    RowLoop space{shape, {}};
    for (const Read &r : reads)
      space.inputs.push_back(r.node->type().shape);
    emitRowLoop(kb, space, element);
    return status;
  }

  unsigned reductionResult = node.numResults();
  for (unsigned r = 0; r < node.numResults(); ++r)
    if (body->outputs()[r].node == reduction)
      reductionResult = r;
  if (reductionResult == node.numResults())
    return Status::error("internal error: " + who(node) + ": the reduction is not a result");
  std::vector<std::vector<int64_t>> strides;
  for (const Read &r : reads)
    strides.push_back(r.node->type().shape == shape
                          ? std::vector<int64_t>{}
                          : broadcastStrides(r.node->type().shape, shape));
  const Node *source = reduction->operand(0).node;
  KILN_TRY(emitReduction(kb, *reduction, reductionResult, [&](Value *flat) -> Value * {
    std::vector<Value *> offs;
    for (const auto &st : strides)
      offs.push_back(st.empty() ? flat : offsetOf(kb, flat, shape, st));
    Status st = eval.evaluate(offs);
    if (!st.isOk()) {
      status = st;
      return llvm::UndefValue::get(kb.elemType(reduction->operand(0).type().dtype));
    }
    storeResults(flat);
    return eval.value(source);
  }));
  return status;
}

} // namespace kiln::codegen
