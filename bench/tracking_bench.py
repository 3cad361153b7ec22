#!/usr/bin/env python3
"""plinth server under the loads MLflow users report as slow: logging many metrics one call at
a time and in batches, and searching an experiment with thousands of runs. The requests are
the MLflow Python client's (its REST store), sent over keep-alive HTTP from one client thread.

There is no side-by-side baseline yet: the figures are absolute, on this machine. (MLflow's
own 2.17.2 server is in ../shared/mlflow and runs with Debian's packages; starting it beside
plinth server is the open part of issue 21's performance item.)

usage: tracking_bench.py BUILD_DIR [--runs 10000] [--metrics 100000] [--seconds 10]
(PostgreSQL when PLINTH_TEST_POSTGRES_URI is set: run it under tests/scripts/with_postgres.sh)
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "pylib"))
from plinth_procs import free_port, start_server  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("build")
p.add_argument("--runs", type=int, default=10000)
p.add_argument("--metrics", type=int, default=100000)
p.add_argument("--seconds", type=int, default=10)
args = p.parse_args()
plinth = os.path.join(args.build, "apps/plinth/plinth")


tmp = tempfile.mkdtemp()
store = os.environ.get("PLINTH_TEST_POSTGRES_URI") or f"sqlite:///{tmp}/bench.db"
port = free_port()
server = start_server([plinth, "server", "--store", store, "--artifacts-root", f"{tmp}/art",
                       "--port", str(port), "--threads", "2"], port, stderr=subprocess.DEVNULL)

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

# mlflow.log_metric from 16 concurrent clients (wrk, 2 threads, 16 keep-alive
# connections): one request per value, each a distinct point.
lua = os.path.join(tmp, "log_metric.lua")
with open(lua, "w") as f:
    f.write("""
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) n = 0 end
function request()
  n = n + 1
  local step = id * 100000000 + n
  local body = string.format('{"run_id": "%s", "key": "wrk", "value": %d, "timestamp": %d, "step": %d}',
                             "RUN", n, 1700000000000 + n, step)
  return wrk.format("POST", "/api/2.0/mlflow/runs/log-metric",
                    {["Content-Type"] = "application/json"}, body)
end
""".replace("RUN", run))
out = subprocess.run(["wrk", "-t2", "-c16", f"-d{args.seconds}s", "--latency", "-s", lua,
                      f"http://127.0.0.1:{port}"], capture_output=True, text=True).stdout
for line in out.splitlines():
    parts = line.split()
    if line.startswith("Requests/sec:"):
        results["log_metric_16_clients_per_s"] = float(parts[1])
    if parts[:1] == ["99%"]:
        v = parts[1]
        results["log_metric_16_clients_p99_ms"] = (float(v[:-2]) if v.endswith("ms") else
                                                   float(v[:-2]) / 1000 if v.endswith("us") else
                                                   float(v[:-1]) * 1000)
    if "Non-2xx" in line or "Socket errors" in line:
        results.setdefault("wrk_errors", []).append(line.strip())
stored = get(f"/metrics/get-history?run_id={run}&metric_key=wrk")
results["log_metric_16_clients_stored"] = len(stored.get("metrics", []))

# One client, one request per value (the MLflow client's log_metric loop).
n = 5000
t0 = time.perf_counter()
for i in range(n):
    post("/runs/log-metric", {"run_id": run, "key": "loss", "value": 1.0 / (i + 1),
                              "timestamp": now + i, "step": i})
dt = time.perf_counter() - t0
results["log_metric_1_client_per_s"] = n / dt

# log_batch of 1000 metrics (the client's chunk size): the request's own time,
# bodies encoded beforehand.
bodies = [json.dumps({"run_id": run, "metrics": [
    {"key": "acc", "value": i / args.metrics, "timestamp": now + i, "step": b * 1000 + i}
    for i in range(1000)]}) for b in range(args.metrics // 1000)]
times = []
for body in bodies:
    t0 = time.perf_counter()
    conn.request("POST", "/api/2.0/mlflow/runs/log-batch", body, HDR)
    r = conn.getresponse()
    r.read()
    times.append(time.perf_counter() - t0)
    assert r.status == 200
results["log_batch_1000_median_ms"] = statistics.median(times) * 1000
results["log_batch_metrics_per_s"] = len(bodies) * 1000 / sum(times)

# get_metric_history of the whole series.
t0 = time.perf_counter()
hist = get(f"/metrics/get-history?run_id={run}&metric_key=acc")
results["get_history_all_points_s"] = time.perf_counter() - t0
assert len(hist["metrics"]) == (args.metrics // 1000) * 1000

# An experiment with 10k runs, each with 10 params, 10 metrics and a tag.
t0 = time.perf_counter()
for i in range(args.runs):
    rid = post("/runs/create", {"experiment_id": exp, "start_time": now + i,
                                "tags": [{"key": "team", "value": f"t{i % 10}"}]})["run"]["info"]["run_id"]
    params = [{"key": "model", "value": ["gbdt", "linear", "mlp"][i % 3]},
              {"key": "depth", "value": str(i % 12)}]
    params += [{"key": f"p{j}", "value": str((i * j) % 97)} for j in range(8)]
    metrics = [{"key": "acc", "value": (i % 1000) / 1000.0, "timestamp": now, "step": 0},
               {"key": "loss", "value": 1 - (i % 1000) / 1000.0, "timestamp": now, "step": 0}]
    metrics += [{"key": f"m{j}", "value": ((i * j) % 101) / 101.0, "timestamp": now, "step": 0}
                for j in range(8)]
    post("/runs/log-batch", {"run_id": rid, "params": params, "metrics": metrics})
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
if results["store"] == "postgresql":
    # The runs above were written within a minute, before autovacuum's first
    # ANALYZE of the new tables: the planner had no statistics. Again with them,
    # as a server that has been up a minute sees it.
    subprocess.run(["psql", store, "-qc", "ANALYZE"], check=True)
    for name, body in cases.items():
        results[name + "_analyzed_ms"] = timed_search(body)[0] * 1000

server.terminate()
server.wait()
print(json.dumps(results, indent=1))
os.makedirs(os.path.join(os.path.dirname(__file__), "out"), exist_ok=True)
with open(os.path.join(os.path.dirname(__file__), "out", f"tracking_{results['store']}.json"),
          "w") as f:
    json.dump(results, f, indent=1)
