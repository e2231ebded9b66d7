// Step programs in the text form: print/parse/print round trips, parse errors, and the verifier,
// clone and rewrite rules for step programs built by hand.
#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"
#include "compiler/ir/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>

namespace kiln {
namespace {

const char *kTwoSteps = R"(graph @sgd seed=7 {
  input %x : f32[3]
  input %y : f32[3]
  param %w : f32[3] init=ones
  param %v : f32[3] init=zeros
  param %train/t : i64[] init=zeros trainable=false
  param %other/t : i64[] init=zeros trainable=false
  %p = mul(%w, %x) : f32[3]
  %q = add(%p, %v) : f32[3]
  %d = sub(%q, %y) : f32[3]
  %sq = square(%d) : f32[3]
  %loss = reduce_sum(%sq) : f32[]
  %acc = reduce_mean(%d) : f32[]
  const %lr : f32[] = dense<0.5>
  const %one : i64[] = dense<1>
  %g = mul(%d, %x) : f32[3]
  %step = mul(%g, %lr) : f32[3]
  %w/new = sub(%w, %step) : f32[3]
  %train/t/new = add(%train/t, %one) : i64[]
  %other/t/new = add(%other/t, %one) : i64[]
  %v/new = sub(%v, %d) : f32[3]
  return %q
  step @train(loss=%loss, metrics=[%acc, %d]) {
    %w <- %w/new
    %train/t <- %train/t/new
  }
  step @other(loss=%loss) {
    %v <- %v/new
    %other/t <- %other/t/new
  }
}
)";

std::string printLocless(const Graph &g) { return printGraph(g, PrintOptions{false, -1}); }

TEST(StepProgramText, ParsesWhatItPrints) {
  auto g = parseGraph(kTwoSteps, "s.kir");
  ASSERT_TRUE(g.ok()) << g.message();
  ASSERT_TRUE(verify(*g).isOk()) << verify(*g).message();
  ASSERT_EQ(g->stepPrograms().size(), 2u);
  const StepProgram *train = g->findStepProgram("train");
  ASSERT_NE(train, nullptr);
  EXPECT_EQ(train->loss.name(), "loss");
  ASSERT_EQ(train->metrics.size(), 2u);
  EXPECT_EQ(train->metrics[0].name(), "acc");
  EXPECT_EQ(train->metrics[1].name(), "d");
  ASSERT_EQ(train->updates.size(), 2u);
  EXPECT_EQ(train->updates[0].state, g->find("w"));
  EXPECT_EQ(train->updates[0].value.node, g->find("w/new"));
  EXPECT_EQ(train->updates[1].state, g->find("train/t"));
  const StepProgram *other = g->findStepProgram("other");
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->metrics.empty());
  EXPECT_EQ(other->updates[0].state, g->find("v"));
  EXPECT_EQ(g->findStepProgram("nope"), nullptr);

  // Without locations the print is the input text itself; with them it still round trips.
  EXPECT_EQ(printLocless(*g), kTwoSteps);
  std::string first = printGraph(*g);
  auto g2 = parseGraph(first, "s.kir");
  ASSERT_TRUE(g2.ok()) << g2.message() << "\n" << first;
  EXPECT_EQ(printGraph(*g2), first);
}

TEST(StepProgramText, ArrowDoesNotBreakNegativeSplats) {
  const char *text = R"(graph @neg seed=0 {
  param %w : f32[2] init=zeros
  const %a : f32[2] = dense<-1.5>
  const %b : f32[2] = dense<-inf>
  const %c : i32[2] = dense<[-3, 4]>
  %s = add(%w, %a) : f32[2]
  %l = reduce_sum(%s) : f32[]
  return %l
  step @s(loss=%l) {
    %w <-%s
  }
}
)";
  auto g = parseGraph(text, "n.kir");
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(g->find("a")->value()->at(0), -1.5);
  EXPECT_TRUE(std::isinf(g->find("b")->value()->at(1)));
  EXPECT_EQ(g->find("c")->value()->at(0), -3);
  EXPECT_EQ(g->stepPrograms().at(0).updates.at(0).value.name(), "s");
}

/// The parse error of `body` placed inside a small graph.
std::string parseError(const std::string &body) {
  std::string text = "graph @e {\n  param %w : f32[2] init=zeros\n  input %x : f32[2]\n"
                     "  param %t : i64[] init=zeros trainable=false\n"
                     "  %m = mul(%w, %x) : f32[2]\n  %l = reduce_sum(%m) : f32[]\n  return %l\n" +
                     body + "}\n";
  auto g = parseGraph(text, "e.kir");
  return g.ok() ? "" : g.message();
}

TEST(StepProgramText, ParseErrorsAreLocated) {
  EXPECT_EQ(parseError("  step @s(loss=%l) {\n    %w <- %m\n  }\n"), "");
  EXPECT_EQ(parseError("  step @s(loss=%l) {\n    %x <- %m\n  }\n"),
            "e.kir:9:5: error: step program 's': '%x' is not a param, so it cannot be updated");
  EXPECT_EQ(parseError("  step @s(loss=%l) {\n    %w <- %m\n    %w <- %m\n  }\n"),
            "e.kir:10:5: error: step program 's': '%w' is updated twice");
  EXPECT_EQ(parseError("  step @s(loss=%l) {\n    %w <- %l\n  }\n"),
            "e.kir:9:11: error: step program 's': the update of '%w' is f32[], expected f32[2]");
  EXPECT_EQ(parseError("  step @s(loss=%l) {\n    %w = %m\n  }\n"),
            "e.kir:9:8: error: expected '<-' after the updated param");
  EXPECT_EQ(parseError("  step @s(loss=%l) {}\n  step @s(loss=%l) {}\n"),
            "e.kir:9:8: error: step program 's' is defined twice");
  EXPECT_EQ(parseError("  step @s(metrics=[%l]) {}\n"),
            "e.kir:8:11: error: expected 'loss=' first in a step program");
  EXPECT_EQ(parseError("  step @s(loss=%zz) {}\n"), "e.kir:8:16: error: undefined value '%zz'");
}

TEST(StepProgramVerifier, CatchesBrokenPrograms) {
  auto g = parseGraph(kTwoSteps, "s.kir");
  ASSERT_TRUE(g.ok()) << g.message();
  auto &programs = g->stepPrograms();

  programs[0].loss = Value{g->find("d"), 0}; // f32[3]: not a scalar
  Status st = verify(*g);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("step program 'train': loss 'd' must be a float scalar, got f32[3]"),
            std::string::npos)
      << st.message();
  programs[0].loss = Value{g->find("loss"), 0};

  programs[1].updates.push_back(StateUpdate{g->find("v"), Value{g->find("v/new"), 0}});
  st = verify(*g);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("state 'v' is updated twice"), std::string::npos) << st.message();
  programs[1].updates.pop_back();

  programs[1].updates[0].state = g->find("x");
  st = verify(*g);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("state 'x' is not a param"), std::string::npos) << st.message();
  programs[1].updates[0].state = g->find("v");

  programs[1].updates[0].value = Value{g->find("loss"), 0};
  st = verify(*g);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("the update of state 'v' is f32[], expected f32[3]"),
            std::string::npos)
      << st.message();
  programs[1].updates[0].value = Value{g->find("v/new"), 0};

  programs[1].name = "train";
  st = verify(*g);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("step program 'train' is defined twice"), std::string::npos);
  programs[1].name = "other";
  EXPECT_TRUE(verify(*g).isOk());
}

TEST(StepProgramGraph, CloneAndReplaceAllUsesRemapValues) {
  auto g = parseGraph(kTwoSteps, "s.kir");
  ASSERT_TRUE(g.ok()) << g.message();
  Graph c = g->clone();
  ASSERT_TRUE(verify(c).isOk()) << verify(c).message();
  EXPECT_EQ(printGraph(c), printGraph(*g));
  const StepProgram &p = c.stepPrograms()[0];
  EXPECT_EQ(p.updates[0].state, c.find("w")); // the clone's nodes, not the original's
  EXPECT_EQ(p.updates[0].value.node, c.find("w/new"));
  EXPECT_EQ(p.loss.node, c.find("loss"));
  EXPECT_EQ(p.metrics[0].node, c.find("acc"));

  // Route loss, metric and update uses to fresh nodes: the programs follow.
  auto loss2 = c.addNode(Op::ReduceMean, "loss2", {Value{c.find("sq"), 0}});
  ASSERT_TRUE(loss2.ok());
  c.replaceAllUsesWith(Value{c.find("loss"), 0}, (*loss2)->result());
  auto w2 = c.addNode(Op::Add, "w/new2", {Value{c.find("w"), 0}, Value{c.find("x"), 0}});
  ASSERT_TRUE(w2.ok());
  c.replaceAllUsesWith(Value{c.find("w/new"), 0}, (*w2)->result());
  c.replaceAllUsesWith(Value{c.find("acc"), 0}, (*loss2)->result());
  for (const StepProgram &q : c.stepPrograms())
    EXPECT_EQ(q.loss.name(), "loss2");
  EXPECT_EQ(c.stepPrograms()[0].metrics[0].name(), "loss2");
  EXPECT_EQ(c.stepPrograms()[0].updates[0].value.name(), "w/new2");
  c.erase(c.find("loss"));
  c.erase(c.find("acc"));
  EXPECT_TRUE(verify(c).isOk()) << verify(c).message();
  // The original is untouched.
  EXPECT_EQ(g->stepPrograms()[0].loss.name(), "loss");
}

} // namespace
} // namespace kiln
