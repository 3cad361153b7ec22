#!/usr/bin/env bash
# with_redis.sh CMD [ARGS...]: runs CMD with a private Redis server (Debian's `redis-server`)
# on 127.0.0.1 in a temporary directory, and PLINTH_TEST_REDIS_URI naming it. The server and
# its files are removed when CMD ends; CMD's exit status is returned.
set -euo pipefail

if ! command -v redis-server >/dev/null; then
  echo "with_redis: no redis-server (run scripts/install-deps.sh)" >&2
  exit 2
fi
DIR=$(mktemp -d /tmp/plinth-redis.XXXXXX)
cleanup() {
  if [ -f "$DIR/pid" ]; then kill "$(cat "$DIR/pid")" 2>/dev/null || true; fi
  sleep 0.1
  rm -rf "$DIR"
}
trap cleanup EXIT
# A port below the ephemeral range (tests/pylib/plinth_procs.py, free_port).
PORT=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from plinth_procs import free_port; print(free_port())' "$(dirname "$0")/../pylib")
redis-server --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --save "" --appendonly no \
  --daemonize yes --pidfile "$DIR/pid" --logfile "$DIR/redis.log" >/dev/null
for _ in $(seq 100); do
  if redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then break; fi
  sleep 0.05
done
if ! redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then
  cat "$DIR/redis.log" >&2
  exit 2
fi
export PLINTH_TEST_REDIS_URI="redis://127.0.0.1:$PORT"
export PLINTH_TEST_REDIS_DIR="$DIR"
set +e
"$@"
status=$?
set -e
exit $status
