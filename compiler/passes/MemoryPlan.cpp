// Memory planning: live ranges, the best-fit planner with in-place reuse, and the plan checker.
#include "compiler/passes/MemoryPlan.h"
#include "compiler/passes/PassUtil.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace kiln {

int64_t alignedBytes(const TensorType &type) {
  int64_t bytes = type.numElements() * int64_t(dtypeSize(type.dtype));
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

bool isArenaValue(Value v) { return v && !v.node->isParam() && !v.node->isConstant(); }

namespace {

/// Index of each arena node's first live range (its result 0) in arenaLiveRanges order.
using RangeIndex = std::unordered_map<const Node *, size_t>;

RangeIndex indexRanges(const std::vector<LiveRange> &ranges) {
  RangeIndex index;
  for (size_t i = 0; i < ranges.size(); ++i)
    if (ranges[i].value.index == 0)
      index.emplace(ranges[i].value.node, i);
  return index;
}

size_t rangeOf(const RangeIndex &index, Value v) { return index.at(v.node) + v.index; }

/// True if a fused node's body reads and writes element i only (no reduction, movement, matmul).
bool bodyIsElementwise(const Graph &body) {
  for (const auto &n : body.nodes())
    if (!n->info().has(kSource) && !n->info().isElementwise())
      return false;
  return true;
}

/// A coalescing free list over one arena that grows at its top when no free block fits.
class FreeList {
public:
  /// Best fit: the smallest free block that holds `bytes` (the lowest offset among equals).
  int64_t allocate(int64_t bytes) {
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if (it->second >= bytes && (best == free_.end() || it->second < best->second))
        best = it;
    if (best != free_.end()) {
      int64_t offset = best->first, size = best->second;
      free_.erase(best);
      if (size > bytes)
        free_.emplace(offset + bytes, size - bytes);
      return offset;
    }
    // Nothing fits: grow the arena, starting inside a free block that ends at the top.
    int64_t offset = top_;
    if (!free_.empty()) {
      auto last = std::prev(free_.end());
      if (last->first + last->second == top_) {
        offset = last->first;
        free_.erase(last);
      }
    }
    top_ = offset + bytes;
    return offset;
  }

  void release(int64_t offset, int64_t bytes) {
    auto [it, inserted] = free_.emplace(offset, bytes);
    (void)inserted;
    if (auto next = std::next(it); next != free_.end() && offset + bytes == next->first) {
      it->second += next->second;
      free_.erase(next);
    }
    if (it != free_.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        free_.erase(it);
      }
    }
  }

  int64_t top() const { return top_; }

private:
  std::map<int64_t, int64_t> free_; ///< offset -> size, never adjacent (coalesced)
  int64_t top_ = 0;
};

} // namespace

std::vector<LiveRange> arenaLiveRanges(const Graph &g) {
  std::vector<LiveRange> ranges;
  const auto &nodes = g.nodes();
  int end = int(nodes.size());
  for (int i = 0; i < end; ++i) {
    Node *n = nodes[size_t(i)].get();
    if (!isArenaValue(n->result(0)))
      continue;
    int begin = n->isInput() ? 0 : i;
    for (unsigned r = 0; r < n->numResults(); ++r)
      ranges.push_back(LiveRange{n->result(r), alignedBytes(n->type(r)), begin, begin, false});
  }
  RangeIndex index = indexRanges(ranges);
  for (int i = 0; i < end; ++i)
    for (const Value &o : nodes[size_t(i)]->operands())
      if (isArenaValue(o)) {
        LiveRange &r = ranges[rangeOf(index, o)];
        r.end = std::max(r.end, i);
      }
  for (const Value &v : rootValues(g))
    if (isArenaValue(v)) {
      LiveRange &r = ranges[rangeOf(index, v)];
      r.end = end;
      r.root = true;
    }
  return ranges;
}

bool mayRunInPlace(const Node &n, unsigned result, unsigned operand) {
  const TensorType &out = n.type(result), &in = n.operand(operand).type();
  if (out.numElements() != in.numElements() || dtypeSize(out.dtype) != dtypeSize(in.dtype))
    return false;
  if (n.info().has(kSource))
    return false;
  if (n.info().isElementwise())
    return true;
  // A reshape's bytes are its operand's: in place, its kernel copies nothing.
  if (n.op() == Op::Reshape || n.op() == Op::Flatten)
    return true;
  return n.op() == Op::Fused && n.body() && n.attrStr("kind") == "loop" &&
         bodyIsElementwise(*n.body());
}

MemoryPlan planMemory(const Graph &g) {
  MemoryPlan plan;
  plan.ranges = arenaLiveRanges(g);
  const std::vector<LiveRange> &ranges = plan.ranges;
  plan.offsets.assign(ranges.size(), -1);
  RangeIndex index = indexRanges(ranges);
  const auto &nodes = g.nodes();
  int numPoints = int(nodes.size());

  // Values to release after each node (roots stay to the end and are never released).
  std::vector<std::vector<size_t>> dying(size_t(numPoints) + 1);
  for (size_t i = 0; i < ranges.size(); ++i)
    if (!ranges[i].root)
      dying[size_t(ranges[i].end)].push_back(i);
  // Bytes live at each point; an in-place pair shares one buffer at its handover point.
  std::vector<int64_t> liveDelta(size_t(numPoints) + 2, 0);
  for (const LiveRange &r : ranges) {
    liveDelta[size_t(r.begin)] += r.bytes;
    liveDelta[size_t(r.end) + 1] -= r.bytes;
  }

  FreeList freeList;
  auto byBytesDescending = [&](std::vector<size_t> &ids) {
    std::stable_sort(ids.begin(), ids.end(),
                     [&](size_t a, size_t b) { return ranges[a].bytes > ranges[b].bytes; });
  };
  // Feeds are copied in before the first node, so every input is placed first.
  std::vector<size_t> inputs;
  for (size_t i = 0; i < ranges.size(); ++i)
    if (ranges[i].value.node->isInput())
      inputs.push_back(i);
  byBytesDescending(inputs);
  for (size_t i : inputs)
    plan.offsets[i] = freeList.allocate(ranges[i].bytes);

  std::unordered_set<size_t> handedOver; // operands whose buffer a result took
  for (int p = 0; p < numPoints; ++p) {
    Node &n = *nodes[size_t(p)];
    if (!n.info().has(kSource)) {
      std::vector<size_t> results;
      for (unsigned r = 0; r < n.numResults(); ++r)
        results.push_back(rangeOf(index, n.result(r)));
      byBytesDescending(results);
      for (size_t r : results) {
        for (unsigned k = 0; k < n.numOperands() && plan.offsets[r] < 0; ++k) {
          Value o = n.operand(k);
          if (!isArenaValue(o) || o.node->isInput())
            continue;
          size_t from = rangeOf(index, o);
          if (ranges[from].root || ranges[from].end != p || handedOver.count(from) ||
              ranges[from].bytes != ranges[r].bytes || !mayRunInPlace(n, ranges[r].value.index, k))
            continue;
          plan.offsets[r] = plan.offsets[from];
          handedOver.insert(from);
          liveDelta[size_t(p)] -= ranges[r].bytes;
          liveDelta[size_t(p) + 1] += ranges[r].bytes;
          ++plan.inPlace;
        }
        if (plan.offsets[r] < 0)
          plan.offsets[r] = freeList.allocate(ranges[r].bytes);
      }
    }
    for (size_t d : dying[size_t(p)])
      if (!handedOver.count(d))
        freeList.release(plan.offsets[d], ranges[d].bytes);
  }
  plan.arenaBytes = freeList.top();
  int64_t live = 0;
  for (int p = 0; p <= numPoints; ++p) {
    live += liveDelta[size_t(p)];
    plan.peakLiveBytes = std::max(plan.peakLiveBytes, live);
  }
  return plan;
}

bool storeMemoryPlan(Graph &g, const MemoryPlan &plan) {
  bool changed = g.arenaBytes() != plan.arenaBytes || g.peakLiveBytes() != plan.peakLiveBytes;
  g.setArenaBytes(plan.arenaBytes);
  g.setPeakLiveBytes(plan.peakLiveBytes);
  std::unordered_map<const Node *, size_t> first = indexRanges(plan.ranges);
  for (const auto &n : g.nodes()) {
    auto it = first.find(n.get());
    for (unsigned r = 0; r < n->numResults(); ++r) {
      int64_t offset = it == first.end() ? -1 : plan.offsets[it->second + r];
      if (n->arenaOffset(r) == offset)
        continue;
      changed = true;
      n->setArenaOffset(offset, r);
    }
  }
  return changed;
}

namespace {

/// True if `b` is written in place over `a`: `a` dies at the node that defines `b`, which may
/// run in place over it, and the two share offset and size.
bool isInPlacePair(const LiveRange &a, const LiveRange &b, int64_t offsetA, int64_t offsetB) {
  if (a.root || a.end != b.begin || offsetA != offsetB || a.bytes != b.bytes)
    return false;
  const Node &user = *b.value.node;
  if (a.value.node->isInput() || user.isInput())
    return false;
  for (unsigned k = 0; k < user.numOperands(); ++k)
    if (user.operand(k) == a.value && mayRunInPlace(user, b.value.index, k))
      return true;
  return false;
}

} // namespace

Status checkMemoryPlan(const Graph &g) {
  for (const auto &n : g.nodes())
    if ((n->isParam() || n->isConstant()) && n->hasArenaOffset())
      return Status::error("memory plan: '%" + n->name() +
                           "' is a param or constant but has an arena offset");
  std::vector<LiveRange> ranges = arenaLiveRanges(g);
  if (ranges.empty())
    return Status::ok();
  int64_t arena = g.arenaBytes();
  if (arena < 0)
    return Status::error("memory plan: the graph has arena values but no arena size");
  std::vector<int64_t> offsets;
  for (const LiveRange &r : ranges) {
    int64_t offset = r.value.node->arenaOffset(r.value.index);
    std::string who = "memory plan: '%" + r.value.name() + "'";
    if (offset < 0)
      return Status::error(who + " has no arena offset");
    if (offset % kArenaAlignment != 0)
      return Status::error(who + " is at offset " + std::to_string(offset) +
                           ", not a multiple of " + std::to_string(kArenaAlignment));
    if (offset + r.bytes > arena)
      return Status::error(who + " ends at " + std::to_string(offset + r.bytes) +
                           ", past the arena's " + std::to_string(arena) + " bytes");
    offsets.push_back(offset);
  }
  // Sweep in offset order: only values whose bytes intersect need their lifetimes compared.
  std::vector<size_t> order(ranges.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return offsets[a] != offsets[b] ? offsets[a] < offsets[b] : a < b;
  });
  for (size_t x = 0; x < order.size(); ++x) {
    size_t a = order[x];
    for (size_t y = x + 1; y < order.size() && offsets[order[y]] < offsets[a] + ranges[a].bytes;
         ++y) {
      size_t b = order[y];
      const LiveRange &ra = ranges[a], &rb = ranges[b];
      if (ra.end < rb.begin || rb.end < ra.begin)
        continue;
      if (isInPlacePair(ra, rb, offsets[a], offsets[b]) ||
          isInPlacePair(rb, ra, offsets[b], offsets[a]))
        continue;
      return Status::error("memory plan: '%" + ra.value.name() + "' [" +
                           std::to_string(offsets[a]) + ", " +
                           std::to_string(offsets[a] + ra.bytes) + ") and '%" +
                           rb.value.name() + "' [" + std::to_string(offsets[b]) + ", " +
                           std::to_string(offsets[b] + rb.bytes) +
                           ") overlap while both are live (points " +
                           std::to_string(std::max(ra.begin, rb.begin)) + " to " +
                           std::to_string(std::min(ra.end, rb.end)) + ")");
    }
  }
  return Status::ok();
}

std::string formatBytes(int64_t bytes) {
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = double(bytes) / 1024;
  int u = 0;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

} // namespace kiln
