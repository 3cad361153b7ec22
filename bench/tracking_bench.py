#!/usr/bin/env python3
"""plinth server side by side with MLflow's own tracking server (2.17.2, from ../shared/mlflow,
`python3 -m mlflow server` with its defaults: gunicorn, 4 workers) under the loads MLflow users
report as slow, on the same machine, in the same run, each on a fresh SQLite database:

  log_metric from 16 concurrent clients (wrk: 2 threads, 16 keep-alive connections), and from
  one client (the MLflow client's log_metric loop); log_batch of 1,000 metrics; get_run;
  get_metric_history of the whole series; creating runs with 10 params and 10 metrics each;
  search (first page, a filter, ordered by a metric); an 8 MB artifact upload and download
  through the proxied artifact route.

The requests are the MLflow Python client's (its REST store), from Python over keep-alive HTTP,
bodies encoded beforehand. Prints a table of both servers and Plinth's ratio per phase (higher
is better for Plinth: throughput ratio, or time ratio MLflow/Plinth) and writes
bench/out/tracking_side_by_side.json.

usage: tracking_bench.py BUILD_DIR [--runs 1000] [--metrics 20000] [--seconds 10]
                         [--servers plinth,mlflow] [--shared ../shared] [--auth]
(--auth --servers plinth measures what access control costs: every request signed in)
(--servers plinth alone under tests/scripts/with_postgres.sh measures PostgreSQL: set
PLINTH_TEST_POSTGRES_URI; MLflow's side always runs on SQLite)
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pylib"))
from plinth_procs import free_port, start_server  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("build")
p.add_argument("--runs", type=int, default=1000)
p.add_argument("--metrics", type=int, default=20000)
p.add_argument("--seconds", type=int, default=10)
p.add_argument("--servers", default="plinth,mlflow")
p.add_argument("--shared", default=os.path.join(HERE, "..", "..", "shared"))
p.add_argument("--auth", action="store_true",
               help="plinth server --auth, every request signed in with HTTP Basic as a user who "
                    "is not an admin (each route's permission check runs)")
args = p.parse_args()
plinth = os.path.abspath(os.path.join(args.build, "apps/plinth/plinth"))
HDR = {"Content-Type": "application/json"}
AUTH = {}
if args.auth:
    AUTH = {"Authorization": "Basic " + base64.b64encode(b"admin:bench-password").decode()}
    HDR.update(AUTH)


def start(kind, tmp):
    port = free_port()
    if kind == "plinth":
        store = os.environ.get("PLINTH_TEST_POSTGRES_URI") or f"sqlite:///{tmp}/bench.db"
        cmd = [plinth, "server", "--store", store, "--artifacts-root", f"{tmp}/art",
               "--port", str(port), "--threads", "2"]
        env = None
        if args.auth:
            with open(f"{tmp}/auth.ini", "w") as f:
                f.write("[mlflow]\ndefault_permission = READ\nadmin_username = admin\n"
                        "admin_password = bench-password\n")
            cmd += ["--auth", "--auth-config", f"{tmp}/auth.ini"]
    else:
        store = f"sqlite:///{tmp}/bench.db"
        cmd = ["/usr/bin/python3", "-m", "mlflow", "server", "--backend-store-uri", store,
               "--artifacts-destination", f"{tmp}/art", "--host", "127.0.0.1",
               "--port", str(port)]
        env = dict(os.environ)
        env["PYTHONPATH"] = ":".join([os.path.join(args.shared, "mlflow", "client"),
                                      os.path.join(args.shared, "mlflow", "deps")])
    # Its own session: MLflow's server forks gunicorn workers, stopped with the group.
    proc = start_server(cmd, port, seconds=120, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, env=env, cwd=tmp, start_new_session=True)
    # MLflow's gunicorn answers once its workers have migrated the database.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/health")  # open without credentials
            if c.getresponse().status == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    return proc, port, store


def measure(kind):
    tmp = tempfile.mkdtemp(prefix=f"bench-{kind}-")
    proc, port, store = start(kind, tmp)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def call(method, path, body=None, headers=HDR):
        conn.request(method, path, body, headers)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise SystemExit(f"{kind} {path}: {r.status} {data[:200]}")
        return data

    def post(path, body):
        return json.loads(call("POST", "/api/2.0/mlflow" + path, json.dumps(body)))

    def get(path):
        return json.loads(call("GET", "/api/2.0/mlflow" + path))

    if args.auth and kind == "plinth":
        # A user who is not an admin, so that every route's permission check runs.
        post("/users/create", {"username": "bench", "password": "bench-user-pw"})
        AUTH["Authorization"] = "Basic " + base64.b64encode(b"bench:bench-user-pw").decode()
        HDR.update(AUTH)
    res = {"store": store.split(":")[0]}
    exp = post("/experiments/create", {"name": "bench"})["experiment_id"]
    run = post("/runs/create", {"experiment_id": exp, "start_time": 0})["run"]["info"]["run_id"]
    now = int(time.time() * 1000)

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
                    {["Content-Type"] = "application/json"AUTHHEADER}, body)
end
""".replace("RUN", run).replace(
            "AUTHHEADER", "".join(f', ["{k}"] = "{v}"' for k, v in AUTH.items())))
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{args.seconds}s", "--latency", "-s", lua,
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            res["log_metric_16_clients_per_s"] = float(parts[1])
        if parts[:1] == ["99%"]:
            v = parts[1]
            res["log_metric_16_clients_p99_ms"] = (
                float(v[:-2]) if v.endswith("ms") else float(v[:-2]) / 1000
                if v.endswith("us") else float(v[:-1]) * 1000)
        if "Non-2xx" in line or "Socket errors" in line:
            res.setdefault("wrk_errors", []).append(line.strip())

    n = 1000
    t0 = time.perf_counter()
    for i in range(n):
        post("/runs/log-metric", {"run_id": run, "key": "loss", "value": 1.0 / (i + 1),
                                  "timestamp": now + i, "step": i})
    res["log_metric_1_client_per_s"] = n / (time.perf_counter() - t0)

    bodies = [json.dumps({"run_id": run, "metrics": [
        {"key": "acc", "value": i / args.metrics, "timestamp": now + i, "step": b * 1000 + i}
        for i in range(1000)]}) for b in range(args.metrics // 1000)]
    times = []
    for body in bodies:
        t0 = time.perf_counter()
        call("POST", "/api/2.0/mlflow/runs/log-batch", body)
        times.append(time.perf_counter() - t0)
    res["log_batch_1000_median_ms"] = statistics.median(times) * 1000

    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        get(f"/runs/get?run_id={run}")
        times.append(time.perf_counter() - t0)
    res["get_run_median_ms"] = statistics.median(times) * 1000

    t0 = time.perf_counter()
    hist = get(f"/metrics/get-history?run_id={run}&metric_key=acc")
    res["get_history_all_points_ms"] = (time.perf_counter() - t0) * 1000
    assert len(hist["metrics"]) == (args.metrics // 1000) * 1000, len(hist["metrics"])

    t0 = time.perf_counter()
    for i in range(args.runs):
        rid = post("/runs/create", {"experiment_id": exp, "start_time": now + i,
                                    "tags": [{"key": "team", "value": f"t{i % 10}"}]}
                   )["run"]["info"]["run_id"]
        params = [{"key": "model", "value": ["gbdt", "linear", "mlp"][i % 3]},
                  {"key": "depth", "value": str(i % 12)}]
        params += [{"key": f"p{j}", "value": str((i * j) % 97)} for j in range(8)]
        metrics = [{"key": "acc", "value": (i % 1000) / 1000.0, "timestamp": now, "step": 0},
                   {"key": "loss", "value": 1 - (i % 1000) / 1000.0, "timestamp": now, "step": 0}]
        metrics += [{"key": f"m{j}", "value": ((i * j) % 101) / 101.0, "timestamp": now,
                     "step": 0} for j in range(8)]
        post("/runs/log-batch", {"run_id": rid, "params": params, "metrics": metrics})
    res["create_and_log_runs_per_s"] = args.runs / (time.perf_counter() - t0)

    cases = {
        "search_first_page_100": {"experiment_ids": [exp], "max_results": 100},
        "search_filter_metric_param_tag": {
            "experiment_ids": [exp], "max_results": 1000,
            "filter": "metrics.acc > 0.9 and params.model = 'gbdt' and tags.team = 't3'"},
        "search_order_by_metric_1000": {"experiment_ids": [exp], "max_results": 1000,
                                        "order_by": ["metrics.acc DESC"]},
    }
    for name, body in cases.items():
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            found = post("/runs/search", body)
            times.append(time.perf_counter() - t0)
        res[name + "_ms"] = statistics.median(times) * 1000
        res[name + "_rows"] = len(found.get("runs", []))

    # An 8 MB artifact through the proxied route, up and down, 5 times each.
    blob = os.urandom(8 << 20)
    path = f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/model.bin"
    up, down = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        call("PUT", path, blob, {"Content-Type": "application/octet-stream", **AUTH})
        up.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        got = call("GET", path, None, dict(AUTH))
        down.append(time.perf_counter() - t0)
        assert got == blob
    res["artifact_8mb_upload_ms"] = statistics.median(up) * 1000
    res["artifact_8mb_download_ms"] = statistics.median(down) * 1000

    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    shutil.rmtree(tmp, ignore_errors=True)
    return res


servers = args.servers.split(",")
results = {kind: measure(kind) for kind in servers}
print(json.dumps(results, indent=1))
if len(servers) == 2:
    # Plinth's advantage per phase: throughput ratios, or MLflow's time over Plinth's.
    a, b = results["plinth"], results["mlflow"]
    higher_better = {"log_metric_16_clients_per_s", "log_metric_1_client_per_s",
                     "create_and_log_runs_per_s"}
    print(f"\n| phase | Plinth | MLflow | Plinth's advantage |\n|---|---:|---:|---:|")
    ratios = {}
    for key in a:
        if key.endswith("_rows") or key == "store" or key == "wrk_errors" or key not in b:
            continue
        ratio = a[key] / b[key] if key in higher_better else b[key] / a[key]
        ratios[key] = ratio
        print(f"| {key} | {a[key]:,.2f} | {b[key]:,.2f} | {ratio:,.1f}x |")
    results["advantage"] = ratios
os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
with open(os.path.join(HERE, "out", "tracking_side_by_side" + ("_auth" if args.auth else "") +
                       ".json"), "w") as f:
    json.dump(results, f, indent=1)
