// Verifier tests: a well-formed graph passes; each corruption is caught with a located message.
#include "compiler/ir/Verifier.h"

#include <gtest/gtest.h>

#include <memory>

namespace kiln {
namespace {

TensorType f32(Shape s) { return {DType::F32, std::move(s)}; }

template <typename T> T *must(Expected<T *> e) {
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.message());
  return e.ok() ? *e : nullptr;
}

/// A small classifier with a training step: dense -> softmax_cross_entropy, plus accuracy.
struct Fixture {
  Graph g{"clf"};
  Node *x, *labels, *w, *b, *h, *loss, *acc;

  Fixture() {
    x = must(g.addInput("x", f32({4, 3}), Loc{"m.json", 2, 1, "$.inputs[0]"}));
    labels = must(g.addInput("labels", {DType::I32, {4}}));
    Initializer glorot;
    glorot.kind = InitKind::GlorotUniform;
    w = must(g.addParam("w", f32({3, 2}), glorot));
    b = must(g.addParam("b", f32({2}), Initializer{}));
    h = must(g.addNode(Op::Dense, "h", {x->result(), w->result(), b->result()}, {},
                       Loc{"m.json", 7, 5, "$.nodes[0]"}));
    loss = must(g.addNode(Op::SoftmaxCrossEntropy, "loss", {h->result(), labels->result()}));
    acc = must(g.addNode(Op::Accuracy, "acc", {h->result(), labels->result()}));
    g.addOutput(h->result());
  }

  TrainStep step(std::string name, Value lossValue, std::vector<Node *> params) {
    TrainStep s;
    s.name = std::move(name);
    s.loss = lossValue;
    s.params = std::move(params);
    s.metrics = {acc->result()};
    s.loc = Loc{"m.json", 20, 3, "$.train"};
    return s;
  }
};

void expectError(const Status &s, const std::string &text) {
  ASSERT_FALSE(s.isOk()) << "expected an error containing: " << text;
  EXPECT_NE(s.message().find(text), std::string::npos) << s.message();
}

TEST(Verifier, ValidGraphPasses) {
  Fixture f;
  f.g.addTrainStep(f.step("train", f.loss->result(), {f.w, f.b}));
  Status s = verify(f.g);
  EXPECT_TRUE(s.isOk()) << s.message();
  for (auto &n : f.g.nodes())
    EXPECT_TRUE(verifyNode(f.g, *n).isOk()) << n->name();
  // A clone is verified the same way (nothing in it points back at the original).
  Graph c = f.g.clone();
  EXPECT_TRUE(verify(c).isOk());
}

TEST(Verifier, WrongStoredTypeIsLocated) {
  Fixture f;
  f.h->setResultTypes({f32({4, 3})});
  Status s = verify(f.g);
  EXPECT_EQ(s.message(), "m.json:7:5: error: dense 'h': stored result type f32[4,3] differs from the "
                         "inferred f32[4,2] ($.nodes[0])");
  EXPECT_FALSE(verifyNode(f.g, *f.h).isOk());
}

TEST(Verifier, StaleTypeMakesUsersFailTheirRule) {
  Fixture f;
  // The param's declared type no longer fits the dense layer.
  f.w->setResultTypes({f32({5, 2})});
  expectError(verify(f.g), "dense 'h': weight rows 5 do not match input features 3");
}

TEST(Verifier, LossMustDependOnEveryParam) {
  Fixture f;
  Node *gw = must(f.g.addParam("g_w1", f32({2}), Initializer{}));
  f.g.addTrainStep(f.step("d_step", f.loss->result(), {f.w, gw}));
  Status s = verify(f.g);
  EXPECT_EQ(s.message(), "m.json:20:3: error: train step 'd_step': loss 'loss' does not depend on "
                         "param 'g_w1' ($.train)");
}

TEST(Verifier, LossMustBeFloatScalar) {
  Fixture f;
  Node *perRow = must(f.g.addNode(Op::SoftmaxCrossEntropy, "per_row",
                                  {f.h->result(), f.labels->result()},
                                  {{"reduction", std::string("none")}}));
  f.g.addTrainStep(f.step("train", perRow->result(), {f.w}));
  expectError(verify(f.g), "train step 'train': loss 'per_row' must be a float scalar, got f32[4]");
}

TEST(Verifier, DuplicateStepNames) {
  Fixture f;
  f.g.addTrainStep(f.step("train", f.loss->result(), {f.w}));
  f.g.addTrainStep(f.step("train", f.loss->result(), {f.b}));
  expectError(verify(f.g), "m.json:20:3: error: train step 'train' is defined twice");
}

TEST(Verifier, StepParamsChecked) {
  {
    Fixture f;
    f.g.addTrainStep(f.step("train", f.loss->result(), {}));
    expectError(verify(f.g), "train step 'train': updates no params");
  }
  {
    Fixture f;
    f.g.addTrainStep(f.step("train", f.loss->result(), {f.w, f.w}));
    expectError(verify(f.g), "train step 'train': param 'w' is listed twice");
  }
  {
    Fixture f;
    f.g.addTrainStep(f.step("train", f.loss->result(), {f.x}));
    expectError(verify(f.g), "train step 'train': 'x' is not a param");
  }
  {
    Fixture f;
    f.b->setTrainable(false);
    f.g.addTrainStep(f.step("train", f.loss->result(), {f.w, f.b}));
    expectError(verify(f.g), "train step 'train': param 'b' is not trainable");
  }
}

TEST(Verifier, NoOutputs) {
  Fixture f;
  f.g.setOutputs({});
  expectError(verify(f.g), "error: graph 'clf' has no outputs");
}

TEST(Verifier, ValuesFromAnotherGraph) {
  Fixture f, other;
  f.g.addOutput(other.h->result());
  expectError(verify(f.g), "graph 'clf': output 1 is not a value of this graph");

  Fixture m, o2;
  TrainStep s = m.step("train", m.loss->result(), {m.w});
  s.metrics.push_back(o2.acc->result());
  m.g.addTrainStep(s);
  expectError(verify(m.g), "train step 'train': a metric is not a value of this graph");

  Fixture p, o3;
  p.h->setOperand(0, o3.x->result());
  expectError(verify(p.g), "dense 'h': operand 0 'x' does not belong to this graph");
}

TEST(Verifier, OperandDefinedLater) {
  Fixture f;
  Node *r1 = must(f.g.addNode(Op::Relu, "r1", {f.h->result()}));
  Node *r2 = must(f.g.addNode(Op::Relu, "r2", {f.h->result()}));
  r1->setOperand(0, r2->result());
  expectError(verify(f.g), "relu 'r1': operand 0 'r2' is not defined before its use");
}

TEST(Verifier, SourceNodes) {
  {
    Fixture f;
    Node *c = must(f.g.addConstant("c", Tensor::fromF32({2}, std::vector<float>{1, 2})));
    EXPECT_TRUE(verify(f.g).isOk());
    c->setValue(std::make_shared<const Tensor>(Tensor::fromF32({3}, std::vector<float>{1, 2, 3})));
    expectError(verify(f.g), "constant 'c': value f32[3] does not match its type f32[2]");
  }
  {
    Fixture f;
    f.b->setValue(std::make_shared<const Tensor>(Tensor(DType::F64, {2})));
    expectError(verify(f.g), "param 'b': loaded value f64[2] does not match its type f32[2]");
  }
  {
    Fixture f;
    Initializer init;
    init.kind = InitKind::Value;
    init.data = {1, 2, 3};
    f.b->setInit(init);
    expectError(verify(f.g), "param 'b': init data has 3 values but shape [2] needs 2");
  }
  {
    Fixture f;
    Node *steps = must(f.g.addParam("steps", {DType::I64, {}}, Initializer{}, false));
    EXPECT_TRUE(verify(f.g).isOk());
    steps->setTrainable(true);
    expectError(verify(f.g), "param 'steps': a trainable param must be f32 or f64, not i64");
  }
  {
    Fixture f;
    f.x->setResultTypes({f32({4, 0})});
    expectError(verify(f.g), "input 'x': declared shape [4,0] is invalid or too large");
  }
}

TEST(Verifier, VerifyNodeChecksOneNode) {
  Fixture f;
  Node *r = must(f.g.addNode(Op::Relu, "r", {f.h->result()}));
  EXPECT_TRUE(verifyNode(f.g, *r).isOk());
  r->setResultTypes({f32({4, 2}), f32({4, 2})});
  expectError(verifyNode(f.g, *r), "relu 'r': has 2 results, expected 1");
  // The rest of the graph is still fine on its own.
  EXPECT_TRUE(verifyNode(f.g, *f.h).isOk());
}

} // namespace
} // namespace kiln
