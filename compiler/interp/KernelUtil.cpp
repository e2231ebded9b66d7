// Helpers shared by the interpreter's kernels: naming, result allocation, broadcasting, padding.
#include "compiler/interp/Kernels.h"

#include <algorithm>
#include <cassert>

namespace kiln::interp {

std::string who(const Node &node) {
  return std::string(opName(node.op())) + " '" + node.name() + "'";
}

Status internalError(const Node &node, const std::string &message) {
  return errorAt(node.loc(), who(node) + ": internal error: " + message);
}

Tensor makeResult(const Node &node, unsigned index) {
  return Tensor(node.type(index).dtype, node.type(index).shape);
}

Shape stridesOf(const Shape &shape) {
  Shape strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;)
    strides[i - 1] = strides[i] * shape[i];
  return strides;
}

BroadcastMap::BroadcastMap(const Shape &in, const Shape &out) : outDims_(out) {
  assert(in.size() <= out.size() && "operand of higher rank than the broadcast result");
  Shape strides = stridesOf(in);
  size_t offset = out.size() - in.size();
  inStrides_.assign(out.size(), 0);
  for (size_t i = 0; i < in.size(); ++i) {
    assert((in[i] == out[offset + i] || in[i] == 1) && "shape does not broadcast");
    inStrides_[offset + i] = in[i] == 1 ? 0 : strides[i];
  }
}

int64_t BroadcastMap::operator()(int64_t flatOut) const {
  int64_t flatIn = 0;
  for (size_t i = outDims_.size(); i-- > 0;) {
    int64_t coord = flatOut % outDims_[i];
    flatOut /= outDims_[i];
    flatIn += coord * inStrides_[i];
  }
  return flatIn;
}

static void samePads(int64_t in, int64_t effK, int64_t stride, int64_t &before, int64_t &after) {
  int64_t out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>((out - 1) * stride + effK - in, 0);
  before = total / 2;
  after = total - before;
}

Pads2D resolvePads(const AttrValue &padding, int64_t inH, int64_t inW, int64_t effKH, int64_t effKW,
                   int64_t strideH, int64_t strideW) {
  Pads2D p;
  if (auto *s = std::get_if<std::string>(&padding)) {
    if (*s == "same") {
      samePads(inH, effKH, strideH, p.top, p.bottom);
      samePads(inW, effKW, strideW, p.left, p.right);
    }
    return p; // "valid": no padding
  }
  const auto &v = std::get<std::vector<int64_t>>(padding);
  assert(v.size() == 4 && "explicit padding has four entries");
  p.top = v[0];
  p.bottom = v[1];
  p.left = v[2];
  p.right = v[3];
  return p;
}

} // namespace kiln::interp
