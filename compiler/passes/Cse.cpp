// cse: common subexpression elimination, constants included.
//
// Before:
//   const %lr1 : f32[] = dense<0.01>
//   const %lr2 : f32[] = dense<0.01>
//   %a = relu(%x) : f32[4]
//   %b = relu(%x) : f32[4]
//   %s = mul(%a, %lr1) : f32[4]
//   %t = mul(%lr2, %b) : f32[4]
//   %y = add(%s, %t) : f32[4]
// After:
//   const %lr1 : f32[] = dense<0.01>
//   %a = relu(%x) : f32[4]
//   %s = mul(%a, %lr1) : f32[4]
//   %y = add(%s, %s) : f32[4]
//
// Two nodes are the same computation when they have the same op, the same operands (in either
// order for commutative ops), the same effective attributes (schema defaults filled in, so a
// spelled-out default equals an omitted one) and the same result types. Constants are the same
// when dtype, shape and bytes are identical (so 0.0 and -0.0 stay apart), which collapses the
// per-param optimizer constants of a training graph. Never merged: random ops (each draws its
// own numbers), inputs and params (distinct interface values), fusion groups (the key does not
// look into bodies) and multi-result nodes. The later node is replaced by
// the earlier; a later node that is read back by name keeps its name (see replaceNode).
// Expects nothing before it; running after fold and simplify finds more duplicates.
#include "compiler/passes/PassRegistry.h"
#include "compiler/passes/PassUtil.h"

#include <cstring>
#include <unordered_map>

namespace kiln {

namespace {

uint64_t fnv1a(const void *data, size_t n, uint64_t h = 1469598103934665603ull) {
  const auto *p = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < n; ++i)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

/// A text key that equal computations share (pointers identify operands within this run).
std::string opKey(const Node &n) {
  std::string key(opName(n.op()));
  std::vector<Value> ops = n.operands();
  if (n.info().has(kCommutative) && ops.size() == 2 &&
      std::less<const Node *>()(ops[1].node, ops[0].node))
    std::swap(ops[0], ops[1]);
  if (ops.size() == 2 && ops[0].node == ops[1].node && ops[1].index < ops[0].index &&
      n.info().has(kCommutative))
    std::swap(ops[0], ops[1]);
  char buf[64];
  for (const Value &v : ops) {
    std::snprintf(buf, sizeof buf, "|%p:%u", static_cast<const void *>(v.node), v.index);
    key += buf;
  }
  for (const AttrSpec &spec : n.info().attrs) {
    std::optional<AttrValue> a = n.attr(spec.name);
    key += "|" + spec.name + "=" + (a ? attrValueToString(*a) : "<absent>");
  }
  for (const TensorType &t : n.resultTypes())
    key += "|" + t.str();
  return key;
}

} // namespace

Expected<bool> CsePass::run(Graph &g, PassContext &ctx) {
  std::vector<Node *> order;
  for (const auto &n : g.nodes())
    order.push_back(n.get());
  std::unordered_map<std::string, Node *> seen;
  std::unordered_multimap<uint64_t, Node *> constants;
  bool changed = false;
  for (Node *n : order) {
    // Fusion groups are never merged: their bodies are not part of the key.
    if (n->isInput() || n->isParam() || n->info().has(kRandom) || n->body() ||
        n->numResults() != 1)
      continue;
    Node *earlier = nullptr;
    if (n->isConstant()) {
      const Tensor &t = *n->value();
      uint64_t h = fnv1a(t.raw(), t.byteSize(), uint64_t(t.dtype()) + t.shape().size());
      auto [lo, hi] = constants.equal_range(h);
      for (auto it = lo; it != hi && !earlier; ++it)
        if (it->second->value()->identical(t))
          earlier = it->second;
      if (!earlier) {
        constants.emplace(h, n);
        continue;
      }
    } else {
      auto [it, inserted] = seen.emplace(opKey(*n), n);
      if (inserted)
        continue;
      earlier = it->second;
    }
    std::string name = n->name();
    KILN_ASSIGN(bool replaced, replaceNode(g, n, earlier->result(0), ctx, "cse"));
    if (replaced)
      ctx.note("cse: merged '" + name + "' into '" + earlier->name() + "'");
    changed |= replaced;
  }
  return changed;
}

} // namespace kiln
