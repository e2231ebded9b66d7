// DnnlLower: a oneDNN node's body (core op, bias add, activation) as a runtime DnnlOpDesc.
//
// Kiln keeps its own layouts at every oneDNN boundary: row-major matrices, NHWC (or NCHW)
// images, HWIO (or OIHW) filters. Each becomes oneDNN's logical dims (N, C, H, W; O, I, H, W;
// G, O/G, I/G, H, W when grouped) with the strides that place them in Kiln's buffer, so the
// primitive reads and writes the arena directly. Transposed matmul operands are strides too.
#include "compiler/codegen/DnnlLower.h"

#include "compiler/codegen/EmitLinalg.h"
#include "compiler/interp/Kernels.h"
#include "compiler/ir/Graph.h"

#include <algorithm>
#include <unordered_map>

namespace kiln::codegen {

using runtime::dnnl::DnnlKind;
using runtime::dnnl::DnnlOpDesc;
using runtime::dnnl::DnnlPostOp;
using runtime::dnnl::DnnlTensor;

namespace {

std::vector<int64_t> rowMajorStrides(const Shape &s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;)
    st[i - 1] = st[i] * s[i];
  return st;
}

DnnlTensor dense(const Shape &s) { return DnnlTensor{s, rowMajorStrides(s)}; }

/// A matmul operand as oneDNN's [batch.., rows, cols] of rank `rank`: Kiln's stored shape with
/// the last two dims swapped when transposed, and leading batch dims of 1 added.
DnnlTensor matmulOperand(const Shape &stored, bool transposed, size_t rank) {
  DnnlTensor t = dense(stored);
  size_t r = stored.size();
  if (transposed) {
    std::swap(t.dims[r - 1], t.dims[r - 2]);
    std::swap(t.strides[r - 1], t.strides[r - 2]);
  }
  int64_t total = stored.empty() ? 1 : t.strides[0] * stored[0];
  t.dims.insert(t.dims.begin(), rank - r, 1);
  t.strides.insert(t.strides.begin(), rank - r, total);
  return t;
}

/// An image [N,H,W,C] or [N,C,H,W] as oneDNN's (N, C, H, W) over Kiln's buffer.
DnnlTensor image(const Shape &s, bool nchw) {
  if (nchw)
    return dense(s);
  return DnnlTensor{{s[0], s[3], s[1], s[2]}, {s[1] * s[2] * s[3], 1, s[2] * s[3], s[3]}};
}

/// A filter (HWIO for NHWC, OIHW for NCHW) as oneDNN's (O, I, H, W), or (G, O/G, I, H, W).
DnnlTensor filter(const Shape &s, bool nchw, int64_t groups) {
  int64_t kh, kw, ci, co, sO, sI, sY, sX;
  if (nchw) {
    co = s[0], ci = s[1], kh = s[2], kw = s[3];
    sO = ci * kh * kw, sI = kh * kw, sY = kw, sX = 1;
  } else {
    kh = s[0], kw = s[1], ci = s[2], co = s[3];
    sY = kw * ci * co, sX = ci * co, sI = co, sO = 1;
  }
  if (groups == 1)
    return DnnlTensor{{co, ci, kh, kw}, {sO, sI, sY, sX}};
  int64_t cog = co / groups;
  return DnnlTensor{{groups, cog, ci, kh, kw}, {cog * sO, sO, sI, sY, sX}};
}

/// Right/bottom padding that makes oneDNN's output size formula give `out`; never negative
/// (a "valid" window that skips trailing rows needs none: the formula floors).
int64_t padAfter(int64_t in, int64_t out, int64_t effK, int64_t stride, int64_t before) {
  return std::max<int64_t>(0, (out - 1) * stride + effK - in - before);
}

/// Strides, dilations and paddings of a conv (geometry from the forward x, w and y shapes).
Status convParams(const Node &core, const Shape &x, const Shape &w, const Shape &y,
                  DnnlOpDesc &d, bool &nchw, int64_t &groups) {
  KILN_ASSIGN(ConvGeom g, convGeom(core, x, w, y));
  nchw = g.nchw;
  groups = g.groups;
  d.strides = {g.sh, g.sw};
  d.dilations = {g.dh - 1, g.dw - 1};
  d.padLeft = {g.padTop, g.padLeft};
  d.padRight = {padAfter(g.x.h, g.y.h, (g.kh - 1) * g.dh + 1, g.sh, g.padTop),
                padAfter(g.x.w, g.y.w, (g.kw - 1) * g.dw + 1, g.sw, g.padLeft)};
  return Status::ok();
}

void poolParams(const Node &core, const Shape &x, const Shape &y, DnnlOpDesc &d) {
  PoolGeom g = poolGeom(core, x, y);
  d.kernel = {g.kh, g.kw};
  d.strides = {g.sh, g.sw};
  d.padLeft = {g.padTop, g.padLeft};
  d.padRight = {padAfter(g.x.h, g.y.h, g.kh, g.sh, g.padTop),
                padAfter(g.x.w, g.y.w, g.kw, g.sw, g.padLeft)};
}

Expected<DnnlPostOp> postOp(const Node &act) {
  Op op = act.op();
  if (op == Op::Relu)
    return DnnlPostOp{DnnlPostOp::Kind::Relu, 0.0f};
  if (op == Op::LeakyRelu)
    return DnnlPostOp{DnnlPostOp::Kind::Relu, float(act.attrFloat("alpha"))};
  if (op == Op::Sigmoid)
    return DnnlPostOp{DnnlPostOp::Kind::Sigmoid, 0.0f};
  if (op == Op::Tanh)
    return DnnlPostOp{DnnlPostOp::Kind::Tanh, 0.0f};
  if (op == Op::Gelu)
    return DnnlPostOp{act.attrStr("approximate") == "tanh" ? DnnlPostOp::Kind::GeluTanh
                                                           : DnnlPostOp::Kind::GeluErf,
                      0.0f};
  return interp::internalError(act, "not a oneDNN post-op");
}

} // namespace

bool isDnnlNode(const Node &n) {
  return n.op() == Op::Fused && n.body() && n.attrStr("kind") == "dnnl";
}

Expected<DnnlLowering> lowerDnnlNode(const Node &fused) {
  const Graph &body = *fused.body();
  // Body inputs are the fused node's operands, in order.
  std::unordered_map<const Node *, int> operandOf;
  std::vector<const Node *> ops;
  for (const auto &n : body.nodes()) {
    if (n->isInput())
      operandOf[n.get()] = int(operandOf.size());
    else
      ops.push_back(n.get());
  }
  if (ops.empty() || ops.size() > 3)
    return interp::internalError(fused, "a oneDNN node holds one op and at most two post-ops");
  const Node &core = *ops[0];
  DnnlLowering out;
  DnnlOpDesc &d = out.desc;
  d.name = fused.name();
  auto source = [&](Value v) -> Expected<int> {
    auto it = operandOf.find(v.node);
    if (it == operandOf.end())
      return interp::internalError(fused, "a oneDNN operand is not a body input");
    return it->second;
  };
  auto addArg = [&](DnnlTensor t, int src) {
    d.args.push_back(std::move(t));
    out.sources.push_back(src);
  };
  auto addOperand = [&](DnnlTensor t, Value v) -> Status {
    KILN_ASSIGN(int src, source(v));
    addArg(std::move(t), src);
    return Status::ok();
  };
  const Shape &ys = core.type().shape;
  const Shape &s0 = core.operand(0).type().shape;
  Op op = core.op();
  if (op == Op::Matmul) {
    d.kind = DnnlKind::Matmul;
    size_t rank = ys.size();
    addArg(dense(ys), -1);
    KILN_TRY(addOperand(matmulOperand(s0, core.attrBool("transpose_a"), rank), core.operand(0)));
    KILN_TRY(addOperand(matmulOperand(core.operand(1).type().shape, core.attrBool("transpose_b"),
                                      rank),
                        core.operand(1)));
  } else if (op == Op::Conv2D || op == Op::Conv2DBackpropInput ||
             op == Op::Conv2DBackpropFilter) {
    const Shape &s1 = core.operand(1).type().shape;
    bool nchw = false;
    int64_t groups = 1;
    if (core.op() == Op::Conv2D) {
      d.kind = DnnlKind::ConvForward;
      KILN_TRY(convParams(core, s0, s1, ys, d, nchw, groups));
      addArg(image(ys, nchw), -1);
      KILN_TRY(addOperand(image(s0, nchw), core.operand(0)));
      KILN_TRY(addOperand(filter(s1, nchw, groups), core.operand(1)));
      // A param (or constant) filter changes only between calls, so inference may reuse its
      // reordered copy (runtime FilterCache); a computed one is reordered every call.
      const Node &w = *fused.operand(unsigned(out.sources.back())).node;
      d.stateWeights = w.isParam() || w.isConstant();
      if (core.numOperands() == 3) {
        d.hasBias = true;
        KILN_TRY(addOperand(dense(core.operand(2).type().shape), core.operand(2)));
      }
    } else if (core.op() == Op::Conv2DBackpropInput) {
      d.kind = DnnlKind::ConvBackwardData; // (dy, w) -> dx
      KILN_TRY(convParams(core, ys, s1, s0, d, nchw, groups));
      addArg(image(ys, nchw), -1);
      KILN_TRY(addOperand(image(s0, nchw), core.operand(0)));
      KILN_TRY(addOperand(filter(s1, nchw, groups), core.operand(1)));
    } else {
      d.kind = DnnlKind::ConvBackwardWeights; // (x, dy) -> dw
      KILN_TRY(convParams(core, s0, ys, s1, d, nchw, groups));
      addArg(filter(ys, nchw, groups), -1);
      KILN_TRY(addOperand(image(s0, nchw), core.operand(0)));
      KILN_TRY(addOperand(image(s1, nchw), core.operand(1)));
    }
  } else if (op == Op::MaxPool2D || op == Op::AvgPool2D) {
    bool nchw = core.attrStr("data_format") == "NCHW";
    d.kind = core.op() == Op::MaxPool2D ? DnnlKind::MaxPool : DnnlKind::AvgPool;
    poolParams(core, s0, ys, d);
    addArg(image(ys, nchw), -1);
    KILN_TRY(addOperand(image(s0, nchw), core.operand(0)));
  } else if (op == Op::MaxPool2DGrad) { // (x, dy) -> dx
    bool nchw = core.attrStr("data_format") == "NCHW";
    d.kind = DnnlKind::MaxPoolBackward;
    const Shape &dys = core.operand(1).type().shape;
    poolParams(core, s0, dys, d);
    addArg(image(ys, nchw), -1);
    KILN_TRY(addOperand(image(s0, nchw), core.operand(0)));
    KILN_TRY(addOperand(image(dys, nchw), core.operand(1)));
  } else if (op == Op::AvgPool2DGrad) { // (dy) -> dx
    bool nchw = core.attrStr("data_format") == "NCHW";
    d.kind = DnnlKind::AvgPoolBackward;
    poolParams(core, ys, s0, d);
    addArg(image(ys, nchw), -1);
    KILN_TRY(addOperand(image(s0, nchw), core.operand(0)));
  } else if (op == Op::Softmax || op == Op::LogSoftmax) {
    d.kind = core.op() == Op::Softmax ? DnnlKind::Softmax : DnnlKind::LogSoftmax;
    int64_t axis = core.attrInt("axis");
    d.axis = int(axis < 0 ? axis + int64_t(ys.size()) : axis);
    addArg(dense(ys), -1);
    KILN_TRY(addOperand(dense(s0), core.operand(0)));
  } else if (op == Op::LayerNorm) {
    d.kind = DnnlKind::LayerNorm;
    int64_t axis = core.attrInt("axis");
    size_t a = size_t(axis < 0 ? axis + int64_t(ys.size()) : axis);
    int64_t rows = 1, cols = 1;
    for (size_t i = 0; i < ys.size(); ++i)
      (i < a ? rows : cols) *= ys[i];
    d.epsilon = float(core.attrFloat("epsilon"));
    addArg(dense({rows, cols}), -1);
    KILN_TRY(addOperand(dense({rows, cols}), core.operand(0)));
    KILN_TRY(addOperand(dense({cols}), core.operand(1)));
    KILN_TRY(addOperand(dense({cols}), core.operand(2)));
  } else {
    return interp::internalError(fused, "'" + core.name() + "' is not an op oneDNN runs");
  }
  // Post-ops: a bias add (matmul [.., N]; conv [O]), then an activation.
  const Node *prev = &core;
  for (size_t i = 1; i < ops.size(); ++i) {
    const Node &n = *ops[i];
    if (n.op() == Op::Add && i == 1 && !d.hasBias) {
      Value bias = n.operand(0).node == prev ? n.operand(1) : n.operand(0);
      const Shape &bs = bias.type().shape;
      Shape dims = core.op() == Op::Matmul ? Shape(ys.size() - bs.size(), 1) : Shape();
      dims.insert(dims.end(), bs.begin(), bs.end());
      d.hasBias = true;
      KILN_TRY(addOperand(dense(dims), bias));
    } else {
      KILN_ASSIGN(DnnlPostOp p, postOp(n));
      d.postOps.push_back(p);
    }
    prev = &n;
  }
  return out;
}

} // namespace kiln::codegen
