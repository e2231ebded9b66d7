// Hand-checked cases for the broadcasting binary ops, comparisons and select, in f32 and f64.
#include "InterpTestUtil.h"

using namespace kiln;
using namespace kiln::test;

OP_TEST(Add, BroadcastRowAndColumn) {
  for (DType dt : kFloatTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    expectTensor(evalOk(Op::Add, {tensorOf(dt, {2, 3}, {1, 2, 3, 4, 5, 6}),
                                  tensorOf(dt, {3}, {10, 20, 30})}),
                 dt, {2, 3}, {11, 22, 33, 14, 25, 36});
    // [2,1] + [1,3] -> [2,3]: both operands stretch.
    expectTensor(
        evalOk(Op::Add, {tensorOf(dt, {2, 1}, {1, 2}), tensorOf(dt, {1, 3}, {10, 20, 30})}), dt,
        {2, 3}, {11, 21, 31, 12, 22, 32});
  }
  expectTensor(evalOk(Op::Add, {tensorOf(DType::I32, {2}, {1, -5}), tensorOf(DType::I32, {}, {3})}),
               DType::I32, {2}, {4, -2});
}

OP_TEST(Sub, Broadcast) {
  for (DType dt : kFloatTypes)
    expectTensor(
        evalOk(Op::Sub, {tensorOf(dt, {2, 2}, {5, 6, 7, 8}), tensorOf(dt, {2, 1}, {1, 2})}), dt,
        {2, 2}, {4, 5, 5, 6});
  expectTensor(evalOk(Op::Sub, {tensorOf(DType::I64, {}, {1}), tensorOf(DType::I64, {2}, {3, -3})}),
               DType::I64, {2}, {-2, 4});
}

OP_TEST(Mul, ScalarBroadcast) {
  for (DType dt : kFloatTypes)
    expectTensor(evalOk(Op::Mul, {tensorOf(dt, {2, 2}, {1, -2, 0.5, 4}), tensorOf(dt, {}, {2})}),
                 dt, {2, 2}, {2, -4, 1, 8});
  expectTensor(
      evalOk(Op::Mul, {tensorOf(DType::I32, {2}, {3, -4}), tensorOf(DType::I32, {2}, {5, 6})}),
      DType::I32, {2}, {15, -24});
}

OP_TEST(Div, FloatIntAndDivisionByZero) {
  for (DType dt : kFloatTypes)
    expectTensor(evalOk(Op::Div, {tensorOf(dt, {3}, {1, 2, 3}), tensorOf(dt, {1}, {2})}), dt, {3},
                 {0.5, 1, 1.5});
  // Integer division truncates toward zero.
  expectTensor(evalOk(Op::Div, {tensorOf(DType::I32, {2}, {7, -7}), tensorOf(DType::I32, {}, {2})}),
               DType::I32, {2}, {3, -3});
  auto r = runOp(Op::Div, {tensorOf(DType::I32, {2}, {7, 1}), tensorOf(DType::I32, {2}, {1, 0})},
                 {}, {}, "q");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("div 'q': integer division by zero"), std::string::npos)
      << r.message();
}

OP_TEST(Pow, Values) {
  for (DType dt : kFloatTypes)
    expectTensor(evalOk(Op::Pow, {tensorOf(dt, {3}, {2, 9, 4}), tensorOf(dt, {3}, {3, 0.5, -1})}),
                 dt, {3}, {8, 3, 0.25});
}

OP_TEST(Maximum, ValuesAndBroadcast) {
  for (DType dt : kFloatTypes) {
    expectTensor(
        evalOk(Op::Maximum, {tensorOf(dt, {3}, {1, 5, -2}), tensorOf(dt, {3}, {3, 2, -2})}), dt,
        {3}, {3, 5, -2});
    expectTensor(evalOk(Op::Maximum, {tensorOf(dt, {3}, {-1, 0, 1}), tensorOf(dt, {}, {0})}), dt,
                 {3}, {0, 0, 1});
  }
  expectTensor(
      evalOk(Op::Maximum, {tensorOf(DType::I32, {2}, {4, -9}), tensorOf(DType::I32, {2}, {-4, 9})}),
      DType::I32, {2}, {4, 9});
}

OP_TEST(Minimum, ValuesAndBroadcast) {
  for (DType dt : kFloatTypes)
    expectTensor(evalOk(Op::Minimum, {tensorOf(dt, {3}, {1, 5, -2}), tensorOf(dt, {1}, {2})}), dt,
                 {3}, {1, 2, -2});
  expectTensor(
      evalOk(Op::Minimum, {tensorOf(DType::I64, {2}, {4, -9}), tensorOf(DType::I64, {2}, {-4, 9})}),
      DType::I64, {2}, {-4, -9});
}

namespace {
/// a = [1, 2, 3] against the scalar-like [2] in each float dtype and i32.
void checkCompare(Op op, std::vector<double> want) {
  for (DType dt : {DType::F32, DType::F64, DType::I32}) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    expectTensor(evalOk(op, {tensorOf(dt, {3}, {1, 2, 3}), tensorOf(dt, {1}, {2})}), DType::Bool,
                 {3}, want);
  }
}
} // namespace

OP_TEST(Equal, NumbersAndBool) {
  checkCompare(Op::Equal, {0, 1, 0});
  expectTensor(evalOk(Op::Equal, {tensorOf(DType::Bool, {3}, {1, 0, 1}),
                                  tensorOf(DType::Bool, {3}, {1, 1, 0})}),
               DType::Bool, {3}, {1, 0, 0});
}

OP_TEST(NotEqual, NumbersAndBool) {
  checkCompare(Op::NotEqual, {1, 0, 1});
  expectTensor(
      evalOk(Op::NotEqual, {tensorOf(DType::Bool, {2}, {1, 0}), tensorOf(DType::Bool, {}, {0})}),
      DType::Bool, {2}, {1, 0});
}

OP_TEST(Less, Values) { checkCompare(Op::Less, {1, 0, 0}); }
OP_TEST(LessEqual, Values) { checkCompare(Op::LessEqual, {1, 1, 0}); }
OP_TEST(Greater, Values) { checkCompare(Op::Greater, {0, 0, 1}); }
OP_TEST(GreaterEqual, Values) { checkCompare(Op::GreaterEqual, {0, 1, 1}); }

OP_TEST(Select, BroadcastOfAllThree) {
  for (DType dt : kFloatTypes) {
    // cond [2,1] picks whole rows of a [2,2]; b is a scalar.
    expectTensor(evalOk(Op::Select, {tensorOf(DType::Bool, {2, 1}, {1, 0}),
                                     tensorOf(dt, {2, 2}, {1, 2, 3, 4}), tensorOf(dt, {}, {-1})}),
                 dt, {2, 2}, {1, 2, -1, -1});
  }
  expectTensor(evalOk(Op::Select,
                      {tensorOf(DType::Bool, {3}, {0, 1, 0}), tensorOf(DType::Bool, {3}, {1, 1, 1}),
                       tensorOf(DType::Bool, {3}, {0, 0, 0})}),
               DType::Bool, {3}, {0, 1, 0});
}
