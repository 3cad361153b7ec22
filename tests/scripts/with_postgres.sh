#!/usr/bin/env bash
# with_postgres.sh CMD [ARGS...]: runs CMD with a private PostgreSQL server (Debian's
# `postgresql` package) started on 127.0.0.1 in a temporary directory, and
# PLINTH_TEST_POSTGRES_URI naming it. The server and its files are removed when CMD
# ends; CMD's exit status is returned. As root the server runs as the `postgres` user
# (initdb refuses root).
set -euo pipefail

BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "with_postgres: no PostgreSQL server under /usr/lib/postgresql (run scripts/install-deps.sh)" >&2
  exit 2
fi
DIR=$(mktemp -d /tmp/plinth-pg.XXXXXX)
chmod 755 "$DIR"
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$DIR"
  RUNAS=(runuser -u postgres --)
fi
cleanup() {
  "${RUNAS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

# A port below the ephemeral range (tests/pylib/plinth_procs.py, free_port): one from bind(0)
# could be taken by a concurrent test's client connection while initdb runs.
PORT=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from plinth_procs import free_port; print(free_port())' "$(dirname "$0")/../pylib")
echo "plinth-test" > "$DIR/pw"
chmod 644 "$DIR/pw"
if ! "${RUNAS[@]}" "$BIN/initdb" -D "$DIR/data" -U plinth --pwfile="$DIR/pw" --auth=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1; then
  cat "$DIR/initdb.log" >&2
  exit 2
fi
if ! "${RUNAS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c max_connections=200" \
    start >/dev/null; then
  cat "$DIR/server.log" >&2
  exit 2
fi
export PLINTH_TEST_POSTGRES_URI="postgresql://plinth:plinth-test@127.0.0.1:$PORT/postgres"
set +e
"$@"
status=$?
set -e
exit $status
