// Random graph inputs: the one implementation behind kilnc make-inputs and the backend tests.
#include "compiler/interp/RandomFeeds.h"

#include <random>

namespace kiln {

int64_t integerInputRange(const Node &input) {
  // Not a switch over Op: only these ops give a hint, the rest deliberately none.
  for (const Use &u : input.uses()) {
    const Node &user = *u.user;
    bool labels = user.op() == Op::SoftmaxCrossEntropy || user.op() == Op::Accuracy;
    if (labels && u.operand == 1)
      return user.operand(0).type().shape.back();
    if (user.op() == Op::Gather && u.operand == 1) {
      auto &shape = user.operand(0).type().shape;
      auto axis = normalizeAxis(user.attrInt("axis"), int64_t(shape.size()));
      return axis ? shape[size_t(*axis)] : 1;
    }
    if (user.op() == Op::OneHot)
      return user.attrInt("depth");
  }
  return 2;
}

Expected<NamedTensors> randomFeeds(const Graph &g, uint64_t seed, int64_t batches) {
  std::mt19937_64 rng{seed};
  NamedTensors out;
  for (Node *in : g.inputs()) {
    Shape shape = in->type().shape;
    if (batches > 0)
      shape.insert(shape.begin(), batches);
    auto t = Tensor::create(in->type().dtype, shape);
    if (!t)
      return Status::error("input '" + in->name() + "': " + t.message());
    int64_t range = isInteger(in->type().dtype) ? integerInputRange(*in) : 2;
    for (int64_t i = 0; i < t->numElements(); ++i) {
      uint64_t bits = rng();
      if (isFloat(t->dtype()))
        t->set(i, double(bits >> 11) * 0x1.0p-53);
      else
        t->set(i, double(bits % uint64_t(range)));
    }
    out.emplace_back(in->name(), t.take());
  }
  return out;
}

} // namespace kiln
