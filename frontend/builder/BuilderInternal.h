// Internal state shared by the builder's source files: the graph, the first error, name counters.
#pragma once

#include "frontend/builder/Builder.h"

#include <map>

namespace kiln::builder {

/// The caller's position as a Loc (file name without directories, line, column).
Loc toLoc(const SrcLoc &loc);

struct BuilderState {
  explicit BuilderState(std::string name) : graph(std::move(name)) {}

  Graph graph;
  Status error;
  std::map<std::string, int, std::less<>> counters;
  bool finished = false;

  bool ok() const { return error.isOk() && !finished; }
  /// Keeps the first error only: later ones are usually consequences of it.
  void fail(Status s) {
    if (error.isOk())
      error = std::move(s);
  }
  /// "<base>_<n>", made unique.
  std::string autoName(std::string_view base);
  Tensor wrap(Value v) { return Tensor(this, v); }
  /// Adds an op node named "<op>_<n>"; records and returns invalid on error.
  Tensor make(Op op, const std::vector<Tensor> &operands, AttrMap attrs, const SrcLoc &loc);
  /// An auto-named scalar constant.
  Tensor scalar(double value, DType dtype, const SrcLoc &loc);
};

/// The state the operands share, or null if none is usable (no builder, or an error was
/// recorded already). Records an error for an undefined operand or for a mix of builders.
BuilderState *stateOf(std::string_view op, const std::vector<Tensor> &operands, const SrcLoc &loc);

/// Builds an op from tensor operands (the builder comes from them).
Tensor build(Op op, const std::vector<Tensor> &operands, AttrMap attrs, const SrcLoc &loc);

/// Stores an attribute unless it equals the schema default, so that built graphs match files
/// that leave defaults out.
void setAttr(AttrMap &attrs, Op op, const std::string &name, AttrValue value);

} // namespace kiln::builder
