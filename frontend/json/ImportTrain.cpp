// Importing `train`: one step (an object, named "train") or a list of named steps, each with
// its loss, params, optimizer, metrics, regularization, clipping and learning-rate schedule.
#include "compiler/support/Diagnostic.h"
#include "frontend/json/Importer.h"

#include <unordered_set>

namespace kiln::json {

Status Importer::importTrain(const Json &train, const JsonPath &p) {
  if (train.is_object())
    return importStep(train, p, /*single=*/true);
  if (!train.is_array())
    return err(p, "", "'train' must be a step object or a list of steps, got " + describe(train));
  KILN_TRY(requireArray(train, p, "", "'train'"));
  for (size_t i = 0; i < train.size(); ++i) {
    KILN_TRY(requireObject(train[i], p / i, "", "a train step"));
    KILN_TRY(importStep(train[i], p / i, /*single=*/false));
  }
  return Status::ok();
}

Status Importer::importStep(const Json &j, const JsonPath &p, bool single) {
  TrainStep step;
  step.loc = loc(p);
  KILN_TRY(checkKeys(j, p, "train step",
                     {"name", "loss", "params", "optimizer", "metrics", "regularization",
                      "clip_norm", "lr_schedule"}));
  if (!single || j.contains("name")) {
    KILN_ASSIGN(const Json *nameJ, field(j, p, "train step", "name"));
    KILN_ASSIGN(step.name, getString(*nameJ, p / "name", "train step", "'name'"));
    if (!isValidName(step.name))
      return err(p / "name", "", "invalid train step name '" + step.name +
                                     "' (names match [A-Za-z_][A-Za-z0-9_./-]*)");
    if (g_.findTrainStep(step.name))
      return err(p / "name", "", "train step '" + step.name + "' is defined twice");
  }
  std::string who = "train step '" + step.name + "'";

  KILN_ASSIGN(const Json *lossJ, field(j, p, who, "loss"));
  KILN_ASSIGN(std::string lossRef, getString(*lossJ, p / "loss", who, "'loss'"));
  auto loss = lookup(lossRef);
  if (!loss)
    return err(p / "loss", who, "loss '" + lossRef + "' is not defined");
  const TensorType &lt = loss->type();
  if (!isFloat(lt.dtype) || !lt.isScalar())
    return err(p / "loss", who, "loss '" + lossRef + "' must be a float scalar, got " + lt.str());
  step.loss = *loss;
  auto deps = dependenciesOf(*loss);

  if (j.contains("params")) {
    step.paramsGiven = true;
    const Json &list = j["params"];
    KILN_TRY(requireArray(list, p / "params", who, "'params'"));
    std::unordered_set<const Node *> listed;
    for (size_t k = 0; k < list.size(); ++k) {
      JsonPath kp = p / "params" / k;
      KILN_ASSIGN(std::string name, getString(list[k], kp, who, "a param name"));
      Node *n = g_.find(name);
      if (!n)
        return err(kp, who, "param '" + name + "' is not defined");
      if (!n->isParam())
        return err(kp, who, "'" + name + "' is not a param");
      if (!n->trainable())
        return err(kp, who, "param '" + name + "' is not trainable");
      if (!listed.insert(n).second)
        return err(kp, who, "param '" + name + "' is listed twice");
      if (!deps.count(n))
        return err(kp, who, "loss '" + lossRef + "' does not depend on param '" + name + "'");
      step.params.push_back(n);
    }
    if (step.params.empty())
      return err(p / "params", who, "'params' must name at least one param");
  } else {
    for (Node *n : g_.params())
      if (n->trainable() && deps.count(n))
        step.params.push_back(n);
    if (step.params.empty())
      return err(p / "loss", who, "loss '" + lossRef + "' depends on no trainable param");
  }

  step.optimizer = Optimizer::defaults(Optimizer::Kind::Sgd);
  if (j.contains("optimizer"))
    KILN_TRY(importOptimizer(j["optimizer"], p / "optimizer", who, step.optimizer));

  if (j.contains("metrics")) {
    const Json &list = j["metrics"];
    KILN_TRY(requireArray(list, p / "metrics", who, "'metrics'"));
    for (size_t k = 0; k < list.size(); ++k) {
      KILN_ASSIGN(std::string ref, getString(list[k], p / "metrics" / k, who, "a metric"));
      auto v = lookup(ref);
      if (!v)
        return err(p / "metrics" / k, who, "metric '" + ref + "' is not defined");
      step.metrics.push_back(*v);
    }
  }

  if (j.contains("regularization")) {
    const Json &r = j["regularization"];
    JsonPath rp = p / "regularization";
    KILN_TRY(requireObject(r, rp, who, "'regularization'"));
    KILN_TRY(checkKeys(r, rp, who, {"l1", "l2"}));
    for (auto [key, out] : {std::pair{"l1", &step.l1}, std::pair{"l2", &step.l2}}) {
      if (!r.contains(key))
        continue;
      KILN_ASSIGN(*out, getNumber(r[key], rp / key, who, std::string("'") + key + "'"));
      if (*out < 0)
        return err(rp / key, who, std::string("'") + key + "' must not be negative");
    }
    step.hasRegularization = true;
  }

  if (j.contains("clip_norm")) {
    KILN_ASSIGN(double c, getNumber(j["clip_norm"], p / "clip_norm", who, "'clip_norm'"));
    if (!(c > 0))
      return err(p / "clip_norm", who, "'clip_norm' must be positive, got " +
                                           describe(j["clip_norm"]));
    step.clipNorm = c;
  }

  if (j.contains("lr_schedule"))
    KILN_TRY(importSchedule(j["lr_schedule"], p / "lr_schedule", who, step.schedule));

  g_.addTrainStep(std::move(step));
  return Status::ok();
}

Status Importer::importOptimizer(const Json &j, const JsonPath &p, const std::string &who,
                                 Optimizer &out) {
  const Json *kindJ = &j;
  JsonPath kp = p;
  if (j.is_object()) {
    KILN_ASSIGN(kindJ, field(j, p, who, "kind"));
    kp = p / "kind";
  } else if (!j.is_string()) {
    return err(p, who, "'optimizer' must be an object or a kind name, got " + describe(j));
  }
  auto kind = kindJ->is_string() ? parseOptimizerKind(kindJ->get<std::string>()) : std::nullopt;
  if (!kind)
    return err(kp, who, "unknown optimizer " + describe(*kindJ) +
                            " (expected sgd, rmsprop, adam or adamw)");
  out = Optimizer::defaults(*kind);
  if (!j.is_object())
    return Status::ok();
  switch (*kind) {
  case Optimizer::Kind::Sgd: KILN_TRY(checkKeys(j, p, who, {"kind", "lr", "momentum", "nesterov"})); break;
  case Optimizer::Kind::RmsProp: KILN_TRY(checkKeys(j, p, who, {"kind", "lr", "rho", "epsilon"})); break;
  case Optimizer::Kind::Adam:
    KILN_TRY(checkKeys(j, p, who, {"kind", "lr", "beta1", "beta2", "epsilon"}));
    break;
  case Optimizer::Kind::AdamW:
    KILN_TRY(checkKeys(j, p, who, {"kind", "lr", "beta1", "beta2", "epsilon", "weight_decay"}));
    break;
  }
  // Each value with its valid range: [lo, hi) when hiOpen, else [lo, inf); lo excluded if loOpen.
  struct Range {
    const char *key;
    double *dst;
    double lo;
    bool loOpen;
    bool belowOne;
  };
  const Range ranges[] = {
      {"lr", &out.lr, 0, true, false},          {"momentum", &out.momentum, 0, false, true},
      {"rho", &out.rho, 0, false, true},        {"beta1", &out.beta1, 0, false, true},
      {"beta2", &out.beta2, 0, false, true},    {"epsilon", &out.epsilon, 0, true, false},
      {"weight_decay", &out.weightDecay, 0, false, false},
  };
  for (const Range &r : ranges) {
    if (!j.contains(r.key))
      continue;
    std::string name = std::string("'") + r.key + "'";
    KILN_ASSIGN(*r.dst, getNumber(j[r.key], p / r.key, who, name));
    double v = *r.dst;
    if ((r.loOpen ? v <= r.lo : v < r.lo) || (r.belowOne && v >= 1))
      return err(p / r.key, who,
                 name + (r.belowOne ? " must be in [0, 1)" : r.loOpen ? " must be positive"
                                                                      : " must not be negative") +
                     ", got " + describe(j[r.key]));
  }
  if (j.contains("nesterov")) {
    KILN_ASSIGN(out.nesterov, getBool(j["nesterov"], p / "nesterov", who, "'nesterov'"));
  }
  return Status::ok();
}

Status Importer::importSchedule(const Json &j, const JsonPath &p, const std::string &who,
                                LrSchedule &out) {
  KILN_TRY(requireObject(j, p, who, "'lr_schedule'"));
  KILN_ASSIGN(const Json *kindJ, field(j, p, who, "kind"));
  std::string kind = kindJ->is_string() ? kindJ->get<std::string>() : "";
  auto positive = [&](const char *key, double &dst) -> Status {
    KILN_ASSIGN(const Json *v, field(j, p, who, key));
    std::string name = std::string("'") + key + "'";
    KILN_ASSIGN(dst, getNumber(*v, p / key, who, name));
    if (!(dst > 0))
      return err(p / key, who, name + " must be positive, got " + describe(*v));
    return Status::ok();
  };
  if (kind == "exponential_decay") {
    KILN_TRY(checkKeys(j, p, who, {"kind", "decay_rate", "decay_steps"}));
    out.kind = LrSchedule::Kind::ExponentialDecay;
    KILN_TRY(positive("decay_rate", out.decayRate));
    KILN_TRY(positive("decay_steps", out.decaySteps));
    return Status::ok();
  }
  if (kind == "step_decay") {
    KILN_TRY(checkKeys(j, p, who, {"kind", "factor", "every"}));
    out.kind = LrSchedule::Kind::StepDecay;
    KILN_TRY(positive("factor", out.factor));
    KILN_ASSIGN(const Json *every, field(j, p, who, "every"));
    KILN_ASSIGN(out.every, getInt(*every, p / "every", who, "'every'"));
    if (out.every <= 0)
      return err(p / "every", who, "'every' must be positive, got " + describe(*every));
    return Status::ok();
  }
  return err(p / "kind", who, "unknown lr_schedule " + describe(*kindJ) +
                                  " (expected exponential_decay or step_decay)");
}

} // namespace kiln::json
