// Importing `nodes`: names and ops first, then input references, then a topological order
// (files may list nodes in any order), then each node is built with Graph::addNode, whose
// errors point into the file through the location refiner installed here.
#include "compiler/support/Diagnostic.h"
#include "frontend/json/Importer.h"

#include <limits>

namespace kiln::json {

namespace {

/// One node as read in the first pass.
struct Pending {
  const Json *json;
  std::string name;
  Op op;
  std::string who;                ///< "dense 'out'"
  std::vector<std::string> refs;  ///< input references as written
  std::vector<int> deps;          ///< for each ref: index of the node it names, or -1 (a source)
  std::vector<unsigned> results;  ///< for each ref: the result index
};

/// "$.nodes[12]" -> 12, for the location refiner.
std::optional<size_t> nodeIndexOf(const std::string &path) {
  const std::string prefix = "$.nodes[";
  if (path.rfind(prefix, 0) != 0 || path.back() != ']')
    return std::nullopt;
  size_t index = 0;
  for (size_t i = prefix.size(); i + 1 < path.size(); ++i) {
    char c = path[i];
    if (c < '0' || c > '9' || index > kMaxEntries)
      return std::nullopt;
    index = index * 10 + size_t(c - '0');
  }
  return index;
}

} // namespace

void Importer::installLocRefiner() {
  // Holds the document's text (through locs) so that errors raised later, by passes that run
  // on the imported graph, can still point into the file.
  std::shared_ptr<const JsonLocations> locs = locs_;
  g_.setLocRefiner([locs](const Loc &node, const std::string &attr, int operand) {
    auto index = nodeIndexOf(node.path);
    if (!index || node.file != locs->file()) {
      Loc l = node;
      if (!l.path.empty() && !attr.empty())
        l.path += ".attrs." + attr;
      else if (!l.path.empty() && operand >= 0)
        l.path += ".inputs[" + std::to_string(operand) + "]";
      return l;
    }
    JsonPath p = JsonPath() / "nodes" / *index;
    if (!attr.empty())
      return locs->loc(p / "attrs" / attr);
    if (operand >= 0)
      return locs->loc(p / "inputs" / size_t(operand));
    if (operand == -2)
      return locs->loc(p / "inputs");
    return node;
  });
}

Status Importer::importNodes(const Json &list, const JsonPath &p) {
  KILN_TRY(requireArray(list, p, "", "'nodes'"));
  std::vector<Pending> nodes(list.size());
  std::unordered_map<std::string, int> index;

  // Pass 1: each node's own fields; names are declared so that any order works.
  for (size_t i = 0; i < list.size(); ++i) {
    const Json &e = list[i];
    JsonPath ep = p / i;
    Pending &n = nodes[i];
    n.json = &e;
    KILN_TRY(requireObject(e, ep, "", "a node"));
    KILN_ASSIGN(const Json *nameJ, field(e, ep, "node", "name"));
    KILN_ASSIGN(n.name, getString(*nameJ, ep / "name", "node", "'name'"));
    KILN_TRY(declareName(n.name, ep / "name"));
    std::string named = "node '" + n.name + "'";
    KILN_ASSIGN(const Json *opJ, field(e, ep, named, "op"));
    KILN_ASSIGN(std::string opName, getString(*opJ, ep / "op", named, "'op'"));
    auto op = lookupOp(opName);
    if (!op)
      return err(ep / "op", named, "unknown op '" + opName + "'");
    if (opInfo(*op).has(kSource))
      return err(ep / "op", named,
                 "'" + opName + "' is not an op: declare it in the graph's \"" + opName +
                     "s\" list");
    n.op = *op;
    n.who = opName + " '" + n.name + "'";
    KILN_TRY(checkKeys(e, ep, n.who, {"name", "op", "inputs", "attrs"}));
    if (e.contains("inputs")) {
      const Json &ins = e["inputs"];
      if (!ins.is_array())
        return err(ep / "inputs", n.who, "'inputs' must be a list of names, got " + describe(ins));
      for (size_t k = 0; k < ins.size(); ++k) {
        KILN_ASSIGN(std::string ref, getString(ins[k], ep / "inputs" / k, n.who, "an input"));
        n.refs.push_back(std::move(ref));
      }
    }
    if (e.contains("attrs"))
      KILN_TRY(requireObject(e["attrs"], ep / "attrs", n.who, "'attrs'"));
    index.emplace(n.name, int(i));
  }

  // Pass 2: resolve references to sources (already built) or to other nodes.
  for (size_t i = 0; i < nodes.size(); ++i) {
    Pending &n = nodes[i];
    for (size_t k = 0; k < n.refs.size(); ++k) {
      const std::string &ref = n.refs[k];
      JsonPath rp = p / i / "inputs" / k;
      std::string base = ref;
      unsigned result = 0;
      if (!names_.count(ref)) {
        size_t colon = ref.rfind(':');
        bool digits = colon != std::string::npos && colon + 1 < ref.size() &&
                      ref.size() - colon <= 6 &&
                      ref.find_first_not_of("0123456789", colon + 1) == std::string::npos;
        if (!digits || !names_.count(ref.substr(0, colon)))
          return err(rp, "", "input '" + ref + "' of " + n.who + " is not defined");
        base = ref.substr(0, colon);
        result = unsigned(std::stoul(ref.substr(colon + 1)));
      }
      auto it = index.find(base);
      int dep = it == index.end() ? -1 : it->second;
      unsigned available = dep < 0 ? 1 : unsigned(opInfo(nodes[size_t(dep)].op).numResults);
      if (result >= available)
        return err(rp, "", "input '" + ref + "' of " + n.who + ": '" + base + "' has " +
                               std::to_string(available) +
                               (available == 1 ? " result" : " results"));
      n.deps.push_back(dep);
      n.results.push_back(result);
    }
  }

  // Pass 3: a topological order, by an iterative depth-first search in file order (so a file
  // already in order keeps it, and a million-node chain needs no deep recursion).
  std::vector<int> order;
  order.reserve(nodes.size());
  std::vector<uint8_t> state(nodes.size(), 0); // 0 new, 1 on the stack, 2 done
  std::vector<std::pair<int, size_t>> stack;   // node, next operand to visit
  for (size_t root = 0; root < nodes.size(); ++root) {
    if (state[root])
      continue;
    stack.push_back({int(root), 0});
    state[root] = 1;
    while (!stack.empty()) {
      auto &[cur, next] = stack.back();
      Pending &n = nodes[size_t(cur)];
      if (next == n.deps.size()) {
        state[size_t(cur)] = 2;
        order.push_back(cur);
        stack.pop_back();
        continue;
      }
      int dep = n.deps[next++];
      if (dep < 0 || state[size_t(dep)] == 2)
        continue;
      if (state[size_t(dep)] == 1) {
        // The stack from `dep` to the top is the cycle: each entry takes the next as an input.
        size_t from = 0;
        while (stack[from].first != dep)
          ++from;
        std::string cycle;
        for (size_t s = from; s < stack.size(); ++s)
          cycle += "'" + nodes[size_t(stack[s].first)].name + "' -> ";
        cycle += "'" + nodes[size_t(dep)].name + "'";
        return err(p / size_t(dep), nodes[size_t(dep)].who,
                   "the graph has a cycle: " + cycle + " (each takes the next as an input)");
      }
      state[size_t(dep)] = 1;
      stack.push_back({dep, 0});
    }
  }

  // Pass 4: build.
  for (int i : order) {
    Pending &n = nodes[size_t(i)];
    JsonPath ep = p / size_t(i);
    AttrMap attrs;
    if (n.json->contains("attrs")) {
      KILN_ASSIGN(attrs, importAttrs((*n.json)["attrs"], ep / "attrs", opInfo(n.op), n.who));
    }
    std::vector<Value> operands;
    for (size_t k = 0; k < n.refs.size(); ++k) {
      const std::string &base = n.deps[k] < 0 ? n.refs[k] : nodes[size_t(n.deps[k])].name;
      operands.push_back(Value{g_.find(base), n.results[k]});
    }
    KILN_TRY(g_.addNode(n.op, n.name, std::move(operands), std::move(attrs), loc(ep)).status());
  }
  return Status::ok();
}

Expected<AttrMap> Importer::importAttrs(const Json &attrs, const JsonPath &p, const OpInfo &info,
                                        const std::string &who) {
  AttrMap out;
  for (auto &[key, v] : attrs.items()) {
    JsonPath ap = p / key;
    const AttrSpec *spec = info.findAttr(key);
    if (!spec) {
      std::string known;
      for (auto &a : info.attrs)
        known += (known.empty() ? "" : ", ") + a.name;
      return err(ap, who, "unknown attribute '" + key + "'" +
                              (known.empty() ? " (this op takes none)" : " (expected " + known + ")"));
    }
    // Init-captures, not [&]: clang before 16 cannot capture structured bindings (fuzz build).
    auto wrong = [&, &key = key, &v = v] {
      return err(ap, who, "attribute '" + key + "' must be " + attrKindDescription(*spec) +
                              ", got " + describe(v));
    };
    AttrValue value;
    if (v.is_boolean()) {
      value = v.get<bool>();
    } else if (v.is_number_integer()) {
      if (v.is_number_unsigned() &&
          v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
        return wrong();
      value = v.get<int64_t>();
    } else if (v.is_number_float()) {
      value = v.get<double>();
    } else if (v.is_string()) {
      value = v.get<std::string>();
    } else if (v.is_array()) {
      bool allInts = true;
      for (auto &x : v) {
        if (!x.is_number())
          return wrong();
        allInts = allInts && x.is_number_integer() &&
                  !(x.is_number_unsigned() &&
                    x.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()));
      }
      if (allInts) {
        std::vector<int64_t> ints;
        for (auto &x : v)
          ints.push_back(x.get<int64_t>());
        value = std::move(ints);
      } else {
        std::vector<double> floats;
        for (auto &x : v)
          floats.push_back(x.get<double>());
        value = std::move(floats);
      }
    } else {
      return wrong();
    }
    // Kinds are checked here, where the attribute's own location is known; addNode repeats
    // the check (cheaply) on the converted value.
    if (std::string e = checkAttrValue(*spec, value); !e.empty())
      return err(ap, who, e);
    out.emplace(key, std::move(value));
  }
  return out;
}

} // namespace kiln::json
