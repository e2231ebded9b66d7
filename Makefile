# Kiln top-level entry points. `make test` and `make demo` work on a fresh Debian 12 machine.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all bootstrap build test demo bench fuzz-graphs clean

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

clean:
	rm -rf $(BUILD)
