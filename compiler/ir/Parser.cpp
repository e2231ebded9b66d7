// The IR text form, parsing side: a hand-written, non-recursive descent over Lexer tokens. This
// file holds the graph and statement level; ParserValues.cpp the values inside statements.
#include "compiler/ir/Parser.h"

#include "compiler/ir/ParserImpl.h"

namespace kiln {

namespace detail {

Expected<Graph> Parser::run() {
  KILN_TRY(expectWord("graph", "expected 'graph' at the start of the text"));
  if (!at(TokenKind::Symbol))
    return fail("expected the graph name (@name) after 'graph'");
  g_.setName(tok_.text);
  consume();
  KILN_TRY(parseHeader());
  KILN_TRY(expect(TokenKind::LBrace, "expected '{' to open the graph body"));
  while (!at(TokenKind::RBrace)) {
    if (at(TokenKind::Eof))
      return fail("expected '}' to close the graph body");
    KILN_TRY(parseStatement());
  }
  consume();
  if (!at(TokenKind::Eof))
    return fail("expected end of input after the graph's closing '}'");
  return std::move(g_);
}

Status Parser::parseHeader() {
  bool seenSeed = false, seenWeights = false, seenArena = false, seenPeak = false;
  while (at(TokenKind::Ident)) {
    Token key = tok_;
    bool isSeed = key.text == "seed";
    // The memory plan's sizes (PlanMemoryPass): -1 or a byte count.
    if (key.text == "arena" || key.text == "peak_live") {
      bool isArena = key.text == "arena";
      if (isArena ? seenArena : seenPeak)
        return fail("graph field '" + key.text + "' given twice");
      (isArena ? seenArena : seenPeak) = true;
      consume();
      KILN_TRY(expect(TokenKind::Equal, "expected '=' after '" + key.text + "'"));
      int64_t bytes = 0;
      KILN_TRY(parseInt(bytes));
      if (bytes < -1)
        return fail("graph field '" + key.text + "' is -1 (unplanned) or a byte count");
      if (isArena)
        g_.setArenaBytes(bytes);
      else
        g_.setPeakLiveBytes(bytes);
      continue;
    }
    if (!isSeed && key.text != "weights")
      return fail("unknown graph field '" + key.text +
                  "' (expected seed, weights, arena or peak_live)");
    if (isSeed ? seenSeed : seenWeights)
      return fail("graph field '" + key.text + "' given twice");
    consume();
    KILN_TRY(expect(TokenKind::Equal, "expected '=' after '" + key.text + "'"));
    if (isSeed) {
      uint64_t seed = 0;
      KILN_TRY(parseUInt(seed));
      g_.setSeed(seed);
      seenSeed = true;
    } else {
      if (!at(TokenKind::String))
        return fail("expected a string after 'weights='");
      g_.setWeightsFile(tok_.text);
      consume();
      seenWeights = true;
    }
  }
  return Status::ok();
}

Status Parser::parseStatement() {
  if (atWord("input"))
    return parseInput();
  if (atWord("param"))
    return parseParam();
  if (atWord("const"))
    return parseConst();
  if (atWord("return"))
    return parseReturn();
  if (atWord("train"))
    return parseTrain();
  if (atWord("step"))
    return parseStep();
  if (at(TokenKind::ValueRef))
    return parseNode();
  // The message predates step programs, which only generated graphs contain.
  return fail("expected a definition (input, param, const, %name = op(...)), return or train");
}

// ---- statements ----

Status Parser::parseSourceHead(const char *keyword, SourceHead &head) {
  consume();
  head.nameTok = tok_;
  KILN_ASSIGN(head.name, parseDefName(keyword));
  KILN_TRY(expect(TokenKind::Colon, "expected ':' after value name"));
  KILN_TRY(parseType(head.type));
  head.arenaTok = tok_;
  return parseArena(head.arena);
}

Status Parser::finishSource(Node *n, const SourceHead &head, const std::optional<Loc> &loc) {
  KILN_TRY(applyArena(n, head.arenaTok, head.arena));
  if (loc)
    n->setLoc(*loc);
  return Status::ok();
}

Status Parser::parseInput() {
  SourceHead head;
  KILN_TRY(parseSourceHead("input", head));
  std::optional<Loc> loc;
  KILN_TRY(parseLoc(loc));
  KILN_ASSIGN(Node * n, g_.addInput(head.name, head.type, locOf(head.nameTok)));
  return finishSource(n, head, loc);
}

Status Parser::parseParam() {
  SourceHead head;
  KILN_TRY(parseSourceHead("param", head));
  Initializer init;
  if (atWord("init")) {
    consume();
    KILN_TRY(expect(TokenKind::Equal, "expected '=' after 'init'"));
    KILN_TRY(parseInit(init));
  }
  bool trainable = true;
  if (atWord("trainable")) {
    consume();
    KILN_TRY(expect(TokenKind::Equal, "expected '=' after 'trainable'"));
    KILN_TRY(parseBool(trainable));
  }
  std::optional<Tensor> value;
  if (at(TokenKind::Equal)) {
    consume();
    Tensor t;
    KILN_TRY(parseDense(head.type, "param '" + head.name + "'", t));
    value = std::move(t);
  }
  std::optional<Loc> loc;
  KILN_TRY(parseLoc(loc));
  KILN_ASSIGN(Node * n, g_.addParam(head.name, head.type, std::move(init), trainable,
                                    locOf(head.nameTok)));
  if (value)
    n->setValue(std::make_shared<const Tensor>(std::move(*value)));
  return finishSource(n, head, loc);
}

Status Parser::parseConst() {
  SourceHead head;
  KILN_TRY(parseSourceHead("const", head));
  KILN_TRY(expect(TokenKind::Equal, "expected '= dense<...>' after a constant's type"));
  Tensor value;
  KILN_TRY(parseDense(head.type, "const '" + head.name + "'", value));
  std::optional<Loc> loc;
  KILN_TRY(parseLoc(loc));
  KILN_ASSIGN(Node * n, g_.addConstant(head.name, std::move(value), locOf(head.nameTok)));
  return finishSource(n, head, loc);
}

Status Parser::parseNode() {
  Token nameTok = tok_;
  KILN_ASSIGN(std::string name, parseDefName("="));
  KILN_TRY(expect(TokenKind::Equal, "expected '=' after value name"));
  if (!at(TokenKind::Ident))
    return fail("expected an op name after '='");
  Token opTok = tok_;
  auto op = lookupOp(tok_.text);
  if (!op)
    return fail("unknown op '" + tok_.text + "'");
  consume();
  KILN_TRY(expect(TokenKind::LParen, "expected '(' after the op name"));
  std::vector<Value> operands;
  KILN_TRY(parseRefList(operands, TokenKind::RParen));
  AttrMap attrs;
  if (at(TokenKind::LBrace)) {
    consume();
    while (!at(TokenKind::RBrace)) {
      if (!attrs.empty())
        KILN_TRY(expect(TokenKind::Comma, "expected ',' or '}' after an attribute"));
      if (!at(TokenKind::Ident))
        return fail("expected an attribute name");
      Token key = tok_;
      consume();
      KILN_TRY(expect(TokenKind::Equal, "expected '=' after attribute name '" + key.text + "'"));
      AttrValue v;
      KILN_TRY(parseAttrValue(v));
      if (!attrs.emplace(key.text, std::move(v)).second)
        return errorAt(key, "attribute '" + key.text + "' given twice");
    }
    consume();
  }
  KILN_TRY(expect(TokenKind::Colon, "expected ':' and the result type after the operands"));
  Token typeTok = tok_;
  std::vector<TensorType> types;
  if (at(TokenKind::LParen)) {
    consume();
    while (!at(TokenKind::RParen)) {
      if (!types.empty())
        KILN_TRY(expect(TokenKind::Comma, "expected ',' or ')' in the result types"));
      if (types.size() >= 1024)
        return fail("too many result types");
      TensorType t;
      KILN_TRY(parseType(t));
      types.push_back(std::move(t));
    }
    consume();
  } else {
    TensorType t;
    KILN_TRY(parseType(t));
    types.push_back(std::move(t));
  }
  Token arenaTok = tok_;
  std::vector<int64_t> arena;
  KILN_TRY(parseArena(arena));
  std::unique_ptr<Graph> body;
  if (*op == Op::Fused)
    KILN_TRY(parseFusedBody(name, body));
  std::optional<Loc> loc;
  KILN_TRY(parseLoc(loc));
  KILN_ASSIGN(Node * n, *op == Op::Fused
                            ? g_.addFused(name, std::move(operands), std::move(body),
                                          std::move(attrs), locOf(nameTok))
                            : g_.addNode(*op, name, std::move(operands), std::move(attrs),
                                         locOf(nameTok)));
  auto typesText = [](const std::vector<TensorType> &ts) {
    std::string s;
    for (size_t i = 0; i < ts.size(); ++i)
      s += (i ? ", " : "") + ts[i].str();
    return ts.size() == 1 ? s : "(" + s + ")";
  };
  if (n->resultTypes() != types)
    return errorAt(typeTok, opTok.text + " '" + name + "': declared type " + typesText(types) +
                                " does not match the inferred type " +
                                typesText(n->resultTypes()));
  KILN_TRY(applyArena(n, arenaTok, arena));
  if (loc)
    n->setLoc(*loc);
  return Status::ok();
}

Status Parser::parseReturn() {
  if (sawReturn_)
    return fail("the graph has a second 'return'");
  sawReturn_ = true;
  consume();
  std::vector<Value> outs;
  do {
    if (!outs.empty())
      consume(); // the comma
    Value v;
    KILN_TRY(parseRef(v));
    outs.push_back(v);
  } while (at(TokenKind::Comma));
  g_.setOutputs(std::move(outs));
  return Status::ok();
}

Status Parser::parseTrain() {
  Token trainTok = tok_;
  consume();
  if (!at(TokenKind::Symbol))
    return fail("expected the train step's name (@name) after 'train'");
  TrainStep step;
  step.name = tok_.text;
  if (g_.findTrainStep(step.name))
    return fail("train step '" + step.name + "' is defined twice");
  consume();
  KILN_TRY(expect(TokenKind::LParen, "expected '(' after the train step's name"));
  std::set<std::string> seen;
  bool hasLoss = false;
  while (!at(TokenKind::RParen)) {
    if (!seen.empty())
      KILN_TRY(expect(TokenKind::Comma, "expected ',' or ')' in a train step"));
    if (!at(TokenKind::Ident))
      return fail("expected a train step field (loss, params, optimizer, ...)");
    Token key = tok_;
    const std::string &k = key.text;
    if (!seen.insert(k).second)
      return fail("field '" + k + "' given twice in train step '" + step.name + "'");
    consume();
    KILN_TRY(expect(TokenKind::Equal, "expected '=' after '" + k + "'"));
    if (k == "loss") {
      hasLoss = true;
      if (atWord("none"))
        consume();
      else
        KILN_TRY(parseRef(step.loss));
    } else if (k == "params") {
      step.paramsGiven = !atWord("auto");
      if (!step.paramsGiven)
        consume();
      KILN_TRY(expect(TokenKind::LBracket, "expected '[' to open the param list"));
      std::vector<Value> refs;
      while (!at(TokenKind::RBracket)) {
        if (!refs.empty())
          KILN_TRY(expect(TokenKind::Comma, "expected ',' or ']' in the param list"));
        Token refTok = tok_;
        Value v;
        KILN_TRY(parseRef(v));
        if (!v.node->isParam())
          return errorAt(refTok, "train step '" + step.name + "': '%" + v.name() +
                                     "' is not a param");
        refs.push_back(v);
        step.params.push_back(v.node);
      }
      consume();
    } else if (k == "optimizer") {
      KILN_TRY(parseOptimizer(step.optimizer));
    } else if (k == "regularization") {
      step.hasRegularization = true;
      KILN_TRY(parseFields("regularization", [&](const Token &f) -> Status {
        if (f.text == "l1")
          return parseNumber(step.l1);
        if (f.text == "l2")
          return parseNumber(step.l2);
        return errorAt(f, "unknown regularization field '" + f.text + "' (expected l1 or l2)");
      }));
    } else if (k == "l1") {
      KILN_TRY(parseNumber(step.l1));
    } else if (k == "l2") {
      KILN_TRY(parseNumber(step.l2));
    } else if (k == "clip_norm") {
      double c = 0;
      KILN_TRY(parseNumber(c));
      step.clipNorm = c;
    } else if (k == "lr_schedule") {
      KILN_TRY(parseSchedule(step.schedule));
    } else if (k == "metrics") {
      KILN_TRY(expect(TokenKind::LBracket, "expected '[' to open the metric list"));
      KILN_TRY(parseRefList(step.metrics, TokenKind::RBracket));
    } else {
      return errorAt(key, "unknown train step field '" + k + "'");
    }
  }
  consume();
  if (!hasLoss)
    return errorAt(trainTok, "train step '" + step.name + "' has no loss");
  std::optional<Loc> loc;
  KILN_TRY(parseLoc(loc));
  step.loc = loc ? *loc : locOf(trainTok);
  g_.addTrainStep(std::move(step));
  return Status::ok();
}

Status Parser::parseStep() {
  consume();
  if (!at(TokenKind::Symbol))
    return fail("expected the step program's name (@name) after 'step'");
  StepProgram program;
  program.name = tok_.text;
  if (g_.findStepProgram(program.name))
    return fail("step program '" + program.name + "' is defined twice");
  consume();
  KILN_TRY(expect(TokenKind::LParen, "expected '(' after the step program's name"));
  KILN_TRY(expectWord("loss", "expected 'loss=' first in a step program"));
  KILN_TRY(expect(TokenKind::Equal, "expected '=' after 'loss'"));
  KILN_TRY(parseRef(program.loss));
  if (at(TokenKind::Comma)) {
    consume();
    KILN_TRY(expectWord("metrics", "expected 'metrics=' after the loss"));
    KILN_TRY(expect(TokenKind::Equal, "expected '=' after 'metrics'"));
    KILN_TRY(expect(TokenKind::LBracket, "expected '[' to open the metric list"));
    KILN_TRY(parseRefList(program.metrics, TokenKind::RBracket));
  }
  KILN_TRY(expect(TokenKind::RParen, "expected ')' to close the step program's header"));
  KILN_TRY(expect(TokenKind::LBrace, "expected '{' to open the step program's updates"));
  while (!at(TokenKind::RBrace)) {
    Token stateTok = tok_;
    Value state;
    KILN_TRY(parseRef(state));
    if (!state.node->isParam())
      return errorAt(stateTok, "step program '" + program.name + "': '%" + state.name() +
                                   "' is not a param, so it cannot be updated");
    for (const StateUpdate &u : program.updates)
      if (u.state == state.node)
        return errorAt(stateTok, "step program '" + program.name + "': '%" + state.name() +
                                     "' is updated twice");
    KILN_TRY(expect(TokenKind::Arrow, "expected '<-' after the updated param"));
    Token valueTok = tok_;
    Value value;
    KILN_TRY(parseRef(value));
    if (value.type() != state.type())
      return errorAt(valueTok, "step program '" + program.name + "': the update of '%" +
                                   state.name() + "' is " + value.type().str() + ", expected " +
                                   state.type().str());
    program.updates.push_back(StateUpdate{state.node, value});
  }
  consume();
  g_.addStepProgram(std::move(program));
  return Status::ok();
}

} // namespace detail

Expected<Graph> parseGraph(std::string_view text, const std::string &filename) {
  if (text.size() > kMaxIrTextSize)
    return errorAt(Loc{filename, 0, 0, ""}, "text is larger than " +
                                                std::to_string(kMaxIrTextSize) + " bytes");
  detail::Parser p(text, filename);
  return p.run();
}

} // namespace kiln
