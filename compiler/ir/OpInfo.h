// Op kinds and their static properties, expanded from Ops.def.
#pragma once

#include "compiler/ir/Attr.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace kiln {

enum class Op : uint16_t {
#define KILN_OP(Name, Mnemonic, MinIn, MaxIn, NumResults, Traits, Attrs) Name,
#include "compiler/ir/Ops.def"
};

/// All ops, in Ops.def order.
std::span<const Op> allOps();

/// Trait flags used in Ops.def.
enum OpTrait : uint32_t {
  kNone = 0,
  kSource = 1u << 0,       ///< input, param, constant: a leaf with a declared type
  kUnary = 1u << 1,        ///< elementwise, one operand, result type = operand type
  kBinary = 1u << 2,       ///< elementwise with broadcasting, same dtypes, result that dtype
  kCompare = 1u << 3,      ///< elementwise with broadcasting, result bool
  kElementwise = 1u << 4,  ///< elementwise (implied by kUnary, kBinary and kCompare)
  kReduction = 1u << 5,    ///< reduces over `axes`
  kCommutative = 1u << 6,  ///< operands may be swapped
  kFloatOnly = 1u << 7,    ///< operands must be f32 or f64
  kAnyDType = 1u << 8,     ///< accepts bool operands too (data movement, cast)
  kNoGrad = 1u << 9,       ///< not differentiable: gradients do not flow through it
  kRandom = 1u << 10,      ///< draws fresh random numbers at every run (never CSE'd or folded)
  kLayer = 1u << 11,       ///< a composition of primitives (expanded by decomposeLayers)
  kLoss = 1u << 12,        ///< a loss or metric: scalar unless reduction is "none"
};

struct OpInfo {
  Op op;
  std::string_view mnemonic;
  int minInputs;
  int maxInputs; ///< -1: variadic
  int numResults;
  uint32_t traits;
  std::vector<AttrSpec> attrs;

  bool has(OpTrait t) const { return (traits & t) != 0; }
  bool isElementwise() const { return has(kElementwise) || has(kUnary) || has(kBinary) || has(kCompare); }
  const AttrSpec *findAttr(std::string_view name) const;
};

const OpInfo &opInfo(Op op);
inline std::string_view opName(Op op) { return opInfo(op).mnemonic; }
/// Looks an op up by its graph-format mnemonic ("conv2d").
std::optional<Op> lookupOp(std::string_view mnemonic);

} // namespace kiln
