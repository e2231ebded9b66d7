// Table-driven tests of every op's shape rule, run through Graph::addNode as users build nodes.
#include "ShapeRuleCases.h"

#include "compiler/ir/Graph.h"
#include "compiler/ir/ShapeRules.h"

#include <gtest/gtest.h>

#include <map>

namespace kiln::test {
namespace {

std::vector<RuleCase> allCases() {
  std::vector<RuleCase> cases = primitiveCases();
  for (auto &c : compositeCases())
    cases.push_back(std::move(c));
  for (auto &c : gradKernelCases())
    cases.push_back(std::move(c));
  return cases;
}

std::string describe(const RuleCase &c) {
  std::string s = std::string(opName(c.op)) + "(";
  for (size_t i = 0; i < c.operands.size(); ++i)
    s += (i ? ", " : "") + c.operands[i].str();
  s += ")";
  for (auto &[k, v] : c.attrs)
    s += " " + k + "=" + attrValueToString(v);
  return s;
}

/// Builds the case's node in a fresh graph whose inputs have the operand types. The node's
/// location has JSON path "$.n", so the error shows what the rule blamed (".attrs.x",
/// ".inputs[i]").
Expected<Node *> build(Graph &g, const RuleCase &c) {
  std::vector<Value> operands;
  for (size_t i = 0; i < c.operands.size(); ++i) {
    auto in = g.addInput("in" + std::to_string(i), c.operands[i]);
    if (!in)
      return in.status();
    operands.push_back((*in)->result());
  }
  return g.addNode(c.op, "n", std::move(operands), c.attrs, Loc{"t.json", 1, 2, "$.n"});
}

TEST(ShapeRules, TableCases) {
  for (const RuleCase &c : allCases()) {
    SCOPED_TRACE(describe(c));
    Graph g("cases");
    auto node = build(g, c);
    if (c.valid) {
      ASSERT_TRUE(node.ok()) << node.message();
      ASSERT_EQ((*node)->numResults(), 1u);
      EXPECT_EQ((*node)->type().str(), c.result.str());
      continue;
    }
    ASSERT_FALSE(node.ok()) << "accepted with type " << (*node)->type().str();
    const std::string &msg = node.message();
    EXPECT_NE(msg.find(c.error), std::string::npos) << msg;
    std::string prefix = "t.json:1:2: error: " + std::string(opName(c.op)) + " 'n': ";
    EXPECT_EQ(msg.rfind(prefix, 0), 0u) << msg;
    std::string suffix = " ($.n" + c.at + ")";
    EXPECT_TRUE(msg.size() >= suffix.size() &&
                msg.compare(msg.size() - suffix.size(), suffix.size(), suffix) == 0)
        << msg << "\nexpected to end with " << suffix;
  }
}

// Adding a row to Ops.def without samples fails here.
TEST(ShapeRules, EveryOpHasValidAndInvalidSamples) {
  std::map<Op, std::pair<int, int>> counts;
  for (const RuleCase &c : allCases())
    (c.valid ? counts[c.op].first : counts[c.op].second)++;
  for (Op op : allOps()) {
    // A fused node has no shape rule (its body gives its types): tests/text/FusedTextTest.cpp.
    if (opInfo(op).has(kSource) || op == Op::Fused)
      continue;
    EXPECT_GE(counts[op].first, 1) << opName(op) << " has no valid shape-rule sample";
    EXPECT_GE(counts[op].second, 1) << opName(op) << " has no invalid shape-rule sample";
  }
}

// The rules can be called directly too (the verifier does), with the TypeError fields set.
TEST(ShapeRules, DirectCallReportsAttrAndOperand) {
  AttrMap attrs{{"axis", int64_t(5)}};
  std::vector<TensorType> in{f32({2, 3})};
  TypeError err;
  EXPECT_FALSE(inferTypes(Op::Softmax, in, attrs, err));
  EXPECT_EQ(err.message, "axis 5 is out of range for rank 2");
  EXPECT_EQ(err.attr, "axis");
  EXPECT_EQ(err.operand, -1);

  std::vector<TensorType> conv{f32({1, 5, 5, 3}), f32({3, 3, 1, 8})};
  AttrMap convAttrs{{"strides", std::vector<int64_t>{1, 1}},
                    {"dilations", std::vector<int64_t>{1, 1}},
                    {"padding", std::string("valid")},
                    {"groups", int64_t(1)},
                    {"data_format", std::string("NHWC")}};
  TypeError convErr;
  EXPECT_FALSE(inferTypes(Op::Conv2D, conv, convAttrs, convErr));
  EXPECT_EQ(convErr.message, "input channels 3 do not match filter channels 1");
  EXPECT_EQ(convErr.operand, 1);
  EXPECT_TRUE(convErr.attr.empty());
}

// "same" padding follows TensorFlow: out = ceil(in / stride) for every input size.
TEST(ShapeRules, SamePaddingMatchesCeilDivision) {
  for (int64_t in = 1; in <= 9; ++in)
    for (int64_t stride = 1; stride <= 4; ++stride) {
      Graph g("same");
      auto x = g.addInput("x", f32({1, in, in, 1}));
      auto w = g.addInput("w", f32({3, 3, 1, 1}));
      ASSERT_TRUE(x.ok() && w.ok());
      auto n = g.addNode(Op::Conv2D, "c", {(*x)->result(), (*w)->result()},
                         {{"padding", std::string("same")},
                          {"strides", std::vector<int64_t>{stride, stride}}});
      ASSERT_TRUE(n.ok()) << n.message();
      int64_t want = (in + stride - 1) / stride;
      EXPECT_EQ((*n)->type().shape, (Shape{1, want, want, 1})) << "in " << in << " stride " << stride;
    }
}

// A result too large for Kiln is rejected by addNode after the rule, not wrapped around.
TEST(ShapeRules, HugeResultIsRejected) {
  Graph g("huge");
  auto a = g.addInput("a", f32({1 << 14, 1}));
  auto b = g.addInput("b", f32({1, 1 << 15}));
  ASSERT_TRUE(a.ok() && b.ok());
  auto n = g.addNode(Op::Add, "s", {(*a)->result(), (*b)->result()});
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.message().find("result shape [16384,32768] is too large"), std::string::npos)
      << n.message();
}

} // namespace
} // namespace kiln::test
