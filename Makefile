# Thin wrappers over the CMake presets (CMakePresets.json).
WERROR ?= OFF
CMAKE_FLAGS := -DPLINTH_WARNINGS_AS_ERRORS=$(WERROR)
CTEST_ARGS ?=

.PHONY: all release debug test test-debug demo bench format tidy clean

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
