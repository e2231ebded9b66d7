// Executable: feeds in, entry function call, results out; params by name; the run counter.
#include "kiln/runtime/Executable.h"

#include "kiln/runtime/Parallel.h"
#include "kiln/runtime/PrimitiveTable.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

namespace kiln {

namespace {

constexpr size_t kAlignment = 64;

char *alignedBuffer(size_t bytes) {
  size_t size = (std::max<size_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
  auto *p = static_cast<char *>(std::aligned_alloc(kAlignment, size));
  if (p)
    std::memset(p, 0, size);
  return p;
}

/// "file:line:col: error: message (json path)", the compiler's located-diagnostic form.
Status locatedError(const SourceRef *where, const std::string &message) {
  std::string text = where && !where->loc.empty() ? where->loc + ": " : "";
  text += "error: " + message;
  if (where && !where->path.empty())
    text += " (" + where->path + ")";
  return Status::error(text);
}

std::string typeString(DType dt, const Shape &shape) {
  return std::string(dtypeName(dt)) + shapeToString(shape);
}

} // namespace

size_t BufferSlot::bytes() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return size_t(n) * dtypeSize(dtype);
}

void Executable::AlignedFree::operator()(char *p) const { std::free(p); }

Executable::Executable(ExecutableSpec spec) : spec_(std::move(spec)) {}
Executable::~Executable() = default;

Expected<std::unique_ptr<Executable>> Executable::create(ExecutableSpec spec) {
  auto fits = [](const BufferSlot &s, size_t size) -> Status {
    if (s.offset < 0 || size_t(s.offset) + s.bytes() > size)
      return Status::error("executable: '" + s.name + "' (" + typeString(s.dtype, s.shape) +
                           " at " + std::to_string(s.offset) + ") does not fit its buffer of " +
                           std::to_string(size) + " bytes");
    return Status::ok();
  };
  auto sizeOf = [&](BufferRegion r) {
    switch (r) {
    case BufferRegion::Arena:
      return size_t(spec.arenaBytes);
    case BufferRegion::State:
      return spec.initialState.size();
    case BufferRegion::Constants:
      return spec.constants.size();
    }
    return size_t(0);
  };
  for (const BufferSlot &s : spec.inputs)
    if (s.offset >= 0)
      KILN_TRY(fits(s, sizeOf(BufferRegion::Arena)));
  for (const BufferSlot &s : spec.params)
    KILN_TRY(fits(s, sizeOf(BufferRegion::State)));
  for (const EntryPoint &e : spec.entries) {
    if (!e.function)
      return Status::error("executable: entry '" + e.name + "' has no function");
    for (const BufferSlot &s : e.results)
      KILN_TRY(fits(s, sizeOf(s.region)));
  }
  std::unique_ptr<Executable> exe(new Executable(std::move(spec)));
  // One arena up front, so that a model too large for memory fails here and not on a run.
  Buffer arena(alignedBuffer(size_t(exe->spec_.arenaBytes)));
  exe->state_.reset(alignedBuffer(exe->spec_.initialState.size()));
  exe->constants_.reset(alignedBuffer(exe->spec_.constants.size()));
  if (!arena || !exe->state_ || !exe->constants_)
    return Status::error("executable: cannot allocate " + std::to_string(exe->spec_.arenaBytes) +
                         " bytes of arena");
  exe->freeArenas_.push_back(std::move(arena));
  if (!exe->spec_.initialState.empty())
    std::memcpy(exe->state_.get(), exe->spec_.initialState.data(),
                exe->spec_.initialState.size());
  if (!exe->spec_.constants.empty())
    std::memcpy(exe->constants_.get(), exe->spec_.constants.data(), exe->spec_.constants.size());
  // The initial copies are no longer needed; keep the sizes for stateBytes().
  exe->spec_.constants.clear();
  exe->spec_.constants.shrink_to_fit();
  return exe;
}

Executable::Buffer Executable::acquireArena() {
  {
    std::lock_guard<std::mutex> lock(arenaMutex_);
    if (!freeArenas_.empty()) {
      Buffer a = std::move(freeArenas_.back());
      freeArenas_.pop_back();
      return a;
    }
  }
  return Buffer(alignedBuffer(size_t(spec_.arenaBytes)));
}

void Executable::releaseArena(Buffer arena) {
  std::lock_guard<std::mutex> lock(arenaMutex_);
  freeArenas_.push_back(std::move(arena));
}

std::shared_lock<std::shared_mutex> Executable::readLock() const {
  std::lock_guard<std::mutex> turn(turnstile_);
  return std::shared_lock<std::shared_mutex>(stateMutex_);
}

std::unique_lock<std::shared_mutex> Executable::writeLock() const {
  std::lock_guard<std::mutex> turn(turnstile_); // new readers wait behind this writer
  return std::unique_lock<std::shared_mutex>(stateMutex_);
}

void Executable::setRunCount(uint64_t count) {
  auto lock = writeLock();
  runCount_ = count;
}

char *Executable::regionBase(BufferRegion r, char *arena) {
  switch (r) {
  case BufferRegion::Arena:
    return arena;
  case BufferRegion::State:
    return state_.get();
  case BufferRegion::Constants:
    return constants_.get();
  }
  return nullptr;
}

std::vector<std::string> Executable::entryNames() const {
  std::vector<std::string> names;
  for (const EntryPoint &e : spec_.entries)
    names.push_back(e.name);
  return names;
}

const EntryPoint *Executable::findEntry(const std::string &name) const {
  for (const EntryPoint &e : spec_.entries)
    if (e.name == name)
      return &e;
  return nullptr;
}

Expected<NamedTensors> Executable::call(const EntryPoint &entry, const NamedTensors &feeds,
                                        bool requireAll) {
  auto inputError = [&](const BufferSlot &slot, const std::string &message) {
    auto it = spec_.inputSources.find(slot.name);
    return locatedError(it == spec_.inputSources.end() ? nullptr : &it->second, message);
  };
  std::unordered_map<std::string, const BufferSlot *> inputs;
  for (const BufferSlot &s : spec_.inputs)
    inputs[s.name] = &s;
  // Check every feed before anything is copied, so a bad feed changes nothing.
  std::unordered_set<std::string> fed;
  for (const auto &[name, t] : feeds) {
    auto it = inputs.find(name);
    if (it == inputs.end())
      return Status::error("feed '" + name + "' is not an input of graph '" + spec_.graphName +
                           "'");
    const BufferSlot &s = *it->second;
    if (t.dtype() != s.dtype || t.shape() != s.shape)
      return inputError(s, "input '" + name + "' expects " + typeString(s.dtype, s.shape) +
                              ", fed " + typeString(t.dtype(), t.shape()));
    if (!fed.insert(name).second)
      return Status::error("input '" + name + "' is fed twice");
  }
  std::unordered_set<std::string> required(entry.requiredInputs.begin(),
                                           entry.requiredInputs.end());
  for (const BufferSlot &s : spec_.inputs)
    if ((requireAll || required.count(s.name)) && !fed.count(s.name))
      return inputError(s, "input '" + s.name + "' (" + typeString(s.dtype, s.shape) +
                              ") is not fed");
  // Inference only reads the state: many may run at once. A step writes it: it runs alone.
  std::shared_lock<std::shared_mutex> shared;
  std::unique_lock<std::shared_mutex> exclusive;
  bool readOnly = entry.name == "predict";
  if (readOnly)
    shared = readLock();
  else
    exclusive = writeLock();
  if (!readOnly)
    ++stateVersion_; // the step writes params: what tables derived from them is stale
  runtime::StateVersionScope stateVersion(stateVersion_, readOnly);
  Buffer arena = acquireArena();
  if (!arena)
    return Status::error("executable: cannot allocate " + std::to_string(spec_.arenaBytes) +
                         " bytes of arena");
  for (const auto &[name, t] : feeds) {
    const BufferSlot &s = *inputs.at(name);
    if (s.offset >= 0 && t.byteSize())
      std::memcpy(arena.get() + s.offset, t.raw(), t.byteSize());
  }
  if (spec_.threads > 0)
    runtime::setNumThreads(spec_.threads); // this thread's OpenMP setting only
  // Faults recorded by this call's kernels, on whichever threads run them, land here.
  runtime::KernelErrorScope faults;
  entry.function(arena.get(), state_.get(), constants_.get(), int64_t(runCount_++));
  // A kernel that met a run-time fault (a gather index out of range) recorded a located message
  // and wrote zeros; the run is an error. Known gap: a step program's updates have already been
  // written to the state by then.
  if (std::string fault = faults.take(); !fault.empty()) {
    releaseArena(std::move(arena));
    return Status::error(fault);
  }
  NamedTensors out;
  for (const BufferSlot &s : entry.results) {
    Tensor t(s.dtype, s.shape);
    if (t.byteSize())
      std::memcpy(t.raw(), regionBase(s.region, arena.get()) + s.offset, t.byteSize());
    out.emplace_back(s.name, std::move(t));
  }
  releaseArena(std::move(arena));
  return out;
}

Expected<NamedTensors> Executable::run(const NamedTensors &feeds) {
  const EntryPoint *entry = findEntry("predict");
  if (!entry)
    return Status::error("graph '" + spec_.graphName + "' has no predict entry");
  return call(*entry, feeds, /*requireAll=*/true);
}

Expected<NamedTensors> Executable::trainStep(const std::string &step, const NamedTensors &feeds) {
  const EntryPoint *entry = step == "predict" ? nullptr : findEntry(step);
  if (!entry) {
    std::string known;
    for (const EntryPoint &e : spec_.entries)
      if (e.name != "predict")
        known += (known.empty() ? "" : ", ") + e.name;
    return Status::error("graph '" + spec_.graphName + "' has no train step '" + step + "'" +
                         (known.empty() ? " (it has no train steps)" : " (it has " + known + ")"));
  }
  return call(*entry, feeds, /*requireAll=*/false);
}

const NamedTensors Executable::params() const {
  auto lock = readLock();
  NamedTensors out;
  for (const BufferSlot &s : spec_.params) {
    Tensor t(s.dtype, s.shape);
    if (t.byteSize())
      std::memcpy(t.raw(), state_.get() + s.offset, t.byteSize());
    out.emplace_back(s.name, std::move(t));
  }
  return out;
}

Status Executable::setParams(const NamedTensors &values) {
  std::unordered_map<std::string, const BufferSlot *> byName;
  for (const BufferSlot &s : spec_.params)
    byName[s.name] = &s;
  for (const auto &[name, t] : values) {
    auto it = byName.find(name);
    if (it == byName.end())
      return Status::error("setParams: '" + name + "' is not a param of graph '" +
                           spec_.graphName + "'");
    const BufferSlot &s = *it->second;
    if (t.dtype() != s.dtype || t.shape() != s.shape)
      return Status::error("setParams: param '" + name + "' is " + typeString(s.dtype, s.shape) +
                           ", given " + typeString(t.dtype(), t.shape()));
  }
  auto lock = writeLock();
  ++stateVersion_;
  for (const auto &[name, t] : values)
    if (t.byteSize())
      std::memcpy(state_.get() + byName.at(name)->offset, t.raw(), t.byteSize());
  return Status::ok();
}

} // namespace kiln
