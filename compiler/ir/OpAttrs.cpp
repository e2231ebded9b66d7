// Normalised attribute accessors shared by the interpreter, autodiff and later backends.
#include "compiler/ir/OpAttrs.h"

#include <cassert>

namespace kiln {

std::vector<int64_t> transposePerm(const Node &transpose) {
  assert(transpose.op() == Op::Transpose);
  int64_t rank = transpose.operand(0).type().rank();
  std::vector<int64_t> perm;
  if (auto p = transpose.attrInts("perm")) {
    for (int64_t a : *p)
      perm.push_back(*normalizeAxis(a, rank)); // checked by the shape rule
  } else {
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  }
  return perm;
}

} // namespace kiln
