#!/usr/bin/env bash
# `make sanitize`: the whole test suite under ASan+UBSan (build-asan/), then the concurrency tests
# under TSan (build-tsan/). Usage: scripts/sanitize.sh [asan|tsan|all] (default all). JOBS sets -j.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mode=${1:-all}
jobs=${JOBS:-$(nproc)}

# LLVM is built without RTTI, so UBSan's vptr check cannot read the dynamic type of LLVM objects
# that Kiln's codegen calls into; LLVM's own LLVM_USE_SANITIZER=Undefined turns it off for the
# same reason. Every other UBSan check stays on and aborts the test (-fno-sanitize-recover).
asan_flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize=vptr"
asan_flags+=" -fno-sanitize-recover=undefined"
tsan_flags="-O1 -g -fno-omit-frame-pointer -fsanitize=thread"

configure() { # dir flags
  local dir=$1 flags=$2
  [ -f "$dir/CMakeCache.txt" ] && return 0
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags -DNDEBUG" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags -DNDEBUG" \
    -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags"
}

run_asan() {
  configure build-asan "$asan_flags"
  cmake --build build-asan -j "$jobs"
  # LeakSanitizer stays on: a leak in Kiln fails the test. halt_on_error makes every report a
  # failure; print_stacktrace names the line for UBSan reports.
  export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1"
  export ASAN_OPTIONS+=":detect_stack_use_after_return=1:check_initialization_order=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export LSAN_OPTIONS="suppressions=$root/scripts/sanitize/lsan.supp:print_suppressions=0"
  (cd build-asan && ctest --output-on-failure -j "$jobs" --timeout 1800)
}

run_tsan() {
  configure build-tsan "$tsan_flags"
  # libgomp is not built with TSan, so its barriers are invisible to TSan and every OpenMP region
  # would be reported as a race. OMP_THREAD_LIMIT=1 (standard OpenMP) caps every team at one
  # thread even where Kiln asks for more (Executable::run sets its own thread count), so each
  # OpenMP region runs on the thread that entered it and TSan sees only the threads the tests
  # start, which is what the threading contract (docs/reliability.md) is about.
  export OMP_NUM_THREADS=1 OMP_THREAD_LIMIT=1
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
  export TSAN_OPTIONS+=":suppressions=$root/scripts/sanitize/tsan.supp"
  # The binaries that hold *Concurrency* tests, found by name in the test sources.
  local bins=()
  for f in $(grep -rl 'TEST(.*Concurrency' tests --include='*.cpp' || true); do
    bins+=("kiln_$(basename "$(dirname "$f")")_tests")
  done
  if [ ${#bins[@]} -eq 0 ]; then
    echo "sanitize: no *Concurrency* tests found under tests/" >&2
    return 1
  fi
  mapfile -t bins < <(printf '%s\n' "${bins[@]}" | sort -u)
  cmake --build build-tsan -j "$jobs" --target "${bins[@]}"
  for b in "${bins[@]}"; do
    # Test binaries run from the repository root (samples and test data are found from there).
    "build-tsan/tests/$b" --gtest_filter='*Concurrency*'
  done
}

case "$mode" in
  asan) run_asan ;;
  tsan) run_tsan ;;
  all) run_asan; run_tsan ;;
  *) echo "usage: $0 [asan|tsan|all]" >&2; exit 2 ;;
esac
