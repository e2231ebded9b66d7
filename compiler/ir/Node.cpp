// Node accessors: use-list upkeep and attribute lookup with schema defaults.
#include "compiler/ir/Node.h"

#include "compiler/ir/Graph.h"

#include <algorithm>
#include <cassert>

namespace kiln {

// Out of line: the body's Graph is complete only here.
Node::Node(Op op, std::string name, Loc loc)
    : op_(op), name_(std::move(name)), loc_(std::move(loc)) {}
Node::~Node() = default;

const TensorType &Value::type() const { return node->type(index); }

std::string Value::name() const {
  if (node->numResults() == 1 && index == 0)
    return node->name();
  return node->name() + ":" + std::to_string(index);
}

namespace {
constexpr std::pair<InitKind, std::string_view> kInitNames[] = {
    {InitKind::Zeros, "zeros"},
    {InitKind::Ones, "ones"},
    {InitKind::Constant, "constant"},
    {InitKind::Uniform, "uniform"},
    {InitKind::Normal, "normal"},
    {InitKind::GlorotUniform, "glorot_uniform"},
    {InitKind::GlorotNormal, "glorot_normal"},
    {InitKind::HeUniform, "he_uniform"},
    {InitKind::HeNormal, "he_normal"},
    {InitKind::Value, "value"},
};
} // namespace

std::string_view initKindName(InitKind k) {
  for (auto &[kind, name] : kInitNames)
    if (kind == k)
      return name;
  return "?";
}

std::optional<InitKind> parseInitKind(std::string_view s) {
  for (auto &[kind, name] : kInitNames)
    if (name == s)
      return kind;
  return std::nullopt;
}

void Node::setOperand(unsigned i, Value v) {
  operands_[i].node->removeUse(Use{this, i});
  operands_[i] = v;
  v.node->addUse(Use{this, i});
}

void Node::removeUse(Use u) {
  auto it = std::find(uses_.begin(), uses_.end(), u);
  assert(it != uses_.end() && "use list out of sync");
  uses_.erase(it);
}

std::optional<AttrValue> Node::attr(const std::string &name) const {
  if (auto it = attrs_.find(name); it != attrs_.end())
    return it->second;
  const AttrSpec *spec = info().findAttr(name);
  assert(spec && "attribute not in this op's schema");
  return spec->defaultValue;
}

template <typename T> static T getAs(const Node &n, const std::string &name) {
  auto v = n.attr(name);
  assert(v && std::holds_alternative<T>(*v) && "attribute missing or of another kind");
  return std::get<T>(*v);
}

int64_t Node::attrInt(const std::string &name) const { return getAs<int64_t>(*this, name); }
double Node::attrFloat(const std::string &name) const { return getAs<double>(*this, name); }
bool Node::attrBool(const std::string &name) const { return getAs<bool>(*this, name); }
std::string Node::attrStr(const std::string &name) const {
  return getAs<std::string>(*this, name);
}
DType Node::attrDType(const std::string &name) const { return getAs<DType>(*this, name); }

std::optional<std::vector<int64_t>> Node::attrInts(const std::string &name) const {
  auto v = attr(name);
  if (!v)
    return std::nullopt;
  return std::get<std::vector<int64_t>>(*v);
}

std::optional<std::vector<double>> Node::attrFloats(const std::string &name) const {
  auto v = attr(name);
  if (!v)
    return std::nullopt;
  return std::get<std::vector<double>>(*v);
}

} // namespace kiln
