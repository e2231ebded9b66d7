// A run-time fault in generated code (a gather index out of range) is an error naming the node,
// as on the interpreter, never silent zeros or a wild read.
#include "compiler/codegen/Compile.h"
#include "compiler/interp/Interpreter.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

Graph gatherGraph() {
  Graph g("emb");
  Node *table = *g.addInput("table", TensorType{DType::F32, {4, 2}}, Loc{"emb.json", 3, 5, "$.inputs[0]"});
  Node *idx = *g.addInput("idx", TensorType{DType::I32, {3}}, Loc{"emb.json", 4, 5, "$.inputs[1]"});
  Node *out = *g.addNode(Op::Gather, "rows", {table->result(), idx->result()}, {},
                         Loc{"emb.json", 9, 5, "$.nodes[0]"});
  g.addOutput(out->result());
  return g;
}

TEST(RunTimeFault, GatherOutOfRangeIsAnErrorOnBothBackends) {
  Graph g = gatherGraph();
  NamedTensors feeds{{"table", Tensor::fromF32({4, 2}, std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7})},
                     {"idx", Tensor::fromI32({3}, std::vector<int32_t>{1, 7, 0})}};
  auto interp = Interpreter::create(g);
  ASSERT_TRUE(interp.ok()) << interp.message();
  auto want = interp->run(feeds);
  ASSERT_FALSE(want.ok());

  auto exe = codegen::compile(g);
  ASSERT_TRUE(exe.ok()) << exe.message();
  auto got = (*exe)->run(feeds);
  ASSERT_FALSE(got.ok()) << "an out-of-range index must not run silently";
  EXPECT_EQ(got.message(), want.message());
  EXPECT_NE(got.message().find("emb.json:9:5"), std::string::npos) << got.message();

  // The fault does not stick: a good run afterwards succeeds and gives the right rows.
  feeds[1].second = Tensor::fromI32({3}, std::vector<int32_t>{3, 0, 2});
  auto ok = (*exe)->run(feeds);
  ASSERT_TRUE(ok.ok()) << ok.message();
  EXPECT_EQ((*ok)[0].second.toDoubles(), (std::vector<double>{6, 7, 0, 1, 4, 5}));
}

} // namespace
} // namespace kiln
