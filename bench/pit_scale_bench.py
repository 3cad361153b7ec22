#!/usr/bin/env python3
"""The point-in-time join at scale: ENTITIES entity rows (default 10M) x FEATURES feature rows
(default 50M), Plinth beside pandas' merge_asof on the same generated data, wall time and peak
memory (GNU time's maximum resident set) of each.

The data (written by DuckDB through tests/tools/parquet_tool): 1,000,000 drivers; feature rows
(driver_id, event_ts, five float features) spread over 50 hours, one per driver and hour on
average, in no particular order; entity rows (id, driver_id, ts) at random drivers and times.
The group's ttl is 6 hours. Plinth runs `plinth features historical` on Parquet files with
--memory-limit (default 4GB; DuckDB spills the join beyond it) and writes Parquet; pandas
(read_csv, since Debian's pandas has no Parquet engine; to_datetime, sorts, merge_asof with
tolerance, the entity order restored) writes CSV; its phases are reported apart, so its join
alone can be compared. pandas is stopped after --pandas-timeout seconds.

With --csv-entities Plinth also joins the entities from a CSV file (too large to hold: written
as Parquet in the join's scratch folder first).

usage: pit_scale_bench.py BUILD_DIR [--entities 10000000] [--features 50000000]
                          [--memory-limit 4GB] [--pandas-timeout 1200] [--skip-pandas]
                          [--csv-entities]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "pylib"))
from plinth_procs import apply_features  # noqa: E402

PANDAS = r'''
import json, sys, time
import pandas as pd
entities, features, out = sys.argv[1:4]
t0 = time.perf_counter()
e = pd.read_csv(entities, parse_dates=["ts"])
f = pd.read_csv(features, parse_dates=["event_ts"])
t1 = time.perf_counter()
left = e.sort_values("ts", kind="stable")
right = f.sort_values("event_ts", kind="stable")
j = pd.merge_asof(left, right, left_on="ts", right_on="event_ts", by="driver_id",
                  direction="backward", tolerance=pd.Timedelta(hours=6))
j = j.sort_values("id").drop(columns=["event_ts"])
t2 = time.perf_counter()
j.to_csv(out, index=False)
t3 = time.perf_counter()
print(json.dumps({"read": t1 - t0, "join": t2 - t1, "write": t3 - t2, "rows": len(j)}))
'''

FEATURES_YAML = """\
entities:
  driver: {join_keys: {driver_id: int64}}
feature_groups:
  stats:
    entity: driver
    source: stats.parquet
    event_timestamp: event_ts
    ttl: 6h
    features: {f1: float64, f2: float64, f3: float64, f4: float64, f5: float64}
"""

DRIVERS = 1000000


def timed(cmd, timeout=None, **kw):
    """(wall seconds, peak MB, completed process) or (None, None, None) past the timeout."""
    start = time.perf_counter()
    try:
        r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True,
                           timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        return None, None, None
    wall = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}: {r.stderr[-800:]}")
    return wall, int(r.stderr.split()[-1]) / 1024, r


def main():
    a = argparse.ArgumentParser()
    a.add_argument("build")
    a.add_argument("--entities", type=int, default=10000000)
    a.add_argument("--features", type=int, default=50000000)
    a.add_argument("--memory-limit", default="4GB")
    a.add_argument("--pandas-timeout", type=int, default=1200)
    a.add_argument("--skip-pandas", action="store_true")
    a.add_argument("--csv-entities", action="store_true",
                   help="Plinth also joins the entities from CSV (written as Parquet first)")
    args = a.parse_args()
    plinth = os.path.abspath(os.path.join(args.build, "apps", "plinth", "plinth"))
    tool = os.path.abspath(os.path.join(args.build, "tests", "parquet_tool"))
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR", "/tmp")) as work:
        path = lambda *p: os.path.join(work, *p)  # noqa: E731
        features = (f"SELECT (hash(i) % {DRIVERS})::BIGINT AS driver_id, "
                    f"TIMESTAMP '2026-01-01' + to_seconds((hash(i * 7) % 180000)::BIGINT) "
                    f"AS event_ts, random() AS f1, random() AS f2, random() AS f3, "
                    f"random() AS f4, random() AS f5 FROM range({args.features}) r(i)")
        entities = (f"SELECT i AS id, (hash(i * 13) % {DRIVERS})::BIGINT AS driver_id, "
                    f"TIMESTAMP '2026-01-01' + to_seconds((hash(i * 17) % 198000)::BIGINT) "
                    f"AS ts FROM range({args.entities}) r(i)")
        start = time.perf_counter()
        for name, query in (("stats", features), ("entities", entities)):
            for fmt, ext in (("parquet", "parquet"), ("csv", "csv")):
                if fmt == "csv" and args.skip_pandas and not (name == "entities" and
                                                              args.csv_entities):
                    continue
                subprocess.run([tool, "sql", f"COPY ({query}) TO '{path(name + '.' + ext)}' "
                                f"(FORMAT {fmt})"], check=True)
        print(f"generated {args.entities:,} entity rows and {args.features:,} feature rows "
              f"in {time.perf_counter() - start:.0f} s "
              f"(Parquet {os.path.getsize(path('stats.parquet')) / 1e6:.0f} MB of features)",
              flush=True)
        env = apply_features(plinth, work, FEATURES_YAML)
        for ext in ("parquet", "csv") if args.csv_entities else ("parquet",):
            wall, peak, _ = timed([plinth, "features", "historical", "--entities",
                                   path("entities." + ext), "--features",
                                   "stats:f1,stats:f2,stats:f3,stats:f4,stats:f5", "--out",
                                   path("plinth_out.parquet"), "--memory-limit",
                                   args.memory_limit, "-q"], cwd=work, env=env)
            print(f"| Plinth (`features historical`, {ext} entities, --memory-limit "
                  f"{args.memory_limit}) | {wall:.1f} s | {peak:,.0f} MB |", flush=True)
            if ext == "parquet":
                wall_parquet = wall
        if args.skip_pandas:
            return
        wall_p, peak_p, r = timed(["/usr/bin/python3", "-c", PANDAS, path("entities.csv"),
                                   path("stats.csv"), path("pandas_out.csv")],
                                  timeout=args.pandas_timeout)
        if wall_p is None:
            print(f"| pandas merge_asof | stopped after {args.pandas_timeout} s | |")
            return
        phases = json.loads(r.stdout)
        print(f"| pandas merge_asof | {wall_p:.1f} s (read {phases['read']:.1f}, join "
              f"{phases['join']:.1f}, write {phases['write']:.1f}) | {peak_p:,.0f} MB |")
        print(f"pandas / Plinth: {wall_p / wall_parquet:.1f}x (pandas' join alone: "
              f"{phases['join'] / wall_parquet:.1f}x Plinth's whole run, Parquet entities)")


if __name__ == "__main__":
    main()
