#!/usr/bin/env python3
"""plinth server under the loads MLflow users report as slow: logging many metrics one call at
a time and in batches, and searching an experiment with thousands of runs. The requests are
the MLflow Python client's (its REST store), sent over keep-alive HTTP from one client thread.

MLflow's own server cannot be installed here (its Debian package does not exist and PyPI is
unreachable), so there is no side-by-side baseline: the figures are absolute, on this machine.

usage: tracking_bench.py BUILD_DIR [--runs 5000] [--store sqlite|postgres]
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

p = argparse.ArgumentParser()
p.add_argument("build")
p.add_argument("--runs", type=int, default=5000)
p.add_argument("--metrics", type=int, default=20000)
args = p.parse_args()
plinth = os.path.join(args.build, "apps/plinth/plinth")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


tmp = tempfile.mkdtemp()
store = os.environ.get("PLINTH_TEST_POSTGRES_URI") or f"sqlite:///{tmp}/bench.db"
port = free_port()
server = subprocess.Popen([plinth, "server", "--store", store, "--artifacts-root", f"{tmp}/art",
                           "--port", str(port), "--threads", "2"], stderr=subprocess.DEVNULL)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", port)).close()
        break
    except OSError:
        time.sleep(0.05)

conn = http.client.HTTPConnection("127.0.0.1", port)
HDR = {"Content-Type": "application/json"}


def post(path, body):
    conn.request("POST", "/api/2.0/mlflow" + path, json.dumps(body), HDR)
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise SystemExit(f"{path}: {r.status} {data[:200]}")
    return json.loads(data)


def get(path):
    conn.request("GET", "/api/2.0/mlflow" + path)
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise SystemExit(f"{path}: {r.status} {data[:200]}")
    return json.loads(data)


results = {"store": "postgresql" if store.startswith("postgres") else "sqlite"}
exp = post("/experiments/create", {"name": "bench"})["experiment_id"]
run = post("/runs/create", {"experiment_id": exp, "start_time": 0})["run"]["info"]["run_id"]
now = int(time.time() * 1000)

# mlflow.log_metric in a loop: one request per value.
n = args.metrics // 4
t0 = time.perf_counter()
for i in range(n):
    post("/runs/log-metric", {"run_id": run, "key": "loss", "value": 1.0 / (i + 1),
                              "timestamp": now + i, "step": i})
dt = time.perf_counter() - t0
results["log_metric_per_s"] = n / dt

# mlflow.log_batch / the client's 1000-metric chunks.
t0 = time.perf_counter()
for b in range(args.metrics // 1000):
    post("/runs/log-batch", {"run_id": run, "metrics": [
        {"key": "acc", "value": i / args.metrics, "timestamp": now + i, "step": b * 1000 + i}
        for i in range(1000)]})
dt = time.perf_counter() - t0
results["log_batch_metrics_per_s"] = (args.metrics // 1000) * 1000 / dt

# get_metric_history of the whole series.
t0 = time.perf_counter()
hist = get(f"/metrics/get-history?run_id={run}&metric_key=acc")
results["get_history_s"] = time.perf_counter() - t0
assert len(hist["metrics"]) == (args.metrics // 1000) * 1000

# An experiment with thousands of runs, each with params, metrics and tags.
t0 = time.perf_counter()
for i in range(args.runs):
    rid = post("/runs/create", {"experiment_id": exp, "start_time": now + i,
                                "tags": [{"key": "team", "value": f"t{i % 10}"}]})["run"]["info"]["run_id"]
    post("/runs/log-batch", {"run_id": rid,
                             "params": [{"key": "model", "value": ["gbdt", "linear", "mlp"][i % 3]},
                                        {"key": "depth", "value": str(i % 12)}],
                             "metrics": [{"key": "acc", "value": (i % 1000) / 1000.0,
                                          "timestamp": now, "step": 0},
                                         {"key": "loss", "value": 1 - (i % 1000) / 1000.0,
                                          "timestamp": now, "step": 0}]})
results["create_and_log_runs_per_s"] = args.runs / (time.perf_counter() - t0)


def timed_search(body, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = post("/runs/search", body)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(r.get("runs", []))


cases = {
    "search_first_page_100": {"experiment_ids": [exp], "max_results": 100},
    "search_filter_metric_param_tag": {
        "experiment_ids": [exp], "max_results": 1000,
        "filter": "metrics.acc > 0.9 and params.model = 'gbdt' and tags.team = 't3'"},
    "search_order_by_metric_1000": {"experiment_ids": [exp], "max_results": 1000,
                                    "order_by": ["metrics.acc DESC"]},
}
for name, body in cases.items():
    s, count = timed_search(body)
    results[name + "_ms"] = s * 1000
    results[name + "_rows"] = count

server.terminate()
server.wait()
print(json.dumps(results, indent=1))
os.makedirs(os.path.join(os.path.dirname(__file__), "out"), exist_ok=True)
with open(os.path.join(os.path.dirname(__file__), "out", f"tracking_{results['store']}.json"),
          "w") as f:
    json.dump(results, f, indent=1)
