// The text-form parser's value pieces: numbers, types, locations, references, attribute values,
// dense tensors, initializers, optimizers and schedules.
#include "compiler/ir/ParserImpl.h"

#include "compiler/ir/Parser.h"

#include <charconv>
#include <climits>
#include <cstring>

namespace kiln::detail {

// ---- small pieces ----

Expected<std::string> Parser::parseDefName(const char *what) {
  if (!at(TokenKind::ValueRef))
    return fail(std::string("expected a value name (%name) after '") + what + "'");
  if (tok_.text.find(':') != std::string::npos)
    return fail("a definition cannot carry a result index ('%" + tok_.text + "')");
  std::string name = tok_.text;
  consume();
  return name;
}

Status Parser::parseInt(int64_t &v) {
  if (!at(TokenKind::Int))
    return fail("expected an integer");
  auto res = std::from_chars(tok_.text.data(), tok_.text.data() + tok_.text.size(), v);
  if (res.ec != std::errc() || res.ptr != tok_.text.data() + tok_.text.size())
    return fail("integer " + tok_.text + " is out of range");
  consume();
  return Status::ok();
}

Status Parser::parseUInt(uint64_t &v) {
  if (!at(TokenKind::Int) || tok_.text[0] == '-')
    return fail("expected a non-negative integer");
  auto res = std::from_chars(tok_.text.data(), tok_.text.data() + tok_.text.size(), v);
  if (res.ec != std::errc() || res.ptr != tok_.text.data() + tok_.text.size())
    return fail("integer " + tok_.text + " is out of range");
  consume();
  return Status::ok();
}

Status Parser::parseNumber(double &v) {
  if (!at(TokenKind::Int) && !at(TokenKind::Float))
    return fail("expected a number");
  auto res = std::from_chars(tok_.text.data(), tok_.text.data() + tok_.text.size(), v);
  if (res.ec != std::errc() || res.ptr != tok_.text.data() + tok_.text.size())
    return fail("number " + tok_.text + " is out of range");
  consume();
  return Status::ok();
}

Status Parser::parseBool(bool &v) {
  if (!atWord("true") && !atWord("false"))
    return fail("expected true or false");
  v = tok_.text == "true";
  consume();
  return Status::ok();
}

Status Parser::parseNumberList(std::vector<double> &out) {
  KILN_TRY(expect(TokenKind::LBracket, "expected '[' to open a list of numbers"));
  if (at(TokenKind::Ellipsis))
    return fail("elided list ([...N elements]) cannot be parsed; print without elideValuesOver");
  while (!at(TokenKind::RBracket)) {
    if (!out.empty())
      KILN_TRY(expect(TokenKind::Comma, "expected ',' or ']' in a list of numbers"));
    double d = 0;
    KILN_TRY(parseNumber(d));
    out.push_back(d);
  }
  consume();
  return Status::ok();
}

Status Parser::parseType(TensorType &type) {
  if (!at(TokenKind::Ident))
    return fail("expected a type such as f32[2,3]");
  auto dt = parseDType(tok_.text);
  if (!dt)
    return fail("unknown dtype '" + tok_.text + "' (expected f32, f64, i32, i64 or bool)");
  type.dtype = *dt;
  type.shape.clear();
  consume();
  KILN_TRY(expect(TokenKind::LBracket, "expected '[' after the dtype (a scalar is f32[])"));
  while (!at(TokenKind::RBracket)) {
    if (!type.shape.empty())
      KILN_TRY(expect(TokenKind::Comma, "expected ',' or ']' in a shape"));
    if (type.shape.size() >= kMaxIrRank)
      return fail("shape has more than " + std::to_string(kMaxIrRank) + " dimensions");
    int64_t d = 0;
    KILN_TRY(parseInt(d));
    type.shape.push_back(d);
  }
  consume();
  return Status::ok();
}

Status Parser::parseLoc(std::optional<Loc> &loc) {
  if (!atWord("loc"))
    return Status::ok();
  consume();
  KILN_TRY(expect(TokenKind::LParen, "expected '(' after 'loc'"));
  if (atWord("unknown")) {
    consume();
    loc = Loc{};
    return expect(TokenKind::RParen, "expected ')' after 'unknown'");
  }
  Loc l;
  if (!at(TokenKind::String))
    return fail("expected a file name string or 'unknown' in loc(...)");
  l.file = tok_.text;
  consume();
  int64_t line = 0, col = 0;
  KILN_TRY(expect(TokenKind::Colon, "expected ':' after the file name in loc(...)"));
  KILN_TRY(parseInt(line));
  KILN_TRY(expect(TokenKind::Colon, "expected ':' after the line in loc(...)"));
  KILN_TRY(parseInt(col));
  if (line < INT_MIN || col < INT_MIN || line > INT_MAX || col > INT_MAX)
    return fail("line and column in loc(...) must fit in 32 bits");
  l.line = int(line);
  l.col = int(col);
  if (at(TokenKind::Comma)) {
    consume();
    if (!at(TokenKind::String))
      return fail("expected a JSON path string after ',' in loc(...)");
    l.path = tok_.text;
    consume();
  }
  KILN_TRY(expect(TokenKind::RParen, "expected ')' to close loc(...)"));
  loc = std::move(l);
  return Status::ok();
}

Status Parser::parseArena(std::vector<int64_t> &offsets) {
  if (!at(TokenKind::Symbol) || tok_.text != "arena")
    return Status::ok();
  consume();
  KILN_TRY(expect(TokenKind::LParen, "expected '(' after '@arena'"));
  do {
    if (!offsets.empty())
      consume(); // the comma
    if (offsets.size() >= 1024)
      return fail("too many arena offsets");
    int64_t offset = 0;
    KILN_TRY(parseInt(offset));
    if (offset < -1)
      return fail("an arena offset is -1 (unplanned) or at least 0, not " +
                  std::to_string(offset));
    offsets.push_back(offset);
  } while (at(TokenKind::Comma));
  return expect(TokenKind::RParen, "expected ',' or ')' in @arena(...)");
}

Status Parser::applyArena(Node *n, const Token &at, const std::vector<int64_t> &offsets) {
  if (offsets.empty())
    return Status::ok();
  if (offsets.size() != n->numResults())
    return errorAt(at, "'%" + n->name() + "' has " + std::to_string(n->numResults()) +
                           " result(s) but @arena gives " + std::to_string(offsets.size()) +
                           " offset(s)");
  for (unsigned i = 0; i < offsets.size(); ++i)
    n->setArenaOffset(offsets[i], i);
  return Status::ok();
}

Status Parser::parseRef(Value &v) {
  if (!at(TokenKind::ValueRef))
    return fail("expected a value name (%name)");
  const std::string &ref = tok_.text;
  size_t colon = ref.find(':');
  Node *n = g_.find(ref.substr(0, colon));
  if (!n)
    return fail("undefined value '%" + ref.substr(0, colon) + "'");
  if (colon == std::string::npos) {
    v = Value{n, 0};
  } else {
    auto found = g_.lookupValue(ref);
    if (!found)
      return fail("value '%" + n->name() + "' has no result " + ref.substr(colon + 1) + " (it has " +
                  std::to_string(n->numResults()) + ")");
    v = *found;
  }
  consume();
  return Status::ok();
}

Status Parser::parseRefList(std::vector<Value> &out, TokenKind close) {
  while (!at(close)) {
    if (!out.empty())
      KILN_TRY(expect(TokenKind::Comma, "expected ',' or " + std::string(tokenKindName(close)) +
                                            " after a value name"));
    Value v;
    KILN_TRY(parseRef(v));
    out.push_back(v);
  }
  consume();
  return Status::ok();
}

// ---- values ----

Status Parser::parseAttrValue(AttrValue &v) {
  switch (tok_.kind) {
  case TokenKind::Int: {
    int64_t i = 0;
    KILN_TRY(parseInt(i));
    v = i;
    return Status::ok();
  }
  case TokenKind::Float: {
    double d = 0;
    KILN_TRY(parseNumber(d));
    v = d;
    return Status::ok();
  }
  case TokenKind::String:
    v = tok_.text;
    consume();
    return Status::ok();
  case TokenKind::Ident: {
    if (atWord("true") || atWord("false")) {
      v = tok_.text == "true";
    } else if (auto dt = parseDType(tok_.text)) {
      v = *dt;
    } else {
      return fail("unexpected word '" + tok_.text +
                  "' in an attribute value (strings are quoted; dtypes are f32, f64, i32, i64, "
                  "bool)");
    }
    consume();
    return Status::ok();
  }
  case TokenKind::LBracket: {
    // A flat list: all integers gives ints, any float makes it a list of floats. Lists do not
    // nest, so there is no recursion here.
    consume();
    std::vector<int64_t> ints;
    std::vector<double> floats;
    bool anyFloat = false;
    size_t count = 0;
    while (!at(TokenKind::RBracket)) {
      if (count)
        KILN_TRY(expect(TokenKind::Comma, "expected ',' or ']' in an attribute list"));
      if (at(TokenKind::LBracket))
        return fail("nested lists are not allowed in attribute values");
      if (at(TokenKind::Int) && !anyFloat) {
        int64_t i = 0;
        KILN_TRY(parseInt(i));
        ints.push_back(i);
        floats.push_back(double(i));
      } else if (at(TokenKind::Int) || at(TokenKind::Float)) {
        if (!anyFloat)
          anyFloat = true;
        double d = 0;
        KILN_TRY(parseNumber(d));
        floats.push_back(d);
      } else {
        return fail("expected a number in an attribute list");
      }
      ++count;
    }
    consume();
    if (anyFloat)
      v = std::move(floats);
    else
      v = std::move(ints);
    return Status::ok();
  }
  default:
    return fail("expected an attribute value");
  }
}

Status Parser::parseElement(DType dt, Tensor &t, int64_t i) {
  const Token &tk = tok_;
  const char *b = tk.text.data(), *e = tk.text.data() + tk.text.size();
  auto bad = [&](const std::string &what) {
    return fail("expected " + what + " for a " + std::string(dtypeName(dt)) + " element");
  };
  switch (dt) {
  case DType::F32: {
    if (!at(TokenKind::Int) && !at(TokenKind::Float))
      return bad("a number");
    float f = 0;
    auto r = std::from_chars(b, e, f);
    if (r.ec != std::errc() || r.ptr != e)
      return fail("number " + tk.text + " is out of range for f32");
    t.data<float>()[i] = f;
    break;
  }
  case DType::F64: {
    if (!at(TokenKind::Int) && !at(TokenKind::Float))
      return bad("a number");
    double d = 0;
    auto r = std::from_chars(b, e, d);
    if (r.ec != std::errc() || r.ptr != e)
      return fail("number " + tk.text + " is out of range for f64");
    t.data<double>()[i] = d;
    break;
  }
  case DType::I32: {
    if (!at(TokenKind::Int))
      return bad("an integer");
    int32_t x = 0;
    auto r = std::from_chars(b, e, x);
    if (r.ec != std::errc() || r.ptr != e)
      return fail("integer " + tk.text + " is out of range for i32");
    t.data<int32_t>()[i] = x;
    break;
  }
  case DType::I64: {
    if (!at(TokenKind::Int))
      return bad("an integer");
    int64_t x = 0;
    auto r = std::from_chars(b, e, x);
    if (r.ec != std::errc() || r.ptr != e)
      return fail("integer " + tk.text + " is out of range for i64");
    t.data<int64_t>()[i] = x;
    break;
  }
  case DType::Bool:
    if (!atWord("true") && !atWord("false"))
      return bad("true or false");
    t.data<uint8_t>()[i] = tk.text == "true" ? 1 : 0;
    break;
  }
  consume();
  return Status::ok();
}

Status Parser::parseDense(const TensorType &type, const std::string &who, Tensor &out) {
  KILN_TRY(expectWord("dense", "expected 'dense<...>' after '='"));
  KILN_TRY(expect(TokenKind::Less, "expected '<' after 'dense'"));
  if (at(TokenKind::Ellipsis))
    return fail("value of " + who +
                " was elided (dense<...N elements>) and cannot be parsed; print without "
                "elideValuesOver");
  int64_t n = checkedNumElements(type.shape);
  if (n < 0)
    return fail(who + ": shape " + shapeToString(type.shape) + " is invalid or too large");
  Token start = tok_;
  if (!at(TokenKind::LBracket)) {
    // A single element: a scalar, or a splat over the whole shape. Parse it first, then fill.
    Tensor one(type.dtype, {});
    KILN_TRY(parseElement(type.dtype, one, 0));
    KILN_ASSIGN(out, Tensor::create(type.dtype, type.shape));
    size_t es = dtypeSize(type.dtype);
    auto *dst = static_cast<unsigned char *>(out.raw());
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(dst + size_t(i) * es, one.raw(), es);
  } else {
    consume();
    KILN_ASSIGN(out, Tensor::create(type.dtype, type.shape));
    int64_t count = 0;
    while (!at(TokenKind::RBracket)) {
      if (count)
        KILN_TRY(expect(TokenKind::Comma, "expected ',' or ']' in a dense value"));
      if (count == n)
        return errorAt(start, who + ": more than " + std::to_string(n) + " values for " +
                                  type.str());
      KILN_TRY(parseElement(type.dtype, out, count));
      ++count;
    }
    if (count != n)
      return errorAt(start, who + ": expected " + std::to_string(n) + " values for " + type.str() +
                                ", got " + std::to_string(count));
    consume();
  }
  return expect(TokenKind::Greater, "expected '>' to close dense<...>");
}

Status Parser::parseInit(Initializer &init) {
  if (!at(TokenKind::Ident))
    return fail("expected an initializer kind (zeros, ones, glorot_uniform, ...)");
  auto kind = parseInitKind(tok_.text);
  if (!kind)
    return fail("unknown initializer '" + tok_.text + "'");
  init = Initializer{};
  init.kind = *kind;
  consume();
  if (!at(TokenKind::LBrace))
    return Status::ok();
  return parseFields("an initializer", [&](const Token &key) -> Status {
    const std::string &k = key.text;
    if (k == "value")
      return parseNumber(init.value);
    if (k == "low")
      return parseNumber(init.low);
    if (k == "high")
      return parseNumber(init.high);
    if (k == "mean")
      return parseNumber(init.mean);
    if (k == "stddev")
      return parseNumber(init.stddev);
    if (k == "data")
      return parseNumberList(init.data);
    if (k == "seed") {
      uint64_t s = 0;
      KILN_TRY(parseUInt(s));
      init.seed = s;
      return Status::ok();
    }
    return errorAt(key, "unknown initializer field '" + k +
                            "' (expected value, low, high, mean, stddev, data or seed)");
  });
}

Status Parser::parseOptimizer(Optimizer &o) {
  if (!at(TokenKind::Ident))
    return fail("expected an optimizer kind (sgd, rmsprop, adam, adamw)");
  auto kind = parseOptimizerKind(tok_.text);
  if (!kind)
    return fail("unknown optimizer '" + tok_.text + "' (expected sgd, rmsprop, adam or adamw)");
  o = Optimizer::defaults(*kind);
  consume();
  if (!at(TokenKind::LBrace))
    return Status::ok();
  return parseFields("an optimizer", [&](const Token &key) -> Status {
    const std::string &k = key.text;
    if (k == "lr")
      return parseNumber(o.lr);
    if (k == "momentum")
      return parseNumber(o.momentum);
    if (k == "nesterov")
      return parseBool(o.nesterov);
    if (k == "rho")
      return parseNumber(o.rho);
    if (k == "beta1")
      return parseNumber(o.beta1);
    if (k == "beta2")
      return parseNumber(o.beta2);
    if (k == "epsilon")
      return parseNumber(o.epsilon);
    if (k == "weight_decay")
      return parseNumber(o.weightDecay);
    return errorAt(key, "unknown optimizer field '" + k + "'");
  });
}

Status Parser::parseSchedule(LrSchedule &s) {
  if (!at(TokenKind::Ident))
    return fail("expected a schedule kind (exponential_decay, step_decay or none)");
  s = LrSchedule{};
  if (tok_.text == "exponential_decay")
    s.kind = LrSchedule::Kind::ExponentialDecay;
  else if (tok_.text == "step_decay")
    s.kind = LrSchedule::Kind::StepDecay;
  else if (tok_.text != "none")
    return fail("unknown lr schedule '" + tok_.text + "'");
  consume();
  if (!at(TokenKind::LBrace))
    return Status::ok();
  return parseFields("an lr schedule", [&](const Token &key) -> Status {
    const std::string &k = key.text;
    if (k == "decay_rate")
      return parseNumber(s.decayRate);
    if (k == "decay_steps")
      return parseNumber(s.decaySteps);
    if (k == "factor")
      return parseNumber(s.factor);
    if (k == "every")
      return parseInt(s.every);
    return errorAt(key, "unknown lr schedule field '" + k + "'");
  });
}

} // namespace kiln::detail
