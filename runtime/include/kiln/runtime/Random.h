// Counter-based random streams (Philox4x32-10): any element of any stream is a pure function of
// (seed, stream counter, element index), so the interpreter, JIT and AOT code draw the same
// numbers.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace kiln {

/// One Philox4x32-10 block (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11).
std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

/// The splitmix64 finaliser: a bijective 64-bit mix.
uint64_t splitmix64(uint64_t x);
/// FNV-1a 64 of `s`.
uint64_t fnv1a64(std::string_view s);
/// A seed derived from a parent seed and a name (graph seed + node or param name):
/// splitmix64(splitmix64(a) ^ fnv1a64(name)).
uint64_t hashSeed(uint64_t a, std::string_view name);

/// The four 32-bit words of element `index` of stream (seed, counter): Philox with
/// counter words {index lo, index hi, counter lo, counter hi} and key {seed lo, seed hi}.
/// Every element owns a whole block, so elements are independent of the tensor's size.
std::array<uint32_t, 4> randomWords(uint64_t seed, uint64_t counter, uint64_t index);

/// Uniform in [0, 1) with 24 random bits (word 0 >> 8) * 2^-24: exact in f32.
float uniform01f(uint64_t seed, uint64_t counter, uint64_t index);
/// Uniform in [0, 1) with 53 random bits ((word0 << 32 | word1) >> 11) * 2^-53.
double uniform01(uint64_t seed, uint64_t counter, uint64_t index);
/// Standard normal by Box-Muller: u1 from words 0-1, u2 from words 2-3 (53 bits each),
/// sqrt(-2 ln(1 - u1)) * cos(2 pi u2), computed in double (f32 users round the result).
double normal01(uint64_t seed, uint64_t counter, uint64_t index);

} // namespace kiln
