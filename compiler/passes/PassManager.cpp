// PassManager: pipeline parsing, per-pass verification, the "unchanged" check, dumps and timing.
#include "compiler/passes/PassManager.h"

#include "compiler/ir/Verifier.h"
#include "compiler/passes/PassRegistry.h"

#include <chrono>
#include <cstdio>
#include <iostream>

namespace kiln {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

Status unknownPass(std::string_view name) {
  return Status::error("error: unknown pass '" + std::string(name) +
                       "'; known passes: " + knownPassNames());
}

} // namespace

Expected<std::vector<std::string>> splitPipeline(std::string_view pipeline) {
  std::vector<std::string> names;
  if (trim(pipeline).empty())
    return names;
  size_t start = 0;
  while (true) {
    size_t comma = pipeline.find(',', start);
    std::string_view part = trim(pipeline.substr(start, comma == std::string_view::npos
                                                            ? std::string_view::npos
                                                            : comma - start));
    if (part.empty())
      return Status::error("error: empty pass name in pipeline '" + std::string(pipeline) + "'");
    names.emplace_back(part);
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  return names;
}

Expected<PassManager> PassManager::create(std::string_view pipeline, PassManagerOptions opts) {
  for (const std::string &name : opts.printAfter)
    if (!createPass(name))
      return unknownPass(name);
  PassManager pm(std::move(opts));
  KILN_TRY(pm.addPipeline(pipeline));
  return pm;
}

Status PassManager::addPipeline(std::string_view pipeline) {
  KILN_ASSIGN(std::vector<std::string> names, splitPipeline(pipeline));
  // Check every name before adding any, so a failed call leaves the pipeline as it was.
  std::vector<std::unique_ptr<Pass>> created;
  for (const std::string &name : names) {
    std::unique_ptr<Pass> pass = createPass(name);
    if (!pass)
      return unknownPass(name);
    created.push_back(std::move(pass));
  }
  for (auto &pass : created)
    passes_.push_back(std::move(pass));
  return Status::ok();
}

std::string PassManager::pipelineText() const {
  std::string text;
  for (const auto &pass : passes_) {
    if (!text.empty())
      text += ",";
    text += pass->name();
  }
  return text;
}

std::ostream &PassManager::out() const { return opts_.out ? *opts_.out : std::cerr; }

bool PassManager::shouldPrintAfter(std::string_view name) const {
  if (opts_.printAfterAll)
    return true;
  for (const std::string &p : opts_.printAfter)
    if (p == name)
      return true;
  return false;
}

Expected<bool> PassManager::run(Graph &g) {
  timings_.clear();
  PassContext ctx;
  ctx.debug = opts_.debug;
  bool anyChanged = false;
  // A bad input is the user's error, not the first pass's: report it as such.
  if (opts_.verifyEach)
    KILN_TRY(verify(g));
  for (const auto &pass : passes_) {
    const std::string name(pass->name());
    // The "unchanged" check compares full prints, locations included: a pass that only moved a
    // location still changed what a dump shows.
    std::string before;
    if (opts_.verifyEach)
      before = printGraph(g);
    ctx.note("[pass-manager] running " + name);
    auto start = std::chrono::steady_clock::now();
    Expected<bool> changed = pass->run(g, ctx);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!changed)
      return changed.status();
    timings_.push_back({name, seconds, *changed});
    anyChanged |= *changed;
    ctx.note("[pass-manager] " + name + (*changed ? ": changed" : ": unchanged"));
    if (opts_.verifyEach) {
      if (Status s = verify(g); !s)
        return Status::error("internal error: pass '" + name +
                             "' left an invalid graph: " + s.message());
      if (!*changed && printGraph(g) != before)
        return Status::error("internal error: pass '" + name +
                             "' reported no change but changed the graph");
    }
    if (shouldPrintAfter(name))
      out() << "// ----- IR after " << name << " -----\n" << printGraph(g, opts_.print);
  }
  if (opts_.timePasses)
    printTimings(out());
  return anyChanged;
}

void PassManager::printTimings(std::ostream &os) const {
  double total = 0;
  for (const PassTiming &t : timings_)
    total += t.seconds;
  char line[160];
  os << "// ===---------------------------------------------------------=== //\n";
  os << "//                  pass execution timing report\n";
  os << "// ===---------------------------------------------------------=== //\n";
  std::snprintf(line, sizeof line, "//   total: %.6f s\n", total);
  os << line;
  os << "//   ----wall (s)----  --(%)--  changed  pass\n";
  for (const PassTiming &t : timings_) {
    double pct = total > 0 ? 100.0 * t.seconds / total : 0.0;
    std::snprintf(line, sizeof line, "//   %16.6f  %6.1f%%  %-7s  %s\n", t.seconds, pct,
                  t.changed ? "yes" : "no", t.name.c_str());
    os << line;
  }
}

} // namespace kiln
