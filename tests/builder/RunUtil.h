// Test helpers of kiln_builder_tests: finish a builder graph and run it with the interpreter.
#pragma once

#include "frontend/builder/Builder.h"

#include "compiler/interp/Interpreter.h"

#include <gtest/gtest.h>

namespace kiln::builder::testing {

inline kiln::Tensor f64(Shape shape, std::vector<double> values) {
  return kiln::Tensor::fromF64(std::move(shape), values);
}
inline kiln::Tensor f32(Shape shape, std::vector<float> values) {
  return kiln::Tensor::fromF32(std::move(shape), values);
}

/// Outputs `outs`, finishes `g` and runs it on `feeds` (decomposition happens in the
/// interpreter). Records a test failure and returns nothing on any error.
inline std::vector<kiln::Tensor> runGraph(GraphBuilder &g, const std::vector<Tensor> &outs,
                                          const NamedTensors &feeds) {
  for (const Tensor &t : outs)
    g.output(t);
  auto graph = g.finish();
  if (!graph.ok()) {
    ADD_FAILURE() << graph.message();
    return {};
  }
  auto interp = Interpreter::create(*graph);
  if (!interp.ok()) {
    ADD_FAILURE() << interp.message();
    return {};
  }
  auto results = interp->run(feeds);
  if (!results.ok()) {
    ADD_FAILURE() << results.message();
    return {};
  }
  std::vector<kiln::Tensor> out;
  for (auto &[name, t] : *results)
    out.push_back(std::move(t));
  return out;
}

/// Element-wise comparison with a relative-and-absolute tolerance.
inline void expectNear(const kiln::Tensor &t, const std::vector<double> &expected,
                       double tol = 1e-12) {
  std::vector<double> got = t.toDoubles();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], expected[i], tol * (1 + std::abs(expected[i]))) << "element " << i;
}

} // namespace kiln::builder::testing
