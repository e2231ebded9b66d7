// Unit tests of TensorType, broadcasting, axis normalisation, attribute schemas and the op table.
#include "compiler/ir/Attr.h"
#include "compiler/ir/OpInfo.h"
#include "compiler/ir/Types.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(Types, TensorTypeBasics) {
  TensorType t{DType::F32, {2, 3}};
  EXPECT_EQ(t.str(), "f32[2,3]");
  EXPECT_EQ(t.numElements(), 6);
  EXPECT_EQ(t.rank(), 2);
  EXPECT_FALSE(t.isScalar());
  TensorType s{DType::I32, {}};
  EXPECT_EQ(s.str(), "i32[]");
  EXPECT_EQ(s.numElements(), 1);
  EXPECT_TRUE(s.isScalar());
  EXPECT_NE(t, (TensorType{DType::F64, {2, 3}}));
}

TEST(Types, BroadcastShapes) {
  EXPECT_EQ(broadcastShapes({2, 3}, {3}), (Shape{2, 3}));
  EXPECT_EQ(broadcastShapes({}, {4}), (Shape{4}));
  EXPECT_EQ(broadcastShapes({4, 1}, {1, 5}), (Shape{4, 5}));
  EXPECT_EQ(broadcastShapes({5, 1, 2}, {3, 1}), (Shape{5, 3, 2}));
  EXPECT_EQ(broadcastShapes({}, {}), (Shape{}));
  EXPECT_EQ(broadcastShapes({1}, {1}), (Shape{1}));
  EXPECT_FALSE(broadcastShapes({2}, {3}));
  EXPECT_FALSE(broadcastShapes({2, 3}, {3, 2}));
}

TEST(Types, NormalizeAxis) {
  EXPECT_EQ(normalizeAxis(-1, 3), 2);
  EXPECT_EQ(normalizeAxis(0, 3), 0);
  EXPECT_EQ(normalizeAxis(-3, 3), 0);
  EXPECT_FALSE(normalizeAxis(3, 3));
  EXPECT_FALSE(normalizeAxis(-4, 3));
  EXPECT_FALSE(normalizeAxis(0, 0));
  EXPECT_FALSE(normalizeAxis(INT64_MIN, 2));
}

TEST(Attr, ParseSchema) {
  auto specs = parseAttrSchema("axes:ints? keepdims:bool=false mode:enum(a|b)=b dt:dtype "
                               "pad:pad=valid s:ints=[1,2] x:floats? r:float=0.5");
  ASSERT_EQ(specs.size(), 8u);
  EXPECT_EQ(specs[0].name, "axes");
  EXPECT_EQ(specs[0].kind, AttrKind::Ints);
  EXPECT_FALSE(specs[0].required);
  EXPECT_FALSE(specs[0].defaultValue);
  EXPECT_EQ(specs[1].kind, AttrKind::Bool);
  EXPECT_EQ(specs[1].defaultValue, AttrValue(false));
  EXPECT_EQ(specs[2].kind, AttrKind::Enum);
  EXPECT_EQ(specs[2].enumValues, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(specs[2].defaultValue, AttrValue(std::string("b")));
  EXPECT_EQ(specs[3].kind, AttrKind::DTypeKind);
  EXPECT_TRUE(specs[3].required);
  EXPECT_EQ(specs[4].kind, AttrKind::Pad);
  EXPECT_EQ(specs[4].defaultValue, AttrValue(std::string("valid")));
  EXPECT_EQ(specs[5].defaultValue, AttrValue(std::vector<int64_t>{1, 2}));
  EXPECT_EQ(specs[6].kind, AttrKind::Floats);
  EXPECT_EQ(specs[7].defaultValue, AttrValue(0.5));
  EXPECT_TRUE(parseAttrSchema("").empty());
}

AttrSpec specOf(const char *schema) { return parseAttrSchema(schema).at(0); }

TEST(Attr, CheckValueConversions) {
  AttrValue v = int64_t(2);
  EXPECT_EQ(checkAttrValue(specOf("r:float"), v), "");
  EXPECT_EQ(v, AttrValue(2.0)); // an int is accepted where a float is expected, and converted

  AttrValue list = std::vector<int64_t>{1, 2};
  EXPECT_EQ(checkAttrValue(specOf("x:floats"), list), "");
  EXPECT_EQ(list, AttrValue(std::vector<double>{1.0, 2.0}));

  AttrValue dt = std::string("i64");
  EXPECT_EQ(checkAttrValue(specOf("d:dtype"), dt), "");
  EXPECT_EQ(dt, AttrValue(DType::I64));

  // No conversion the other way.
  AttrValue f = 2.5;
  EXPECT_EQ(checkAttrValue(specOf("n:int"), f), "attribute 'n' must be an integer, got 2.5");
  AttrValue b = true;
  EXPECT_NE(checkAttrValue(specOf("n:int"), b), "");
  AttrValue notDtype = std::string("f16");
  EXPECT_NE(checkAttrValue(specOf("d:dtype"), notDtype).find("must be a dtype"), std::string::npos);
}

TEST(Attr, EnumRejection) {
  AttrSpec spec = specOf("activation:enum(none|relu)=none");
  AttrValue good = std::string("relu");
  EXPECT_EQ(checkAttrValue(spec, good), "");
  AttrValue badValue = std::string("swish");
  EXPECT_EQ(checkAttrValue(spec, badValue),
            "attribute 'activation' must be one of \"none\", \"relu\", got \"swish\"");
  AttrValue notString = int64_t(1);
  EXPECT_NE(checkAttrValue(spec, notString), "");
}

TEST(Attr, PadForms) {
  AttrSpec spec = specOf("padding:pad=valid");
  for (const char *s : {"valid", "same"}) {
    AttrValue v = std::string(s);
    EXPECT_EQ(checkAttrValue(spec, v), "") << s;
  }
  AttrValue four = std::vector<int64_t>{1, 2, 3, 4};
  EXPECT_EQ(checkAttrValue(spec, four), "");
  AttrValue three = std::vector<int64_t>{1, 2, 3};
  EXPECT_NE(checkAttrValue(spec, three).find("[top, bottom, left, right]"), std::string::npos);
  AttrValue negative = std::vector<int64_t>{-1, 0, 0, 0};
  EXPECT_EQ(checkAttrValue(spec, negative), "attribute 'padding' must not be negative, got [-1,0,0,0]");
  AttrValue full = std::string("full");
  EXPECT_NE(checkAttrValue(spec, full), "");
}

TEST(Attr, ValueToString) {
  EXPECT_EQ(attrValueToString(AttrValue(int64_t(3))), "3");
  EXPECT_EQ(attrValueToString(AttrValue(2.0)), "2.0");
  EXPECT_EQ(attrValueToString(AttrValue(0.5)), "0.5");
  EXPECT_EQ(attrValueToString(AttrValue(true)), "true");
  EXPECT_EQ(attrValueToString(AttrValue(std::string("same"))), "\"same\"");
  EXPECT_EQ(attrValueToString(AttrValue(std::vector<int64_t>{1, 2})), "[1,2]");
  EXPECT_EQ(attrValueToString(AttrValue(DType::F32)), "f32");
}

TEST(OpInfo, Lookup) {
  EXPECT_EQ(lookupOp("conv2d"), Op::Conv2D);
  EXPECT_EQ(lookupOp("multi_head_attention"), Op::MultiHeadAttention);
  EXPECT_FALSE(lookupOp("conv3d"));
  EXPECT_FALSE(lookupOp(""));
  EXPECT_EQ(opName(Op::ReduceSum), "reduce_sum");
  for (Op op : allOps()) {
    EXPECT_EQ(opInfo(op).op, op);
    EXPECT_EQ(lookupOp(opName(op)), op) << opName(op);
  }
  EXPECT_EQ(allOps().front(), Op::Input);
}

TEST(OpInfo, TraitsAndSchemas) {
  const OpInfo &concat = opInfo(Op::Concat);
  EXPECT_EQ(concat.minInputs, 1);
  EXPECT_EQ(concat.maxInputs, -1);
  EXPECT_TRUE(concat.has(kAnyDType));
  EXPECT_TRUE(opInfo(Op::Input).has(kSource));
  EXPECT_TRUE(opInfo(Op::Exp).has(kFloatOnly));
  EXPECT_TRUE(opInfo(Op::Add).isElementwise());
  EXPECT_TRUE(opInfo(Op::Less).isElementwise());
  EXPECT_FALSE(opInfo(Op::Matmul).isElementwise());
  const AttrSpec *groups = opInfo(Op::Conv2D).findAttr("groups");
  ASSERT_TRUE(groups);
  EXPECT_EQ(groups->kind, AttrKind::Int);
  EXPECT_EQ(groups->defaultValue, AttrValue(int64_t(1)));
  EXPECT_EQ(opInfo(Op::Conv2D).findAttr("nope"), nullptr);
  const AttrSpec *depth = opInfo(Op::OneHot).findAttr("depth");
  ASSERT_TRUE(depth);
  EXPECT_TRUE(depth->required);
}

} // namespace
} // namespace kiln
