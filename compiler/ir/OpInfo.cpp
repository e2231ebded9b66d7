// The op table, built once from Ops.def.
#include "compiler/ir/OpInfo.h"

#include <unordered_map>

namespace kiln {

namespace {

std::vector<OpInfo> buildTable() {
  std::vector<OpInfo> table;
#define KILN_OP(Name, Mnemonic, MinIn, MaxIn, NumResults, Traits, Attrs)                          \
  table.push_back(OpInfo{Op::Name, Mnemonic, MinIn, MaxIn, NumResults, uint32_t(Traits),          \
                         parseAttrSchema(Attrs)});
#include "compiler/ir/Ops.def"
  return table;
}

const std::vector<OpInfo> &table() {
  static const std::vector<OpInfo> t = buildTable();
  return t;
}

constexpr Op kAllOps[] = {
#define KILN_OP(Name, Mnemonic, MinIn, MaxIn, NumResults, Traits, Attrs) Op::Name,
#include "compiler/ir/Ops.def"
};

} // namespace

std::span<const Op> allOps() { return kAllOps; }

const OpInfo &opInfo(Op op) { return table()[size_t(op)]; }

const AttrSpec *OpInfo::findAttr(std::string_view name) const {
  for (auto &a : attrs)
    if (a.name == name)
      return &a;
  return nullptr;
}

std::optional<Op> lookupOp(std::string_view mnemonic) {
  static const std::unordered_map<std::string_view, Op> byName = [] {
    std::unordered_map<std::string_view, Op> m;
    for (auto &info : table())
      m.emplace(info.mnemonic, info.op);
    return m;
  }();
  auto it = byName.find(mnemonic);
  if (it == byName.end())
    return std::nullopt;
  return it->second;
}

} // namespace kiln
