# Project-wide settings as INTERFACE targets (no global flags).
add_library(plinth_settings INTERFACE)
target_compile_features(plinth_settings INTERFACE cxx_std_20)
target_compile_options(plinth_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wno-unused-parameter
  # GCC 12 reports std::string concatenation as overlapping memcpy (GCC bug 105329).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  # Clang checks the PLINTH_GUARDED_BY / PLINTH_REQUIRES annotations (core/mutex.h); a
  # violation is always an error.
  $<$<CXX_COMPILER_ID:Clang>:-Wthread-safety -Werror=thread-safety>
  $<$<BOOL:${PLINTH_WARNINGS_AS_ERRORS}>:-Werror>)

add_library(plinth_sanitize INTERFACE)
if(PLINTH_SANITIZE)
  target_compile_options(plinth_sanitize INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(plinth_sanitize INTERFACE -fsanitize=address,undefined)
endif()
if(PLINTH_FUZZ)
  # Coverage for libFuzzer in every module; the targets link -fsanitize=fuzzer.
  target_compile_options(plinth_sanitize INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  target_link_options(plinth_sanitize INTERFACE -fsanitize=address,undefined)
endif()
if(PLINTH_TSAN)
  target_compile_options(plinth_sanitize INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(plinth_sanitize INTERFACE -fsanitize=thread)
endif()
target_link_libraries(plinth_settings INTERFACE plinth_sanitize)

# plinth_module(NAME SOURCES... [PUBLIC deps...] [PRIVATE deps...]) declares one module: a
# static library in namespace plinth::NAME. PUBLIC: what its headers include (its users get
# it too); PRIVATE: what only its sources use. Its headers are reachable as "NAME/file.h"
# through an include root of its own (a link to src/NAME), given to the module and to what
# links it, so including a module one does not link fails to compile. The graph is checked
# against docs/ARCHITECTURE.md by scripts/check_module_graph.py.
function(plinth_module name)
  cmake_parse_arguments(M "" "" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  add_library(plinth_${name} STATIC ${M_SOURCES})
  set(root ${PROJECT_BINARY_DIR}/include-roots/${name})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${name} ${root}/${name} SYMBOLIC)
  target_include_directories(plinth_${name} PUBLIC ${root})
  target_link_libraries(plinth_${name} PUBLIC plinth_settings ${M_PUBLIC} PRIVATE ${M_PRIVATE})
  add_library(plinth::${name} ALIAS plinth_${name})
endfunction()
