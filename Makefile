# podmortem: the two commands a newcomer needs are `make run` and `make test`.
# Both install what is missing (Debian 12 packages, via scripts/install-deps.sh) first.

BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
CONFIG ?= examples/local.yaml
# ccache hits across clones in other folders (CI builds a fresh clone).
export CCACHE_BASEDIR := $(CURDIR)

FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 0
IMAGE_BUILD_DIR ?= build-image
IMAGE_ROOT ?= build-image/rootfs

.PHONY: all deps build run test test-release test-asan test-image test-fuzz fuzz demo bench-admission bench-audit bench-audit-stream bench-soak format clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

# Release build; leaves the binary at build/podmortem.
build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j$(JOBS)

# Build, then serve on local defaults: self-signed TLS on 127.0.0.1:8443, metrics on
# 127.0.0.1:9090, policies from examples/policies, evidence under .state/.
run: build
	./$(BUILD_DIR)/podmortem serve --config $(CONFIG)

# Every test, twice: the Release build (warnings are errors) and an ASan+UBSan build; then the
# container image's build stage, run as the script the Dockerfile runs; then each fuzz target
# for 20 seconds on its seeds.
test: deps test-release test-asan test-image test-fuzz

# Why skipped tests were skipped (CTest lists them without their reason).
SKIP_REASONS = grep -h '^KUBE-APISERVER TESTS SKIPPED' $(1)/Testing/Temporary/LastTest.log 2>/dev/null | sort -u || true

test-release: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j$(JOBS)
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)
	@$(call SKIP_REASONS,$(BUILD_DIR))

test-asan: deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPODMORTEM_SANITIZE=ON \
	  -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" $(CMAKE_FLAGS)
	cmake --build $(ASAN_DIR) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --test-dir $(ASAN_DIR) --output-on-failure -j$(JOBS)
	@$(call SKIP_REASONS,$(ASAN_DIR))

test-image: deps
	./scripts/image-build.sh $(IMAGE_BUILD_DIR) $(IMAGE_ROOT)
	bash tests/image_test.sh . $(IMAGE_BUILD_DIR)/podmortem

# The fuzz targets (tests/fuzz/) built with clang and libFuzzer into build-fuzz/; with
# FUZZ_SECONDS=N each runs N seconds on its corpus and the table of executions, corpus size and
# crashes is printed (a crash fails the target).
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DPODMORTEM_FUZZ=ON -DPODMORTEM_BUILD_TESTS=OFF -DPODMORTEM_WERROR=OFF $(CMAKE_FLAGS)
	cmake --build $(FUZZ_DIR) -j$(JOBS)
	@if [ "$(FUZZ_SECONDS)" != "0" ]; then ./tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS); fi

test-fuzz:
	$(MAKE) fuzz FUZZ_SECONDS=20

# The one-minute tour, against the server `make run` started (run it in another terminal).
demo:
	./scripts/demo.sh

bench-admission: build
	./bench/admission.sh

bench-audit: build
	./bench/audit.sh

# Two replicas sharing a NATS JetStream stream, on one server (R1) and three (R3).
bench-audit-stream: build
	./bench/audit.sh stream

# 10 minutes of mixed load on one server; CSV and plot in bench/out/soak-<time>/.
bench-soak: build
	./bench/soak.sh

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(IMAGE_BUILD_DIR) $(FUZZ_DIR)
