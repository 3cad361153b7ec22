#!/usr/bin/env python3
"""Real-time serving side by side, in one run on this machine, driven by wrk from 127.0.0.1 at
1, 16 and 64 connections with 1-row and 100-row POST bodies:

- nginx serving a static file of the same size as the answer: the HTTP limit of the machine;
- the Python server of our reference design: FastAPI under gunicorn with 2 uvicorn workers (one
  per core), scoring the model with python3-xgboost;
- `plinth serve` on the very same XGBoost model (imported with `plinth models import-xgboost`);
- `plinth serve` on a GBDT bundle trained by Plinth on the adult data (preprocessing included).

The imported model: 100 trees of depth 6 on California housing's 8 numeric columns (binary:
median house value above the median).

With --before PLINTH (another build's binary, e.g. the last commit's), every `plinth serve`
configuration runs with that binary too, right before the one under test, and the summary gives
the ratios after/before: a change's cost, measured side by side.

usage: serve_bench.py BUILD_DIR [--seconds 5] [--before PLINTH] [--plinth-only] [--only TEXT]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "pylib"))
from plinth_procs import free_port, start_server, train_adult  # noqa: E402

import housing_model  # noqa: E402

FEATURES = housing_model.FEATURES

FASTAPI_APP = """
import datetime
import numpy as np
import xgboost as xgb
from fastapi import FastAPI
from pydantic import BaseModel

booster = xgb.Booster(model_file=%r)
booster.set_param({"nthread": 1})
app = FastAPI()


class Rows(BaseModel):
    data: list[list[float]]


@app.post("/predict")
def predict(rows: Rows):
    p = booster.inplace_predict(np.asarray(rows.data, dtype=np.float64))
    return {"predictions": (p > 0.5).astype(int).tolist(),
            "probabilities": [[1 - float(v), float(v)] for v in p],
            "model_version": "1",
            "timestamp": datetime.datetime.utcnow().isoformat() + "Z"}
"""

NGINX_CONF = """
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx.err warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port};
    root {tmp}/www;
    default_type application/json;
  }}
}}
"""

# Each connection cycles through its own turn of BODIES distinct bodies (consecutive slices of
# the data), so that the servers, their caches and the prediction log see varied rows.
BODIES = 32
WRK_POST = """
local reqs = {{}}
local n = 0
init = function(args)
  for i = 0, {count} - 1 do
    local f = io.open("{prefix}" .. i .. ".json")
    reqs[#reqs + 1] = wrk.format("POST", wrk.path, {{["Content-Type"] = "application/json"}},
                                 f:read("*a"))
    f:close()
  end
  n = math.random(#reqs)
end
request = function()
  n = n % #reqs + 1
  return reqs[n]
end
"""


def wrk_script(tmp, name, frame, n):
    """Writes BODIES request bodies of `n` consecutive rows of `frame` ({"data": [[...]]}) and
    the wrk script that cycles through them; returns the script's path."""
    prefix = os.path.join(tmp, f"{name}_{n}_")
    for i in range(BODIES):
        with open(f"{prefix}{i}.json", "w") as f:
            json.dump({"data": frame.iloc[i * n:(i + 1) * n].values.tolist()}, f)
    script = os.path.join(tmp, f"{name}_{n}.lua")
    with open(script, "w") as f:
        f.write(WRK_POST.format(prefix=prefix, count=BODIES))
    return script


def python_server(app, port):
    """The command serving the ASGI APP ("module:name", from the working directory) on PORT as
    FastAPI's documentation deploys it: gunicorn with 2 uvicorn workers (one per core).
    gunicorn sets TCP_NODELAY on its listening socket; `uvicorn --workers 2` does not (its
    socket's protocol number is 0, so asyncio skips it), and each answer then waits for the
    client's delayed ACK: about 44 ms per request, which made that server 40x slower at one
    connection."""
    return ["/usr/bin/python3", "-m", "gunicorn", "-w", "2", "-k", "uvicorn.workers.UvicornWorker",
            "-b", f"127.0.0.1:{port}", "--log-level", "warning", app]


def wrk(url, conns, seconds, script=None):
    """(requests/s, p50 ms, p99 ms, non-2xx count) of a wrk run."""
    cmd = ["wrk", f"-t{min(conns, 2)}", f"-c{conns}", f"-d{seconds}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", script]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        return float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    return rate, pct(50), pct(99), int(bad.group(1)) if bad else 0, errors.group(0) if errors else ""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--before", help="another plinth binary to run side by side")
    p.add_argument("--plinth-only", action="store_true",
                   help="skip nginx and FastAPI (with --before: a before/after comparison)")
    p.add_argument("--only", default="", help="run the plinth configurations whose label has this (a comma list)")
    p.add_argument("--rounds", type=int, default=1,
                   help="run the plinth configurations this many times, alternating; medians")
    args = p.parse_args()
    import pandas as pd

    plinth = os.path.join(args.build, "apps/plinth/plinth")
    data_dir = housing_model.DATASETS
    tmp = tempfile.mkdtemp(prefix="plinth-serve-bench-")
    os.chmod(tmp, 0o755)  # nginx's workers run as another user
    df, _, model, imported = housing_model.build(plinth, tmp)
    adult = train_adult(plinth, data_dir, tmp, epochs=60)
    monitoring = {}
    for interval in ("30s", "2s"):  # the default, and a window recomputed 15 times as often
        monitoring[interval] = os.path.join(tmp, f"monitoring-{interval}.yaml")
        with open(monitoring[interval], "w") as f:
            f.write(f"window: {{duration: 1h, rows: 100000}}\ninterval: {interval}\nalerts:\n"
                    "  - {name: Slow, metric: latency_p99_ms, threshold: 100}\n"
                    "  - {name: Drift, metric: dataset_drift_share, threshold: 0.05}\n")
    adult_rows = pd.read_csv(os.path.join(data_dir, "adult_test.csv")).drop(
        columns=["income", "fnlwgt"])
    adult_rows = adult_rows.astype(object).where(adult_rows.notna(), None)

    bodies = {}
    for n in (1, 100):
        # Housing rows with a missing value would need NaN, which is not JSON.
        for name, frame in (("housing", df[FEATURES].dropna()), ("adult", adult_rows)):
            bodies[(name, n)] = wrk_script(tmp, name, frame, n)

    # Servers: each started, measured at every load, and stopped before the next.
    app_dir = os.path.join(tmp, "app")
    os.makedirs(app_dir)
    with open(os.path.join(app_dir, "app.py"), "w") as f:
        f.write(FASTAPI_APP % model)
    results = []

    def run(label, cmd, port, path, model_name, cwd=None, get=False):
        proc = start_server(cmd, port, seconds=60, cwd=cwd, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        try:
            for n in (1, 100):
                url = f"http://127.0.0.1:{port}{path}" + (f"_{n}.json" if get else "")
                script = None if get else bodies[(model_name, n)]
                wrk(url, 16, 1, script)  # warm-up
                for conns in (1, 16, 64):
                    rate, p50, p99, bad, errors = wrk(url, conns, args.seconds, script)
                    if bad:
                        sys.exit(f"{label}: {bad} answers were not 2xx")
                    results.append((label, n, conns, rate, p50, p99, bad, errors))
                    print(f"{label:40s} {n:4d} rows {conns:3d} conns {rate:10,.0f} req/s  "
                          f"p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  non-2xx {bad} {errors}",
                          flush=True)
            if label.startswith("plinth"):
                # The prediction log was on, as in production: how much of it was written.
                metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read()
                logged = {m.group(1): int(m.group(2)) for m in re.finditer(
                    rb'plinth_serve_log_rows_total\{result="(\w+)"\} (\d+)', metrics)}
                print(f"{label}: prediction log rows written {logged.get(b'written', 0):,}, "
                      f"dropped {logged.get(b'dropped', 0):,}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    if not args.plinth_only:
        # nginx serves files the size of plinth's answers for 1 and 100 rows.
        www = os.path.join(tmp, "www")
        os.makedirs(www)
        port = free_port()
        sizes = {}
        probe = start_server([plinth, "serve", imported, "--port", str(port), "--prediction-log",
                              "off"], port,
                             stderr=subprocess.DEVNULL)
        for n in (1, 100):
            out = subprocess.run(["curl", "-s", "-XPOST", "-H", "Content-Type: application/json",
                                  "--data-binary", f"@{os.path.join(tmp, f'housing_{n}_0.json')}",
                                  f"http://127.0.0.1:{port}/predict"], capture_output=True,
                                 check=True).stdout
            sizes[n] = len(out)
            with open(os.path.join(www, f"answer_{n}.json"), "wb") as f:
                f.write(out)
        probe.terminate()
        probe.wait()
        port = free_port()
        with open(os.path.join(tmp, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(tmp=tmp, port=port))
        run("nginx static file (HTTP limit)", ["nginx", "-p", tmp, "-c",
                                               os.path.join(tmp, "nginx.conf"), "-g",
                                               "daemon off;"], port, "/answer", None, get=True)
        port = free_port()
        run("FastAPI + xgboost (gunicorn)", python_server("app:app", port), port, "/predict",
            "housing", cwd=app_dir)
    configs = [
        ("plinth serve (same xgboost model)", [imported, "--threads", "2", "--prediction-log",
                                               os.path.join(tmp, "log-housing")], "housing"),
        ("plinth serve (adult GBDT bundle)", [adult, "--threads", "2", "--prediction-log",
                                              os.path.join(tmp, "log-adult")], "adult"),
        # The same two servers' costs apart: without the prediction log, and with dynamic
        # batching.
        ("plinth serve (adult, no prediction log)", [adult, "--threads", "2",
                                                     "--prediction-log", "off"], "adult"),
        ("plinth serve (adult, dynamic batching)", [adult, "--threads", "16", "--max-batch-size",
                                                    "256", "--max-queue-delay-us", "200",
                                                    "--prediction-log",
                                                    os.path.join(tmp, "log-batched")], "adult"),
        # Live monitoring on top of the prediction log: the window of up to 100,000 rows
        # (drift, CBPE, PCA) recomputed every 30 s (the default) or every 2 s while wrk runs.
        ("plinth serve (adult, live monitoring)", [adult, "--threads", "2", "--prediction-log",
                                                   os.path.join(tmp, "log-monitored"),
                                                   "--monitor", monitoring["30s"]], "adult"),
        ("plinth serve (adult, live monitoring every 2s)",
         [adult, "--threads", "2", "--prediction-log", os.path.join(tmp, "log-monitored-2s"),
          "--monitor", monitoring["2s"]], "adult"),
    ]
    configs = [c for c in configs if any(part in c[0] for part in args.only.split(","))]
    for _ in range(args.rounds):
        for label, flags, model_name in configs:
            binaries = ([(label + " [before]", args.before)] if args.before else []) + \
                [(label, plinth)]
            for name, binary in binaries:
                port = free_port()
                run(name, [binary, "serve"] + flags + ["--port", str(port)], port, "/predict",
                    model_name)
    # Monitoring's cost: the medians over the rounds, with and without, at 64 connections.
    import statistics
    for n in (1, 100):
        def median(label):
            rows = [r for r in results if r[0] == label and r[1] == n and r[2] == 64]
            return (statistics.median(r[3] for r in rows),
                    statistics.median(r[5] for r in rows)) if rows else None
        base = median("plinth serve (adult GBDT bundle)")
        for label in ("plinth serve (adult, live monitoring)",
                      "plinth serve (adult, live monitoring every 2s)"):
            m = median(label)
            if base and m:
                print(f"{label[14:-1]}, {n:3d} rows at 64 conns (medians of {args.rounds}): "
                      f"req/s {m[0]:,.0f} vs {base[0]:,.0f} ({m[0] / base[0]:.2f}), p99 "
                      f"{m[1]:.2f} vs {base[1]:.2f} ms ({m[1] / base[1]:.2f})")

    with open(os.path.join(args.build, "serve_bench.json"), "w") as f:
        json.dump([dict(zip(("server", "rows", "conns", "rps", "p50_ms", "p99_ms", "non2xx",
                             "errors"), r)) for r in results], f, indent=1)
    by = {(r[0].split(" (")[0] if r[0].startswith("nginx") else r[0], r[1], r[2]): r
          for r in results}
    for label, _, _ in configs:
        r1, r100 = by[(label, 1, 64)], by[(label, 100, 64)]
        line = f"{label}: 1 row at 64 conns {r1[3]:,.0f} req/s, p99 {r1[5]:.2f} ms; 100 rows p99 " \
               f"{r100[5]:.2f} ms"
        if not args.plinth_only:
            nginx = by[("nginx static file", 1, 64)][3]
            fast = by[("FastAPI + xgboost (gunicorn)", 1, 64)][3]
            line += f" ({r1[3] / nginx:.0%} of nginx, {r1[3] / fast:.1f}x FastAPI)"
        print(line)
        if args.before:
            for n in (1, 100):
                for conns in (1, 16, 64):
                    a, b = by[(label, n, conns)], by[(label + " [before]", n, conns)]
                    print(f"  after/before, {n:3d} rows {conns:2d} conns: req/s {a[3] / b[3]:.2f}, "
                          f"p99 {a[5] / b[5]:.2f}")
    if not args.plinth_only:
        print(f"answer sizes: {sizes[1]} and {sizes[100]} bytes")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
