// Slices of one shape and stride share a kernel (ProgramBuilder's kernelKey): the entry moves
// each slice's operand so that the shared kernel's origin lands on its own first element.
#include "compiler/codegen/Compile.h"
#include "compiler/interp/Interpreter.h"
#include "frontend/json/JsonImporter.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(SliceSharing, SlicesAtDifferentOriginsShareOneKernelAndReadTheirOwnElements) {
  // Three 3x3 windows of a 6x5 input, one with negative begins, and a strided one of another
  // shape (its own kernel). Outputs only: no fusion, every slice is a top-level kernel.
  const char *model = R"({
    "format": "kiln-graph", "version": 1, "name": "windows",
    "inputs": [{"name": "x", "dtype": "f32", "shape": [6, 5]}],
    "nodes": [
      {"name": "a", "op": "slice", "inputs": ["x"], "attrs": {"begin": [0, 1], "end": [3, 4]}},
      {"name": "b", "op": "slice", "inputs": ["x"], "attrs": {"begin": [3, 2], "end": [6, 5]}},
      {"name": "c", "op": "slice", "inputs": ["x"], "attrs": {"begin": [-4, -5], "end": [5, 3]}},
      {"name": "d", "op": "slice", "inputs": ["x"], "attrs": {"begin": [1, 0], "end": [6, 5], "strides": [2, 2]}}
    ],
    "outputs": ["a", "b", "c", "d"]
  })";
  auto g = importJsonText(model, "windows.json", ".");
  ASSERT_TRUE(g.ok()) << g.message();
  codegen::CompileDumps dumps;
  codegen::CompileOptions opts;
  opts.dumps = &dumps;
  opts.dumpKernels = true;
  auto exe = codegen::compile(*g, opts);
  ASSERT_TRUE(exe.ok()) << exe.message();
  EXPECT_NE(dumps.kernels.find("slice 'b' (shared)"), std::string::npos) << dumps.kernels;
  EXPECT_NE(dumps.kernels.find("slice 'c' (shared)"), std::string::npos) << dumps.kernels;
  EXPECT_EQ(dumps.kernels.find("slice 'd' (shared)"), std::string::npos) << dumps.kernels;

  Tensor x(DType::F32, {6, 5});
  for (int64_t i = 0; i < x.numElements(); ++i)
    x.set(i, double(i));
  auto interp = Interpreter::create(*g);
  ASSERT_TRUE(interp.ok()) << interp.message();
  auto want = interp->run({{"x", x}});
  auto got = (*exe)->run({{"x", x}});
  ASSERT_TRUE(want.ok()) << want.message();
  ASSERT_TRUE(got.ok()) << got.message();
  ASSERT_EQ(got->size(), 4u);
  for (size_t k = 0; k < 4; ++k)
    for (int64_t i = 0; i < (*want)[k].second.numElements(); ++i)
      EXPECT_EQ((*got)[k].second.at(i), (*want)[k].second.at(i)) << (*want)[k].first << "[" << i << "]";
  // Spot values: b starts at x[3][2] = 17, c at x[2][0] = 10.
  EXPECT_EQ((*got)[1].second.at(0), 17.0);
  EXPECT_EQ((*got)[2].second.at(0), 10.0);
}

} // namespace
} // namespace kiln
