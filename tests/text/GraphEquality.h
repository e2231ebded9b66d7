// Test helper: a structural comparison of two graphs that names the first difference.
#pragma once

#include "compiler/ir/Graph.h"
#include "compiler/ir/Printer.h"

#include <string>

namespace kiln::test {

inline std::string locStr(const Loc &l) {
  return l.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.col) + " " + l.path;
}

inline std::string valueRef(Value v) { return v ? v.name() : std::string("<null>"); }

/// "" when `a` and `b` hold the same graph (names, order, ops, operands, attributes as stored,
/// types, locations, values, inits, outputs, train steps); else what differs first.
inline std::string graphDiff(const Graph &a, const Graph &b) {
  if (a.name() != b.name())
    return "name " + a.name() + " vs " + b.name();
  if (a.seed() != b.seed())
    return "seed";
  if (a.weightsFile() != b.weightsFile())
    return "weights file";
  if (a.nodes().size() != b.nodes().size())
    return "node count " + std::to_string(a.nodes().size()) + " vs " +
           std::to_string(b.nodes().size());
  for (size_t i = 0; i < a.nodes().size(); ++i) {
    const Node &x = *a.nodes()[i], &y = *b.nodes()[i];
    std::string who = "node " + x.name() + ": ";
    if (x.name() != y.name() || x.op() != y.op())
      return who + "name/op differ from " + y.name();
    if (!(x.loc() == y.loc()))
      return who + "loc " + locStr(x.loc()) + " vs " + locStr(y.loc());
    if (x.numOperands() != y.numOperands())
      return who + "operand count";
    for (unsigned k = 0; k < x.numOperands(); ++k)
      if (x.operand(k).name() != y.operand(k).name())
        return who + "operand " + std::to_string(k);
    if (x.attrs() != y.attrs())
      return who + "attributes";
    if (x.resultTypes() != y.resultTypes())
      return who + "result types";
    if (bool(x.value()) != bool(y.value()))
      return who + "value presence";
    if (x.value() && !x.value()->identical(*y.value()))
      return who + "value contents";
    if (!(x.init() == y.init()))
      return who + "init";
    if (x.trainable() != y.trainable())
      return who + "trainable";
  }
  if (a.outputs().size() != b.outputs().size())
    return "output count";
  for (size_t i = 0; i < a.outputs().size(); ++i)
    if (valueRef(a.outputs()[i]) != valueRef(b.outputs()[i]))
      return "output " + std::to_string(i);
  if (a.trainSteps().size() != b.trainSteps().size())
    return "train step count";
  for (size_t i = 0; i < a.trainSteps().size(); ++i) {
    const TrainStep &s = a.trainSteps()[i], &t = b.trainSteps()[i];
    std::string who = "train step " + s.name + ": ";
    if (s.name != t.name || valueRef(s.loss) != valueRef(t.loss))
      return who + "name/loss";
    if (s.params.size() != t.params.size())
      return who + "param count";
    for (size_t k = 0; k < s.params.size(); ++k)
      if (s.params[k]->name() != t.params[k]->name())
        return who + "param " + std::to_string(k);
    if (s.paramsGiven != t.paramsGiven || !(s.optimizer == t.optimizer))
      return who + "paramsGiven/optimizer";
    if (s.l1 != t.l1 || s.l2 != t.l2 || s.hasRegularization != t.hasRegularization)
      return who + "regularization";
    if (s.clipNorm != t.clipNorm || !(s.schedule == t.schedule))
      return who + "clip/schedule";
    if (s.metrics.size() != t.metrics.size())
      return who + "metric count";
    for (size_t k = 0; k < s.metrics.size(); ++k)
      if (valueRef(s.metrics[k]) != valueRef(t.metrics[k]))
        return who + "metric " + std::to_string(k);
    if (!(s.loc == t.loc))
      return who + "loc " + locStr(s.loc) + " vs " + locStr(t.loc);
  }
  return "";
}

} // namespace kiln::test
