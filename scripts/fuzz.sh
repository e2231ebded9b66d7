#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets with clang into build-fuzz/ and runs each for
# FUZZ_SECONDS (default 60). New corpus entries go to build-fuzz/corpus/<target>/, crash inputs to
# build-fuzz/crashes/<target>/; a crash fails the run (add the input to tests/fuzz/regressions/).
# Usage: scripts/fuzz.sh [target...]  (json_fuzzer safetensors_fuzzer ir_parser_fuzzer)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
jobs=${JOBS:-$(nproc)}
cxx=${FUZZ_CXX:-clang++-14}
cc=${FUZZ_CC:-clang-14}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(json_fuzzer safetensors_fuzzer ir_parser_fuzzer)

# The default compiler and libFuzzer's runtime come from Debian; another FUZZ_CXX is the caller's.
if [ -z "${FUZZ_CXX:-}" ]; then
  scripts/bootstrap.sh clang-14 libclang-rt-14-dev
fi
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz: $cxx not found" >&2
  exit 1
fi
if [ ! -f build-fuzz/CMakeCache.txt ]; then
  CC=$cc CXX=$cxx cmake -S . -B build-fuzz -DKILN_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build build-fuzz -j "$jobs" --target "${targets[@]}"

# Seeds: the samples and the bad-input catalogue, the pass tests' IR, generated safetensors files
# (fuzz/make-safetensors-seeds.py), and every input that once broke a target.
seeds() {
  case $1 in
    json_fuzzer) echo samples tests/json/good tests/json/bad ;;
    safetensors_fuzzer) echo fuzz/corpus/safetensors tests/json/good ;;
    ir_parser_fuzzer) echo tests/passes ;;
  esac
  echo "tests/fuzz/regressions/$1"
}

# Kiln must refuse absurd sizes before allocating: an allocation past -rss_limit_mb or
# -malloc_limit_mb (default: the same) is reported as a failure, and so is a leak.
export ASAN_OPTIONS="detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/crashes/$t"
  echo "== $t: ${seconds}s"
  if ! build-fuzz/fuzz/"$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="build-fuzz/crashes/$t/" \
      -dict=fuzz/dict/"${t%_fuzzer}".dict "build-fuzz/corpus/$t" $(seeds "$t") \
      2> "build-fuzz/$t.log"; then
    echo "$t: FAILED, see build-fuzz/$t.log and build-fuzz/crashes/$t/" >&2
    tail -40 "build-fuzz/$t.log" >&2
    status=1
  else
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' \
      "build-fuzz/$t.log" || true
  fi
done
exit $status
