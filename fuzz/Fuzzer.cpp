// The libFuzzer entry point of one fuzz target; CMake builds it once per target with
// KILN_FUZZ_CHECK naming the check in FuzzTargets.h (json_fuzzer, safetensors_fuzzer,
// ir_parser_fuzzer).
#include "fuzz/FuzzTargets.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#ifndef KILN_FUZZ_CHECK
#error "KILN_FUZZ_CHECK must name a check from fuzz/FuzzTargets.h"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  std::string broken = kiln::fuzz::KILN_FUZZ_CHECK(bytes);
  if (!broken.empty()) {
    // A broken invariant is a bug like a crash: abort so libFuzzer saves the input.
    std::fprintf(stderr, "kiln fuzz: invariant broken: %s\n", broken.c_str());
    std::abort();
  }
  return 0;
}
