// GemmPlan: chooses the register tile, cache blocks, packing and thread split of a generated GEMM.
#include "compiler/codegen/GemmGen.h"

#include <unistd.h>

#include <algorithm>
#include <sstream>

namespace kiln::codegen {

namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

/// Per-core data cache sizes from the C library, with typical x86 fallbacks. The L2 figure
/// sysconf reports may be the whole package's on some systems, so it is capped at 2 MiB.
int64_t cacheBytes(int name, int64_t fallback, int64_t cap) {
  long v = sysconf(name);
  if (v <= 0)
    return fallback;
  return std::min<int64_t>(v, cap);
}

/// Splits `total` into equal blocks of at most `maxBlock`, each a multiple of `quantum`, so that
/// no block is a small leftover.
int64_t balancedBlock(int64_t total, int64_t maxBlock, int64_t quantum) {
  int64_t blocks = ceilDiv(total, maxBlock);
  return roundUp(ceilDiv(total, blocks), quantum);
}

} // namespace

std::string GemmPlan::str() const {
  std::ostringstream os;
  os << "mr=" << mr << " nr=" << nr() << " kc=" << kc << " mc=" << mc << " nc=" << nc
     << (packA ? " packA" : "") << (packB ? " packB" : "") << (splitN ? " splitN" : " splitM")
     << " units=" << units << " grain=" << grain;
  return os.str();
}

GemmPlan planGemm(const GemmSpec &spec, const HostTarget &target) {
  GemmPlan p;
  p.lanes = spec.floatLanes > 0 ? spec.floatLanes : target.floatLanes();
  // 32 zmm registers with AVX-512; 16 otherwise. Keep a quarter for B vectors and broadcasts.
  int regs = (p.lanes == 16 && target.avx512) ? 32 : 16;
  int accBudget = regs * 3 / 4;
  p.nv = static_cast<int>(std::min<int64_t>(2, ceilDiv(spec.n, p.lanes)));
  int maxMr = accBudget / p.nv;
  p.mr = maxMr;
  // A row count that divides M avoids a thin tail tile; accept slightly more registers for it.
  for (int mr = std::min(maxMr + 2, (regs - p.nv - 2) / p.nv); mr >= maxMr - 2; --mr) {
    if (spec.m % mr == 0) {
      p.mr = mr;
      break;
    }
  }
  if (spec.m < p.mr)
    p.mr = static_cast<int>(spec.m);
  const int64_t nr = p.nr();

  // kc: the A micro-panel (mr x kc) takes about half of L1, the rest is for streaming B and C.
  int64_t l1 = cacheBytes(_SC_LEVEL1_DCACHE_SIZE, 32 << 10, 64 << 10);
  int64_t l2 = cacheBytes(_SC_LEVEL2_CACHE_SIZE, 1 << 20, 2 << 20);
  int64_t kcMax = std::clamp<int64_t>(l1 / 2 / (4 * p.mr) / 16 * 16, 64, 512);
  p.kc = std::min(spec.k, balancedBlock(spec.k, kcMax, 8));
  // nc: the packed B block (kc x nc) takes about half of L2.
  int64_t ncMax = std::max<int64_t>(nr, l2 / 2 / (4 * p.kc) / nr * nr);
  p.nc = std::min(roundUp(spec.n, nr), balancedBlock(spec.n, ncMax, nr));
  // mc: the packed A block (mc x kc) may exceed L2 (only its micro-panels must fit in L1), so
  // B is packed once per M block; cap it at 4 MiB.
  int64_t mcMax = std::max<int64_t>(p.mr, (4 << 20) / (4 * p.kc) / p.mr * p.mr);
  p.mc = std::min(roundUp(spec.m, p.mr), balancedBlock(spec.m, mcMax, p.mr));

  // Packing: B must be packed when transposed (its rows are not contiguous in N); otherwise
  // when it is large enough that its rows stride across many pages. A is packed when its block
  // exceeds L2: unpacked rows a power-of-two apart alias in L1 and thrash it.
  auto decide = [](PackMode mode, bool automatic) {
    return mode == PackMode::Always || (mode == PackMode::Auto && automatic);
  };
  p.packB = spec.transposeB || decide(spec.packB, spec.k * spec.n * 4 > l2 / 2);
  p.packA = decide(spec.packA, spec.m * spec.k * 4 > l2 / 2);

  // Threads split C's columns (each packs its own B panels, all share nothing) unless M is the
  // larger dimension; splitting the smaller operand's dimension duplicates the smaller packing.
  int64_t panelsN = ceilDiv(spec.n, nr), panelsM = ceilDiv(spec.m, p.mr);
  p.splitN = spec.n >= spec.m ? panelsN >= 2 || panelsM < 2 : !(panelsM >= 2 || panelsN < 2);
  p.units = p.splitN ? panelsN : panelsM;
  int64_t fmasPerUnit = (p.splitN ? nr * spec.m : p.mr * spec.n) * spec.k;
  p.grain = std::max<int64_t>(1, ceilDiv(spec.minFmasPerThread, fmasPerUnit));
  return p;
}

} // namespace kiln::codegen
