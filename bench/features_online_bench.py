#!/usr/bin/env python3
"""The feature store's online side beside what it replaces, in one run on this machine:

- Online lookups, 10 features (two groups of 5) for 1 entity per request, driven by wrk from
  127.0.0.1 at 1, 16 and 64 connections, each connection cycling through 256 entities:
  `plinth server`'s POST /get-online-features on the embedded store and on Redis, beside a
  Feast-style Python feature server (FastAPI under gunicorn, 2 uvicorn workers, one per core;
  redis-py with one pipelined HMGET per feature group, as Feast's Redis store reads a feature view) on
  the same Redis, its rows written by redis-py. The answers are checked equal first.
- The same servers paced (bench/load_gen.cc, open loop): 64 connections at fixed rates the
  server carries (--rates; a rate above 80% of its wrk throughput is skipped), --rounds runs of
  each (medians and ranges: tails on 2 shared cores scatter), latency counted from when each
  request was due. wrk's p99 at 64 connections is mostly queueing (64 requests
  always in flight), so it says how loaded a server was; the paced p99 says how long a lookup
  takes under a given load.
- Fused serving: a GBDT model trained on the feature service, served by `plinth serve
  --features` (requests carry the driver id; the 10 features are looked up in-process) beside
  the same model served plainly with the 10 features in the request.
- Materialization into Redis of ROWS source rows (one group of 5 features, a CSV with ROWS
  distinct drivers, --materialize-rows): `plinth features materialize` beside redis-py reading
  the same CSV, keeping the latest row per driver and writing them with pipelined HSET (1,000
  commands per round trip), each on a Redis started afresh; wall time and peak memory.

usage: features_online_bench.py BUILD_DIR [--seconds 5] [--drivers 100000]
                                [--rates 1000,5000,10000] [--rounds 3]
                                [--materialize-rows 10000000] [--skip-online] [--skip-materialize]
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "pylib"))
from plinth_procs import Redis, apply_features, free_port, start_server, timed_run  # noqa: E402,E501

from serve_bench import WRK_POST, python_server, wrk  # noqa: E402

BODIES = 256
STATS = [("conv_rate", "float64"), ("acc_rate", "float64"), ("avg_daily_trips", "int64"),
         ("trips_today", "int64"), ("rating", "float64")]
PROFILE = [("age", "int64"), ("tenure_days", "int64"), ("city", "string"),
           ("vehicle", "string"), ("score", "float64")]
GROUPS = {"driver_stats": STATS, "driver_profile": PROFILE}
SERVICE = [(g, f) for g, feats in GROUPS.items() for f, _ in feats]

FEATURES_YAML = """\
online_store: {store}
entities:
  driver: {{join_keys: {{driver_id: int64}}}}
feature_groups:
{groups}feature_services:
  driver_all:
    features: [{service}]
"""
GROUP_YAML = """\
  {name}:
    entity: driver
    source: {name}.csv
    event_timestamp: event_ts
    features: {{{features}}}
"""

TRAIN_YAML = """\
name: drivers
seed: 7
data:
  features: {entities: train_entities.csv, service: driver_all}
  target: label
  task: regression
  id_columns: [driver_id]
model: {type: gbdt, epochs: 30}
"""

# A Feast-style feature server: FastAPI, Feast's request shape, and Feast's Redis layout (a
# hash per entity key, a field per group:feature plus the group's timestamp), read with one
# pipelined HMGET per feature group (Feast's RedisOnlineStore.online_read per feature view).
FASTAPI_APP = """
import json
import os
from typing import Optional

import redis
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

GROUPS = json.loads(os.environ["BENCH_GROUPS"])
SERVICE = json.loads(os.environ["BENCH_SERVICE"])
CAST = {"float64": float, "int64": int, "string": bytes.decode}
TYPES = {(g, f): t for g, feats in GROUPS.items() for f, t in feats}
client = redis.Redis(host="127.0.0.1", port=int(os.environ["BENCH_REDIS_PORT"]))
app = FastAPI()


class Request(BaseModel):
    entities: dict
    feature_service: Optional[str] = None
    features: Optional[list] = None
    full_feature_names: bool = False


@app.post("/get-online-features")
def get_online_features(req: Request):
    if req.feature_service is not None:
        if req.feature_service != "driver_all":
            raise HTTPException(404, "unknown feature service")
        refs = SERVICE
    else:
        refs = [r.split(":", 1) for r in req.features]
    ids = req.entities["driver_id"]
    keys = ["driver_id:%d" % i for i in ids]
    by_group = {}
    for g, f in refs:
        by_group.setdefault(g, []).append(f)
    got = {}
    for g, feats in by_group.items():
        pipe = client.pipeline(transaction=False)
        fields = [g + ":" + f for f in feats] + ["_ts:" + g]
        for k in keys:
            pipe.hmget(k, fields)
        got[g] = (feats, pipe.execute())
    names = ["driver_id"]
    results = [{"values": ids, "statuses": ["PRESENT"] * len(ids),
                "event_timestamps": ["1970-01-01T00:00:00Z"] * len(ids)}]
    for g, (feats, rows) in got.items():
        for j, f in enumerate(feats):
            cast = CAST[TYPES[(g, f)]]
            values, statuses, stamps = [], [], []
            for row in rows:
                v = row[j]
                values.append(None if v is None else cast(v))
                statuses.append("NOT_FOUND" if v is None else "PRESENT")
                stamps.append("1970-01-01T00:00:00Z" if row[-1] is None else row[-1].decode())
            names.append(g + "__" + f if req.full_feature_names else f)
            results.append({"values": values, "statuses": statuses, "event_timestamps": stamps})
    return {"metadata": {"feature_names": names}, "results": results}
"""

# redis-py's materialization: the latest row per entity from the CSV, then pipelined HSET.
REDIS_PY_MATERIALIZE = """
import csv
import sys

import redis

path, port, group = sys.argv[1], int(sys.argv[2]), sys.argv[3]
latest = {}
with open(path, newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    ts = header.index("event_ts")
    key = header.index("driver_id")
    feats = [(i, group + ":" + h) for i, h in enumerate(header) if i not in (ts, key)]
    for row in reader:
        old = latest.get(row[key])
        if old is None or row[ts] >= old[ts]:
            latest[row[key]] = row
client = redis.Redis(host="127.0.0.1", port=port)
pipe = client.pipeline(transaction=False)
n = 0
for k, row in latest.items():
    mapping = {name: row[i] for i, name in feats}
    mapping["_ts:" + group] = row[ts].replace(" ", "T") + "Z"
    pipe.hset("driver_id:" + k, mapping=mapping)
    n += 1
    if n % 1000 == 0:
        pipe.execute()
pipe.execute()
print(n)
"""


def value(rng, name, typ, i):
    if typ == "string":
        return f"{name}_{rng.randrange(40)}"
    if typ == "int64":
        return str(rng.randrange(1000))
    return repr(round(rng.random() * 5, 4))


def write_groups(work, drivers, rng):
    """Two rows per driver and group: an old one and the latest; returns {(group, id): row}."""
    latest = {}
    for name, feats in GROUPS.items():
        with open(os.path.join(work, name + ".csv"), "w") as f:
            f.write("driver_id,event_ts," + ",".join(n for n, _ in feats) + "\n")
            for i in range(1, drivers + 1):
                for day in (1, 2 + i % 20):
                    row = [value(rng, n, t, i) for n, t in feats]
                    stamp = f"2026-11-{day:02d}T{i % 24:02d}:00:00"
                    f.write(f"{i},{stamp}," + ",".join(row) + "\n")
                latest[(name, i)] = row
    return latest


def write_training(work, drivers, latest, rng, rows=20000):
    with open(os.path.join(work, "train_entities.csv"), "w") as f:
        f.write("driver_id,ts,label\n")
        for _ in range(rows):
            i = rng.randrange(1, drivers + 1)
            s = latest[("driver_stats", i)]
            p = latest[("driver_profile", i)]
            label = float(s[0]) * 3 + float(s[4]) - int(p[0]) / 500 + rng.random()
            f.write(f"{i},2026-11-30T00:00:00,{label:.4f}\n")


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def bodies(tmp, name, make):
    """BODIES request bodies (make(driver id)) and the wrk script cycling through them."""
    prefix = os.path.join(tmp, f"{name}_")
    rng = random.Random(11)
    for i in range(BODIES):
        with open(f"{prefix}{i}.json", "w") as f:
            json.dump(make(rng), f)
    script = os.path.join(tmp, f"{name}.lua")
    with open(script, "w") as f:
        f.write(WRK_POST.format(prefix=prefix, count=BODIES))
    return script, prefix


def paced(load_gen, port, path, rate, seconds, prefix):
    """load_gen's figures (bench/load_gen.cc): RATE requests/s over 64 connections."""
    r = subprocess.run([load_gen, str(port), path, str(rate), str(seconds), "64", prefix,
                        str(BODIES)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"load_gen: {r.stderr}")
    return json.loads(r.stdout)


def project(plinth, work, name, store):
    """A project folder WORK/NAME with the groups' CSVs, features.yaml on STORE, applied and
    materialized; returns (folder, env)."""
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    for g in GROUPS:
        shutil.copy(os.path.join(work, g + ".csv"), d)
    shutil.copy(os.path.join(work, "train_entities.csv"), d)
    groups = "".join(GROUP_YAML.format(name=g, features=", ".join(f"{n}: {t}" for n, t in feats))
                     for g, feats in GROUPS.items())
    env = apply_features(plinth, d, FEATURES_YAML.format(
        store=store, groups=groups, service=", ".join(f"{g}:{f}" for g, f in SERVICE)))
    r = subprocess.run([plinth, "features", "materialize", "2026-01-01", "2026-12-01", "-q"],
                       cwd=d, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"materialize in {name}: {r.stderr}")
    return d, env


def features_by_name(answer):
    names = answer["metadata"]["feature_names"]
    return {n: (r["values"], r["statuses"]) for n, r in zip(names, answer["results"])
            if n != "driver_id"}


def online(args, plinth, work, redis):
    rng = random.Random(7)
    latest = write_groups(work, args.drivers, rng)
    write_training(work, args.drivers, latest, rng)
    embedded, env_e = project(plinth, work, "embedded", "sqlite:online.db")
    on_redis, env_r = project(plinth, work, "redis", f"redis://127.0.0.1:{redis.port}")
    for g in GROUPS:
        r = subprocess.run(["/usr/bin/python3", "-c", REDIS_PY_MATERIALIZE,
                            os.path.join(work, g + ".csv"), str(redis.port), g],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"redis-py materialize: {r.stderr}")
    with open(os.path.join(embedded, "train.yaml"), "w") as f:
        f.write(TRAIN_YAML)
    r = subprocess.run([plinth, "train", "train.yaml", "-q", "--no-track"], cwd=embedded,
                       env=env_e, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"train: {r.stderr}")

    feast_body = lambda rng: {"feature_service": "driver_all",  # noqa: E731
                              "entities": {"driver_id": [rng.randrange(1, args.drivers + 1)]}}
    fused_body = lambda rng: {"data": [{"driver_id": rng.randrange(1, args.drivers + 1)}]}  # noqa: E731,E501

    def plain_body(rng):
        i = rng.randrange(1, args.drivers + 1)
        row = {"driver_id": i}
        for g, feats in GROUPS.items():
            for (n, t), v in zip(feats, latest[(g, i)]):
                row[n] = v if t == "string" else float(v) if t == "float64" else int(v)
        return {"data": [row]}
    scripts = {"feast": bodies(work, "feast", feast_body),
               "fused": bodies(work, "fused", fused_body),
               "plain": bodies(work, "plain", plain_body)}

    app = os.path.join(work, "feast_app.py")
    with open(app, "w") as f:
        f.write(FASTAPI_APP)
    py_env = dict(os.environ, BENCH_REDIS_PORT=str(redis.port),
                  BENCH_GROUPS=json.dumps(GROUPS), BENCH_SERVICE=json.dumps(SERVICE))
    servers = [
        ("plinth server, embedded store", "feast",
         lambda p: [plinth, "server", "--port", str(p), "--store", env_e["PLINTH_TRACKING_URI"],
                    "--artifacts-root", env_e["PLINTH_ARTIFACTS_ROOT"]],
         embedded, env_e, "/get-online-features"),
        ("plinth server, Redis", "feast",
         lambda p: [plinth, "server", "--port", str(p), "--store", env_r["PLINTH_TRACKING_URI"],
                    "--artifacts-root", env_r["PLINTH_ARTIFACTS_ROOT"]],
         on_redis, env_r, "/get-online-features"),
        ("FastAPI + redis-py (gunicorn, 2 workers), Redis", "feast",
         lambda p: python_server("feast_app:app", p),
         work, py_env, "/get-online-features"),
        ("plinth serve --features, embedded store", "fused",
         lambda p: [plinth, "serve", "models/drivers", "--features", "--port", str(p),
                    "--prediction-log", "off"], embedded, env_e, "/predict"),
        ("plinth serve, the features in the request", "plain",
         lambda p: [plinth, "serve", "models/drivers", "--port", str(p),
                    "--prediction-log", "off"], embedded, env_e, "/predict"),
    ]
    results = {}
    fixed = {}
    answers = {}
    load_gen = os.path.join(os.path.dirname(plinth), "..", "..", "bench", "load_gen")
    probe = {"feature_service": "driver_all", "entities": {"driver_id": [1, 77, 4242, -5]}}
    for label, kind, cmd, cwd, env, path in servers:
        port = free_port()
        proc = start_server(cmd(port), port, seconds=30, cwd=cwd, env=env,
                            stderr=subprocess.PIPE)
        try:
            if kind == "feast":
                answers[label] = features_by_name(post(port, path, probe))
            url = f"http://127.0.0.1:{port}{path}"
            script, prefix = scripts[kind]
            wrk(url, 16, 1, script)  # warm-up
            for conns in (1, 16, 64):
                rate, p50, p99, bad, errors = wrk(url, conns, args.seconds, script)
                if bad or errors:
                    sys.exit(f"{label} at {conns}: {bad} non-2xx, {errors}")
                results[(label, conns)] = (rate, p50, p99)
                print(f"{label:44s} c={conns:2d} {rate:9.0f} req/s p50 {p50:6.2f} ms "
                      f"p99 {p99:6.2f} ms", flush=True)
            for target in args.rates:
                if target > 0.8 * results[(label, 64)][0]:
                    continue  # beyond what this server carries: wrk's figures say it
                runs = []
                for _ in range(args.rounds):
                    got = paced(load_gen, port, path, target, args.seconds, prefix)
                    if got["errors"]:
                        sys.exit(f"{label} at {target}/s: {got['errors']} non-2xx")
                    runs.append(got)
                    print(f"{label:44s} {target:6d}/s over 64: p50 {got['p50_ms']:6.2f} ms p99 "
                          f"{got['p99_ms']:6.2f} ms p99.9 {got['p999_ms']:6.2f} ms "
                          f"(late {got['late']})", flush=True)
                fixed[(label, target)] = runs
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    first = next(iter(answers.values()))
    for label, a in answers.items():
        if a != first:
            sys.exit(f"answers differ: {label}: {a} vs {first}")
    print(f"every lookup server answered the same values and statuses for {probe['entities']}")
    print()
    print("| server | connections | req/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for (label, conns), (rate, p50, p99) in results.items():
        print(f"| {label} | {conns} | {rate:,.0f} | {p50:.2f} | {p99:.2f} |")
    print()
    print(f"| server | requests/s over 64 connections | p50 ms | p99 ms, median of {args.rounds} "
          "(range) | p99.9 ms, median |")
    print("|---|---:|---:|---:|---:|")
    for (label, target), runs in fixed.items():
        p99s = sorted(r["p99_ms"] for r in runs)
        print(f"| {label} | {target:,} | {statistics.median(r['p50_ms'] for r in runs):.2f} | "
              f"{statistics.median(p99s):.2f} ({p99s[0]:.2f}-{p99s[-1]:.2f}) | "
              f"{statistics.median(r['p999_ms'] for r in runs):.2f} |")
    py = results[("FastAPI + redis-py (gunicorn, 2 workers), Redis", 64)][0]
    for label in ("plinth server, embedded store", "plinth server, Redis"):
        print(f"{label} / FastAPI at 64 connections: {results[(label, 64)][0] / py:.1f}x")
    fused = results[("plinth serve --features, embedded store", 64)][2]
    plain = results[("plinth serve, the features in the request", 64)][2]
    print(f"fused p99 - plain p99, wrk at 64 connections: {fused - plain:+.2f} ms")
    for target in args.rates:
        f = fixed.get(("plinth serve --features, embedded store", target))
        p = fixed.get(("plinth serve, the features in the request", target))
        if f and p:
            diff = (statistics.median(r["p99_ms"] for r in f) -
                    statistics.median(r["p99_ms"] for r in p))
            print(f"fused p99 - plain p99, {target:,}/s over 64 connections (medians): "
                  f"{diff:+.2f} ms")


def materialize(args, plinth, work, redis):
    rows = args.materialize_rows
    d = os.path.join(work, "mat")
    os.makedirs(d, exist_ok=True)
    csv = os.path.join(d, "driver_stats.csv")
    rng = random.Random(3)
    with open(csv, "w") as f:
        f.write("driver_id,event_ts," + ",".join(n for n, _ in STATS) + "\n")
        chunk = []
        for i in range(rows):
            chunk.append(f"{i},2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00,"
                         f"{rng.random():.4f},{rng.random():.4f},{i % 997},{i % 31},"
                         f"{rng.random() * 5:.3f}\n")
            if len(chunk) == 100000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
    env = apply_features(plinth, d, FEATURES_YAML.format(
        store=f"redis://127.0.0.1:{redis.port}",
        groups=GROUP_YAML.format(name="driver_stats",
                                 features=", ".join(f"{n}: {t}" for n, t in STATS)),
        service=", ".join(f"driver_stats:{n}" for n, _ in STATS)))
    print(f"materialize {rows:,} rows ({os.path.getsize(csv) / 1e6:.0f} MB of CSV) into Redis")
    figures = {}
    for label, cmd in (
            ("plinth features materialize",
             [plinth, "features", "materialize", "2026-01-01", "2026-12-01", "-q"]),
            ("redis-py, pipelined HSET",
             ["/usr/bin/python3", "-c", REDIS_PY_MATERIALIZE, csv, str(redis.port),
              "driver_stats"])):
        # A fresh Redis for each: one that held the rows before keeps its memory (jemalloc)
        # and takes the next load faster.
        redis.stop(save=False)
        redis.start()
        seconds, peak_mb, _ = timed_run(cmd, env=env, cwd=d)
        keys = int(redis.cli("DBSIZE").strip())
        figures[label] = seconds
        print(f"| {label} | {seconds:.1f} s | {peak_mb:.0f} MB | {keys:,} keys |", flush=True)
    print(f"redis-py / Plinth: {figures['redis-py, pipelined HSET'] / figures['plinth features materialize']:.1f}x")  # noqa: E501


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--drivers", type=int, default=100000)
    ap.add_argument("--materialize-rows", type=int, default=10000000)
    ap.add_argument("--rates", default="1000,5000,10000",
                    help="paced loads (requests/s over 64 connections) for load_gen")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each paced load")
    ap.add_argument("--skip-online", action="store_true")
    ap.add_argument("--skip-materialize", action="store_true")
    args = ap.parse_args()
    args.rates = [int(r) for r in args.rates.split(",")]
    plinth = os.path.abspath(os.path.join(args.build, "apps", "plinth", "plinth"))
    with tempfile.TemporaryDirectory() as work:
        redis = Redis(work, free_port())
        redis.start()
        try:
            if not args.skip_online:
                online(args, plinth, work, redis)
            if not args.skip_materialize:
                redis.cli("FLUSHALL")
                materialize(args, plinth, work, redis)
        finally:
            redis.stop(save=False)


if __name__ == "__main__":
    main()
