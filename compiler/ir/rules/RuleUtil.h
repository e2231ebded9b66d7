// Internal helpers shared by the shape-rule families (rules/*.cpp); not a public header.
#pragma once

#include "compiler/ir/ShapeRules.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::rules {

/// What every rule returns: the result types, or nullopt with the TypeError filled in.
using Types = std::optional<std::vector<TensorType>>;
using Operands = std::span<const TensorType>;

/// Records an error and yields "no types", so that a rule can `return fail(...)`.
Types fail(TypeError &err, std::string message, std::string attr = {}, int operand = -1);
/// Records an error for the `bool`-returning checks below.
bool failed(TypeError &err, std::string message, std::string attr = {}, int operand = -1);
inline Types one(TensorType t) { return std::vector<TensorType>{std::move(t)}; }

std::string dtypeStr(DType t);
std::string shapeStr(const Shape &s);

// ---- attributes: kinds were checked against the schema, so these only look values up ----
/// The attribute's value, or null when an optional attribute without default is absent.
const AttrValue *findAttr(const AttrMap &attrs, const char *name);
int64_t intAttr(const AttrMap &attrs, const char *name);
double floatAttr(const AttrMap &attrs, const char *name);
bool boolAttr(const AttrMap &attrs, const char *name);
std::string strAttr(const AttrMap &attrs, const char *name);
DType dtypeAttr(const AttrMap &attrs, const char *name);
/// Null when absent.
const std::vector<int64_t> *intsAttr(const AttrMap &attrs, const char *name);

// ---- operand checks: return false after filling `err` ----
/// f32 or f64.
bool requireFloat(const TensorType &t, int operand, TypeError &err);
/// f32, f64, i32 or i64 (not bool).
bool requireNumeric(const TensorType &t, int operand, TypeError &err);
/// i32 or i64 (indices, labels).
bool requireIndex(const TensorType &t, int operand, TypeError &err);
/// Equal dtypes; the error points at operand `operandB`.
bool requireSameDType(const TensorType &a, const TensorType &b, int operandB, TypeError &err);
/// Exact rank; `what` names the operand in the message ("filter").
bool requireRank(const TensorType &t, int64_t rank, int operand, std::string_view what,
                 TypeError &err);
/// Exact shape; `what` names the operand in the message ("bias").
bool requireShape(const TensorType &t, const Shape &shape, int operand, std::string_view what,
                  TypeError &err);

// ---- attribute checks ----
/// Normalises a (possibly negative) axis attribute against `rank`.
bool axisAttr(int64_t axis, int64_t rank, const char *attr, TypeError &err, int64_t &out);
/// A shape given as an attribute: positive dims, not too many elements.
bool shapeAttr(const std::vector<int64_t> &shape, const char *attr, TypeError &err);
/// Exactly two positive ints (ksize, strides, dilations).
bool pairAttr(const std::vector<int64_t> &v, const char *attr, TypeError &err);

/// a*b, or nullopt on overflow (hostile attribute values must never wrap around).
std::optional<int64_t> mulChecked(int64_t a, int64_t b);
std::optional<int64_t> addChecked(int64_t a, int64_t b);

// ---- the rules, one per op or op group (all take the same arguments) ----
#define KILN_RULE(Name) Types Name(Op op, Operands in, const AttrMap &attrs, TypeError &err)
KILN_RULE(inferUnary);
KILN_RULE(inferBinary);
KILN_RULE(inferCompare);
KILN_RULE(inferSelect);
KILN_RULE(inferReduce);
KILN_RULE(inferArgmax);
KILN_RULE(inferMatmul);
KILN_RULE(inferReshape);
KILN_RULE(inferFlatten);
KILN_RULE(inferTranspose);
KILN_RULE(inferConcat);
KILN_RULE(inferSlice);
KILN_RULE(inferBroadcastTo);
KILN_RULE(inferGather);
KILN_RULE(inferOneHot);
KILN_RULE(inferConv2D);
KILN_RULE(inferPool2D);
KILN_RULE(inferSoftmax);
KILN_RULE(inferLayerNorm);
KILN_RULE(inferDropout);
KILN_RULE(inferRandom);
KILN_RULE(inferDense);
KILN_RULE(inferSimpleRnn);
KILN_RULE(inferLstm);
KILN_RULE(inferMultiHeadAttention);
KILN_RULE(inferElementwiseLoss);
KILN_RULE(inferSoftmaxCrossEntropy);
KILN_RULE(inferAccuracy);
KILN_RULE(inferConv2DBackpropInput);
KILN_RULE(inferConv2DBackpropFilter);
KILN_RULE(inferPool2DGrad);
KILN_RULE(inferGatherGrad);
KILN_RULE(inferSliceGrad);
KILN_RULE(inferGeluGrad);
#undef KILN_RULE

} // namespace kiln::rules
