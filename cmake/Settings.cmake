# Project-wide settings as INTERFACE targets (no global flags).
add_library(plinth_settings INTERFACE)
target_compile_features(plinth_settings INTERFACE cxx_std_20)
target_compile_options(plinth_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wno-unused-parameter
  # GCC 12 reports std::string concatenation as overlapping memcpy (GCC bug 105329).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  $<$<BOOL:${PLINTH_WARNINGS_AS_ERRORS}>:-Werror>)
target_include_directories(plinth_settings INTERFACE ${PROJECT_SOURCE_DIR}/src)

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
target_link_libraries(plinth_settings INTERFACE plinth_sanitize)

# plinth_module(NAME SOURCES... DEPS ...) declares one module: a static library in
# namespace plinth::NAME, linked only against what it names.
function(plinth_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(plinth_${name} STATIC ${M_SOURCES})
  target_link_libraries(plinth_${name} PUBLIC plinth_settings ${M_DEPS})
  add_library(plinth::${name} ALIAS plinth_${name})
endfunction()
