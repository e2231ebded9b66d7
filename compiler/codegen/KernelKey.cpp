// KernelKey: when two scheduled nodes can share one compiled kernel, and by how much the entry
// moves the shared kernel's operands for each (ProgramBuilder.cpp uses both).
#include "compiler/codegen/KernelKey.h"

#include "compiler/ir/Printer.h"

#include <algorithm>
#include <climits>
#include <unordered_map>

namespace kiln::codegen {

namespace {

std::string attrText(const AttrValue &v) {
  struct Visitor {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return formatFloat(d); }
    std::string operator()(const std::string &str) const { return quoteString(str); }
    std::string operator()(const std::vector<int64_t> &v) const {
      std::string out = "[";
      for (int64_t i : v)
        out += std::to_string(i) + ",";
      return out + "]";
    }
    std::string operator()(const std::vector<double> &v) const {
      std::string out = "[";
      for (double d : v)
        out += formatFloat(d) + ",";
      return out + "]";
    }
    std::string operator()(DType d) const { return std::string(dtypeName(d)); }
  };
  return std::visit(Visitor{}, v);
}

} // namespace

/// The element index of a slice's first element in its operand (begin clamped as the kernel
/// does, see emitSlice).
int64_t sliceOrigin(const Node &n) {
  const Shape &in = n.operand(0).type().shape;
  std::vector<int64_t> begin = n.attrInts("begin").value_or(std::vector<int64_t>(in.size(), 0));
  int64_t origin = 0, stride = 1;
  for (size_t d = in.size(); d-- > 0;) {
    int64_t b = begin[d] < 0 ? begin[d] + in[d] : begin[d];
    origin += std::clamp<int64_t>(b, 0, in[d]) * stride;
    stride *= in[d];
  }
  return origin;
}

/// Per operand of a top-level node, the origin its kernel may be moved by (see kernelKey), or
/// nullopt when the operand is read at fixed positions. A slice: its first element. A loop group:
/// for a body input read only by slices, the smallest of their first elements.
std::vector<std::optional<int64_t>> movableOrigins(const Node &n) {
  std::vector<std::optional<int64_t>> origins(n.numOperands());
  if (n.op() == Op::Slice) {
    origins[0] = sliceOrigin(n);
    return origins;
  }
  const Graph *body = n.body();
  if (n.op() != Op::Fused || !body || n.attrStr("kind") != "loop")
    return origins;
  std::vector<Node *> inputs = body->inputs();
  for (size_t k = 0; k < inputs.size() && k < origins.size(); ++k) {
    bool onlySliced = !inputs[k]->uses().empty();
    std::optional<int64_t> least;
    for (const Use &u : inputs[k]->uses()) {
      onlySliced &= u.user->op() == Op::Slice;
      if (u.user->op() == Op::Slice)
        least = std::min(least.value_or(INT64_MAX), sliceOrigin(*u.user));
    }
    for (Value out : body->outputs())
      onlySliced &= out.node != inputs[k];
    if (onlySliced)
      origins[k] = least;
  }
  return origins;
}

/// What a kernel depends on: op, attributes, operand and result types and, for a fused node, the
/// body's structure (names left out). Two nodes with the same key get the same kernel, so an
/// unrolled RNN compiles each distinct step kernel once. Random ops draw from a seed derived from
/// their name, so they never share (empty key).
///
/// Slices leave their position out where the entry can move the operand instead: a top-level
/// slice's (begin, end) are left out, and in a loop group a slice of a body input read only by
/// slices keeps only its position relative to the other slices of that input (movableOrigins).
/// Such nodes share the kernel of the first, and the entry passes each one's operands shifted by
/// the difference of their origins (sliceShift). An unrolled LSTM's time steps, each of which
/// reads its own columns of one input projection, become one kernel.
std::string kernelKey(const Node &n, bool topLevel,
                      const std::unordered_map<const Node *, int64_t> *relativeTo) {
  if (n.info().has(kRandom))
    return "";
  bool positionFree = topLevel && n.op() == Op::Slice;
  const int64_t *base = nullptr;
  if (relativeTo && n.op() == Op::Slice)
    if (auto it = relativeTo->find(n.operand(0).node); it != relativeTo->end())
      base = &it->second;
  std::string key(n.info().mnemonic);
  for (const auto &[name, value] : n.attrs())
    if (!(positionFree || base) || (name != "begin" && name != "end"))
      key += " " + name + "=" + attrText(value);
  if (base)
    key += " at+" + std::to_string(sliceOrigin(n) - *base);
  key += " (";
  for (Value o : n.operands())
    key += o.type().str() + ",";
  key += ") -> (";
  for (const TensorType &t : n.resultTypes())
    key += t.str() + ",";
  key += ")";
  if (const Graph *body = n.body()) {
    // Body inputs whose slices are keyed by relative position (topLevel: this node's own body).
    std::unordered_map<const Node *, int64_t> relative;
    if (topLevel) {
      std::vector<std::optional<int64_t>> origins = movableOrigins(n);
      std::vector<Node *> inputs = body->inputs();
      for (size_t k = 0; k < inputs.size() && k < origins.size(); ++k)
        if (origins[k])
          relative[inputs[k]] = *origins[k];
    }
    std::unordered_map<const Node *, size_t> index;
    key += " {";
    for (const auto &b : body->nodes()) {
      if (b->info().has(kRandom) || b->isParam())
        return "";
      index[b.get()] = index.size();
      key += " " + kernelKey(*b, false, &relative);
      if (b->isConstant()) {
        // Small constants (folded scalars) are part of the key; large ones are not worth it.
        if (!b->value() || b->value()->numElements() > 64)
          return "";
        for (int64_t i = 0; i < b->value()->numElements(); ++i)
          key += " " + formatFloat(b->value()->at(i));
      }
      for (Value o : b->operands())
        key += " %" + std::to_string(index.at(o.node)) + ":" + std::to_string(o.index);
      key += ";";
    }
    key += " return";
    for (Value o : body->outputs())
      key += " %" + std::to_string(index.at(o.node)) + ":" + std::to_string(o.index);
    key += " }";
  }
  return key;
}

} // namespace kiln::codegen
