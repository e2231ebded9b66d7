// The machine's f32 peak for benchmark reports: a measured FMA-throughput loop and the nominal
// figure from the detected vector ISA and /proc/cpuinfo's clock.
#pragma once

#include <string>

namespace kiln::bench {

/// What the host can do in f32, measured and nominal.
struct PeakFlops {
  /// The widest FMA instruction set the loop used: "avx512f", "avx2+fma" or "scalar".
  std::string isa;
  int lanes = 1;             ///< f32 lanes per FMA instruction
  int fmaPipes = 2;          ///< assumed FMA issue per cycle (2 on Zen 5 and Intel server cores)
  double cpuinfoGhz = 0;     ///< first "cpu MHz" of /proc/cpuinfo / 1000 (0 if unreadable)
  int threads = 1;           ///< threads the measurement ran on (one loop per thread)
  double measuredGflops = 0; ///< FMA loop throughput over all threads (2 FLOPs per lane per FMA)

  /// threads x GHz x lanes x 2 x fmaPipes: the datasheet-style peak under the stated assumption.
  double nominalGflops() const { return threads * cpuinfoGhz * lanes * 2.0 * fmaPipes; }
  /// The clock the measured throughput implies if the fmaPipes assumption holds.
  double impliedGhz() const {
    return measuredGflops / (threads * lanes * 2.0 * fmaPipes);
  }
  /// "avx512f, 16 lanes x 2 FMA pipes, cpuinfo 2.60 GHz: nominal 166 GFLOP/s, measured 150".
  std::string str() const;
};

/// Runs the FMA loop on `threads` threads in repetitions of about 5 ms for about `seconds` in
/// all and keeps the best (so time taken by other processes does not lower the peak), and
/// fills in the ISA and clock.
PeakFlops measurePeakFlops(int threads, double seconds);

} // namespace kiln::bench
