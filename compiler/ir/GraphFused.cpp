// Graph::addFused: builds a fusion group, a node whose body is a small graph of its parts.
#include "compiler/ir/Graph.h"

#include "compiler/ir/Verifier.h"
#include "compiler/support/Diagnostic.h"

namespace kiln {

Expected<Node *> Graph::addFused(const std::string &name, std::vector<Value> operands,
                                 std::unique_ptr<Graph> body, AttrMap attrs, Loc loc) {
  const OpInfo &info = opInfo(Op::Fused);
  std::string who = "fused '" + name + "'";
  if (operands.empty())
    return errorAt(loc, who + ": expects at least 1 input, got 0");
  for (size_t i = 0; i < operands.size(); ++i)
    if (!operands[i])
      return errorAt(loc, who + ": input " + std::to_string(i) + " is undefined");
  if (!body)
    return errorAt(loc, who + ": has no body");
  for (auto &[key, value] : attrs) {
    const AttrSpec *spec = info.findAttr(key);
    if (!spec)
      return errorAt(refineLoc(loc, key, -1),
                     who + ": unknown attribute '" + key + "' (expected kind)");
    if (std::string e = checkAttrValue(*spec, value); !e.empty())
      return errorAt(refineLoc(loc, key, -1), who + ": " + e);
  }
  std::vector<TensorType> operandTypes;
  for (const Value &v : operands)
    operandTypes.push_back(v.type());
  KILN_TRY(checkFusedBody(*body, operandTypes, loc, who));

  auto node = std::unique_ptr<Node>(new Node(Op::Fused, name, std::move(loc)));
  node->attrs_ = std::move(attrs);
  for (const Value &v : body->outputs())
    node->results_.push_back(v.type());
  node->body_ = std::move(body);
  KILN_ASSIGN(Node * raw, insert(std::move(node)));
  raw->operands_ = std::move(operands);
  for (unsigned i = 0; i < raw->operands_.size(); ++i)
    raw->operands_[i].node->addUse(Use{raw, i});
  return raw;
}

} // namespace kiln
