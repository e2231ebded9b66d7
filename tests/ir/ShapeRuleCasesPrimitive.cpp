// Shape-rule samples for elementwise ops, reductions, matmul and data movement.
#include "ShapeRuleCases.h"

#include <cstdint>
#include <limits>

namespace kiln::test {

namespace {

void unaryCases(std::vector<RuleCase> &c) {
  // Every unary op: a valid sample in a dtype it accepts, and a rejected dtype.
  for (Op op : {Op::Exp, Op::Log, Op::Sqrt, Op::Rsqrt, Op::Sigmoid, Op::Tanh, Op::Softplus,
                Op::LeakyRelu, Op::Gelu}) {
    c.push_back(ok(op, {f32({2, 3})}, {}, f32({2, 3})));
    c.push_back(ok(op, {f64({})}, {}, f64({})));
    c.push_back(bad(op, {i32({4})}, {}, "operand 0 has dtype i32, expected f32 or f64", ".inputs[0]"));
  }
  for (Op op : {Op::Neg, Op::Abs, Op::Square, Op::Sign, Op::Relu}) {
    c.push_back(ok(op, {i32({4})}, {}, i32({4})));
    c.push_back(ok(op, {f64({2, 1})}, {}, f64({2, 1})));
    c.push_back(bad(op, {boolean({4})}, {}, "operand 0 has dtype bool, expected f32, f64, i32 or i64",
                    ".inputs[0]"));
  }
  c.push_back(ok(Op::LeakyRelu, {f32({3})}, {{"alpha", I(1)}}, f32({3}))); // int converts to float
  c.push_back(bad(Op::LeakyRelu, {f32({3})}, {{"alpha", F(std::numeric_limits<double>::infinity())}}, "alpha inf must be finite",
                  ".attrs.alpha"));
  c.push_back(ok(Op::Gelu, {f32({3})}, {{"approximate", S("tanh")}}, f32({3})));
  c.push_back(bad(Op::Gelu, {f32({3})}, {{"approximate", S("erf")}},
                  "attribute 'approximate' must be one of \"none\", \"tanh\", got \"erf\"",
                  ".attrs.approximate"));
  c.push_back(ok(Op::Cast, {f32({2, 3})}, {{"dtype", S("i64")}}, i64({2, 3})));
  c.push_back(ok(Op::Cast, {boolean({2})}, {{"dtype", DType::F64}}, f64({2})));
  c.push_back(bad(Op::Cast, {f32({2})}, {{"dtype", S("f16")}}, "attribute 'dtype' must be a dtype",
                  ".attrs.dtype"));
  c.push_back(bad(Op::Cast, {f32({2})}, {}, "missing required attribute 'dtype'"));
  c.push_back(ok(Op::StopGradient, {boolean({2, 2})}, {}, boolean({2, 2})));
  c.push_back(bad(Op::StopGradient, {f32({2}), f32({2})}, {}, "expects 1 input, got 2"));
}

void binaryCases(std::vector<RuleCase> &c) {
  for (Op op : {Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Maximum, Op::Minimum}) {
    c.push_back(ok(op, {f32({2, 3}), f32({3})}, {}, f32({2, 3})));
    c.push_back(ok(op, {i32({4, 1}), i32({1, 5})}, {}, i32({4, 5})));
    c.push_back(bad(op, {f32({2, 3}), f32({4})}, {}, "shapes f32[2,3] and f32[4] do not broadcast",
                    ".inputs[1]"));
    c.push_back(bad(op, {f32({2}), i32({2})}, {}, "operand dtypes f32 and i32 differ", ".inputs[1]"));
    c.push_back(bad(op, {boolean({2}), boolean({2})}, {}, "operand 0 has dtype bool", ".inputs[0]"));
  }
  c.push_back(ok(Op::Pow, {f64({}), f64({3, 2})}, {}, f64({3, 2})));
  c.push_back(bad(Op::Pow, {i32({2}), i32({2})}, {}, "dtype i32, expected f32 or f64", ".inputs[0]"));
  c.push_back(bad(Op::Pow, {f32({2}), f64({2})}, {}, "operand dtypes f32 and f64 differ", ".inputs[1]"));

  for (Op op : {Op::Equal, Op::NotEqual, Op::Less, Op::LessEqual, Op::Greater, Op::GreaterEqual}) {
    c.push_back(ok(op, {f32({2, 1}), f32({3})}, {}, boolean({2, 3})));
    c.push_back(ok(op, {i64({}), i64({4})}, {}, boolean({4})));
    c.push_back(bad(op, {f32({2}), i32({2})}, {}, "operand dtypes f32 and i32 differ", ".inputs[1]"));
    c.push_back(bad(op, {i32({2, 3}), i32({3, 2})}, {}, "shapes i32[2,3] and i32[3,2] do not broadcast",
                    ".inputs[1]"));
  }
  // Equality is defined on bool; ordering is not.
  c.push_back(ok(Op::Equal, {boolean({2}), boolean({2})}, {}, boolean({2})));
  c.push_back(ok(Op::NotEqual, {boolean({2}), boolean({1})}, {}, boolean({2})));
  c.push_back(bad(Op::Less, {boolean({2}), boolean({2})}, {}, "operand 0 has dtype bool", ".inputs[0]"));

  c.push_back(ok(Op::Select, {boolean({2, 1}), f32({3}), f32({1})}, {}, f32({2, 3})));
  c.push_back(ok(Op::Select, {boolean({}), boolean({2}), boolean({2})}, {}, boolean({2})));
  c.push_back(bad(Op::Select, {f32({2}), f32({2}), f32({2})}, {}, "condition has dtype f32, expected bool",
                  ".inputs[0]"));
  c.push_back(bad(Op::Select, {boolean({2}), f32({2}), i32({2})}, {}, "operand dtypes f32 and i32 differ",
                  ".inputs[2]"));
  c.push_back(bad(Op::Select, {boolean({2}), f32({2}), f32({3})}, {},
                  "shapes f32[2] and f32[3] do not broadcast", ".inputs[2]"));
}

void reductionCases(std::vector<RuleCase> &c) {
  for (Op op : {Op::ReduceSum, Op::ReduceMean, Op::ReduceMax, Op::ReduceMin}) {
    c.push_back(ok(op, {f32({2, 3, 4})}, {}, f32({})));
    c.push_back(ok(op, {f32({2, 3, 4})}, {{"axes", ints({-1, 0})}, {"keepdims", true}}, f32({1, 3, 1})));
    c.push_back(ok(op, {f64({2, 3})}, {{"axes", ints({1})}}, f64({2})));
    c.push_back(ok(op, {f32({2, 3})}, {{"axes", ints({})}}, f32({2, 3}))); // explicit []: nothing
    c.push_back(bad(op, {f32({2, 3})}, {{"axes", ints({2})}}, "axis 2 is out of range for rank 2",
                    ".attrs.axes"));
    c.push_back(bad(op, {f32({2, 3})}, {{"axes", ints({1, -1})}}, "axes [1,-1] name axis 1 twice",
                    ".attrs.axes"));
    c.push_back(bad(op, {boolean({2})}, {}, "dtype bool", ".inputs[0]"));
  }
  c.push_back(ok(Op::ReduceMax, {i32({3, 4})}, {{"axes", ints({-1})}}, i32({3})));
  c.push_back(bad(Op::ReduceMean, {i32({3})}, {}, "operand 0 has dtype i32, expected f32 or f64",
                  ".inputs[0]"));

  c.push_back(ok(Op::Argmax, {f32({2, 5})}, {}, i32({2})));
  c.push_back(ok(Op::Argmax, {i64({2, 5, 3})}, {{"axis", I(1)}}, i32({2, 3})));
  c.push_back(bad(Op::Argmax, {f32({2, 5})}, {{"axis", I(2)}}, "axis 2 is out of range for rank 2",
                  ".attrs.axis"));
  c.push_back(bad(Op::Argmax, {f32({})}, {}, "axis -1 is out of range for rank 0", ".attrs.axis"));
  c.push_back(bad(Op::Argmax, {f32({2})}, {{"axis", F(0.5)}}, "attribute 'axis' must be an integer",
                  ".attrs.axis"));
}

void matmulCases(std::vector<RuleCase> &c) {
  c.push_back(ok(Op::Matmul, {f32({2, 3}), f32({3, 4})}, {}, f32({2, 4})));
  c.push_back(ok(Op::Matmul, {f32({5, 1, 2, 3}), f32({4, 3, 6})}, {}, f32({5, 4, 2, 6})));
  c.push_back(ok(Op::Matmul, {f64({3, 2}), f64({3, 4})}, {{"transpose_a", true}}, f64({2, 4})));
  c.push_back(ok(Op::Matmul, {f32({2, 3}), f32({4, 3})}, {{"transpose_b", true}}, f32({2, 4})));
  c.push_back(bad(Op::Matmul, {f32({2, 3}), f32({4, 5})}, {}, "contraction dims 3 and 4 do not match",
                  ".inputs[1]"));
  c.push_back(bad(Op::Matmul, {f32({2, 3}), f32({3})}, {}, "operand 1 must have rank >= 2, got f32[3]",
                  ".inputs[1]"));
  c.push_back(bad(Op::Matmul, {i32({2, 3}), i32({3, 2})}, {}, "operand 0 has dtype i32", ".inputs[0]"));
  c.push_back(bad(Op::Matmul, {f32({2, 3}), f64({3, 2})}, {}, "operand dtypes f32 and f64 differ",
                  ".inputs[1]"));
  c.push_back(bad(Op::Matmul, {f32({2, 2, 3}), f32({3, 3, 2})}, {},
                  "batch dims [2] and [3] do not broadcast", ".inputs[1]"));
}

void movementCases(std::vector<RuleCase> &c) {
  c.push_back(ok(Op::Reshape, {f32({2, 3, 4})}, {{"shape", ints({4, -1})}}, f32({4, 6})));
  c.push_back(ok(Op::Reshape, {boolean({6})}, {{"shape", ints({2, 3})}}, boolean({2, 3})));
  c.push_back(ok(Op::Reshape, {f32({1, 1})}, {{"shape", ints({})}}, f32({})));
  c.push_back(bad(Op::Reshape, {f32({2, 3})}, {{"shape", ints({-1, -1})}}, "has more than one -1",
                  ".attrs.shape"));
  c.push_back(bad(Op::Reshape, {f32({2, 3})}, {{"shape", ints({4, 2})}},
                  "cannot reshape f32[2,3] (6 elements) to [4,2]", ".attrs.shape"));
  c.push_back(bad(Op::Reshape, {f32({2, 3})}, {{"shape", ints({0, 6})}}, "has entry 0", ".attrs.shape"));
  c.push_back(bad(Op::Reshape, {f32({2, 3})}, {{"shape", ints({int64_t(1) << 40, int64_t(1) << 40, -1})}},
                  "cannot reshape", ".attrs.shape"));
  c.push_back(bad(Op::Reshape, {f32({2, 3})}, {{"shape", ints({4, -1})}}, "cannot reshape",
                  ".attrs.shape"));

  c.push_back(ok(Op::Flatten, {f32({2, 3, 4})}, {}, f32({2, 12})));
  c.push_back(ok(Op::Flatten, {i32({5})}, {}, i32({5, 1})));
  c.push_back(bad(Op::Flatten, {f32({})}, {}, "rank >= 1", ".inputs[0]"));

  c.push_back(ok(Op::Transpose, {f32({2, 3, 4})}, {}, f32({4, 3, 2})));
  c.push_back(ok(Op::Transpose, {f32({2, 3, 4})}, {{"perm", ints({0, -1, 1})}}, f32({2, 4, 3})));
  c.push_back(bad(Op::Transpose, {f32({2, 3, 4})}, {{"perm", ints({0, 0, 1})}},
                  "perm [0,0,1] is not a permutation of the 3 axes", ".attrs.perm"));
  c.push_back(bad(Op::Transpose, {f32({2, 3, 4})}, {{"perm", ints({1, 0})}},
                  "perm [1,0] has 2 entries but the operand has rank 3", ".attrs.perm"));

  c.push_back(ok(Op::Concat, {f32({2, 3}), f32({2, 5})}, {{"axis", I(-1)}}, f32({2, 8})));
  c.push_back(ok(Op::Concat, {i32({2}), i32({3}), i32({1})}, {}, i32({6})));
  c.push_back(ok(Op::Concat, {boolean({4, 1})}, {}, boolean({4, 1})));
  c.push_back(bad(Op::Concat, {f32({2, 3}), f32({3, 3})}, {{"axis", I(1)}},
                  "operand 1 f32[3,3] does not match operand 0 f32[2,3] except on axis 1", ".inputs[1]"));
  c.push_back(bad(Op::Concat, {f32({2}), i32({2})}, {}, "operand dtypes f32 and i32 differ", ".inputs[1]"));
  c.push_back(bad(Op::Concat, {f32({2}), f32({2})}, {{"axis", I(1)}}, "axis 1 is out of range for rank 1",
                  ".attrs.axis"));
  c.push_back(bad(Op::Concat, {}, {}, "expects at least 1 input, got 0"));

  c.push_back(ok(Op::Slice, {f32({10, 4})},
                 {{"begin", ints({-3, 0})}, {"end", ints({100, 4})}, {"strides", ints({2, 1})}},
                 f32({2, 4})));
  c.push_back(ok(Op::Slice, {i32({5})}, {{"begin", ints({1})}, {"end", ints({-1})}}, i32({3})));
  c.push_back(bad(Op::Slice, {f32({4})}, {{"begin", ints({3})}, {"end", ints({2})}},
                  "slice of axis 0 (size 4) from 3 to 2 is empty", ".attrs.begin"));
  c.push_back(bad(Op::Slice, {f32({4})}, {{"begin", ints({0})}, {"end", ints({4})}, {"strides", ints({0})}},
                  "strides [0] must be positive", ".attrs.strides"));
  c.push_back(bad(Op::Slice, {f32({4, 4})}, {{"begin", ints({0})}, {"end", ints({4, 4})}},
                  "begin [0] has 1 entries but the operand has rank 2", ".attrs.begin"));
  c.push_back(bad(Op::Slice, {f32({4})},
                  {{"begin", ints({INT64_MIN})}, {"end", ints({INT64_MIN})}}, "is empty", ".attrs.begin"));

  c.push_back(ok(Op::BroadcastTo, {f32({3, 1})}, {{"shape", ints({2, 3, 4})}}, f32({2, 3, 4})));
  c.push_back(bad(Op::BroadcastTo, {f32({3})}, {{"shape", ints({2, 4})}},
                  "shape f32[3] cannot be broadcast to [2,4]", ".attrs.shape"));
  c.push_back(bad(Op::BroadcastTo, {f32({3})}, {{"shape", ints({2, 3, 1})}}, "cannot be broadcast",
                  ".attrs.shape"));
  c.push_back(bad(Op::BroadcastTo, {f32({1})}, {{"shape", ints({0})}}, "not positive", ".attrs.shape"));

  c.push_back(ok(Op::Gather, {f32({10, 4}), i32({2, 3})}, {}, f32({2, 3, 4})));
  c.push_back(ok(Op::Gather, {f32({10, 4}), i64({5})}, {{"axis", I(-1)}}, f32({10, 5})));
  c.push_back(bad(Op::Gather, {f32({10, 4}), f32({2})}, {}, "operand 1 has dtype f32, expected i32 or i64",
                  ".inputs[1]"));
  c.push_back(bad(Op::Gather, {f32({10, 4}), i32({2})}, {{"axis", I(2)}},
                  "axis 2 is out of range for rank 2", ".attrs.axis"));

  c.push_back(ok(Op::OneHot, {i32({2, 3})}, {{"depth", I(5)}}, f32({2, 3, 5})));
  c.push_back(ok(Op::OneHot, {i64({})}, {{"depth", I(3)}, {"dtype", S("i32")}}, i32({3})));
  c.push_back(bad(Op::OneHot, {i32({2})}, {{"depth", I(0)}}, "depth 0 must be between 1", ".attrs.depth"));
  c.push_back(bad(Op::OneHot, {f32({2})}, {{"depth", I(3)}}, "operand 0 has dtype f32, expected i32 or i64",
                  ".inputs[0]"));
}

} // namespace

std::vector<RuleCase> primitiveCases() {
  std::vector<RuleCase> c;
  unaryCases(c);
  binaryCases(c);
  reductionCases(c);
  matmulCases(c);
  movementCases(c);
  return c;
}

} // namespace kiln::test
