# Kiln top-level entry points. `make test` and `make demo` work on a fresh Debian 12 machine.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all bootstrap build test demo bench fuzz-graphs fuzz sanitize clean

all: build

bootstrap:
	@scripts/bootstrap.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: bootstrap $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

# Speed is measured here, never asserted in tests: the generated GEMM against oneDNN's sgemm,
# then every sample's compile time, step time, GFLOP/s against the measured FMA peak, memory
# plan and its own GEMM shapes against oneDNN (docs/bench.md).
bench: build
	$(BUILD)/bench/gemm_bench
	$(BUILD)/bench/sample_bench

# The random-graph differential fuzzer's long mode (make test runs 500 graphs): LLVM backend
# against the interpreter. FUZZ_GRAPHS and FUZZ_SEED pick how many graphs and where to start.
FUZZ_GRAPHS ?= 5000
FUZZ_SEED ?= 0
fuzz-graphs: build
	KILN_FUZZ_GRAPHS=$(FUZZ_GRAPHS) KILN_FUZZ_SEED=$(FUZZ_SEED) $(BUILD)/tests/kiln_codegen_tests --gtest_filter='*GraphFuzz*'

# Reliability (docs/reliability.md). `fuzz`: the libFuzzer targets (JSON importer, safetensors
# reader, IR parser), built with clang into build-fuzz/, each run for FUZZ_SECONDS. `sanitize`:
# the whole test suite under ASan+UBSan in build-asan/, then the *Concurrency* tests under TSan
# in build-tsan/.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) scripts/fuzz.sh

sanitize: bootstrap
	JOBS=$(JOBS) scripts/sanitize.sh

clean:
	rm -rf $(BUILD)
