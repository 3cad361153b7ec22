# Third-party libraries, all from Debian packages (scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(simdjson REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
# OTLP span ingestion (/v1/traces): libprotobuf and protoc.
find_package(Protobuf REQUIRED)

# fast_float is header-only without a CMake package on Debian.
find_path(FAST_FLOAT_INCLUDE_DIR fast_float/fast_float.h REQUIRED)
add_library(plinth_fast_float INTERFACE)
target_include_directories(plinth_fast_float SYSTEM INTERFACE ${FAST_FLOAT_INCLUDE_DIR})

# DuckDB (Parquet, out-of-core joins): not in Debian; scripts/install-deps.sh unpacks the npm
# registry's build of 1.4.4 (the C API's header and libduckdb.so) into PLINTH_VENDOR_DIR.
set(PLINTH_VENDOR_DIR "/opt/plinth/vendor" CACHE PATH
    "where scripts/install-deps.sh unpacks what comes from npm (PLINTH_VENDOR)")
find_path(DUCKDB_INCLUDE_DIR duckdb.h PATHS "${PLINTH_VENDOR_DIR}/duckdb-1.4.4/include"
          NO_DEFAULT_PATH REQUIRED)
find_library(DUCKDB_LIBRARY duckdb PATHS "${PLINTH_VENDOR_DIR}/duckdb-1.4.4/lib"
             NO_DEFAULT_PATH REQUIRED)
add_library(plinth_duckdb INTERFACE)
target_include_directories(plinth_duckdb SYSTEM INTERFACE ${DUCKDB_INCLUDE_DIR})
target_link_libraries(plinth_duckdb INTERFACE ${DUCKDB_LIBRARY})

if(TARGET yaml-cpp AND NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp ALIAS yaml-cpp)
endif()

if(PLINTH_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(PLINTH_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# Model libraries: XGBoost always; libtorch (the mlp kind) unless PLINTH_WITH_TORCH is OFF.
# Debian's XGBoost CMake package also names the xgboost command-line program,
# which libxgboost-dev does not install; so the library is found directly.
find_path(XGBOOST_INCLUDE_DIR xgboost/c_api.h REQUIRED)
find_library(XGBOOST_LIBRARY xgboost REQUIRED)
add_library(plinth_xgboost INTERFACE)
target_include_directories(plinth_xgboost SYSTEM INTERFACE ${XGBOOST_INCLUDE_DIR})
target_link_libraries(plinth_xgboost INTERFACE ${XGBOOST_LIBRARY})
add_library(xgboost::xgboost ALIAS plinth_xgboost)
if(PLINTH_WITH_TORCH)
  find_package(Torch REQUIRED)
endif()
