// PassManager units: pipeline errors, verify-after-each, the "unchanged" check, dumps, timing, and
// the standard pipeline keeping every sample's interpreter results (inference and training).
#include "compiler/autodiff/TrainGraph.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Parser.h"
#include "compiler/passes/PassManager.h"
#include "compiler/passes/PassRegistry.h"
#include "frontend/json/JsonImporter.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

namespace kiln {
namespace {

const char *kSmall = R"(graph @g {
  input %x : f32[2]
  const %a : f32[2] = dense<[1.0, 2.0]>
  const %one : f32[] = dense<1.0>
  %s = add(%a, %a) : f32[2]
  %m = mul(%x, %one) : f32[2]
  %y = add(%m, %s) : f32[2]
  return %y
})";

Graph small() {
  auto g = parseGraph(kSmall, "small.kir");
  EXPECT_TRUE(g.ok()) << g.message();
  return g.take();
}

/// Corrupts the graph: gives the first op node a wrong result type, and says it changed it.
class BreakTypesPass final : public Pass {
public:
  std::string_view name() const override { return "break-types"; }
  Expected<bool> run(Graph &g, PassContext &) override {
    for (const auto &n : g.nodes())
      if (!n->info().has(kSource)) {
        n->setResultTypes({TensorType{DType::F32, {7}}});
        return true;
      }
    return false;
  }
};

/// Changes the graph (renames a node) but claims it did not.
class LyingPass final : public Pass {
public:
  std::string_view name() const override { return "liar"; }
  Expected<bool> run(Graph &g, PassContext &) override {
    KILN_TRY(g.rename(g.find("s"), "renamed"));
    return false;
  }
};

TEST(PassManager, UnknownPassListsKnownOnes) {
  auto pm = PassManager::create("fold,frobnicate,dce");
  ASSERT_FALSE(pm.ok());
  EXPECT_NE(pm.message().find("unknown pass 'frobnicate'"), std::string::npos) << pm.message();
  EXPECT_NE(pm.message().find("known passes: decompose, fold, simplify, cse, dce"),
            std::string::npos)
      << pm.message();
  PassManagerOptions opts;
  opts.printAfter = {"nope"};
  auto bad = PassManager::create("fold", opts);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("unknown pass 'nope'"), std::string::npos);
  auto empty = PassManager::create("fold,,dce");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.message().find("empty pass name"), std::string::npos);
}

TEST(PassManager, PipelineTextAndRegistry) {
  auto pm = PassManager::create(" decompose, fold ,simplify,cse,dce ");
  ASSERT_TRUE(pm.ok()) << pm.message();
  EXPECT_EQ(pm->pipelineText(), "decompose,fold,simplify,cse,dce");
  for (const PassInfo &p : listPasses()) {
    auto pass = createPass(p.name);
    ASSERT_TRUE(pass) << p.name;
    EXPECT_EQ(pass->name(), p.name);
  }
  EXPECT_EQ(createPass("frobnicate"), nullptr);
}

TEST(PassManager, VerifyEachCatchesBrokenPass) {
  Graph g = small();
  PassManager pm;
  pm.addPass(std::make_unique<BreakTypesPass>());
  auto r = pm.run(g);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("internal error: pass 'break-types' left an invalid graph"),
            std::string::npos)
      << r.message();

  // Without verification the same pass goes unnoticed: the check is what caught it.
  Graph g2 = small();
  PassManagerOptions opts;
  opts.verifyEach = false;
  PassManager unchecked(opts);
  unchecked.addPass(std::make_unique<BreakTypesPass>());
  auto r2 = unchecked.run(g2);
  ASSERT_TRUE(r2.ok()) << r2.message();
  EXPECT_TRUE(*r2);
}

TEST(PassManager, UnchangedCheckCatchesLyingPass) {
  Graph g = small();
  PassManager pm;
  pm.addPass(std::make_unique<LyingPass>());
  auto r = pm.run(g);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("internal error: pass 'liar' reported no change but changed the graph"),
            std::string::npos)
      << r.message();
}

TEST(PassManager, PrintAfterTimingAndChangedFlags) {
  Graph g = small();
  std::ostringstream out, debug;
  PassManagerOptions opts;
  opts.printAfter = {"fold"};
  opts.timePasses = true;
  opts.out = &out;
  opts.debug = &debug;
  auto pm = PassManager::create("fold,simplify,decompose,dce", opts);
  ASSERT_TRUE(pm.ok()) << pm.message();
  auto r = pm->run(g);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(*r);
  std::string text = out.str();
  EXPECT_NE(text.find("// ----- IR after fold -----"), std::string::npos) << text;
  EXPECT_EQ(text.find("IR after simplify"), std::string::npos) << text;
  EXPECT_NE(text.find("const %s : f32[2] = dense<[2.0, 4.0]>"), std::string::npos) << text;
  EXPECT_NE(text.find("pass execution timing report"), std::string::npos) << text;
  ASSERT_EQ(pm->timings().size(), 4u);
  EXPECT_TRUE(pm->timings()[0].changed);  // fold
  EXPECT_TRUE(pm->timings()[1].changed);  // simplify: x*1
  EXPECT_FALSE(pm->timings()[2].changed); // decompose: no layers
  EXPECT_TRUE(pm->timings()[3].changed);  // dce: %a and %one are dead
  EXPECT_NE(debug.str().find("fold: folded 's'"), std::string::npos) << debug.str();
  // What is left: y = add(x, s) with s folded.
  ASSERT_NE(g.find("y"), nullptr);
  EXPECT_EQ(g.find("y")->operand(0).node->name(), "x");
  EXPECT_EQ(g.find("a"), nullptr);
}

// ---- the standard pipeline keeps interpreter results, on every sample ----

const char *kSamples[] = {"autoencoder", "cnn_cifar", "cnn_mnist", "gan",
                          "linreg",      "logreg",    "lstm",      "mlp_binary",
                          "mnist_mlp",   "softmax_reg", "transformer"};

/// Deterministic feeds for every input: floats in [0, 1), integers 0 or 1 (valid labels and
/// token ids for every sample), bools alternating.
NamedTensors feedsFor(const Graph &g) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  NamedTensors feeds;
  for (Node *in : g.inputs()) {
    Tensor t(in->type().dtype, in->type().shape);
    bool isFloat = t.dtype() == DType::F32 || t.dtype() == DType::F64;
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.set(i, isFloat ? u(rng) : double(i % 2));
    feeds.emplace_back(in->name(), std::move(t));
  }
  return feeds;
}

void expectIdentical(const NamedTensors &a, const NamedTensors &b, const std::string &what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first) << what;
    EXPECT_TRUE(a[i].second.identical(b[i].second))
        << what << ": '" << a[i].first << "' differs after the pipeline";
  }
}

Graph optimized(const Graph &g, const std::string &pipeline) {
  Graph copy = g.clone();
  auto pm = PassManager::create(pipeline);
  EXPECT_TRUE(pm.ok()) << pm.message();
  auto r = pm->run(copy);
  EXPECT_TRUE(r.ok()) << g.name() << ": " << r.message();
  return copy;
}

void checkSample(const std::string &sample, const std::string &pipeline) {
  SCOPED_TRACE(sample + " with " + pipeline);
  auto g = importJsonFile("samples/" + sample + ".json");
  ASSERT_TRUE(g.ok()) << g.message();
  NamedTensors feeds = feedsFor(*g);

  // Inference: every output identical.
  Graph opt = optimized(*g, pipeline);
  auto before = Interpreter::create(*g);
  auto after = Interpreter::create(opt);
  ASSERT_TRUE(before.ok() && after.ok());
  auto r0 = before->run(feeds), r1 = after->run(feeds);
  ASSERT_TRUE(r0.ok()) << r0.message();
  ASSERT_TRUE(r1.ok()) << r1.message();
  expectIdentical(*r0, *r1, "inference");

  // Training: three steps of every step program, losses and metrics identical.
  auto training = buildTrainingGraph(*g);
  ASSERT_TRUE(training.ok()) << training.message();
  Graph trainOpt = optimized(*training, pipeline);
  EXPECT_LT(trainOpt.nodes().size(), training->nodes().size())
      << "the pipeline removed nothing from the training graph";
  auto t0 = Interpreter::create(*training);
  auto t1 = Interpreter::create(trainOpt);
  ASSERT_TRUE(t0.ok() && t1.ok());
  for (int step = 0; step < 3; ++step)
    for (const StepProgram &p : training->stepPrograms()) {
      auto l0 = t0->trainStep(p.name, feeds), l1 = t1->trainStep(p.name, feeds);
      ASSERT_TRUE(l0.ok()) << l0.message();
      ASSERT_TRUE(l1.ok()) << l1.message();
      expectIdentical(*l0, *l1, p.name + " step " + std::to_string(step));
    }
  expectIdentical(t0->params(), t1->params(), "params after 3 steps");
}

TEST(PassPipeline, StandardPipelineKeepsSampleResults) {
  for (const char *s : kSamples)
    checkSample(s, "decompose,fold,simplify,cse,dce");
}

TEST(PassPipeline, EveryRegisteredPassKeepsSampleResults) {
  std::string all;
  for (const PassInfo &p : listPasses())
    all += (all.empty() ? "" : ",") + std::string(p.name);
  for (const char *s : kSamples)
    checkSample(s, all);
}

} // namespace
} // namespace kiln
