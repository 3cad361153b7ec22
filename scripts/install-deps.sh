#!/usr/bin/env bash
# Installs every Debian package that Plinth's build, tests and benchmarks use.
# Idempotent: packages already installed are skipped, so a second run takes seconds.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang-format clang-tidy time ccache
  # make fuzz: Clang with libFuzzer
  clang libclang-rt-14-dev
  # command-line tools the tests and benchmarks call
  openssl bc mount util-linux e2fsprogs curl
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

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
