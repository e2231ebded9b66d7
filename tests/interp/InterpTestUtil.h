// Helpers for the interpreter tests: tensors from doubles, one-op graphs, value checks, and the
// registry that proves every primitive op has a hand-checked case.
#pragma once

#include "compiler/interp/Interpreter.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <set>
#include <vector>

namespace kiln::test {

inline constexpr DType kFloatTypes[] = {DType::F32, DType::F64};

/// A tensor of `dt` holding `values` (converted from double).
Tensor tensorOf(DType dt, Shape shape, std::vector<double> values);

/// Builds a graph whose inputs have the types of `inputs`, adds one `op` node named `name`
/// and evaluates it with evalOp. Graph building errors fail the test.
Expected<Tensor> runOp(Op op, std::vector<Tensor> inputs, AttrMap attrs = {},
                       const EvalContext &ctx = {}, const std::string &name = "n");

/// Like runOp, but the op must succeed; returns its result.
Tensor evalOk(Op op, std::vector<Tensor> inputs, AttrMap attrs = {}, const EvalContext &ctx = {});

/// Expects dtype, shape and values; tolerance by default 1e-5 relative for f32, 1e-12 for f64,
/// exact for integers and bool.
void expectTensor(const Tensor &t, DType dt, const Shape &shape,
                  const std::vector<double> &expected, double tolerance = -1);

/// Ops that have a test case (filled at static-initialisation time by OP_TEST).
std::set<Op> &coveredOps();
inline bool registerOpCase(Op op) {
  coveredOps().insert(op);
  return true;
}

} // namespace kiln::test

/// A test of one primitive op; also records that the op has a case (see CoverageTest).
#define OP_TEST(OpName, CaseName)                                                                  \
  [[maybe_unused]] static const bool kiln_op_case_##OpName##_##CaseName =                          \
      ::kiln::test::registerOpCase(::kiln::Op::OpName);                                            \
  TEST(OpName, CaseName)
