// fuse: groups ops into fusion groups, fused nodes whose bodies are later compiled as one kernel.
//
// Before:
//   %a = add(%x, %b) : f32[64,128]
//   %r = relu(%a) : f32[64,128]
//   return %r
// After:
//   %r = fused(%x, %b) {kind="loop"} : f32[64,128] {
//     input %p0 : f32[64,128]
//     input %p1 : f32[128]
//     %a = add(%p0, %p1) : f32[64,128]
//     %r = relu(%a) : f32[64,128]
//     return %r
//   }
//   return %r
//
// Expects decompose before it (layers and losses are not fused; their primitives are), and
// usually fold, cse and dce, so that groups are not split by dead or duplicate nodes. It runs
// after differentiation: a fused node has no gradient rule.
//
// Groups, decided on the unmodified graph and then built in node order:
//  - "matmul"/"conv": a matmul or conv2d with its epilogue, at most one bias add (an add of the
//    result and a value that broadcasts to it) then at most one activation (relu, sigmoid, tanh,
//    leaky_relu, gelu). Refused when the matmul/conv result has any other use, a graph output
//    included: it must be stored anyway (in training graphs its backward reads it), so the
//    kernel stays plain.
//  - "loop": elementwise ops (unary, binary, compare, select; never random ops) of one result
//    shape, grown from a root (the last op of the group, visited from the end of the graph)
//    towards its producers; a reduction is a root too, and takes in the elementwise producers of
//    its input shape. Operands from outside, broadcast ones included, become body inputs. A
//    slice of the group's shape whose every use is in the group joins it too (not a group with
//    a reduction): the kernel reads its operand strided instead of a copy (the gate slices of
//    an unrolled LSTM read straight from the gate pre-activations). A concat of operands of one
//    shape is a root too when the group computes two or more of its pieces: the loop runs over
//    the pieces' shape and writes each piece into its place (an LSTM's gate gradients).
// A producer whose value is also used outside the group joins it as an extra result of the
// fused node (so its value is still stored once, by the same kernel) when every such outside
// user comes after the group's root in node order; otherwise it stays out, since the fused
// node, which takes the root's place, would be defined after that user. Step-program update
// values are outside uses of the same kind. A group of one op is not made. Each refusal of a
// candidate writes a reason to the debug stream.
//
// Names: the fused node takes its root's name and location; body nodes keep their own. Values
// that callers read back by name (graph outputs, losses, metrics) must keep it, which only the
// single result of a node can: such a value is never an extra result, and a group whose root
// is one has a single result (producers used outside it stay out).
#include "compiler/passes/PassRegistry.h"
#include "compiler/passes/PassUtil.h"

#include "compiler/support/Diagnostic.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace kiln {

namespace {

struct Group {
  std::vector<Node *> members; ///< in node order; the last is the root
  std::string kind;
};

/// The activations a matmul/conv kernel applies in its epilogue.
bool isActivation(const Node *n) {
  Op op = n->op();
  return op == Op::Relu || op == Op::Sigmoid || op == Op::Tanh || op == Op::LeakyRelu ||
         op == Op::Gelu;
}

class Fuser {
public:
  Fuser(Graph &g, PassContext &ctx) : g_(g), ctx_(ctx) {
    for (size_t i = 0; i < g.nodes().size(); ++i)
      pos_[g.nodes()[i].get()] = i;
    auto addNamed = [&](const std::vector<Value> &vs) {
      for (const Value &v : vs)
        if (v)
          named_.insert(v.node);
    };
    addNamed(g.outputs());
    for (const TrainStep &s : g.trainSteps()) {
      addNamed({s.loss});
      addNamed(s.metrics);
    }
    for (const StepProgram &p : g.stepPrograms()) {
      addNamed({p.loss});
      addNamed(p.metrics);
    }
    for (const Value &v : rootValues(g))
      rootUsers_.insert(v.node);
  }

  Expected<bool> run() {
    formEpilogueGroups();
    formLoopGroups();
    std::sort(groups_.begin(), groups_.end(), [&](const Group &a, const Group &b) {
      return pos_.at(a.members.back()) < pos_.at(b.members.back());
    });
    for (const Group &group : groups_)
      KILN_TRY(build(group));
    return !groups_.empty();
  }

private:
  /// Why the uses of `p` keep it out of the group of `root` with the current members; "" when
  /// they do not. A value read back by name (output, loss, metric) keeps its name only as the
  /// single result of a node, so it cannot be an extra result, and a group whose root is read
  /// back by name has no extra results.
  std::string useProblem(const Node *p, const std::unordered_set<const Node *> &members,
                         const Node *root) const {
    if (named_.count(p))
      return "it is read back by name (an output, loss or metric), so it cannot be an extra "
             "result of a group";
    bool single = named_.count(root) != 0;
    size_t rootPos = pos_.at(root);
    for (const Use &u : p->uses()) {
      if (members.count(u.user))
        continue;
      if (single)
        return "used by '" + u.user->name() + "' outside the group, which has one result ('" +
               root->name() + "' is read back by name)";
      if (pos_.at(u.user) < rootPos)
        return "used by '" + u.user->name() + "' outside the group, before its last op";
    }
    if (single && rootUsers_.count(p))
      return "a step program reads it, and the group has one result ('" + root->name() +
             "' is read back by name)";
    return "";
  }

  void note(const Node *p, const Node *root, const std::string &reason) {
    if (noted_.insert(p->name() + "\n" + root->name()).second)
      ctx_.note("fuse: '" + p->name() + "' stays out of group of '" + root->name() + "': " +
                reason);
  }

  // ---- matmul/conv epilogues ----

  /// `u` is a bias add of `mm`: one operand is mm's result, the other broadcasts to it.
  static bool isBiasAdd(const Node *u, const Node *mm) {
    if (u->op() != Op::Add || u->type().shape != mm->type().shape)
      return false;
    return (u->operand(0).node == mm) != (u->operand(1).node == mm);
  }

  void formEpilogueGroups() {
    for (const auto &np : g_.nodes()) {
      Node *mm = np.get();
      if (mm->op() != Op::Matmul && mm->op() != Op::Conv2D)
        continue;
      if (mm->uses().empty())
        continue;
      Node *first = mm->uses().front().user;
      bool epilogue = isBiasAdd(first, mm) || (isActivation(first) && first->operand(0).node == mm);
      if (!epilogue)
        continue;
      // add(matmul, matmul): the first matmul in node order takes the add.
      if (auto it = groupOf_.find(first); it != groupOf_.end()) {
        note(first, mm, "it is already in the group of '" + it->second->name() + "'");
        continue;
      }
      if (mm->uses().size() != 1 || rootUsers_.count(mm)) {
        std::string other = "a graph output, loss or step value";
        for (const Use &u : mm->uses())
          if (u.user != first) {
            other = "'" + u.user->name() + "'";
            break;
          }
        note(first, mm, "'" + mm->name() + "' is also used by " + other +
                            " (its result must be stored, so its kernel stays plain)");
        continue;
      }
      std::vector<Node *> chain{mm, first};
      if (first->op() == Op::Add) {
        // An activation after the bias add: the first activation user in node order.
        Node *act = nullptr;
        for (const Use &u : first->uses())
          if (isActivation(u.user) && u.user->operand(0).node == first &&
              (!act || pos_.at(u.user) < pos_.at(act)))
            act = u.user;
        if (act)
          chain.push_back(act);
      }
      // Outside users of the bias add must follow the group's root (see the file comment).
      while (chain.size() > 2) {
        std::unordered_set<const Node *> members(chain.begin(), chain.end());
        std::string why = useProblem(chain[1], members, chain.back());
        if (why.empty())
          break;
        note(chain.back(), mm, "the bias add '" + chain[1]->name() + "' is " + why);
        chain.pop_back();
      }
      for (Node *m : chain)
        groupOf_[m] = chain.back();
      groups_.push_back(Group{chain, mm->op() == Op::Matmul ? "matmul" : "conv"});
    }
  }

  // ---- elementwise loops ----

  static bool isLoopOp(const Node *n) {
    return n->info().isElementwise() && !n->info().has(kRandom);
  }

  /// A concat of two or more operands of one type: a loop over that shape can write each
  /// operand's element into its place of the result.
  static bool isConcatRoot(const Node *n) {
    if (n->op() != Op::Concat || n->numOperands() < 2)
      return false;
    for (const Value &o : n->operands())
      if (o.type() != n->operand(0).type())
        return false;
    return true;
  }

  /// Why slice `p` stays out of the group; "" if it joins. A slice joins an elementwise group
  /// (no reduction) as a strided read of its operand when every use of it is in the group:
  /// then its copy is never written. Its operand stays outside.
  std::string sliceRefusal(const Node *p, const Shape &shape,
                           const std::unordered_set<const Node *> &members,
                           bool reduction) const {
    if (auto it = groupOf_.find(p); it != groupOf_.end())
      return "it is already in the group of '" + it->second->name() + "'";
    if (reduction)
      return "a slice joins only groups without a reduction";
    if (p->type().shape != shape)
      return "its shape " + shapeToString(p->type().shape) + " differs from the group's " +
             shapeToString(shape);
    if (p->operand(0).type().shape == shape)
      return std::string("it slices a value of the group's shape");
    if (named_.count(p) || rootUsers_.count(p))
      return std::string("a graph output or step value reads it");
    for (const Use &u : p->uses())
      if (!members.count(u.user))
        return "used by '" + u.user->name() + "' outside the group (a slice joins only when "
               "that saves its copy)";
    return "";
  }

  /// Why `p` (a producer of a member) stays out of the group; "" if it joins; nullopt if it is
  /// not a candidate at all (sources, matmuls, movement ops other than slice: nothing to
  /// explain).
  std::optional<std::string> refusal(const Node *p, const Shape &shape,
                                     const std::unordered_set<const Node *> &members,
                                     const Node *root, bool reduction) const {
    if (p->op() == Op::Slice)
      return sliceRefusal(p, shape, members, reduction);
    if (!p->info().isElementwise())
      return std::nullopt;
    if (auto it = groupOf_.find(p); it != groupOf_.end())
      return "it is already in the group of '" + it->second->name() + "'";
    if (p->info().has(kRandom))
      return std::string("it draws random numbers");
    if (p->type().shape != shape)
      return "its shape " + shapeToString(p->type().shape) + " differs from the group's " +
             shapeToString(shape);
    return useProblem(p, members, root);
  }

  void formLoopGroups() {
    const auto &nodes = g_.nodes();
    for (size_t i = nodes.size(); i-- > 0;) {
      Node *root = nodes[i].get();
      if (groupOf_.count(root))
        continue;
      bool reduction = root->info().has(kReduction);
      bool concat = isConcatRoot(root);
      if (!reduction && !concat && !isLoopOp(root))
        continue;
      Shape shape = reduction || concat ? root->operand(0).type().shape : root->type().shape;
      std::vector<Node *> members{root};
      std::unordered_set<const Node *> in{root};
      // Grow to a fixpoint: a producer refused for an outside user may join once that user has.
      for (bool grew = true; grew;) {
        grew = false;
        for (size_t m = 0; m < members.size(); ++m)
          for (const Value &o : members[m]->operands()) {
            if (in.count(o.node))
              continue;
            auto why = refusal(o.node, shape, in, root, reduction);
            if (!why || !why->empty())
              continue;
            members.push_back(o.node);
            in.insert(o.node);
            grew = true;
          }
      }
      for (Node *m : members)
        for (const Value &o : m->operands())
          if (!in.count(o.node))
            if (auto why = refusal(o.node, shape, in, root, reduction); why && !why->empty())
              note(o.node, root, *why);
      if (members.size() < 2)
        continue;
      if (concat) {
        // Worth a loop only when it computes two or more of the pieces; else the concat stays a
        // copy and its producers form their own groups.
        std::unordered_set<const Node *> computed;
        for (const Value &o : root->operands())
          if (in.count(o.node))
            computed.insert(o.node);
        if (computed.size() < 2) {
          note(root, root, "the concat would compute fewer than two of its pieces");
          continue;
        }
      }
      std::sort(members.begin(), members.end(),
                [&](Node *a, Node *b) { return pos_.at(a) < pos_.at(b); });
      for (Node *m : members)
        groupOf_[m] = root;
      groups_.push_back(Group{std::move(members), "loop"});
    }
  }

  // ---- building ----

  Status build(const Group &group) {
    std::string parts; // before grouping, which erases the members
    for (Node *m : group.members)
      parts += (parts.empty() ? "" : ", ") + m->name();
    KILN_ASSIGN(GroupedNode grouped,
                groupNodes(g_, group.members, group.kind,
                           [&](const Node *m) { return rootUsers_.count(m) != 0; }, "fuse"));
    size_t results = grouped.numResults;
    ctx_.note("fuse: " + group.kind + " group '" + grouped.node->name() + "': " + parts + " (" +
              std::to_string(results) + (results == 1 ? " result)" : " results)"));
    return Status::ok();
  }

  Graph &g_;
  PassContext &ctx_;
  std::unordered_map<const Node *, size_t> pos_;
  /// Nodes read by the graph's roots (outputs, losses, metrics, step values): outside uses.
  std::unordered_set<const Node *> rootUsers_;
  /// Nodes read back by name (outputs, losses, metrics): a subset of rootUsers_.
  std::unordered_set<const Node *> named_;
  std::unordered_map<const Node *, const Node *> groupOf_; ///< member -> group root
  std::vector<Group> groups_;
  std::unordered_set<std::string> noted_;
};

} // namespace

Expected<bool> FusePass::run(Graph &g, PassContext &ctx) { return Fuser(g, ctx).run(); }

} // namespace kiln
