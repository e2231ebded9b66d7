// The IR text form, printing side. The grammar is documented in Parser.h; every field of a Graph
// is printed so that parsing the text back rebuilds an equal graph.
#include "compiler/ir/Printer.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace kiln {

std::string formatFloat(double d) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eEn") == std::string::npos)
    s += ".0";
  return s;
}

std::string formatFloat32(float f) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, f);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eEn") == std::string::npos)
    s += ".0";
  return s;
}

std::string quoteString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\t': out += "\\t"; break;
    case '\r': out += "\\r"; break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02x", unsigned(static_cast<unsigned char>(c)));
        out += hex;
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

namespace {

/// `@name` when the name is a plain identifier, else `@"any text"`.
std::string symbol(const std::string &name) {
  return isValidName(name) ? "@" + name : "@" + quoteString(name);
}

std::string ref(Value v) { return "%" + v.name(); }

std::string attrText(const AttrValue &v) {
  if (auto *s = std::get_if<std::string>(&v))
    return quoteString(*s);
  return attrValueToString(v);
}

std::string elementText(const Tensor &t, int64_t i) {
  switch (t.dtype()) {
  case DType::F32: return formatFloat32(t.data<float>()[i]);
  case DType::F64: return formatFloat(t.data<double>()[i]);
  case DType::I32: return std::to_string(t.data<int32_t>()[i]);
  case DType::I64: return std::to_string(t.data<int64_t>()[i]);
  case DType::Bool: return t.data<uint8_t>()[i] ? "true" : "false";
  }
  return "?";
}

/// `dense<v>` for a scalar or a splat (every element has the same bytes), `dense<[a, b, ...]>`
/// otherwise, flat and row-major: the declared type gives the shape.
std::string valueText(const Tensor &t, const PrintOptions &opts) {
  int64_t n = t.numElements();
  size_t esize = dtypeSize(t.dtype());
  const auto *bytes = static_cast<const unsigned char *>(t.raw());
  bool splat = n >= 1;
  for (int64_t i = 1; i < n && splat; ++i)
    splat = std::memcmp(bytes, bytes + size_t(i) * esize, esize) == 0;
  if (splat)
    return "dense<" + elementText(t, 0) + ">";
  if (opts.elideValuesOver >= 0 && n > opts.elideValuesOver)
    return "dense<..." + std::to_string(n) + " elements>";
  std::string s = "dense<[";
  for (int64_t i = 0; i < n; ++i) {
    if (i)
      s += ", ";
    s += elementText(t, i);
  }
  return s + "]>";
}

std::string locText(const Loc &loc) {
  if (loc == Loc{})
    return "loc(unknown)";
  std::string s = "loc(" + quoteString(loc.file) + ":" + std::to_string(loc.line) + ":" +
                  std::to_string(loc.col);
  if (!loc.path.empty())
    s += ", " + quoteString(loc.path);
  return s + ")";
}

/// Fields the init kind uses always print; any other field prints when it differs from the
/// Initializer defaults, so nothing is lost.
std::string initText(const Initializer &init, const PrintOptions &opts) {
  const Initializer def;
  std::vector<std::string> fields;
  auto num = [&](const char *name, double v, double d, bool relevant) {
    if (relevant || std::memcmp(&v, &d, sizeof v) != 0)
      fields.push_back(std::string(name) + "=" + formatFloat(v));
  };
  num("value", init.value, def.value, init.kind == InitKind::Constant);
  num("low", init.low, def.low, init.kind == InitKind::Uniform);
  num("high", init.high, def.high, init.kind == InitKind::Uniform);
  num("mean", init.mean, def.mean, init.kind == InitKind::Normal);
  num("stddev", init.stddev, def.stddev, init.kind == InitKind::Normal);
  if (init.kind == InitKind::Value || !init.data.empty()) {
    bool elide = opts.elideValuesOver >= 0 && int64_t(init.data.size()) > opts.elideValuesOver;
    std::string d = elide ? "[..." + std::to_string(init.data.size()) + " elements]" : "[";
    if (!elide) {
      for (size_t i = 0; i < init.data.size(); ++i)
        d += (i ? ", " : "") + formatFloat(init.data[i]);
      d += "]";
    }
    fields.push_back("data=" + d);
  }
  if (init.seed)
    fields.push_back("seed=" + std::to_string(*init.seed));
  std::string s = "init=" + std::string(initKindName(init.kind));
  if (fields.empty())
    return s;
  s += "{";
  for (size_t i = 0; i < fields.size(); ++i)
    s += (i ? ", " : "") + fields[i];
  return s + "}";
}

std::string optimizerText(const Optimizer &o) {
  using K = Optimizer::Kind;
  const Optimizer def = Optimizer::defaults(o.kind);
  bool sgd = o.kind == K::Sgd, rms = o.kind == K::RmsProp;
  bool adam = o.kind == K::Adam || o.kind == K::AdamW;
  std::vector<std::string> f;
  auto num = [&](const char *name, double v, double d, bool relevant) {
    if (relevant || std::memcmp(&v, &d, sizeof v) != 0)
      f.push_back(std::string(name) + "=" + formatFloat(v));
  };
  num("lr", o.lr, def.lr, true);
  num("momentum", o.momentum, def.momentum, sgd);
  if (sgd || o.nesterov != def.nesterov)
    f.push_back(std::string("nesterov=") + (o.nesterov ? "true" : "false"));
  num("rho", o.rho, def.rho, rms);
  num("beta1", o.beta1, def.beta1, adam);
  num("beta2", o.beta2, def.beta2, adam);
  num("epsilon", o.epsilon, def.epsilon, rms || adam);
  num("weight_decay", o.weightDecay, def.weightDecay, o.kind == K::AdamW);
  std::string s = std::string(optimizerKindName(o.kind)) + "{";
  for (size_t i = 0; i < f.size(); ++i)
    s += (i ? ", " : "") + f[i];
  return s + "}";
}

std::string scheduleText(const LrSchedule &s) {
  using K = LrSchedule::Kind;
  const LrSchedule def;
  std::vector<std::string> f;
  auto num = [&](const char *name, double v, double d, bool relevant) {
    if (relevant || std::memcmp(&v, &d, sizeof v) != 0)
      f.push_back(std::string(name) + "=" + formatFloat(v));
  };
  num("decay_rate", s.decayRate, def.decayRate, s.kind == K::ExponentialDecay);
  num("decay_steps", s.decaySteps, def.decaySteps, s.kind == K::ExponentialDecay);
  num("factor", s.factor, def.factor, s.kind == K::StepDecay);
  if (s.kind == K::StepDecay || s.every != def.every)
    f.push_back("every=" + std::to_string(s.every));
  std::string name = s.kind == K::ExponentialDecay ? "exponential_decay"
                     : s.kind == K::StepDecay      ? "step_decay"
                                                   : "none";
  std::string out = name;
  if (f.empty())
    return out;
  out += "{";
  for (size_t i = 0; i < f.size(); ++i)
    out += (i ? ", " : "") + f[i];
  return out + "}";
}

std::string trainText(const TrainStep &s, const PrintOptions &opts) {
  std::vector<std::string> f;
  f.push_back("loss=" + (s.loss ? ref(s.loss) : std::string("none")));
  if (s.paramsGiven || !s.params.empty()) {
    // Params the importer resolved by default (the file named none) print as auto[...].
    std::string p = s.paramsGiven ? "params=[" : "params=auto[";
    for (size_t i = 0; i < s.params.size(); ++i)
      p += (i ? ", %" : "%") + s.params[i]->name();
    f.push_back(p + "]");
  }
  f.push_back("optimizer=" + optimizerText(s.optimizer));
  if (s.hasRegularization)
    f.push_back("regularization={l1=" + formatFloat(s.l1) + ", l2=" + formatFloat(s.l2) + "}");
  else {
    if (s.l1 != 0 || std::signbit(s.l1))
      f.push_back("l1=" + formatFloat(s.l1));
    if (s.l2 != 0 || std::signbit(s.l2))
      f.push_back("l2=" + formatFloat(s.l2));
  }
  if (s.clipNorm)
    f.push_back("clip_norm=" + formatFloat(*s.clipNorm));
  if (s.schedule != LrSchedule{})
    f.push_back("lr_schedule=" + scheduleText(s.schedule));
  if (!s.metrics.empty()) {
    std::string m = "metrics=[";
    for (size_t i = 0; i < s.metrics.size(); ++i)
      m += (i ? ", " : "") + ref(s.metrics[i]);
    f.push_back(m + "]");
  }
  std::string out = "train " + symbol(s.name) + "(";
  for (size_t i = 0; i < f.size(); ++i)
    out += (i ? ", " : "") + f[i];
  out += ")";
  if (opts.locations)
    out += " " + locText(s.loc);
  return out;
}

/// A step program as a block: its header, then one `%state <- %value` line per update.
std::string stepText(const StepProgram &p) {
  std::string out = "step " + symbol(p.name) + "(loss=" + (p.loss ? ref(p.loss) : "none");
  if (!p.metrics.empty()) {
    out += ", metrics=[";
    for (size_t i = 0; i < p.metrics.size(); ++i)
      out += (i ? ", " : "") + ref(p.metrics[i]);
    out += "]";
  }
  out += ") {\n";
  for (const StateUpdate &u : p.updates)
    out += "    %" + u.state->name() + " <- " + ref(u.value) + "\n";
  return out + "  }";
}

std::string typeText(const std::vector<TensorType> &types) {
  if (types.size() == 1)
    return types[0].str();
  std::string s = "(";
  for (size_t i = 0; i < types.size(); ++i)
    s += (i ? ", " : "") + types[i].str();
  return s + ")";
}

/// ` @arena(offset)` after a planned value's type (one offset per result, -1 where unplanned);
/// empty for a node without a plan.
std::string arenaText(const Node &n) {
  if (!n.hasArenaOffset())
    return "";
  std::string s = " @arena(";
  for (unsigned i = 0; i < n.numResults(); ++i)
    s += (i ? ", " : "") + std::to_string(n.arenaOffset(i));
  return s + ")";
}

std::string nodeText(const Node &n, const PrintOptions &opts, const std::string &indent);

/// A fused node's body: ` {`, its definitions and `return`, one per line at `indent` + 2, and
/// the closing `}` at `indent`.
std::string bodyText(const Graph &body, const PrintOptions &opts, const std::string &indent) {
  std::string inner = indent + "  ";
  std::string s = " {\n";
  for (auto &n : body.nodes())
    s += inner + nodeText(*n, opts, inner) + "\n";
  s += inner + "return ";
  for (size_t i = 0; i < body.outputs().size(); ++i)
    s += (i ? ", " : "") + ref(body.outputs()[i]);
  return s + "\n" + indent + "}";
}

std::string nodeText(const Node &n, const PrintOptions &opts, const std::string &indent) {
  // Sources print with their keyword; every other op prints the same generic way, so this is
  // deliberately not a switch over Op: a new op needs no edit here.
  std::string s;
  if (n.op() == Op::Input) {
    s = "input %" + n.name() + " : " + n.type().str() + arenaText(n);
  } else if (n.op() == Op::Param) {
    s = "param %" + n.name() + " : " + n.type().str() + arenaText(n) + " " +
        initText(n.init(), opts);
    if (!n.trainable())
      s += " trainable=false";
    if (n.value())
      s += " = " + valueText(*n.value(), opts);
  } else if (n.op() == Op::Constant) {
    s = "const %" + n.name() + " : " + n.type().str() + arenaText(n);
    if (n.value())
      s += " = " + valueText(*n.value(), opts);
  } else {
    s = "%" + n.name() + " = " + std::string(n.info().mnemonic) + "(";
    for (unsigned i = 0; i < n.numOperands(); ++i)
      s += (i ? ", " : "") + ref(n.operand(i));
    s += ")";
    if (!n.attrs().empty()) {
      s += " {";
      bool first = true;
      for (auto &[key, value] : n.attrs()) {
        s += (first ? "" : ", ") + key + "=" + attrText(value);
        first = false;
      }
      s += "}";
    }
    s += " : " + typeText(n.resultTypes()) + arenaText(n);
    if (n.body())
      s += bodyText(*n.body(), opts, indent);
  }
  if (opts.locations)
    s += " " + locText(n.loc());
  return s;
}

} // namespace

std::string printGraph(const Graph &g, const PrintOptions &opts) {
  std::string out = "graph " + symbol(g.name());
  out += " seed=" + std::to_string(g.seed());
  if (!g.weightsFile().empty())
    out += " weights=" + quoteString(g.weightsFile());
  if (g.arenaBytes() >= 0 || g.peakLiveBytes() >= 0)
    out += " arena=" + std::to_string(g.arenaBytes()) +
           " peak_live=" + std::to_string(g.peakLiveBytes());
  out += " {\n";
  for (auto &n : g.nodes())
    out += "  " + nodeText(*n, opts, "  ") + "\n";
  if (!g.outputs().empty()) {
    out += "  return ";
    for (size_t i = 0; i < g.outputs().size(); ++i)
      out += (i ? ", " : "") + ref(g.outputs()[i]);
    out += "\n";
  }
  for (auto &s : g.trainSteps())
    out += "  " + trainText(s, opts) + "\n";
  for (auto &p : g.stepPrograms())
    out += "  " + stepText(p) + "\n";
  return out + "}\n";
}

} // namespace kiln
