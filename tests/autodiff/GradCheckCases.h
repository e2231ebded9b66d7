// The gradient-check samples: for every non-source op of Ops.def, operand types, attributes and a
// value range per operand, or an explicit "not differentiable" entry.
#pragma once

#include "compiler/ir/Attr.h"
#include "compiler/ir/OpInfo.h"
#include "compiler/ir/Types.h"

#include <string>
#include <vector>

namespace kiln::test {

/// One operand of a sample, fed from a uniform draw in [lo, hi). Integer operands draw whole
/// numbers in [lo, hi); bool operands draw true or false.
struct OperandSpec {
  TensorType type;
  double lo = -1, hi = 1;
  /// Draw |v| in [lo, hi) with a random sign: keeps values off a kink at 0 (relu, abs).
  bool awayFromZero = false;
};

/// How a sample is checked.
enum class GradCheck {
  Numeric,           ///< analytic gradient against central differences, in f64
  NotDifferentiable, ///< differentiate must give zero constants for every operand
  DropoutMask,       ///< dx == dy * mask / (1 - rate), mask recovered from the forward output
};

struct GradSample {
  Op op;
  std::string label; ///< tells several samples of one op apart ("nchw_groups")
  std::vector<OperandSpec> operands;
  AttrMap attrs;
  GradCheck check = GradCheck::Numeric;
};

/// Every sample, several per op where attributes change the rule (layouts, transposes, axes).
const std::vector<GradSample> &gradSamples();

/// "conv2d/nchw_groups".
std::string sampleName(const GradSample &s);

} // namespace kiln::test
