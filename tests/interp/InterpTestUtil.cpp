// Helpers for the interpreter tests (see InterpTestUtil.h).
#include "InterpTestUtil.h"

#include <cmath>

namespace kiln::test {

Tensor tensorOf(DType dt, Shape shape, std::vector<double> values) {
  Tensor t(dt, std::move(shape));
  EXPECT_EQ(int64_t(values.size()), t.numElements()) << "test data of the wrong size";
  for (int64_t i = 0; i < t.numElements() && i < int64_t(values.size()); ++i)
    t.set(i, values[size_t(i)]);
  return t;
}

Expected<Tensor> runOp(Op op, std::vector<Tensor> inputs, AttrMap attrs, const EvalContext &ctx,
                       const std::string &name) {
  Graph g("t");
  std::vector<Value> operands;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto in = g.addInput("x" + std::to_string(i), TensorType{inputs[i].dtype(), inputs[i].shape()});
    if (!in)
      return in.status();
    operands.push_back((*in)->result());
  }
  auto node = g.addNode(op, name, operands, std::move(attrs));
  if (!node)
    return Status::error("building the graph failed: " + node.message());
  KILN_ASSIGN(auto results, evalOp(**node, inputs, ctx));
  if (results.size() != 1)
    return Status::error("expected one result");
  return std::move(results[0]);
}

Tensor evalOk(Op op, std::vector<Tensor> inputs, AttrMap attrs, const EvalContext &ctx) {
  auto r = runOp(op, std::move(inputs), std::move(attrs), ctx);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.message());
  return r.ok() ? r.take() : Tensor();
}

void expectTensor(const Tensor &t, DType dt, const Shape &shape,
                  const std::vector<double> &expected, double tolerance) {
  ASSERT_EQ(dtypeName(t.dtype()), dtypeName(dt));
  ASSERT_EQ(shapeToString(t.shape()), shapeToString(shape));
  ASSERT_EQ(size_t(t.numElements()), expected.size());
  if (tolerance < 0)
    tolerance = dt == DType::F32 ? 1e-5 : dt == DType::F64 ? 1e-12 : 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    double got = t.at(int64_t(i)), want = expected[i];
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << "element " << i;
      continue;
    }
    EXPECT_NEAR(got, want, tolerance * std::max(1.0, std::fabs(want))) << "element " << i;
  }
}

std::set<Op> &coveredOps() {
  static std::set<Op> ops;
  return ops;
}

} // namespace kiln::test
