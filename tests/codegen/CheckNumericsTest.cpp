// --check-numerics on both backends: a run stops at the first NaN or Inf and names the node and
// its location; a failing train step leaves every param and slot as it was, and so does a step
// whose gather meets an index out of range.
#include "compiler/autodiff/TrainGraph.h"
#include "compiler/codegen/Compile.h"
#include "compiler/interp/Interpreter.h"
#include "frontend/json/JsonImporter.h"
#include "tests/common/TensorCompare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace kiln {
namespace {

// y = log(x - 0.5) * w: NaN wherever x < 0.5. Trained with SGD on mse against t.
const char *kModel = R"({
  "format": "kiln-graph", "version": 1, "name": "nan_model",
  "inputs": [{"name": "x", "dtype": "f32", "shape": [4, 3]},
             {"name": "t", "dtype": "f32", "shape": [4, 3]}],
  "params": [{"name": "w", "shape": [3], "init": "ones"}],
  "constants": [{"name": "half", "dtype": "f32", "shape": [], "value": 0.5}],
  "nodes": [
    {"name": "shifted", "op": "sub", "inputs": ["x", "half"]},
    {"name": "lg", "op": "log", "inputs": ["shifted"]},
    {"name": "y", "op": "mul", "inputs": ["lg", "w"]},
    {"name": "loss", "op": "mse", "inputs": ["y", "t"]}
  ],
  "outputs": ["y", "loss"],
  "train": {"loss": "loss", "optimizer": {"kind": "sgd", "lr": 0.1}}
})";

NamedTensors feeds(float x) {
  Tensor xs(DType::F32, {4, 3}), ts(DType::F32, {4, 3});
  for (int64_t i = 0; i < 12; ++i) {
    xs.set(i, double(x) + 0.01 * double(i));
    ts.set(i, 0.25);
  }
  return {{"x", xs}, {"t", ts}};
}

using kiln::test::sameBits;

/// Runs the same checks on the interpreter and on a compiled executable.
template <typename Engine> void expectNumericsChecked(Engine &e, const std::string &backend) {
  SCOPED_TRACE(backend);
  // Fine values: runs and steps work.
  ASSERT_TRUE(e.run(feeds(0.75f)).ok());
  ASSERT_TRUE(e.trainStep("train", feeds(0.75f)).ok());
  NamedTensors before = e.params();
  // x = 0.25: log of a negative number. The error names the log node and its JSON location.
  auto r = e.run(feeds(0.25f));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("model.json:9:5: error: log 'lg' produced NaN at element 0"),
            std::string::npos)
      << r.message();
  auto s = e.trainStep("train", feeds(0.25f));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'lg' produced NaN"), std::string::npos) << s.message();
  EXPECT_TRUE(sameBits(e.params(), before)) << "a failed step must not change the state";
  // x = 0.5 exactly at element 0: log(0) = -Inf.
  auto inf = e.run(feeds(0.5f));
  ASSERT_FALSE(inf.ok());
  EXPECT_NE(inf.message().find("'lg' produced -Inf at element 0"), std::string::npos)
      << inf.message();
}

Graph load() {
  auto g = importJsonText(kModel, "model.json", ".");
  EXPECT_TRUE(g.ok()) << g.message();
  return g.take();
}

TEST(CheckNumerics, InterpreterStopsAtTheFirstNaNAndNamesTheNode) {
  Graph g = load();
  auto training = buildTrainingGraph(g);
  ASSERT_TRUE(training.ok()) << training.message();
  auto interp = Interpreter::create(*training);
  ASSERT_TRUE(interp.ok()) << interp.message();
  interp->setCheckNumerics(true);
  expectNumericsChecked(*interp, "interp");
}

TEST(CheckNumerics, CompiledCodeStopsAtTheFirstNaNAndNamesTheNode) {
  Graph g = load();
  codegen::CompileOptions opts;
  opts.checkNumerics = true;
  auto exe = codegen::compile(g, opts);
  ASSERT_TRUE(exe.ok()) << exe.message();
  expectNumericsChecked(**exe, "llvm");
}

TEST(CheckNumerics, OffByDefaultNaNsFlowThrough) {
  Graph g = load();
  auto exe = codegen::compile(g, codegen::CompileOptions{});
  ASSERT_TRUE(exe.ok()) << exe.message();
  auto r = (*exe)->run(feeds(0.25f));
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(std::isnan((*r)[0].second.at(0)));
}

TEST(CheckNumerics, AStepWithAGatherFaultLeavesTheStateUntouched) {
  const char *model = R"({
    "format": "kiln-graph", "version": 1, "name": "emb",
    "inputs": [{"name": "ids", "dtype": "i32", "shape": [6]},
               {"name": "t", "dtype": "f32", "shape": [6, 4]}],
    "params": [{"name": "table", "shape": [10, 4], "init": "uniform"}],
    "nodes": [{"name": "rows", "op": "gather", "inputs": ["table", "ids"], "attrs": {"axis": 0}},
              {"name": "loss", "op": "mse", "inputs": ["rows", "t"]}],
    "outputs": ["loss"],
    "train": {"loss": "loss", "optimizer": {"kind": "adam", "lr": 0.1}}
  })";
  auto g = importJsonText(model, "emb.json", ".");
  ASSERT_TRUE(g.ok()) << g.message();
  auto exe = codegen::compile(*g, codegen::CompileOptions{});
  ASSERT_TRUE(exe.ok()) << exe.message();
  Tensor ids(DType::I32, {6}), t(DType::F32, {6, 4});
  for (int64_t i = 0; i < 6; ++i)
    ids.set(i, double(i));
  ASSERT_TRUE((*exe)->trainStep("train", {{"ids", ids}, {"t", t}}).ok());
  NamedTensors before = (*exe)->params();
  ids.set(3, 42.0);
  auto s = (*exe)->trainStep("train", {{"ids", ids}, {"t", t}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("index 42 is out of range"), std::string::npos) << s.message();
  EXPECT_TRUE(sameBits((*exe)->params(), before));
}

} // namespace
} // namespace kiln
