// Slices of one shape and stride share a kernel (ProgramBuilder's kernelKey): the entry moves
// each slice's operand so that the shared kernel's origin lands on its own first element. Loop
// groups that read their inputs through slices (FusePass) share kernels the same way, and a
// concat root writes its pieces in place.
#include "compiler/codegen/Compile.h"
#include "compiler/interp/Interpreter.h"
#include "frontend/json/JsonImporter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

namespace kiln {
namespace {

/// A graph compiled with its kernel listing (which kernels are shared).
struct Compiled {
  std::unique_ptr<Graph> graph;
  std::unique_ptr<Executable> exe;
  std::string kernels;
};

Compiled compileListing(const char *model, const std::string &file) {
  auto g = importJsonText(model, file, ".");
  EXPECT_TRUE(g.ok()) << g.message();
  if (!g.ok())
    return {};
  codegen::CompileDumps dumps;
  codegen::CompileOptions opts;
  opts.dumps = &dumps;
  opts.dumpKernels = true;
  auto exe = codegen::compile(*g, opts);
  EXPECT_TRUE(exe.ok()) << exe.message();
  if (!exe.ok())
    return {};
  return {std::make_unique<Graph>(std::move(*g)), std::move(*exe), dumps.kernels};
}

/// Runs `g` compiled and interpreted on input `x` and expects every output equal, element for
/// element (these kernels compute the interpreter's values bit for bit); returns the outputs.
NamedTensors expectSameAsInterpreter(const Graph &g, Executable &exe, const Tensor &x) {
  auto interp = Interpreter::create(g);
  EXPECT_TRUE(interp.ok()) << interp.message();
  if (!interp.ok())
    return {};
  auto want = interp->run({{"x", x}});
  auto got = exe.run({{"x", x}});
  EXPECT_TRUE(want.ok()) << want.message();
  EXPECT_TRUE(got.ok()) << got.message();
  if (!want.ok() || !got.ok())
    return {};
  EXPECT_EQ(got->size(), want->size());
  for (size_t k = 0; k < want->size() && k < got->size(); ++k)
    for (int64_t i = 0; i < (*want)[k].second.numElements(); ++i) {
      EXPECT_EQ((*got)[k].second.at(i), (*want)[k].second.at(i))
          << (*want)[k].first << "[" << i << "]";
      if ((*got)[k].second.at(i) != (*want)[k].second.at(i))
        return {};
    }
  return std::move(*got);
}

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
  Compiled c = compileListing(model, "windows.json");
  ASSERT_TRUE(c.exe);
  EXPECT_NE(c.kernels.find("slice 'b' (shared)"), std::string::npos) << c.kernels;
  EXPECT_NE(c.kernels.find("slice 'c' (shared)"), std::string::npos) << c.kernels;
  EXPECT_EQ(c.kernels.find("slice 'd' (shared)"), std::string::npos) << c.kernels;

  Tensor x(DType::F32, {6, 5});
  for (int64_t i = 0; i < x.numElements(); ++i)
    x.set(i, double(i));
  NamedTensors got = expectSameAsInterpreter(*c.graph, *c.exe, x);
  ASSERT_EQ(got.size(), 4u);
  // Spot values: b starts at x[3][2] = 17, c at x[2][0] = 10.
  EXPECT_EQ(got[1].second.at(0), 17.0);
  EXPECT_EQ(got[2].second.at(0), 10.0);
}

TEST(SliceSharing, LoopGroupsReadingSlicesShareOneKernelAndConcatRootsWriteInPlace) {
  // Steps s0..s2 each read two column blocks of x (one strided) and a broadcast bias; the
  // groups of s1 and s2 differ only in where the blocks start, so they share one kernel.
  // 'pieces' is a concat root whose group computes two pieces (from s0, which joins it with
  // its slices) and reads the third, s1, from outside.
  const char *model = R"({
    "format": "kiln-graph", "version": 1, "name": "steps",
    "inputs": [{"name": "x", "dtype": "f32", "shape": [5, 36]}],
    "params": [{"name": "bias", "shape": [4], "init": "uniform"}],
    "nodes": [
      {"name": "a0", "op": "slice", "inputs": ["x"], "attrs": {"begin": [0, 0], "end": [5, 4]}},
      {"name": "b0", "op": "slice", "inputs": ["x"], "attrs": {"begin": [0, 4], "end": [5, 12], "strides": [1, 2]}},
      {"name": "a1", "op": "slice", "inputs": ["x"], "attrs": {"begin": [0, 12], "end": [5, 16]}},
      {"name": "b1", "op": "slice", "inputs": ["x"], "attrs": {"begin": [0, 16], "end": [5, 24], "strides": [1, 2]}},
      {"name": "a2", "op": "slice", "inputs": ["x"], "attrs": {"begin": [0, 24], "end": [5, 28]}},
      {"name": "b2", "op": "slice", "inputs": ["x"], "attrs": {"begin": [0, 28], "end": [5, 36], "strides": [1, 2]}},
      {"name": "u0", "op": "sigmoid", "inputs": ["a0"]},
      {"name": "v0", "op": "add", "inputs": ["b0", "bias"]},
      {"name": "s0", "op": "mul", "inputs": ["u0", "v0"]},
      {"name": "u1", "op": "sigmoid", "inputs": ["a1"]},
      {"name": "v1", "op": "add", "inputs": ["b1", "bias"]},
      {"name": "s1", "op": "mul", "inputs": ["u1", "v1"]},
      {"name": "u2", "op": "sigmoid", "inputs": ["a2"]},
      {"name": "v2", "op": "add", "inputs": ["b2", "bias"]},
      {"name": "s2", "op": "mul", "inputs": ["u2", "v2"]},
      {"name": "e", "op": "exp", "inputs": ["s0"]},
      {"name": "n", "op": "neg", "inputs": ["s0"]},
      {"name": "pieces", "op": "concat", "inputs": ["e", "s1", "n"], "attrs": {"axis": 1}}
    ],
    "outputs": ["s1", "s2", "pieces"]
  })";
  Compiled c = compileListing(model, "steps.json");
  ASSERT_TRUE(c.exe);
  EXPECT_NE(c.kernels.find("kiln_k0_fused: fused 's1' [slice, slice, sigmoid, add, mul]\n"),
            std::string::npos)
      << c.kernels;
  EXPECT_NE(c.kernels.find("kiln_k0_fused: fused 's2' [slice, slice, sigmoid, add, mul] (shared)"),
            std::string::npos)
      << c.kernels;
  EXPECT_NE(c.kernels.find("fused 'pieces' [slice, slice, sigmoid, add, mul, exp, neg, concat]"), std::string::npos)
      << c.kernels;
  Tensor x(DType::F32, {5, 36});
  for (int64_t i = 0; i < x.numElements(); ++i)
    x.set(i, std::sin(double(i)));
  EXPECT_EQ(expectSameAsInterpreter(*c.graph, *c.exe, x).size(), 3u);
}

} // namespace
} // namespace kiln
