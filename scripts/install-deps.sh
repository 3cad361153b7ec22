#!/usr/bin/env bash
# Installs every Debian package that Plinth's build, tests and benchmarks use.
# Idempotent: packages already installed are skipped, so a second run takes seconds.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang-format clang-tidy time ccache
  # make fuzz: Clang with libFuzzer
  clang libclang-rt-14-dev
  # command-line tools the tests and benchmarks call (node: an independent Parquet reader)
  openssl bc mount util-linux e2fsprogs curl nodejs
  # libraries (see docs/ARCHITECTURE.md, "Dependencies")
  libssl-dev zlib1g-dev libre2-dev libboost-dev libxxhash-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev
  libsodium-dev libprotobuf-dev protobuf-compiler
  nlohmann-json3-dev libsimdjson-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libfast-float-dev
  # model libraries: XGBoost (gbdt, random_forest, linear) and libtorch (mlp)
  libxgboost-dev libtorch-dev libeigen3-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev wrk nginx
  # the scale-path metadata store, started by tests/scripts/with_postgres.sh
  postgresql
  # the scale-path online feature store (hiredis; a server started by tests/scripts/with_redis.sh)
  libhiredis-dev redis-server python3-redis
  # Python reference implementations for correctness tests and side-by-side benchmarks
  python3 python3-pandas python3-numpy python3-scipy python3-sklearn python3-xgboost python3-torch
  python3-fastapi python3-uvicorn python3-prometheus-client
  # the real MLflow 2.17.2 client and its own test suite (../shared/mlflow/README.md)
  python3-flask python3-sqlalchemy python3-alembic python3-requests python3-yaml python3-protobuf
  python3-click python3-cloudpickle python3-packaging python3-gunicorn python3-waitress
  python3-pytest python3-sqlparse python3-git python3-docker python3-markdown python3-jinja2
  python3-cachetools python3-importlib-metadata python3-matplotlib python3-aniso8601
  python3-pytest-timeout python3-flask-cors python3-werkzeug python3-psutil
  python3-typing-extensions python3-deprecated
  # the real MLflow 3.10.1 client (../shared/mlflow3/README.md)
  python3-dotenv
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# What Debian does not have, from the npm registry (docs/ARCHITECTURE.md, "Dependencies"): each
# package pinned to one version, its tarball checked against the registry's sha512 integrity
# before anything is unpacked, and unpacked outside the repository, in $PLINTH_VENDOR
# (CMake's PLINTH_VENDOR_DIR), where every clone finds it. A folder is complete only once its
# .complete marker exists, so an interrupted run starts that package again.
VENDOR="${PLINTH_VENDOR:-/opt/plinth/vendor}"
REGISTRY="https://registry.npmjs.org"

# vendor DEST URL INTEGRITY MEMBER:TARGET...: unpacks each MEMBER of the tarball at URL into
# DEST/TARGET (TARGET "." : the member's contents into DEST).
vendor() {
  local dest="$VENDOR/$1" url="$2" integrity="$3"
  shift 3
  if [ -f "$dest/.complete" ]; then
    return
  fi
  echo "install-deps: fetching $url"
  local tmp
  tmp="$(mktemp -d)"
  curl -sSfL --retry 3 -o "$tmp/package.tgz" "$url"
  local got
  got="sha512-$(openssl dgst -sha512 -binary "$tmp/package.tgz" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "install-deps: $url: checksum $got, expected $integrity" >&2
    rm -rf "$tmp"
    exit 1
  fi
  mkdir -p "$tmp/out"
  local pair member target
  for pair in "$@"; do
    member="${pair%%:*}"
    target="${pair#*:}"
    mkdir -p "$tmp/unpacked" "$(dirname "$tmp/out/$target")"
    tar xzf "$tmp/package.tgz" -C "$tmp/unpacked" "$member"
    if [ "$target" = "." ]; then
      cp -r "$tmp/unpacked/$member/." "$tmp/out/"
    else
      mv "$tmp/unpacked/$member" "$tmp/out/$target"
    fi
  done
  $SUDO mkdir -p "$dest"
  $SUDO cp -r "$tmp/out/." "$dest/"
  $SUDO touch "$dest/.complete"
  rm -rf "$tmp"
}

# DuckDB 1.4.4 (Parquet, point-in-time joins): the C API's header from the duckdb package's
# source tree, the prebuilt library from its Linux x64 bindings (libc and libstdc++ only).
vendor duckdb-1.4.4/include "$REGISTRY/duckdb/-/duckdb-1.4.4.tgz" \
  "sha512-hEJJ5hyVF0VLj3dmOLpsWrQR0b3d4Ykqtygm6iUXjHJDDnSqg/USKxcb5qvNrOhFYPgktayU6dXCtgPqcmmpog==" \
  package/src/duckdb/src/include/duckdb.h:duckdb.h package/LICENSE:LICENSE
vendor duckdb-1.4.4/lib "$REGISTRY/@duckdb/node-bindings-linux-x64/-/node-bindings-linux-x64-1.4.4-r.4.tgz" \
  "sha512-jBTL/WvfwxLToFa/pVHfT6elMtltJGnc3wSuxZD9OfMltit9YUdVFS37vBFQzXMT1Z8OWjtSjMh+zPKxOwHLHA==" \
  package/libduckdb.so:libduckdb.so package/LICENSE:LICENSE
# hyparquet 1.33.0: an independent Parquet reader (JavaScript) that the tests read Plinth's
# Parquet back with, under node; hyparquet-compressors 1.1.2 and its two dependencies for the
# codecs hyparquet leaves out (zstd, lz4, brotli). Laid out as node_modules, so node resolves
# one from another.
NODE_MODULES=hyparquet-1.33.0/node_modules
vendor $NODE_MODULES/hyparquet "$REGISTRY/hyparquet/-/hyparquet-1.33.0.tgz" \
  "sha512-8EKLe73vRIMEKVEOe5y+kIzFxo6AvbLvd5ukd7P+yv3RvG0+TZM4qO8imbqxU6zds5pV+OeWRTMwy95mhHUheg==" \
  package/package.json:package.json package/src:src package/LICENSE:LICENSE
vendor $NODE_MODULES/hyparquet-compressors \
  "$REGISTRY/hyparquet-compressors/-/hyparquet-compressors-1.1.2.tgz" \
  "sha512-0Hx6w0ZpVpNCefKy5xBYLTp6rKeZn/tsUzuliNzfKqSCdLcTQSfwATEoeedS703Y17k1qNS61HwRME5aOeNkPg==" \
  package:.
vendor $NODE_MODULES/fzstd "$REGISTRY/fzstd/-/fzstd-0.1.1.tgz" \
  "sha512-dkuVSOKKwh3eas5VkJy1AW1vFpet8TA/fGmVA5krThl8YcOVE/8ZIoEA1+U1vEn5ckxxhLirSdY837azmbaNHA==" \
  package:.
vendor $NODE_MODULES/hysnappy "$REGISTRY/hysnappy/-/hysnappy-1.1.1.tgz" \
  "sha512-/V9XcN2NtRyWjR4LYMfvnvasVVF8jbT/ej0eofBQjZel91E3D813FQ3mQC6gDSMMTCq/FJh28XHeyqr3I/oBRw==" \
  package:.
echo "install-deps: done"
