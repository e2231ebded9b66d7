// Print -> parse -> print round trips of hand-written text graphs, and what the parser restores.
#include "GraphEquality.h"

#include "compiler/ir/Lexer.h"
#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"

#include <gtest/gtest.h>

#include <cmath>

namespace kiln {
namespace {

/// Parses `text`, prints it, parses that and prints again: both prints must agree and the two
/// parsed graphs must be equal. Returns the first print.
std::string roundTrip(const std::string &text, const PrintOptions &opts = {}) {
  auto g = parseGraph(text, "t.kir");
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.message());
  if (!g.ok())
    return "";
  std::string first = printGraph(*g, opts);
  auto g2 = parseGraph(first, "t.kir");
  EXPECT_TRUE(g2.ok()) << (g2.ok() ? "" : g2.message()) << "\n" << first;
  if (!g2.ok())
    return first;
  EXPECT_EQ(printGraph(*g2, opts), first);
  if (opts.locations) {
    EXPECT_EQ(test::graphDiff(*g, *g2), "");
  }
  return first;
}

const char *kAllKinds = R"(
graph @all_kinds seed=18446744073709551615 weights="w dir/w.safetensors" {
  input %x : f32[2,8,8,3] loc("m.json":5:7, "$.inputs[0]")
  input %labels : i32[2]
  param %w : f32[3,3,3,4] init=glorot_uniform{seed=11}
  param %b : f32[4] init=zeros
  param %u : f32[4,4] init=uniform{low=-0.1, high=0.1}
  param %n : f32[4] init=normal{mean=0.5, stddev=2.0}
  param %c : f32[4] init=constant{value=0.25} trainable=false
  param %v : f32[2,2] init=value{data=[1.0, 2.0, 3.0, 4.5]} = dense<[1.0, 2.0, 3.0, 4.5]>
  param %step : i64[] init=he_normal trainable=false
  const %k : f32[] = dense<0.1>
  const %m : i32[3] = dense<[1, -2, 2147483647]>
  const %flags : bool[2] = dense<[true, false]>
  const %ones : f64[2,2] = dense<1>
  const %big : i64[2] = dense<[-9223372036854775808, 9007199254740993]>
  const %odd : f32[4] = dense<[inf, -inf, 1e-45, 3.4028235e38]>
  %conv = conv2d(%x, %w, %b) {padding="same", strides=[1,1]} : f32[2,8,8,4]
  %conv2 = conv2d(%x, %w) {padding=[1,1,0,0], dilations=[1,1], groups=1, data_format="NHWC"} : f32[2,8,6,4]
  %pool = max_pool2d(%conv) {ksize=[2,2]} : f32[2,4,4,4]
  %flat = flatten(%pool) : f32[2,64]
  %lr = leaky_relu(%flat) {alpha=0.1} : f32[2,64]
  %red = reduce_mean(%lr) {axes=[1], keepdims=true} : f32[2,1]
  %dt = cast(%red) {dtype=f64} : f64[2,1]
  %sm = softmax(%flat) {axis=-1} : f32[2,64]
  %oh = one_hot(%labels) {depth=4, dtype=f32} : f32[2,4]
  %mm = matmul(%oh, %u) {transpose_b=true} : f32[2,4]
  %logits = dense(%oh, %u, %n) {activation="relu"} : f32[2,4]
  %loss = softmax_cross_entropy(%logits, %labels) : f32[]
  %acc = accuracy(%logits, %labels) {reduction="mean"} : f32[]
  %per_row = mse(%mm, %logits) {reduction="none"} : f32[2]
  %g = gelu(%mm) {approximate="tanh"} : f32[2,4]
  %r = random_uniform() {shape=[2,2], low=-1, seed=3} : f32[2,2]
  %cat = concat(%r, %v, %r) {axis=0} : f32[6,2]
  return %logits, %loss:0, %acc
  train @train(loss=%loss, params=[%w, %b, %u, %n], optimizer=adam{lr=0.001}, metrics=[%acc])
}
)";

TEST(TextRoundTrip, EveryAttributeKindAndSourceField) {
  std::string printed = roundTrip(kAllKinds);
  auto g = parseGraph(kAllKinds, "t.kir");
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(g->seed(), 18446744073709551615ull);
  EXPECT_EQ(g->weightsFile(), "w dir/w.safetensors");

  // Attributes keep their stored kinds; the int given for a float attribute became a float.
  Node *r = g->find("r");
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<double>(r->attrs().at("low")), -1.0);
  EXPECT_EQ(std::get<std::vector<int64_t>>(r->attrs().at("shape")), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(std::get<DType>(g->find("dt")->attrs().at("dtype")), DType::F64);
  EXPECT_EQ(std::get<std::vector<int64_t>>(g->find("conv2")->attrs().at("padding")),
            (std::vector<int64_t>{1, 1, 0, 0}));
  EXPECT_EQ(std::get<std::string>(g->find("conv")->attrs().at("padding")), "same");
  EXPECT_EQ(std::get<bool>(g->find("mm")->attrs().at("transpose_b")), true);
  EXPECT_NE(printed.find("%r = random_uniform() {low=-1.0, seed=3, shape=[2,2]} : f32[2,2]"),
            std::string::npos)
      << printed;

  // Sources: inits with every field, trainable flag, values.
  const Initializer &wi = g->find("w")->init();
  EXPECT_EQ(wi.kind, InitKind::GlorotUniform);
  EXPECT_EQ(wi.seed, std::optional<uint64_t>(11));
  EXPECT_EQ(g->find("u")->init().low, -0.1);
  EXPECT_EQ(g->find("n")->init().stddev, 2.0);
  EXPECT_FALSE(g->find("c")->trainable());
  EXPECT_EQ(g->find("v")->init().data, (std::vector<double>{1, 2, 3, 4.5}));
  ASSERT_TRUE(g->find("v")->value());
  EXPECT_EQ(g->find("v")->value()->toDoubles(), (std::vector<double>{1, 2, 3, 4.5}));
  EXPECT_FALSE(g->find("b")->value());
  EXPECT_EQ(g->find("k")->value()->data<float>()[0], 0.1f);
  EXPECT_EQ(g->find("ones")->value()->toDoubles(), (std::vector<double>{1, 1, 1, 1}));
  EXPECT_EQ(g->find("big")->value()->data<int64_t>()[1], 9007199254740993);
  const float *odd = g->find("odd")->value()->data<float>();
  EXPECT_TRUE(std::isinf(odd[0]) && odd[0] > 0);
  EXPECT_TRUE(std::isinf(odd[1]) && odd[1] < 0);
  EXPECT_EQ(odd[2], 1e-45f);
  EXPECT_EQ(odd[3], 3.4028235e38f);
  EXPECT_NE(printed.find("const %k : f32[] = dense<0.1>"), std::string::npos) << printed;
  EXPECT_NE(printed.find("const %ones : f64[2,2] = dense<1.0>"), std::string::npos);
  EXPECT_NE(printed.find("dense<[inf, -inf, 1e-45, 3.4028235e+38]>"), std::string::npos);
  EXPECT_NE(printed.find("param %c : f32[4] init=constant{value=0.25} trainable=false"),
            std::string::npos);

  // "%loss:0" names result 0 of a one-result node, printed as plain %loss.
  ASSERT_EQ(g->outputs().size(), 3u);
  EXPECT_EQ(g->outputs()[1], g->find("loss")->result(0));
  EXPECT_NE(printed.find("  return %logits, %loss, %acc\n"), std::string::npos);
}

TEST(TextRoundTrip, ExactPrintedForm) {
  const char *text = "graph @tiny {\n"
                     "  input %x : f32[2,3]\n"
                     "  const %two : f32[] = dense<2>\n"
                     "  %y = mul(%x, %two) : f32[2,3]\n"
                     "  return %y\n"
                     "}\n";
  auto g = parseGraph(text, "tiny.kir");
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(printGraph(*g), "graph @tiny seed=0 {\n"
                            "  input %x : f32[2,3] loc(\"tiny.kir\":2:9)\n"
                            "  const %two : f32[] = dense<2.0> loc(\"tiny.kir\":3:9)\n"
                            "  %y = mul(%x, %two) : f32[2,3] loc(\"tiny.kir\":4:3)\n"
                            "  return %y\n"
                            "}\n");
  PrintOptions noLoc;
  noLoc.locations = false;
  EXPECT_EQ(printGraph(*g, noLoc), "graph @tiny seed=0 {\n"
                                   "  input %x : f32[2,3]\n"
                                   "  const %two : f32[] = dense<2.0>\n"
                                   "  %y = mul(%x, %two) : f32[2,3]\n"
                                   "  return %y\n"
                                   "}\n");
}

const char *kTrain = R"(graph @"a graph \"quoted\"" seed=3 {
  input %x : f32[4,2]
  input %t : f32[4,1]
  param %w : f32[2,1] init=glorot_normal
  param %b : f32[1] init=ones
  %p = dense(%x, %w, %b) {activation="sigmoid"} : f32[4,1]
  %loss = binary_cross_entropy(%p, %t) : f32[]
  %acc = binary_accuracy(%p, %t) {threshold=0.75} : f32[]
  return %p
  train @s1(loss=%loss, params=[%w], optimizer=sgd{lr=0.1, momentum=0.9, nesterov=true}, clip_norm=1.0)
  train @s2(loss=%loss, params=auto[%w, %b], optimizer=rmsprop{lr=0.01, rho=0.8, epsilon=1e-06}, regularization={l1=0.001, l2=0.0001}, lr_schedule=exponential_decay{decay_rate=0.96, decay_steps=1000.0})
  train @"step three"(loss=%loss, optimizer=adamw{weight_decay=0.05}, lr_schedule=step_decay{factor=0.5, every=10}, metrics=[%acc, %loss], l2=0.5) loc("f.json":40:3, "$.train[2]")
  train @s4(loss=%loss, params=[], optimizer=adam{beta1=0.5, beta2=0.99, epsilon=1e-08, momentum=0.3}, regularization={l1=0.0, l2=0.0}) loc(unknown)
  train @s5(loss=%loss, optimizer=sgd)
})";

TEST(TextRoundTrip, TrainStepsOfEveryOptimizerAndOption) {
  std::string printed = roundTrip(kTrain);
  auto g = parseGraph(kTrain, "t.kir");
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(g->name(), "a graph \"quoted\"");
  ASSERT_EQ(g->trainSteps().size(), 5u);
  const TrainStep &s1 = g->trainSteps()[0];
  EXPECT_EQ(s1.optimizer.kind, Optimizer::Kind::Sgd);
  EXPECT_EQ(s1.optimizer.momentum, 0.9);
  EXPECT_TRUE(s1.optimizer.nesterov);
  EXPECT_EQ(s1.clipNorm, std::optional<double>(1.0));
  EXPECT_TRUE(s1.paramsGiven);
  ASSERT_EQ(s1.params.size(), 1u);
  EXPECT_EQ(s1.params[0], g->find("w"));
  EXPECT_EQ(s1.loc, (Loc{"t.kir", 10, 3, ""})); // no loc(...): the text position

  const TrainStep &s2 = g->trainSteps()[1];
  EXPECT_FALSE(s2.paramsGiven);
  EXPECT_EQ(s2.params.size(), 2u);
  EXPECT_EQ(s2.optimizer.kind, Optimizer::Kind::RmsProp);
  EXPECT_EQ(s2.optimizer.rho, 0.8);
  EXPECT_TRUE(s2.hasRegularization);
  EXPECT_EQ(s2.l1, 0.001);
  EXPECT_EQ(s2.l2, 0.0001);
  EXPECT_EQ(s2.schedule.kind, LrSchedule::Kind::ExponentialDecay);
  EXPECT_EQ(s2.schedule.decaySteps, 1000.0);

  const TrainStep &s3 = g->trainSteps()[2];
  EXPECT_EQ(s3.name, "step three");
  EXPECT_EQ(s3.optimizer.kind, Optimizer::Kind::AdamW);
  EXPECT_EQ(s3.optimizer.lr, 0.001); // adamw's default, not sgd's
  EXPECT_EQ(s3.optimizer.weightDecay, 0.05);
  EXPECT_EQ(s3.schedule.kind, LrSchedule::Kind::StepDecay);
  EXPECT_EQ(s3.schedule.every, 10);
  EXPECT_FALSE(s3.hasRegularization);
  EXPECT_EQ(s3.l2, 0.5);
  EXPECT_TRUE(s3.params.empty());
  EXPECT_FALSE(s3.paramsGiven);
  EXPECT_EQ(s3.metrics.size(), 2u);
  EXPECT_EQ(s3.loc, (Loc{"f.json", 40, 3, "$.train[2]"}));

  const TrainStep &s4 = g->trainSteps()[3];
  EXPECT_TRUE(s4.paramsGiven);
  EXPECT_TRUE(s4.params.empty());
  EXPECT_TRUE(s4.hasRegularization);
  EXPECT_EQ(s4.optimizer.momentum, 0.3); // an unusual field survives too
  EXPECT_EQ(s4.loc, Loc{});
  EXPECT_EQ(g->trainSteps()[4].optimizer, Optimizer::defaults(Optimizer::Kind::Sgd));

  EXPECT_NE(printed.find("train @\"step three\"(loss=%loss, optimizer=adamw{lr=0.001, "
                         "beta1=0.9, beta2=0.999, epsilon=1e-07, weight_decay=0.05}, l2=0.5, "
                         "lr_schedule=step_decay{factor=0.5, every=10}, metrics=[%acc, %loss]) "
                         "loc(\"f.json\":40:3, \"$.train[2]\")"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("params=auto[%w, %b]"), std::string::npos);
  EXPECT_NE(printed.find("params=[], optimizer=adam{lr=0.001, momentum=0.3, beta1=0.5"),
            std::string::npos);
}

TEST(TextRoundTrip, LocationsRestoredOrTakenFromText) {
  const char *text = "graph @g {\n"
                     "  input %x : f32[2] loc(\"a.json\":3:5, \"$.inputs[0]\")\n"
                     "  %y = neg(%x) : f32[2]\n"
                     "  %z = exp(%y) : f32[2] loc(unknown)\n"
                     "}\n";
  auto g = parseGraph(text, "t.kir");
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(g->find("x")->loc(), (Loc{"a.json", 3, 5, "$.inputs[0]"}));
  EXPECT_EQ(g->find("y")->loc(), (Loc{"t.kir", 3, 3, ""}));
  EXPECT_EQ(g->find("z")->loc(), Loc{});
  std::string printed = roundTrip(text);
  EXPECT_NE(printed.find("%z = exp(%y) : f32[2] loc(unknown)"), std::string::npos);

  // Without locations, a reparsed graph takes text positions, and prints the same again.
  PrintOptions noLoc;
  noLoc.locations = false;
  std::string bare = roundTrip(text, noLoc);
  EXPECT_EQ(bare.find("loc("), std::string::npos);
}

TEST(TextRoundTrip, ElidedValuesPrintCountOnly) {
  const char *text = "graph @g {\n"
                     "  const %c : i32[5] = dense<[1, 2, 3, 4, 5]>\n"
                     "  const %s : i32[5] = dense<7>\n"
                     "  param %p : f32[3] init=value{data=[1.0, 2.0, 3.0]}\n"
                     "}\n";
  auto g = parseGraph(text, "t.kir");
  ASSERT_TRUE(g.ok()) << g.message();
  PrintOptions opts;
  opts.elideValuesOver = 4;
  opts.locations = false;
  std::string printed = printGraph(*g, opts);
  EXPECT_NE(printed.find("const %c : i32[5] = dense<...5 elements>"), std::string::npos)
      << printed;
  EXPECT_NE(printed.find("const %s : i32[5] = dense<7>"), std::string::npos); // a splat is short
  EXPECT_NE(printed.find("data=[1.0, 2.0, 3.0]"), std::string::npos);
  opts.elideValuesOver = 2;
  EXPECT_NE(printGraph(*g, opts).find("data=[...3 elements]"), std::string::npos);
}

TEST(TextRoundTrip, CommentsAndLooseSpacing) {
  const char *text = "// a comment\ngraph @g{input %x:f32[2]// trailing\n%y=abs(%x):f32[2] return %y}";
  auto g = parseGraph(text, "t.kir");
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(g->nodes().size(), 2u);
  EXPECT_EQ(g->find("y")->loc(), (Loc{"t.kir", 3, 1, ""}));
}

TEST(TextRoundTrip, MultiResultReferences) {
  // No op in Ops.def has two results yet; give one node a second result by hand to check how
  // results are spelled. "%a:1" is result 1; the parser resolves it through Graph::lookupValue,
  // and the shape rule (one result for neg) rejects the two declared types on the way back.
  auto g = parseGraph("graph @g {\n  input %x : f32[2]\n  %a = neg(%x) : f32[2]\n}\n", "t.kir");
  ASSERT_TRUE(g.ok()) << g.message();
  Node *a = g->find("a");
  a->setResultTypes({TensorType{DType::F32, {2}}, TensorType{DType::I32, {2}}});
  auto b = g->addNode(Op::Abs, "b", {a->result(1)}, {}, Loc{});
  ASSERT_TRUE(b.ok()) << b.message();
  PrintOptions noLoc;
  noLoc.locations = false;
  std::string text = printGraph(*g, noLoc);
  EXPECT_NE(text.find("  %a = neg(%x) : (f32[2], i32[2])\n  %b = abs(%a:1) : i32[2]\n"),
            std::string::npos)
      << text;
  auto back = parseGraph(text, "t.kir");
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.message(), "t.kir:3:18: error: neg 'a': declared type (f32[2], i32[2]) does not "
                            "match the inferred type f32[2]");
  auto ref = parseGraph("graph @g {\n  input %x : f32[2]\n  %a = neg(%x:0) : f32[2]\n}\n", "t.kir");
  ASSERT_TRUE(ref.ok()) << ref.message();
  EXPECT_EQ(ref->find("a")->operand(0), ref->find("x")->result(0));
}

TEST(TextLexer, TokensAndResultRefs) {
  Lexer lex("%h:1 %a/b.c-d : f32[] @\"x y\" -2 1.5e3 -inf nan \"a\\n\\x41\" ...");
  std::vector<std::pair<TokenKind, std::string>> want = {
      {TokenKind::ValueRef, "h:1"}, {TokenKind::ValueRef, "a/b.c-d"}, {TokenKind::Colon, ":"},
      {TokenKind::Ident, "f32"},    {TokenKind::LBracket, "["},       {TokenKind::RBracket, "]"},
      {TokenKind::Symbol, "x y"},   {TokenKind::Int, "-2"},           {TokenKind::Float, "1.5e3"},
      {TokenKind::Float, "-inf"},   {TokenKind::Float, "nan"},        {TokenKind::String, "a\nA"},
      {TokenKind::Ellipsis, "..."}, {TokenKind::Eof, ""}};
  for (auto &[kind, text] : want) {
    Token t = lex.next();
    EXPECT_EQ(t.kind, kind) << text;
    EXPECT_EQ(t.text, text);
  }
}

TEST(TextRoundTrip, FloatFormatting) {
  EXPECT_EQ(formatFloat(2), "2.0");
  EXPECT_EQ(formatFloat(1e-7), "1e-07");
  EXPECT_EQ(formatFloat(-0.0), "-0.0");
  EXPECT_EQ(formatFloat32(0.1f), "0.1");
  EXPECT_EQ(formatFloat(double(0.1f)), "0.10000000149011612");
  EXPECT_EQ(formatFloat(1e300), "1e+300");
  EXPECT_EQ(quoteString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\x01\"");
}

} // namespace
} // namespace kiln
