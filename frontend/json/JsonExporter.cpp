// Writing a Graph back as graph-format JSON. Numbers are printed in their shortest form that
// reads back to the same value (f32 elements as floats), so import(export(g)) gives g again.
#include "compiler/ir/Graph.h"
#include "frontend/json/JsonImporter.h"
#include "kiln/runtime/FileUtil.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <variant>

namespace kiln {

namespace {

/// A JSON value under construction: scalars hold their finished text.
struct Out {
  // A named struct, not std::pair<std::string, Out>: pair needs Out complete, which clang (the
  // fuzz build) enforces inside Out's own definition; a vector of an incomplete type is fine.
  struct Member;
  enum Kind { Scalar, Array, Object } kind = Scalar;
  std::string text;
  std::vector<Out> items;
  std::vector<Member> members;

  static Out array();
  static Out object();
  Out &add(Out v);
  Out &set(std::string key, Out v);
};

struct Out::Member {
  std::string first;
  Out second;
};

Out Out::array() { return Out{Array, {}, {}, {}}; }
Out Out::object() { return Out{Object, {}, {}, {}}; }

Out &Out::add(Out v) {
  items.push_back(std::move(v));
  return *this;
}

Out &Out::set(std::string key, Out v) {
  members.push_back(Member{std::move(key), std::move(v)});
  return *this;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

Out str(std::string_view s) { return Out{Out::Scalar, quote(s), {}, {}}; }
Out boolean(bool b) { return Out{Out::Scalar, b ? "true" : "false", {}, {}}; }
Out integer(int64_t i) { return Out{Out::Scalar, std::to_string(i), {}, {}}; }
Out uinteger(uint64_t i) { return Out{Out::Scalar, std::to_string(i), {}, {}}; }

/// Shortest round-trip text; always with a '.' or exponent so that it reads back as a float.
/// JSON has no infinities or NaN: those are written as the strings the importer accepts in
/// constant values.
template <typename F> Out number(F v) {
  if (std::isnan(v))
    return str("nan");
  if (std::isinf(v))
    return str(v > 0 ? "inf" : "-inf");
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return Out{Out::Scalar, s, {}, {}};
}

Out shapeOut(const Shape &shape) {
  Out a = Out::array();
  for (int64_t d : shape)
    a.add(integer(d));
  return a;
}

bool allScalars(const Out &v) {
  for (auto &i : v.items)
    if (i.kind != Out::Scalar)
      return false;
  return true;
}

std::string inlineText(const Out &v) {
  switch (v.kind) {
  case Out::Scalar: return v.text;
  case Out::Array: {
    std::string s = "[";
    for (size_t i = 0; i < v.items.size(); ++i)
      s += (i ? ", " : "") + inlineText(v.items[i]);
    return s + "]";
  }
  case Out::Object: {
    std::string s = "{";
    for (size_t i = 0; i < v.members.size(); ++i)
      s += (i ? ", " : "") + quote(v.members[i].first) + ": " + inlineText(v.members[i].second);
    return s + "}";
  }
  }
  return "";
}

/// Pretty printing: lists of scalars and small values stay on one line, the rest is indented
/// by two spaces per level.
void write(const Out &v, std::string &out, int indent, bool root = false) {
  if (v.kind == Out::Scalar || (v.kind == Out::Array && allScalars(v))) {
    out += inlineText(v);
    return;
  }
  if (!root) {
    std::string flat = inlineText(v);
    if (flat.size() + size_t(indent) <= 100) {
      out += flat;
      return;
    }
  }
  std::string pad(size_t(indent + 2), ' ');
  bool object = v.kind == Out::Object;
  out += object ? "{\n" : "[\n";
  size_t n = object ? v.members.size() : v.items.size();
  for (size_t i = 0; i < n; ++i) {
    out += pad;
    if (object) {
      out += quote(v.members[i].first) + ": ";
      write(v.members[i].second, out, indent + 2);
    } else {
      write(v.items[i], out, indent + 2);
    }
    out += i + 1 < n ? ",\n" : "\n";
  }
  out += std::string(size_t(indent), ' ') + (object ? "}" : "]");
}

Out attrOut(const AttrValue &v) {
  struct Visitor {
    Out operator()(bool b) const { return boolean(b); }
    Out operator()(int64_t i) const { return integer(i); }
    Out operator()(double d) const { return number(d); }
    Out operator()(const std::string &s) const { return str(s); }
    Out operator()(const std::vector<int64_t> &v) const {
      Out a = Out::array();
      for (int64_t i : v)
        a.add(integer(i));
      return a;
    }
    Out operator()(const std::vector<double> &v) const {
      Out a = Out::array();
      for (double d : v)
        a.add(number(d));
      return a;
    }
    Out operator()(DType t) const { return str(dtypeName(t)); }
  };
  return std::visit(Visitor{}, v);
}

Out element(const Tensor &t, int64_t i) {
  switch (t.dtype()) {
  case DType::F32: return number(t.data<float>()[i]);
  case DType::F64: return number(t.data<double>()[i]);
  case DType::I32: return integer(t.data<int32_t>()[i]);
  case DType::I64: return integer(t.data<int64_t>()[i]);
  case DType::Bool: return boolean(t.data<uint8_t>()[i] != 0);
  }
  return integer(0);
}

/// A constant's value: one number when all elements are equal (bytewise), else a flat list.
Out valueOut(const Tensor &t) {
  size_t width = dtypeSize(t.dtype());
  const char *bytes = static_cast<const char *>(t.raw());
  bool uniform = true;
  for (int64_t i = 1; i < t.numElements() && uniform; ++i)
    uniform = std::memcmp(bytes, bytes + size_t(i) * width, width) == 0;
  if (uniform && t.numElements() > 0)
    return element(t, 0);
  Out a = Out::array();
  for (int64_t i = 0; i < t.numElements(); ++i)
    a.add(element(t, i));
  return a;
}

Out initOut(const Initializer &init) {
  Out o = Out::object();
  o.set("kind", str(initKindName(init.kind)));
  switch (init.kind) {
  case InitKind::Constant: o.set("value", number(init.value)); break;
  case InitKind::Uniform: o.set("low", number(init.low)).set("high", number(init.high)); break;
  case InitKind::Normal: o.set("mean", number(init.mean)).set("stddev", number(init.stddev)); break;
  case InitKind::Value: {
    Out data = Out::array();
    for (double d : init.data)
      data.add(number(d));
    o.set("data", std::move(data));
    break;
  }
  case InitKind::Zeros:
  case InitKind::Ones:
  case InitKind::GlorotUniform:
  case InitKind::GlorotNormal:
  case InitKind::HeUniform:
  case InitKind::HeNormal: break;
  }
  if (init.seed)
    o.set("seed", uinteger(*init.seed));
  // Kinds without parameters and without a seed read best as a plain string.
  if (o.members.size() == 1)
    return str(initKindName(init.kind));
  return o;
}

Out optimizerOut(const Optimizer &opt) {
  Out o = Out::object();
  o.set("kind", str(optimizerKindName(opt.kind)));
  o.set("lr", number(opt.lr));
  switch (opt.kind) {
  case Optimizer::Kind::Sgd:
    o.set("momentum", number(opt.momentum)).set("nesterov", boolean(opt.nesterov));
    break;
  case Optimizer::Kind::RmsProp:
    o.set("rho", number(opt.rho)).set("epsilon", number(opt.epsilon));
    break;
  case Optimizer::Kind::Adam:
  case Optimizer::Kind::AdamW:
    o.set("beta1", number(opt.beta1)).set("beta2", number(opt.beta2));
    o.set("epsilon", number(opt.epsilon));
    if (opt.kind == Optimizer::Kind::AdamW)
      o.set("weight_decay", number(opt.weightDecay));
    break;
  }
  return o;
}

Out stepOut(const TrainStep &s) {
  Out o = Out::object();
  o.set("name", str(s.name));
  o.set("loss", str(s.loss.name()));
  if (s.paramsGiven) {
    Out params = Out::array();
    for (const Node *p : s.params)
      params.add(str(p->name()));
    o.set("params", std::move(params));
  }
  o.set("optimizer", optimizerOut(s.optimizer));
  if (!s.metrics.empty()) {
    Out metrics = Out::array();
    for (const Value &m : s.metrics)
      metrics.add(str(m.name()));
    o.set("metrics", std::move(metrics));
  }
  if (s.hasRegularization)
    o.set("regularization", Out::object().set("l1", number(s.l1)).set("l2", number(s.l2)));
  if (s.clipNorm)
    o.set("clip_norm", number(*s.clipNorm));
  switch (s.schedule.kind) {
  case LrSchedule::Kind::None: break;
  case LrSchedule::Kind::ExponentialDecay:
    o.set("lr_schedule", Out::object()
                             .set("kind", str("exponential_decay"))
                             .set("decay_rate", number(s.schedule.decayRate))
                             .set("decay_steps", number(s.schedule.decaySteps)));
    break;
  case LrSchedule::Kind::StepDecay:
    o.set("lr_schedule", Out::object()
                             .set("kind", str("step_decay"))
                             .set("factor", number(s.schedule.factor))
                             .set("every", integer(s.schedule.every)));
    break;
  }
  return o;
}

} // namespace

std::string exportJson(const Graph &g) {
  Out root = Out::object();
  root.set("format", str("kiln-graph")).set("version", integer(1)).set("name", str(g.name()));
  root.set("seed", uinteger(g.seed()));
  if (!g.weightsFile().empty())
    root.set("weights", str(g.weightsFile()));
  Out inputs = Out::array(), params = Out::array(), constants = Out::array(),
      nodes = Out::array();
  for (const auto &n : g.nodes()) {
    const TensorType &t = n->type();
    Out o = Out::object();
    o.set("name", str(n->name()));
    // Sources go to their own lists; every other op is a node (an if chain rather than a
    // switch, since all non-source ops are written alike).
    if (n->op() == Op::Input) {
      o.set("dtype", str(dtypeName(t.dtype))).set("shape", shapeOut(t.shape));
      inputs.add(std::move(o));
      continue;
    }
    if (n->op() == Op::Param) {
      o.set("dtype", str(dtypeName(t.dtype))).set("shape", shapeOut(t.shape));
      o.set("init", initOut(n->init()));
      if (!n->trainable())
        o.set("trainable", boolean(false));
      params.add(std::move(o));
      continue;
    }
    if (n->op() == Op::Constant) {
      o.set("dtype", str(dtypeName(t.dtype))).set("shape", shapeOut(t.shape));
      o.set("value", valueOut(*n->value()));
      constants.add(std::move(o));
      continue;
    }
    o.set("op", str(opName(n->op())));
    Out ins = Out::array();
    for (const Value &v : n->operands())
      ins.add(str(v.name()));
    o.set("inputs", std::move(ins));
    if (!n->attrs().empty()) {
      Out attrs = Out::object();
      for (auto &[key, value] : n->attrs())
        attrs.set(key, attrOut(value));
      o.set("attrs", std::move(attrs));
    }
    nodes.add(std::move(o));
  }
  root.set("inputs", std::move(inputs)).set("params", std::move(params));
  root.set("constants", std::move(constants)).set("nodes", std::move(nodes));
  Out outputs = Out::array();
  for (const Value &v : g.outputs())
    outputs.add(str(v.name()));
  root.set("outputs", std::move(outputs));
  if (!g.trainSteps().empty()) {
    Out steps = Out::array();
    for (const TrainStep &s : g.trainSteps())
      steps.add(stepOut(s));
    root.set("train", std::move(steps));
  }
  std::string text;
  write(root, text, 0, /*root=*/true);
  return text + "\n";
}

Status exportJsonFile(const Graph &g, const std::string &path) {
  return writeFileAtomic(path, exportJson(g));
}

} // namespace kiln
