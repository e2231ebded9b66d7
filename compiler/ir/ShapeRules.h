// One shape rule per op: the result types of a node from its operand types and attributes.
// Used by Graph::addNode when a node is built and by the verifier to re-check it.
#pragma once

#include "compiler/ir/Attr.h"
#include "compiler/ir/OpInfo.h"
#include "compiler/ir/Types.h"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kiln {

/// What a shape rule found wrong: a message without location, plus what it concerns, so that a
/// frontend can point at the attribute ($.nodes[3].attrs.axis) or the operand ($.nodes[3].inputs[1]).
struct TypeError {
  std::string message;
  std::string attr; ///< the attribute at fault, or empty
  int operand = -1; ///< the operand at fault, or -1
};

/// Infers result types. `attrs` holds every attribute with a value: the stored ones plus the
/// schema defaults of absent ones (optional attributes without default may be absent).
/// Attributes have already been checked against the schema (kinds and
/// enum values), so rules check only semantic constraints (ranks, ranges, compatibility).
/// Arity has been checked too. Source ops are not handled here (their types are declared).
std::optional<std::vector<TensorType>> inferTypes(Op op, std::span<const TensorType> operands,
                                                  const AttrMap &attrs, TypeError &error);

} // namespace kiln
