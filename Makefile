# Thin wrappers over the CMake presets (CMakePresets.json).
WERROR ?= OFF
CMAKE_FLAGS := -DPLINTH_WARNINGS_AS_ERRORS=$(WERROR)
CTEST_ARGS ?=

.PHONY: all release debug test test-debug fuzz demo bench format tidy clean

all: release

release:
	cmake --preset release $(CMAKE_FLAGS) >/dev/null
	cmake --build --preset release

debug:
	cmake --preset debug $(CMAKE_FLAGS) >/dev/null
	cmake --build --preset debug

# The README's test command: build, then run every test.
test: release
	ctest --preset release -j2 $(CTEST_ARGS)

# Unit tests under ASan + UBSan.
test-debug: debug
	ctest --preset debug -j2 -L unit $(CTEST_ARGS)

# The request parsers of plinth serve under libFuzzer (Clang, ASan + UBSan) for
# FUZZ_SECONDS, from the seed corpus in tests/fuzz/corpus; a crash fails.
FUZZ_SECONDS ?= 60
fuzz:
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz
	rm -rf build/fuzz/corpus && mkdir -p build/fuzz/corpus build/fuzz/crashes
	cp tests/fuzz/corpus/protocols/* build/fuzz/corpus/
	build/fuzz/tests/protocols_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build/fuzz/crashes/ \
	  build/fuzz/corpus

demo: release
	bash examples/demo.sh $(CURDIR)/build/release/apps/plinth/plinth

bench: release
	bash bench/run.sh build/release

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')

tidy: release
	clang-tidy -p build/release $$(git ls-files 'src/*.cc' 'apps/*.cc')

clean:
	rm -rf build
