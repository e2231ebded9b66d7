// select-dnnl, select-dnnl-auto: hand heavy ops (and the bias and activation after them) to oneDNN.
//
// Before:
//   %mm = matmul(%x, %w) : f32[64,128]
//   %a = add(%mm, %b) : f32[64,128]
//   %r = sigmoid(%a) : f32[64,128]
// After:
//   %r = fused(%x, %w, %b) {kind="dnnl"} : f32[64,128] {
//     input %p0 : f32[64,784]
//     input %p1 : f32[784,128]
//     input %p2 : f32[128]
//     %mm = matmul(%p0, %p1) : f32[64,128]
//     %a = add(%mm, %p2) : f32[64,128]
//     %r = sigmoid(%a) : f32[64,128]
//     return %r
//   }
//
// A oneDNN node is a fusion group of kind "dnnl": its body still defines the result (the
// interpreter runs it), and codegen turns it into one primitive (compiler/codegen/DnnlLower.cpp).
// Eligible (f32 only; oneDNN 2.6 has no f64 CPU kernels): matmul (batched, broadcast, transposed),
// conv2d and both its gradients, max/avg pooling and their gradients, softmax, log_softmax and
// layer_norm. A matmul or conv2d takes a following bias add (a per-output-channel bias: a
// conv's [O], a matmul's [N] or [1,..,1,N]) and then an activation (relu, leaky_relu, sigmoid,
// tanh, gelu) as oneDNN post-ops, but only when the value it skips has no other use: oneDNN
// returns only the last result. In training graphs this is exactly the `*_use_dst_for_bwd`
// rule: relu, leaky_relu (alpha >= 0), sigmoid and tanh, whose gradients read their output
// (compiler/autodiff/GradElementwise.cpp), fuse; gelu, whose gradient reads its input, does not.
//
// select-dnnl takes every eligible op (`--backend=dnnl`); select-dnnl-auto (`--backend=auto`)
// takes only those the rule in `autoPrefersDnnl` picks (convolutions, pooling, narrow matmuls,
// large softmaxes),
// measured with bench/sample_bench (docs/dnnl.md). Runs after decompose and dce, before fuse (which leaves dnnl groups alone).
// Each op left to generated code writes its reason to the debug stream.
#include "compiler/passes/PassRegistry.h"
#include "compiler/passes/PassUtil.h"

#include "compiler/support/Diagnostic.h"

#include <map>
#include <unordered_map>
#include <unordered_set>

namespace kiln {

namespace {

bool isPostOpActivation(const Node *n) {
  Op op = n->op();
  return op == Op::Relu || op == Op::Sigmoid || op == Op::Tanh || op == Op::LeakyRelu ||
         op == Op::Gelu;
}

/// The ops oneDNN can run. (A set rather than a switch: every other op is simply not one.)
bool isDnnlOp(Op op) {
  static const std::unordered_set<Op> ops{
      Op::Matmul,        Op::Conv2D,        Op::Conv2DBackpropInput, Op::Conv2DBackpropFilter,
      Op::MaxPool2D,     Op::AvgPool2D,     Op::MaxPool2DGrad,       Op::AvgPool2DGrad,
      Op::Softmax,       Op::LogSoftmax,    Op::LayerNorm};
  return ops.count(op) != 0;
}

/// Why oneDNN cannot run `n` ("" if it can); nullopt for ops it never runs.
std::optional<std::string> ineligible(const Node &n) {
  if (!isDnnlOp(n.op()))
    return std::nullopt;
  if (n.type().dtype != DType::F32)
    return "its dtype is " + std::string(dtypeName(n.type().dtype)) + " (oneDNN runs f32 only)";
  if (n.type().numElements() == 0)
    return std::string("it is empty");
  return std::string();
}

/// The auto backend's rule (docs/dnnl.md has the measurements behind it):
///  - convolutions, their gradients and pooling go to oneDNN: Kiln's im2col + GEMM reaches a
///    third of peak on the backward passes, oneDNN's direct kernels most of it;
///  - a matmul goes to oneDNN when its result is narrow (last dim N <= kNarrowN) and it does at
///    least kMinDnnlFlops: on such shapes the generated GEMM's register tile is mostly empty
///    (20-67% of oneDNN's speed, bench/sample_bench's GEMM table), while on wider ones it
///    matches or beats oneDNN and fuses wider epilogues; below the FLOP floor the few
///    microseconds a oneDNN call costs (memory objects, a stream) outweigh the gain;
///  - a softmax of at least kMinDnnlSoftmax elements (attention probabilities) goes to oneDNN,
///    whose vectorised exp beats the generated loop (transformer predict 2.5 ms against 4.0);
///  - log_softmax (small: classifier heads) and layer_norm stay in generated loops.
constexpr int64_t kNarrowN = 32;
constexpr double kMinDnnlFlops = 2e6;
constexpr int64_t kMinDnnlSoftmax = 65536;

bool autoPrefersDnnl(const Node &n) {
  static const std::unordered_set<Op> ops{
      Op::Conv2D,    Op::Conv2DBackpropInput, Op::Conv2DBackpropFilter, Op::MaxPool2D,
      Op::AvgPool2D, Op::MaxPool2DGrad,       Op::AvgPool2DGrad};
  if (ops.count(n.op()))
    return true;
  if (n.op() == Op::Softmax)
    return n.type().numElements() >= kMinDnnlSoftmax;
  if (n.op() != Op::Matmul)
    return false;
  const Shape &a = n.operand(0).type().shape;
  int64_t k = n.attrBool("transpose_a") ? a[a.size() - 2] : a.back();
  double flops = 2.0 * double(n.type().numElements()) * double(k);
  return n.type().shape.back() <= kNarrowN && flops >= kMinDnnlFlops;
}

class Selector {
public:
  Selector(Graph &g, PassContext &ctx, bool everything, std::string_view pass)
      : g_(g), ctx_(ctx), everything_(everything), pass_(pass) {
    for (const Value &v : rootValues(g))
      roots_.insert(v.node);
  }

  Expected<bool> run() {
    std::vector<std::vector<Node *>> groups;
    std::unordered_set<const Node *> taken;
    for (const auto &np : g_.nodes()) {
      Node *n = np.get();
      if (taken.count(n))
        continue;
      auto why = ineligible(*n);
      if (!why)
        continue;
      if (!why->empty()) {
        note(n, *why);
        continue;
      }
      if (!everything_ && !autoPrefersDnnl(*n)) {
        note(n, "the auto rule keeps this " + std::string(n->info().mnemonic) +
                    " in generated code (docs/dnnl.md)");
        continue;
      }
      std::vector<Node *> chain{n};
      if (n->op() == Op::Matmul || n->op() == Op::Conv2D)
        growEpilogue(chain, taken);
      taken.insert(chain.begin(), chain.end());
      groups.push_back(std::move(chain));
    }
    for (const auto &chain : groups)
      KILN_TRY(build(chain));
    return !groups.empty();
  }

private:
  void note(const Node *n, const std::string &why) {
    ctx_.note(std::string(pass_) + ": '" + n->name() + "' stays in generated code: " + why);
  }

  /// The single user of `v`'s node, if it has exactly one and is not read as a root.
  Node *soleUser(const Node *n) const {
    if (n->uses().size() != 1 || roots_.count(n))
      return nullptr;
    return n->uses().front().user;
  }

  /// `add` adds a per-channel bias to `core`'s result: the other operand is [C] (conv, matmul)
  /// or [1, .., 1, C] (matmul) with C the result's last dim (NHWC channels, matmul columns).
  bool isBiasAdd(const Node *add, const Node *core) const {
    if (add->op() != Op::Add || add->type().shape != core->type().shape)
      return false;
    if ((add->operand(0).node == core) == (add->operand(1).node == core))
      return false;
    if (core->op() == Op::Conv2D && (core->numOperands() == 3 || core->attrStr("data_format") != "NHWC"))
      return false;
    Value bias = add->operand(0).node == core ? add->operand(1) : add->operand(0);
    const Shape &bs = bias.type().shape, &rs = core->type().shape;
    if (bs.empty() || bs.back() != rs.back() || bs.size() > rs.size())
      return false;
    if (core->op() == Op::Conv2D && bs.size() != 1)
      return false;
    for (size_t i = 0; i + 1 < bs.size(); ++i)
      if (bs[i] != 1)
        return false;
    return true;
  }

  /// Adds the bias add and activation after chain[0] that oneDNN can run as post-ops. An add
  /// of two matmul results is taken by the first in node order (`taken` holds it by then).
  void growEpilogue(std::vector<Node *> &chain, const std::unordered_set<const Node *> &taken) {
    Node *core = chain.front();
    Node *next = soleUser(core);
    if (next && taken.count(next)) {
      ctx_.note(std::string(pass_) + ": '" + next->name() + "' is not a post-op of '" +
                core->name() + "': another oneDNN node already takes it");
      return;
    }
    if (!next) {
      if (core->uses().size() > 1)
        ctx_.note(std::string(pass_) + ": '" + core->name() +
                  "' takes no post-ops: its result has other uses");
      return;
    }
    if (isBiasAdd(next, core)) {
      chain.push_back(next);
      Node *act = soleUser(next);
      if (act && isPostOpActivation(act) && act->operand(0).node == next)
        chain.push_back(act);
      else if (next->uses().size() > 1)
        for (const Use &u : next->uses())
          if (isPostOpActivation(u.user))
            ctx_.note(std::string(pass_) + ": '" + u.user->name() + "' is not a post-op of '" +
                      core->name() + "': the bias add '" + next->name() +
                      "' has other uses (a backward that reads the pre-activation)");
      return;
    }
    if (isPostOpActivation(next) && next->operand(0).node == core)
      chain.push_back(next);
  }

  Status build(const std::vector<Node *> &chain) {
    // Only the root's value leaves the group: each skipped value has one use, in the chain, and
    // is no root (soleUser in growEpilogue).
    std::string parts; // before grouping, which erases the members
    for (Node *m : chain)
      parts += (parts.empty() ? "" : ", ") + m->name();
    KILN_ASSIGN(GroupedNode grouped,
                groupNodes(g_, chain, "dnnl", [](const Node *) { return false; }, pass_));
    ctx_.note(std::string(pass_) + ": oneDNN node '" + grouped.node->name() + "': " + parts);
    return Status::ok();
  }

  Graph &g_;
  PassContext &ctx_;
  bool everything_;
  std::string_view pass_;
  std::unordered_set<const Node *> roots_; ///< read after the run: outputs, losses, updates
};

} // namespace

Expected<bool> SelectDnnlPass::run(Graph &g, PassContext &ctx) {
  return Selector(g, ctx, /*everything=*/true, name()).run();
}

Expected<bool> SelectDnnlAutoPass::run(Graph &g, PassContext &ctx) {
  return Selector(g, ctx, /*everything=*/false, name()).run();
}

} // namespace kiln
