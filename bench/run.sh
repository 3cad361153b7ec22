#!/usr/bin/env bash
# make bench: micro benchmarks, the side-by-side runs against pandas and scikit-learn, the
# tracking server under load (SQLite, then a PostgreSQL started on loopback), and serving and
# batch scoring against nginx, FastAPI and pandas.
set -euo pipefail
BUILD=${1:-build/release}
"$BUILD/bench/micro_bench" --benchmark_min_time=0.2
"$BUILD/bench/serve_micro_bench" --benchmark_min_time=0.2
/usr/bin/python3 "$(dirname "$0")/side_by_side.py" "$BUILD" --memory
/usr/bin/python3 "$(dirname "$0")/train_bench.py" "$BUILD"
/usr/bin/python3 "$(dirname "$0")/train_matrix.py" "$BUILD"
/usr/bin/python3 "$(dirname "$0")/tracking_bench.py" "$BUILD"
bash "$(dirname "$0")/../tests/scripts/with_postgres.sh" /usr/bin/python3 \
  "$(dirname "$0")/tracking_bench.py" "$BUILD"
/usr/bin/python3 "$(dirname "$0")/serve_bench.py" "$BUILD"
/usr/bin/python3 "$(dirname "$0")/predict_bench.py" "$BUILD"
