# Sluice: a thin wrapper over CMake/Ninja. Every target installs what is missing first
# (scripts/setup.sh: Debian packages, the .venv with pinned Python packages).
.PHONY: all release debug asan setup test test-unit test-py test-asan test-long demo bench format clean

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

release: setup
	$(call cmake_build,release,Release,)

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

demo: release
	@bash scripts/demo.sh

bench: release
	@bash bench/run.sh

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf build
