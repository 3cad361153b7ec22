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

# Every parser a user or client reaches under libFuzzer (Clang, ASan + UBSan),
# each for FUZZ_SECONDS from its seed corpus in tests/fuzz/corpus/NAME; a crash
# fails. The serving request parsers get the full time, the others a third.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := protocols json csv expr config search bundle mlflow
fuzz:
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz
	rm -rf build/fuzz/corpus && mkdir -p build/fuzz/crashes
	set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t; \
	  if [ -d tests/fuzz/corpus/$$t ]; then cp tests/fuzz/corpus/$$t/* build/fuzz/corpus/$$t/; fi; \
	  if [ $$t = protocols ]; then secs=$(FUZZ_SECONDS); else secs=$$(( ($(FUZZ_SECONDS) + 2) / 3 )); fi; \
	  echo "fuzz: $$t for $$secs s"; \
	  build/fuzz/tests/$${t}_fuzz -max_total_time=$$secs -max_len=4096 -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build/fuzz/crashes/$$t- \
	    build/fuzz/corpus/$$t; \
	done

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
