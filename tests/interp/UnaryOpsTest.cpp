// Hand-checked cases for the elementwise unary ops, cast and stop_gradient, in f32 and f64.
#include "InterpTestUtil.h"

using namespace kiln;
using namespace kiln::test;

namespace {
/// Runs a one-input op on [n] values in each float dtype and compares.
void checkFloatUnary(Op op, std::vector<double> x, std::vector<double> want, AttrMap attrs = {},
                     double tol = -1) {
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    int64_t n = int64_t(x.size());
    expectTensor(evalOk(op, {tensorOf(dt, {n}, x)}, attrs), dt, {n}, want, tol);
  }
}
} // namespace

OP_TEST(Neg, FloatAndInt) {
  checkFloatUnary(Op::Neg, {1, -2, 0.5}, {-1, 2, -0.5});
  expectTensor(evalOk(Op::Neg, {tensorOf(DType::I32, {2}, {3, -4})}), DType::I32, {2}, {-3, 4});
}

OP_TEST(Abs, FloatAndInt) {
  checkFloatUnary(Op::Abs, {-1.5, 2, 0}, {1.5, 2, 0});
  expectTensor(evalOk(Op::Abs, {tensorOf(DType::I64, {2}, {-7, 7})}), DType::I64, {2}, {7, 7});
}

OP_TEST(Exp, Values) {
  checkFloatUnary(Op::Exp, {0, 1, -1}, {1, 2.718281828459045, 0.36787944117144233});
}

OP_TEST(Log, Values) {
  checkFloatUnary(Op::Log, {1, 2.718281828459045, 0.5}, {0, 1, -0.6931471805599453});
}

OP_TEST(Sqrt, Values) { checkFloatUnary(Op::Sqrt, {4, 2.25, 0}, {2, 1.5, 0}); }

OP_TEST(Rsqrt, Values) { checkFloatUnary(Op::Rsqrt, {4, 0.25}, {0.5, 2}); }

OP_TEST(Square, FloatAndInt) {
  checkFloatUnary(Op::Square, {-3, 0.5}, {9, 0.25});
  expectTensor(evalOk(Op::Square, {tensorOf(DType::I32, {1}, {-4})}), DType::I32, {1}, {16});
}

OP_TEST(Sign, FloatAndInt) {
  checkFloatUnary(Op::Sign, {-2, 0, 3.5}, {-1, 0, 1});
  expectTensor(evalOk(Op::Sign, {tensorOf(DType::I32, {3}, {-5, 0, 7})}), DType::I32, {3},
               {-1, 0, 1});
}

OP_TEST(Relu, FloatAndInt) {
  checkFloatUnary(Op::Relu, {-1, 0, 2.5}, {0, 0, 2.5});
  expectTensor(evalOk(Op::Relu, {tensorOf(DType::I64, {2}, {-3, 3})}), DType::I64, {2}, {0, 3});
}

OP_TEST(Sigmoid, ValuesAndExtremes) {
  // sigmoid(2) = 1/(1+e^-2); extremes must not overflow to NaN.
  checkFloatUnary(Op::Sigmoid, {0, 2, -2, -1000, 1000},
                  {0.5, 0.8807970779778823, 0.11920292202211755, 0, 1});
}

OP_TEST(Tanh, Values) {
  checkFloatUnary(Op::Tanh, {0, 1, -0.5}, {0, 0.7615941559557649, -0.46211715726000974});
}

OP_TEST(Softplus, ValuesAndExtremes) {
  // log(1+e^x): log 2, log(1+e), log(1+1/e); large x stays finite (= x).
  checkFloatUnary(Op::Softplus, {0, 1, -1, 100},
                  {0.6931471805599453, 1.3132616875182228, 0.31326168751822286, 100});
}

OP_TEST(LeakyRelu, DefaultAndExplicitAlpha) {
  checkFloatUnary(Op::LeakyRelu, {-2, 3}, {-0.4, 3});
  checkFloatUnary(Op::LeakyRelu, {-4, 1}, {-2, 1}, {{"alpha", 0.5}});
}

OP_TEST(Gelu, ExactAndTanh) {
  // Exact: x * Phi(x); Phi(1) = 0.8413447460685429.
  checkFloatUnary(Op::Gelu, {1, -1, 0}, {0.8413447460685429, -0.15865525393145707, 0});
  // tanh form at 1: 0.5 * (1 + tanh(sqrt(2/pi) * 1.044715)) = 0.8411919906...
  checkFloatUnary(Op::Gelu, {1, 0}, {0.8411919906082768, 0}, {{"approximate", std::string("tanh")}},
                  1e-6);
}

OP_TEST(Cast, AllKinds) {
  // Float to int truncates toward zero.
  for (DType dt : kFloatTypes)
    expectTensor(evalOk(Op::Cast, {tensorOf(dt, {3}, {1.7, -1.7, 0})}, {{"dtype", DType::I32}}),
                 DType::I32, {3}, {1, -1, 0});
  expectTensor(evalOk(Op::Cast, {tensorOf(DType::I32, {3}, {0, 3, -2})}, {{"dtype", DType::Bool}}),
               DType::Bool, {3}, {0, 1, 1});
  expectTensor(evalOk(Op::Cast, {tensorOf(DType::Bool, {2}, {1, 0})}, {{"dtype", DType::F64}}),
               DType::F64, {2}, {1, 0});
  expectTensor(evalOk(Op::Cast, {tensorOf(DType::F64, {1}, {0.1})}, {{"dtype", DType::F32}}),
               DType::F32, {1}, {double(0.1f)}, 0);
  expectTensor(evalOk(Op::Cast, {tensorOf(DType::I64, {1}, {-9})}, {{"dtype", DType::F32}}),
               DType::F32, {1}, {-9});
}

OP_TEST(StopGradient, IdentityAnyDType) {
  checkFloatUnary(Op::StopGradient, {1.5, -2}, {1.5, -2});
  expectTensor(evalOk(Op::StopGradient, {tensorOf(DType::Bool, {2}, {1, 0})}), DType::Bool, {2},
               {1, 0});
}
