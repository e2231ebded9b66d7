// Parse errors: each malformed text gives one exact message located in the text; hostile text
// never crashes the parser.
#include "compiler/ir/Parser.h"
#include "compiler/ir/Printer.h"

#include <gtest/gtest.h>

#include <random>

namespace kiln {
namespace {

std::string errorOf(const std::string &body) {
  std::string text = "graph @g {\n  input %x : f32[2,3]\n" + body + "\n}\n";
  auto g = parseGraph(text, "e.kir");
  if (g.ok())
    return "<parsed>";
  return g.message();
}

TEST(TextParseErrors, ExactLocatedMessages) {
  struct Case {
    const char *body, *message;
  };
  const Case cases[] = {
      {"  input %y f32[2]", "e.kir:3:12: error: expected ':' after value name"},
      {"  %y = neg(%x) : f32[2,3] $", "e.kir:3:27: error: unexpected character '$'"},
      {"  %y = frobnicate(%x) : f32[2,3]", "e.kir:3:8: error: unknown op 'frobnicate'"},
      {"  %y = add(%x, %nope) : f32[2,3]", "e.kir:3:16: error: undefined value '%nope'"},
      {"  %y = neg(%x) : f32[3,2]",
       "e.kir:3:18: error: neg 'y': declared type f32[3,2] does not match the inferred type "
       "f32[2,3]"},
      {"  %x = neg(%x) : f32[2,3]",
       "e.kir:3:3: error: name 'x' is defined twice (first defined at e.kir:2:9)"},
      {"  %y = softmax(%x) {axis=\"last\"} : f32[2,3]",
       "e.kir:3:3: error: softmax 'y': attribute 'axis' must be an integer, got \"last\""},
      {"  %y = softmax(%x) {axis=1, axis=0} : f32[2,3]",
       "e.kir:3:29: error: attribute 'axis' given twice"},
      {"  %y = dense(%x, %x) {activation=\"relu} : f32[2,3]",
       "e.kir:3:34: error: unterminated string"},
      {"  const %c : f32[100] = dense<...100 elements>",
       "e.kir:3:31: error: value of const 'c' was elided (dense<...N elements>) and cannot be "
       "parsed; print without elideValuesOver"},
      {"  input %h : f16[2]",
       "e.kir:3:14: error: unknown dtype 'f16' (expected f32, f64, i32, i64 or bool)"},
      {"  const %c : i32[2,2] = dense<[1, 2, 3]>",
       "e.kir:3:31: error: const 'c': expected 4 values for i32[2,2], got 3"},
      {"  const %c : i32[2] = dense<[1, 2.5]>",
       "e.kir:3:33: error: expected an integer for a i32 element"},
      {"  const %c : i32[] = dense<4294967296>",
       "e.kir:3:28: error: integer 4294967296 is out of range for i32"},
      {"  %y = neg(%x:1) : f32[2,3]", "e.kir:3:12: error: value '%x' has no result 1 (it has 1)"},
      {"  %y = reduce_sum(%x) {axes=[[1]]} : f32[2]",
       "e.kir:3:30: error: nested lists are not allowed in attribute values"},
      {"  %y = reduce_sum(%x) {axes=[1.5, 2]} : f32[2]",
       "e.kir:3:3: error: reduce_sum 'y': attribute 'axes' must be a list of integers, got "
       "[1.5,2.0]"},
      {"  %y = neg(%x) {alpha=0.5} : f32[2,3]",
       "e.kir:3:3: error: neg 'y': unknown attribute 'alpha' (this op takes none)"},
      {"  %y = cast(%x) {dtype=f64, dtype2=bogus} : f64[2,3]",
       "e.kir:3:36: error: unexpected word 'bogus' in an attribute value (strings are quoted; "
       "dtypes are f32, f64, i32, i64, bool)"},
      {"  input %y : f32[0]",
       "e.kir:3:9: error: input 'y': shape [0] is invalid or too large (dimensions must be "
       "positive, at most 268435456 elements)"},
      {"  train @t(loss=%x, optimizer=adagrad)",
       "e.kir:3:31: error: unknown optimizer 'adagrad' (expected sgd, rmsprop, adam or adamw)"},
      {"  train @t(loss=%x, params=[%x])", "e.kir:3:29: error: train step 't': '%x' is not a param"},
      {"  train @t(optimizer=sgd)", "e.kir:3:3: error: train step 't' has no loss"},
      {"  train @t(loss=%x, loss=%x)", "e.kir:3:21: error: field 'loss' given twice in train step 't'"},
      {"  param %p : f32[2] init=xavier", "e.kir:3:26: error: unknown initializer 'xavier'"},
      {"  param %p : f32[2] init=value{data=[...2 elements]}",
       "e.kir:3:38: error: elided list ([...N elements]) cannot be parsed; print without "
       "elideValuesOver"},
      {"  %y = neg(%x) : f32[2,3] loc(\"f\":1)", "e.kir:3:36: error: expected ':' after the line in loc(...)"},
      {"  return %x\n  return %x", "e.kir:4:3: error: the graph has a second 'return'"},
      {"  %y = neg(%x) : f32[2,3] = 5", "e.kir:3:27: error: expected a definition (input, param, const, "
                                         "%name = op(...)), return or train"},
      {"  const %c : f32[] = dense<1.0e99>", "e.kir:3:28: error: number 1.0e99 is out of range for f32"},
      {"  %y = neg(%x) : f32[2,3] loc(\"f\":1:2, \"p\"", "e.kir:4:1: error: expected ')' to close loc(...)"},
      {"  input %s : f32[2] loc(\"bad \\q\":1:1)", "e.kir:3:30: error: unknown escape '\\q' in string"},
  };
  for (const Case &c : cases)
    EXPECT_EQ(errorOf(c.body), c.message) << c.body;
}

TEST(TextParseErrors, WholeFileStructure) {
  auto msg = [](const char *text) {
    auto g = parseGraph(text, "s.kir");
    return g.ok() ? std::string("<parsed>") : g.message();
  };
  EXPECT_EQ(msg(""), "s.kir:1:1: error: expected 'graph' at the start of the text");
  EXPECT_EQ(msg("graph g {}"), "s.kir:1:7: error: expected the graph name (@name) after 'graph'");
  EXPECT_EQ(msg("graph @g seed=-1 {}"), "s.kir:1:15: error: expected a non-negative integer");
  EXPECT_EQ(msg("graph @g seed=1 seed=2 {}"), "s.kir:1:17: error: graph field 'seed' given twice");
  EXPECT_EQ(msg("graph @g {\n  input %x : f32[2]\n"),
            "s.kir:3:1: error: expected '}' to close the graph body");
  EXPECT_EQ(msg("graph @g {} extra"),
            "s.kir:1:13: error: expected end of input after the graph's closing '}'");
  EXPECT_EQ(msg("graph @g {}"), "<parsed>");
}

TEST(TextParseErrors, HostileTextDoesNotCrash) {
  // Deep nesting is rejected at the second bracket, not recursed into.
  std::string deep = "graph @g {\n  input %x : f32[2]\n  %y = reduce_sum(%x) {axes=" +
                     std::string(200000, '[') + "}\n}";
  auto g = parseGraph(deep, "h.kir");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.message(), "h.kir:3:30: error: nested lists are not allowed in attribute values");

  // Huge shapes are refused before anything is allocated.
  auto big = parseGraph("graph @g { const %c : f32[1000000,1000000] = dense<0.0> }", "h.kir");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.message(),
            "h.kir:1:52: error: const 'c': shape [1000000,1000000] is invalid or too large");
  auto rank = parseGraph("graph @g { input %x : f32[" + std::string(199, '1') + "] }", "h.kir");
  EXPECT_FALSE(rank.ok());
  std::string manyDims = "graph @g { input %x : f32[1";
  for (int i = 0; i < 100; ++i)
    manyDims += ",1";
  auto dims = parseGraph(manyDims + "] }", "h.kir");
  ASSERT_FALSE(dims.ok());
  EXPECT_NE(dims.message().find("shape has more than 64 dimensions"), std::string::npos);
  auto longName = parseGraph("graph @g { input %" + std::string(5000, 'a') + " : f32[1] }", "h.kir");
  ASSERT_FALSE(longName.ok());
  EXPECT_EQ(longName.message(), "h.kir:1:18: error: name is too long");

  // Random mutations of a valid text: every one parses or fails cleanly.
  const std::string base = "graph @g seed=1 {\n"
                           "  input %x : f32[2,3] loc(\"a\":1:2, \"$.x\")\n"
                           "  param %w : f32[3,4] init=uniform{low=-1.0, high=1.0, seed=2}\n"
                           "  const %c : f32[4] = dense<[1.0, 2.0, 3.0, 4.0]>\n"
                           "  %y = matmul(%x, %w) {transpose_a=false} : f32[2,4]\n"
                           "  %z = add(%y, %c) : f32[2,4]\n"
                           "  %l = reduce_mean(%z) {axes=[0, 1]} : f32[]\n"
                           "  return %z:0, %l\n"
                           "  train @t(loss=%l, params=[%w], optimizer=adam{lr=0.01})\n"
                           "}\n";
  ASSERT_TRUE(parseGraph(base, "m.kir").ok()) << parseGraph(base, "m.kir").message();
  std::mt19937 rng(1234);
  const char alphabet[] = "%@:[](){}<>,=\"\\.-0123456789aefinx \n\x01\xff";
  int parsed = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string t = base;
    int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % t.size();
      switch (rng() % 3) {
      case 0: t[pos] = alphabet[rng() % (sizeof alphabet - 1)]; break;
      case 1: t.erase(pos, 1 + rng() % 8); break;
      default: t.insert(pos, 1, alphabet[rng() % (sizeof alphabet - 1)]); break;
      }
      if (t.empty())
        t = "x";
    }
    auto r = parseGraph(t, "m.kir");
    if (r.ok()) {
      ++parsed;
      // Whatever parsed must print and parse back to the same text.
      std::string p1 = printGraph(*r);
      auto r2 = parseGraph(p1, "m.kir");
      ASSERT_TRUE(r2.ok()) << r2.message() << "\n" << p1;
      EXPECT_EQ(printGraph(*r2), p1);
    } else {
      EXPECT_EQ(r.message().rfind("m.kir:", 0), 0u) << r.message();
    }
  }
  EXPECT_GT(parsed, 0);
}

} // namespace
} // namespace kiln
