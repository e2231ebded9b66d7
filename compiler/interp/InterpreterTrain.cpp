// Interpreter::trainStep: one step program of a training graph, with all state updates applied
// together after the whole step has been evaluated.
#include "compiler/interp/Interpreter.h"

#include "compiler/support/Diagnostic.h"

namespace kiln {

Expected<NamedTensors> Interpreter::trainStep(const std::string &stepName,
                                              const NamedTensors &feeds) {
  const StepProgram *program = graph_->findStepProgram(stepName);
  if (!program) {
    std::string known;
    for (const StepProgram &p : graph_->stepPrograms())
      known += (known.empty() ? "" : ", ") + p.name;
    return Status::error("graph '" + graph_->name() + "' has no train step '" + stepName + "'" +
                         (known.empty() ? " (it is not a training graph: build it with "
                                          "buildTrainingGraph)"
                                        : " (it has " + known + ")"));
  }

  // One evaluation of loss, metrics and update values, so they share one run's random draws
  // (a dropout's gradient must see the mask of its forward pass).
  std::vector<Value> values{program->loss};
  std::vector<std::string> names{program->loss.name()};
  for (Value m : program->metrics) {
    values.push_back(m);
    names.push_back(m.name());
  }
  for (const StateUpdate &u : program->updates) {
    values.push_back(u.value);
    names.push_back(u.state->name());
  }
  KILN_ASSIGN(NamedTensors results, evalValues(feeds, values, names, /*training=*/true,
                                               /*requireAllInputs=*/false));

  size_t reported = 1 + program->metrics.size();
  for (size_t i = 0; i < program->updates.size(); ++i) {
    const StateUpdate &u = program->updates[i];
    auto it = paramIndex_.find(u.state);
    if (it == paramIndex_.end())
      return errorAt(u.state->loc(), "step '" + stepName + "' updates '" + u.state->name() +
                                         "', which is not a param");
  }
  for (size_t i = 0; i < program->updates.size(); ++i)
    params_[paramIndex_.at(program->updates[i].state)].second =
        std::move(results[reported + i].second);
  results.resize(reported);
  return results;
}

} // namespace kiln
