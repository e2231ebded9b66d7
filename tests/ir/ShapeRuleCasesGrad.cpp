// Shape-rule samples for the gradient kernels: the result is the *_shape attribute (or x), and
// the incoming gradient must match what the forward op's rule gives for that shape.
#include "ShapeRuleCases.h"

namespace kiln::test {

namespace {

void convGradCases(std::vector<RuleCase> &c) {
  const Op bi = Op::Conv2DBackpropInput, bf = Op::Conv2DBackpropFilter;
  // Forward: x[1,5,5,3] * w[3,3,3,8] valid -> [1,3,3,8].
  c.push_back(ok(bi, {f32({1, 3, 3, 8}), f32({3, 3, 3, 8})}, {{"input_shape", ints({1, 5, 5, 3})}},
                 f32({1, 5, 5, 3})));
  // Stride 2 on 6x6 gives 2x2 too (the last row is skipped): input_shape decides.
  c.push_back(ok(bi, {f64({1, 2, 2, 4}), f64({3, 3, 1, 4})},
                 {{"input_shape", ints({1, 6, 6, 2})}, {"strides", ints({2, 2})}, {"groups", I(2)}},
                 f64({1, 6, 6, 2})));
  c.push_back(ok(bi, {f32({2, 4, 8, 8}), f32({4, 3, 3, 3})},
                 {{"input_shape", ints({2, 3, 8, 8})}, {"padding", S("same")}, {"data_format", S("NCHW")}},
                 f32({2, 3, 8, 8})));
  c.push_back(bad(bi, {f32({1, 4, 4, 8}), f32({3, 3, 3, 8})}, {{"input_shape", ints({1, 5, 5, 3})}},
                  "gradient f32[1,4,4,8] does not match the conv2d result shape [1,3,3,8] of "
                  "input_shape [1,5,5,3]",
                  ".inputs[0]"));
  c.push_back(bad(bi, {f32({1, 3, 3, 8}), f32({3, 3, 3, 8})}, {{"input_shape", ints({1, 5, 5, 2})}},
                  "input channels 2 do not match filter channels 3", ".inputs[1]"));
  c.push_back(bad(bi, {f32({1, 3, 3, 8}), f32({3, 3, 3, 8})}, {{"input_shape", ints({1, 2, 2, 3})}},
                  "height window 3 is larger than the padded input 2", ".attrs.input_shape"));
  c.push_back(bad(bi, {f32({1, 3, 3, 8}), f32({3, 3, 3, 8})}, {{"input_shape", ints({5, 5, 3})}},
                  "input_shape [5,5,3] must have rank 4", ".attrs.input_shape"));
  c.push_back(bad(bi, {i32({1, 3, 3, 8}), i32({3, 3, 3, 8})}, {{"input_shape", ints({1, 5, 5, 3})}},
                  "operand 0 has dtype i32, expected f32 or f64", ".inputs[0]"));

  c.push_back(ok(bf, {f32({1, 5, 5, 3}), f32({1, 3, 3, 8})}, {{"filter_shape", ints({3, 3, 3, 8})}},
                 f32({3, 3, 3, 8})));
  c.push_back(ok(bf, {f64({1, 5, 5, 3}), f64({1, 3, 5, 8})},
                 {{"filter_shape", ints({3, 3, 3, 8})}, {"padding", ints({1, 1, 2, 2})}, {"dilations", ints({2, 2})}},
                 f64({3, 3, 3, 8})));
  c.push_back(bad(bf, {f32({1, 5, 5, 3}), f32({1, 3, 3, 7})}, {{"filter_shape", ints({3, 3, 3, 8})}},
                  "does not match the conv2d result shape [1,3,3,8]", ".inputs[1]"));
  c.push_back(bad(bf, {f32({1, 5, 5, 3}), f32({1, 3, 3, 8})}, {{"filter_shape", ints({3, 3, 2, 8})}},
                  "input channels 3 do not match filter channels 2", ".attrs.filter_shape"));
  c.push_back(bad(bf, {f32({1, 5, 5, 3}), f64({1, 3, 3, 8})}, {{"filter_shape", ints({3, 3, 3, 8})}},
                  "f64", ".inputs[1]"));
  c.push_back(bad(bf, {f32({1, 5, 5, 3}), f32({1, 3, 3, 8})}, {{"filter_shape", ints({3, 3, 0, 8})}},
                  "filter_shape", ".attrs.filter_shape"));
}

void poolGradCases(std::vector<RuleCase> &c) {
  const Op mg = Op::MaxPool2DGrad, ag = Op::AvgPool2DGrad;
  c.push_back(ok(mg, {f32({1, 4, 4, 2}), f32({1, 2, 2, 2})}, {{"ksize", ints({2, 2})}}, f32({1, 4, 4, 2})));
  c.push_back(ok(mg, {f64({1, 2, 5, 5}), f64({1, 2, 3, 3})},
                 {{"ksize", ints({3, 3})}, {"strides", ints({2, 2})}, {"padding", S("same")},
                  {"data_format", S("NCHW")}},
                 f64({1, 2, 5, 5})));
  c.push_back(bad(mg, {f32({1, 4, 4, 2}), f32({1, 3, 3, 2})}, {{"ksize", ints({2, 2})}},
                  "does not match the max_pool2d result shape [1,2,2,2] of input f32[1,4,4,2]",
                  ".inputs[1]"));
  c.push_back(bad(mg, {f32({1, 4, 4, 2}), f32({1, 2, 2, 2})}, {{"ksize", ints({0, 2})}},
                  "ksize [0,2] must be positive", ".attrs.ksize"));
  c.push_back(bad(mg, {f32({4, 4, 2}), f32({1, 2, 2, 2})}, {{"ksize", ints({2, 2})}},
                  "input must have rank 4", ".inputs[0]"));

  c.push_back(ok(ag, {f32({1, 2, 2, 2})}, {{"input_shape", ints({1, 4, 4, 2})}, {"ksize", ints({2, 2})}},
                 f32({1, 4, 4, 2})));
  c.push_back(ok(ag, {f64({1, 3, 2, 1})},
                 {{"input_shape", ints({1, 4, 4, 1})}, {"ksize", ints({2, 2})}, {"padding", ints({1, 1, 0, 1})}},
                 f64({1, 4, 4, 1})));
  c.push_back(bad(ag, {f32({1, 2, 2, 2})}, {{"input_shape", ints({1, 6, 6, 2})}, {"ksize", ints({2, 2})}},
                  "does not match the avg_pool2d result shape [1,3,3,2] of input_shape [1,6,6,2]",
                  ".inputs[0]"));
  c.push_back(bad(ag, {f32({1, 1, 1, 2})}, {{"input_shape", ints({1, 1, 1, 2})}, {"ksize", ints({2, 2})}},
                  "height window 2 is larger than the padded input 1", ".attrs.input_shape"));
}

void otherGradCases(std::vector<RuleCase> &c) {
  const Op gg = Op::GatherGrad, sg = Op::SliceGrad, ge = Op::GeluGrad;
  c.push_back(ok(gg, {i32({2, 3}), f32({2, 3, 4})}, {{"table_shape", ints({10, 4})}}, f32({10, 4})));
  c.push_back(ok(gg, {i64({5}), f64({10, 5})}, {{"table_shape", ints({10, 4})}, {"axis", I(-1)}},
                 f64({10, 4})));
  c.push_back(bad(gg, {i32({2}), f32({2, 5})}, {{"table_shape", ints({10, 4})}},
                  "does not match the gather result shape [2,4] of table_shape [10,4]", ".inputs[1]"));
  c.push_back(bad(gg, {f32({2}), f32({2, 4})}, {{"table_shape", ints({10, 4})}},
                  "operand 1 has dtype f32, expected i32 or i64", ".inputs[0]"));
  c.push_back(bad(gg, {i32({2}), f32({2, 4})}, {{"table_shape", ints({10, 4})}, {"axis", I(2)}},
                  "axis 2 is out of range for rank 2", ".attrs.axis"));
  c.push_back(bad(gg, {i32({2}), i32({2, 4})}, {{"table_shape", ints({10, 4})}},
                  "operand 1 has dtype i32, expected f32 or f64", ".inputs[1]"));

  c.push_back(ok(sg, {f32({3, 2})},
                 {{"input_shape", ints({10, 4})}, {"begin", ints({1, 0})}, {"end", ints({7, 4})},
                  {"strides", ints({2, 2})}},
                 f32({10, 4})));
  c.push_back(ok(sg, {f64({3})}, {{"input_shape", ints({5})}, {"begin", ints({1})}, {"end", ints({-1})}},
                 f64({5})));
  c.push_back(bad(sg, {f32({2})}, {{"input_shape", ints({5})}, {"begin", ints({1})}, {"end", ints({-1})}},
                  "does not match the slice result shape [3] of input_shape [5]", ".inputs[0]"));
  c.push_back(bad(sg, {f32({2})}, {{"input_shape", ints({5})}, {"begin", ints({3})}, {"end", ints({2})}},
                  "is empty", ".attrs.begin"));
  c.push_back(bad(sg, {f32({2})}, {{"input_shape", ints({5, 2})}, {"begin", ints({0})}, {"end", ints({2})}},
                  "begin [0] has 1 entries but the operand has rank 2", ".attrs.begin"));

  c.push_back(ok(ge, {f32({2, 3}), f32({2, 3})}, {}, f32({2, 3})));
  c.push_back(ok(ge, {f64({4}), f64({4})}, {{"approximate", S("tanh")}}, f64({4})));
  c.push_back(bad(ge, {f32({2, 3}), f32({3, 2})}, {}, "gradient must have shape [2,3], got f32[3,2]",
                  ".inputs[1]"));
  c.push_back(bad(ge, {f32({2}), f64({2})}, {}, "f64", ".inputs[1]"));
  c.push_back(bad(ge, {i32({2}), i32({2})}, {}, "operand 0 has dtype i32, expected f32 or f64",
                  ".inputs[0]"));
}

} // namespace

std::vector<RuleCase> gradKernelCases() {
  std::vector<RuleCase> c;
  convGradCases(c);
  poolGradCases(c);
  otherGradCases(c);
  return c;
}

} // namespace kiln::test
