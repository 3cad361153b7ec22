# Thin wrappers over the CMake presets (CMakePresets.json).
WERROR ?= OFF
CMAKE_FLAGS := -DPLINTH_WARNINGS_AS_ERRORS=$(WERROR)
CTEST_ARGS ?=

.PHONY: all release debug test test-debug test-tsan fuzz demo bench format format-check tidy \
        tidy-check module-graph clean

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

# The threaded units (the batcher, the HTTP server, the tracking service, the control plane's
# API, serving, the pipeline runner's parallel stages) under ThreadSanitizer, built with Clang, whose thread-safety analysis of the
# PLINTH_GUARDED_BY annotations fails the build on a violation. OpenMP (inside XGBoost) runs on
# the calling thread only: libgomp is not instrumented, so its own workers would be reported.
TSAN_TESTS := core http tracking server serving pipeline
test-tsan:
	cmake --preset tsan $(CMAKE_FLAGS) >/dev/null
	cmake --build --preset tsan
	set -e; for t in $(TSAN_TESTS); do \
	  echo "tsan: $${t}_test"; \
	  OMP_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	    build/tsan/tests/$${t}_test --gtest_brief=1; \
	done

# Every parser a user or client reaches under libFuzzer (Clang, ASan + UBSan),
# each for FUZZ_SECONDS from its seed corpus in tests/fuzz/corpus/NAME (Parquet's: the
# files other writers wrote, ../shared/datasets/parquet); a crash fails. The serving request parsers get the full time, the others a third.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := protocols json csv expr config search bundle mlflow auth otlp parquet features
fuzz:
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz
	rm -rf build/fuzz/corpus && mkdir -p build/fuzz/crashes
	set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t; \
	  if [ -d tests/fuzz/corpus/$$t ]; then cp tests/fuzz/corpus/$$t/* build/fuzz/corpus/$$t/; fi; \
	  if [ $$t = parquet ]; then cp ../shared/datasets/parquet/*.parquet build/fuzz/corpus/$$t/; fi; \
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

# Fails when a file differs from what `make format` would write.
format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.h' '*.cc')

tidy: release
	clang-tidy -p build/release $$(git ls-files 'src/*.cc' 'apps/*.cc')

# The naming rules of .clang-tidy alone, as errors, on every source (two at a time; the
# libtorch plugin's source is left out: Clang 14 cannot parse libtorch's headers). Needs the
# configured build's compile commands, not a build.
tidy-check:
	cmake --preset release $(CMAKE_FLAGS) >/dev/null
	git ls-files 'src/*.cc' 'apps/*.cc' | grep -v torch_model.cc | \
	  xargs -P 2 -n 8 clang-tidy -p build/release --quiet --extra-arg=-Wno-unknown-warning-option \
	  --extra-arg=-Wno-everything --checks='-*,readability-identifier-naming' \
	  --warnings-as-errors='readability-identifier-naming'

# Includes and links follow the module graph of docs/ARCHITECTURE.md.
module-graph:
	/usr/bin/python3 scripts/check_module_graph.py

clean:
	rm -rf build
