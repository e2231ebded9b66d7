// Philox4x32-10 and the uniform / normal transforms built on it (see Random.h for the layout).
#include "kiln/runtime/Random.h"

#include <cmath>
#include <numbers>

namespace kiln {

namespace {
constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u; // golden ratio
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u; // sqrt(3) - 1

inline void mulhilo(uint32_t a, uint32_t b, uint32_t &hi, uint32_t &lo) {
  uint64_t p = uint64_t(a) * uint64_t(b);
  hi = uint32_t(p >> 32);
  lo = uint32_t(p);
}

inline double wordsToUnit(uint32_t hi, uint32_t lo) {
  uint64_t bits = ((uint64_t(hi) << 32) | lo) >> 11;
  return double(bits) * 0x1.0p-53;
}
} // namespace

std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kPhiloxW0;
      key[1] += kPhiloxW1;
    }
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kPhiloxM0, ctr[0], hi0, lo0);
    mulhilo(kPhiloxM1, ctr[2], hi1, lo1);
    ctr = {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
  }
  return ctr;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (char c : s) {
    h ^= uint8_t(c);
    h *= 0x100000001B3ull;
  }
  return h;
}

uint64_t hashSeed(uint64_t a, std::string_view name) {
  return splitmix64(splitmix64(a) ^ fnv1a64(name));
}

std::array<uint32_t, 4> randomWords(uint64_t seed, uint64_t counter, uint64_t index) {
  return philox4x32(
      {uint32_t(index), uint32_t(index >> 32), uint32_t(counter), uint32_t(counter >> 32)},
      {uint32_t(seed), uint32_t(seed >> 32)});
}

float uniform01f(uint64_t seed, uint64_t counter, uint64_t index) {
  return float(randomWords(seed, counter, index)[0] >> 8) * 0x1.0p-24f;
}

double uniform01(uint64_t seed, uint64_t counter, uint64_t index) {
  auto w = randomWords(seed, counter, index);
  return wordsToUnit(w[0], w[1]);
}

double normal01(uint64_t seed, uint64_t counter, uint64_t index) {
  auto w = randomWords(seed, counter, index);
  // 1 - u1 lies in (0, 1], so the logarithm is finite.
  double u1 = 1.0 - wordsToUnit(w[0], w[1]);
  double u2 = wordsToUnit(w[2], w[3]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

} // namespace kiln
