// The oneDNN primitive table on its own (runtime/dnnl): results of a hand-written descriptor,
// sharing of equal descriptors, refused descriptors, and run-time faults through the kernel ABI.
#include "kiln/runtime/Parallel.h"
#include "kiln/runtime/dnnl/DnnlTable.h"

#include <gtest/gtest.h>

#include <vector>

namespace kiln::runtime::dnnl {
namespace {

/// C[2x3] = A[2x4] x B[4x3] + bias[3], then relu: as select-dnnl's lowering would describe it.
DnnlOpDesc matmulBiasRelu() {
  DnnlOpDesc d;
  d.kind = DnnlKind::Matmul;
  d.name = "mm";
  d.args = {DnnlTensor{{2, 3}, {3, 1}}, DnnlTensor{{2, 4}, {4, 1}}, DnnlTensor{{4, 3}, {3, 1}},
            DnnlTensor{{1, 3}, {3, 1}}};
  d.hasBias = true;
  d.postOps = {DnnlPostOp{DnnlPostOp::Kind::Relu, 0.0f}};
  return d;
}

TEST(DnnlTable, RunsAMatmulWithBiasAndReluPostOps) {
  auto table = createDnnlTable({matmulBiasRelu()});
  ASSERT_TRUE(table.ok()) << table.message();
  std::vector<float> a{1, 2, 3, 4, -1, -2, -3, -4};
  std::vector<float> b{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
  std::vector<float> bias{0.5f, -100, 1};
  std::vector<float> c(6, -7);
  void *args[] = {c.data(), a.data(), b.data(), bias.data()};
  kiln_dnnl_execute(table->get(), 0, args);
  EXPECT_EQ(takeKernelError(), "");
  // Row 0: [1+4, 2+4, 3+4] + bias = [5.5, -94, 8]; row 1: [-5, -6, -7] + bias, relu'd.
  std::vector<float> want{5.5f, 0, 8, 0, 0, 0};
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_FLOAT_EQ(c[i], want[i]) << i;
}

TEST(DnnlTable, EqualDescriptorsShareOnePrimitive) {
  DnnlOpDesc other = matmulBiasRelu();
  other.name = "mm2"; // names are for messages only
  DnnlOpDesc sigmoid = matmulBiasRelu();
  sigmoid.postOps[0].kind = DnnlPostOp::Kind::Sigmoid;
  EXPECT_EQ(distinctPrimitives({matmulBiasRelu(), other, sigmoid}), 2u);
  EXPECT_EQ(matmulBiasRelu().key(), other.key());
  EXPECT_NE(matmulBiasRelu().key(), sigmoid.key());
}

TEST(DnnlTable, ARefusedDescriptorIsAnErrorNamingTheNode) {
  DnnlOpDesc bad = matmulBiasRelu();
  bad.name = "broken";
  bad.args[2].dims = {5, 3}; // K of the weights disagrees with the source's
  auto table = createDnnlTable({bad});
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.message().find("oneDNN refused node 'broken'"), std::string::npos)
      << table.message();
}

TEST(DnnlTable, AMissingTableOrIndexIsARunTimeErrorNotACrash) {
  std::vector<float> c(6);
  void *args[] = {c.data(), c.data(), c.data(), c.data()};
  kiln_dnnl_execute(nullptr, 3, args);
  EXPECT_NE(takeKernelError().find("without its primitive table (3)"), std::string::npos);
  auto table = createDnnlTable({matmulBiasRelu()});
  ASSERT_TRUE(table.ok()) << table.message();
  kiln_dnnl_execute(table->get(), 7, args);
  EXPECT_NE(takeKernelError().find("primitive 7 does not exist"), std::string::npos);
}

} // namespace
} // namespace kiln::runtime::dnnl
