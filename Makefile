# Sluice: a thin wrapper over CMake/Ninja. Every target installs what is missing first
# (scripts/setup.sh: Debian packages, the .venv with pinned Python packages).
.PHONY: all release debug asan setup test test-unit test-py test-asan test-long demo bench bench-stream format clean fuzz-sql \
        fuzz fuzz-build fuzz-regress

JOBS ?= $(shell nproc)
# ccache hits across clones in different directories (CI builds a fresh clone).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
CMAKE_FLAGS ?=

all: release

setup:
	@bash scripts/setup.sh

define cmake_build
	@cmake -S . -B build/$(1) -G Ninja -DCMAKE_BUILD_TYPE=$(2) $(3) $(CMAKE_FLAGS) > build-$(1).log 2>&1 || (cat build-$(1).log; exit 1)
	@rm -f build-$(1).log
	@ninja -C build/$(1) -j $(JOBS)
endef

# The release build includes the Python extension, installed into .venv for development.
release: setup
	$(call cmake_build,release,Release,-DSLUICE_PYTHON_MODULE=ON)
	@bash scripts/python_dev.sh build/release

debug: setup
	$(call cmake_build,debug,Debug,)

asan: setup
	$(call cmake_build,asan,Debug,-DSLUICE_SANITIZE=ON)

test-unit: release
	ctest --test-dir build/release --output-on-failure -j 2

test-py: release
	SLUICE_BIN=$(CURDIR)/build/release/tools/sluice/sluice .venv/bin/python -m pytest -q tests

test: test-unit test-py

# Unit tests and the SQL logic tests under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: asan
	ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build/asan --output-on-failure -j 2
	ASAN_OPTIONS=detect_leaks=0 SLUICE_BIN=$(CURDIR)/build/asan/tools/sluice/sluice .venv/bin/python -m pytest -q tests/test_sqllogic.py

test-long: test
	SLUICE_LONG=1 SLUICE_BIN=$(CURDIR)/build/release/tools/sluice/sluice .venv/bin/python -m pytest -q tests

# Differential SQL fuzzer, Sluice vs DuckDB (docs/design/fuzz_sql.md): FUZZ_SQL_MINUTES=30,
# or FUZZ_SQL_QUERIES=N; FUZZ_SQL_SEED=S to repeat a run; FUZZ_SQL_ARGS for other options
# (--nan, --windows on|off, --shrink-seconds N). Tests $(SLUICE_BIN) if set (no build then),
# else build/release. Minimized mismatches go to build/fuzz-sql/mismatches/NNN.test.
FUZZ_SQL_MINUTES ?= 5
FUZZ_SQL_QUERIES ?=
FUZZ_SQL_SEED ?=
FUZZ_SQL_ARGS ?=
fuzz-sql: $(if $(SLUICE_BIN),setup,release)
	nice .venv/bin/python tests/differential/fuzz_sql.py \
		--sluice $(or $(SLUICE_BIN),$(CURDIR)/build/release/tools/sluice/sluice) \
		$(if $(FUZZ_SQL_QUERIES),--queries $(FUZZ_SQL_QUERIES),--minutes $(FUZZ_SQL_MINUTES)) \
		$(if $(FUZZ_SQL_SEED),--seed $(FUZZ_SQL_SEED)) --out $(CURDIR)/build/fuzz-sql $(FUZZ_SQL_ARGS)

demo: release
	@bash scripts/demo.sh

bench: release
	@bash bench/run.sh

# Nexmark q0-q8 over the built-in generator: events/s per core (bench/nexmark.py).
NEXMARK_EVENTS ?= 10000000
bench-stream: release
	@.venv/bin/python bench/nexmark.py --events $(NEXMARK_EVENTS)

# libFuzzer targets (fuzz/, docs/design/fuzzing.md), built with clang + ASan + UBSan in
# build/fuzz; scripts/setup_fuzz.sh installs clang and libFuzzer first. `make fuzz` runs
# each target for FUZZ_SECONDS seconds; `make fuzz-regress` replays the kept failing
# inputs (fuzz/*/regressions/, also replayed by `make test` through the release build).
FUZZ_SECONDS ?= 60
fuzz-build: setup
	@bash scripts/setup_fuzz.sh
	@CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSLUICE_FUZZ=ON \
	  -DSLUICE_WERROR=OFF -DSLUICE_BUILD_TESTS=OFF $(CMAKE_FLAGS) > build-fuzz.log 2>&1 || (cat build-fuzz.log; exit 1)
	@rm -f build-fuzz.log
	@ninja -C build/fuzz -j $(JOBS) fuzz_sql fuzz_csv fuzz_json

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh run

fuzz-regress: fuzz-build
	bash scripts/fuzz.sh regress

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf build
