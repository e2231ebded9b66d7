// Graphviz DOT rendering of a graph: sources and ops styled by kind, outputs and losses outlined.
#include "compiler/ir/Dot.h"

#include <set>
#include <unordered_map>

namespace kiln {

std::string dotEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
      out += c;
    }
    // Other control bytes have no meaning in a label; dropping them keeps the file valid.
  }
  return out;
}

namespace {

std::string typesText(const Node &n) {
  std::string s;
  for (unsigned i = 0; i < n.numResults(); ++i)
    s += (i ? ", " : "") + n.type(i).str();
  return s;
}

/// Fill colour and shape by what the node is: data flows in from inputs (blue), state from
/// params (green), fixed values from constants (grey); losses are orange, layers lilac.
std::string nodeStyle(const Node &n) {
  if (n.isInput())
    return "shape=box, style=\"rounded,filled\", fillcolor=\"#cfe2ff\"";
  if (n.isParam())
    return n.trainable() ? "shape=box, style=\"rounded,filled\", fillcolor=\"#d1f0d1\""
                         : "shape=box, style=\"rounded,filled,dashed\", fillcolor=\"#e8f5e8\"";
  if (n.isConstant())
    return "shape=box, style=\"rounded,filled\", fillcolor=\"#e6e6e6\"";
  if (n.info().has(kLoss))
    return "shape=box, style=filled, fillcolor=\"#ffe0b3\"";
  if (n.info().has(kLayer))
    return "shape=box, style=filled, fillcolor=\"#e8dcf5\"";
  if (n.body())
    return "shape=box, style=filled, fillcolor=\"#fff3c4\"";
  return "shape=box, style=filled, fillcolor=\"#ffffff\"";
}

std::string_view kindName(const Node &n) {
  if (n.isInput())
    return "input";
  if (n.isParam())
    return n.trainable() ? "param" : "param (frozen)";
  if (n.isConstant())
    return "const";
  return n.info().mnemonic;
}

} // namespace

std::string writeDot(const Graph &g) {
  std::unordered_map<const Node *, std::string> ids;
  for (size_t i = 0; i < g.nodes().size(); ++i)
    ids[g.nodes()[i].get()] = "n" + std::to_string(i);

  std::set<const Node *> outputs, losses;
  for (Value v : g.outputs())
    outputs.insert(v.node);
  for (auto &s : g.trainSteps())
    if (s.loss)
      losses.insert(s.loss.node);

  std::string out = "digraph \"" + dotEscape(g.name()) + "\" {\n";
  out += "  rankdir=TB;\n";
  out += "  node [fontname=\"Helvetica\", fontsize=10];\n";
  out += "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  out += "  label=\"" + dotEscape(g.name()) + "\"; labelloc=t;\n";
  for (auto &np : g.nodes()) {
    const Node &n = *np;
    std::string label = n.name() + "\n" + std::string(kindName(n)) + "\n" + typesText(n);
    // A fusion group is one kernel: one box whose label lists the ops of its body in order.
    if (n.body()) {
      label = n.name() + "\nfused " + n.attrStr("kind") + ":";
      for (auto &part : n.body()->nodes())
        if (!part->isInput())
          label += "\n  " + std::string(kindName(*part)) + " " + part->name();
      label += "\n" + typesText(n);
    }
    std::string style = nodeStyle(n);
    // Outputs get a thick blue border, train-step losses a thick red one (red wins if both).
    if (losses.count(&n))
      style += ", penwidth=3, color=\"#c62828\"";
    else if (outputs.count(&n))
      style += ", penwidth=3, color=\"#1565c0\"";
    out += "  " + ids[&n] + " [label=\"" + dotEscape(label) + "\", " + style + "];\n";
  }
  for (auto &np : g.nodes()) {
    const Node &n = *np;
    for (unsigned i = 0; i < n.numOperands(); ++i) {
      Value v = n.operand(i);
      out += "  " + ids[v.node] + " -> " + ids[&n];
      std::string label;
      if (n.numOperands() > 1)
        label = std::to_string(i);
      if (v.node->numResults() > 1)
        label = (label.empty() ? "" : label + " ") + "(result " + std::to_string(v.index) + ")";
      if (!label.empty())
        out += " [label=\"" + dotEscape(label) + "\"]";
      out += ";\n";
    }
  }
  for (auto &s : g.trainSteps()) {
    if (!s.loss)
      continue;
    std::string id = "train_" + std::to_string(&s - g.trainSteps().data());
    out += "  " + id + " [label=\"" +
           dotEscape("train " + s.name + "\n" + std::string(optimizerKindName(s.optimizer.kind))) +
           "\", shape=octagon, style=filled, fillcolor=\"#ffcdd2\"];\n";
    out += "  " + ids[s.loss.node] + " -> " + id + " [style=dashed, label=\"loss\"];\n";
  }
  return out + "}\n";
}

} // namespace kiln
