#!/usr/bin/env python3
"""Trace ingestion and reading, plinth server side by side with MLflow 3.10.1's own server
(../shared/mlflow3, `python3 -m mlflow server` with its defaults), each on a fresh SQLite
database, same machine, same run:

  OTLP export of one span per request, as MLflow's client sends spans while they end (one
  client, sequential); OTLP export of 512 spans per request, as OpenTelemetry's batch span
  processor sends them; the same one-span exports from 16 concurrent clients (wrk: 2 threads,
  16 keep-alive connections, every span a new trace); then reading a trace of 5 spans back
  (traces/get) and searching an experiment's traces (traces/search, 100 per page; unfiltered,
  and with MLflow 3's span filters).

Bodies are OTLP protobuf built with OpenTelemetry's own message classes (the
opentelemetry-proto package in ../shared/mlflow3/deps), encoded beforehand. Prints a table with
Plinth's advantage per phase and writes bench/out/otlp_side_by_side.json.

usage: otlp_bench.py BUILD_DIR [--spans 2000] [--seconds 10] [--servers plinth,mlflow]
                     [--shared ../shared]
"""
import argparse
import http.client
import json
import os
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
p.add_argument("--spans", type=int, default=2000)
p.add_argument("--seconds", type=int, default=10)
p.add_argument("--servers", default="plinth,mlflow")
p.add_argument("--shared", default=os.path.join(HERE, "..", "..", "shared"))
args = p.parse_args()
args.shared = os.path.abspath(args.shared)  # the servers run in a scratch folder
plinth = os.path.abspath(os.path.join(args.build, "apps/plinth/plinth"))
sys.path.insert(0, os.path.join(args.shared, "mlflow3", "deps"))
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest)

NOW = time.time_ns()


def export(spans):
    """An ExportTraceServiceRequest of (trace, span, parent, name) tuples, ids as ints."""
    req = ExportTraceServiceRequest()
    scope = req.resource_spans.add().scope_spans.add()
    for i, (trace, span, parent, name) in enumerate(spans):
        s = scope.spans.add()
        s.trace_id = trace.to_bytes(16, "big")
        s.span_id = span.to_bytes(8, "big")
        if parent:
            s.parent_span_id = parent.to_bytes(8, "big")
        s.name = name
        s.start_time_unix_nano = NOW + i * 1000
        s.end_time_unix_nano = NOW + i * 1000 + 500
        for key, value in (("mlflow.spanType", '"CHAIN"'), ("mlflow.spanInputs", '{"q": 1}'),
                           ("mlflow.spanOutputs", '"ok"')):
            a = s.attributes.add()
            a.key, a.value.string_value = key, value
        s.status.code = 1
    return req.SerializeToString()


def start(kind, tmp):
    port = free_port()
    store = f"sqlite:///{tmp}/bench.db"
    if kind == "plinth":
        cmd = [plinth, "server", "--store", store, "--artifacts-root", f"{tmp}/art",
               "--port", str(port), "--threads", "2"]
        env = None
    else:
        cmd = ["/usr/bin/python3", "-m", "mlflow", "server", "--backend-store-uri", store,
               "--artifacts-destination", f"{tmp}/art", "--host", "127.0.0.1",
               "--port", str(port)]
        env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
        env["PYTHONPATH"] = ":".join([os.path.join(args.shared, "mlflow3", "client"),
                                      os.path.join(args.shared, "mlflow3", "deps")])
    proc = start_server(cmd, port, seconds=120, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, env=env, cwd=tmp, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    return proc, port


def measure(kind):
    tmp = tempfile.mkdtemp(prefix=f"otlp-bench-{kind}-")
    proc, port = start(kind, tmp)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def call(method, path, body=None, headers=None):
        nonlocal conn
        conn.request(method, path, body, headers or {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise SystemExit(f"{kind} {path}: {r.status} {data[:300]}")
        return data

    exp = json.loads(call("POST", "/api/2.0/mlflow/experiments/create",
                          json.dumps({"name": "otlp"})))["experiment_id"]
    otlp = {"Content-Type": "application/x-protobuf", "X-Mlflow-Experiment-Id": exp}
    res = {}

    # One span per export: traces of 5 spans, children first and the root last, as they end.
    bodies = []
    for t in range(args.spans // 5):
        trace = 1 + t
        root = trace * 16
        for k in range(1, 5):
            bodies.append(export([(trace, root + k, root, f"step{k}")]))
        bodies.append(export([(trace, root, 0, "request")]))
    times = []
    for body in bodies:
        t0 = time.perf_counter()
        call("POST", "/v1/traces", body, otlp)
        times.append(time.perf_counter() - t0)
    res["export_1_span_per_s"] = len(bodies) / sum(times)
    res["export_1_span_median_ms"] = statistics.median(times) * 1000

    # 512 spans per export (OpenTelemetry's BatchSpanProcessor), 64 traces of 8 spans each.
    batches = []
    for b in range(10):
        spans = []
        for t in range(64):
            trace = 1_000_000 + b * 64 + t
            root = trace * 16
            spans += [(trace, root + k, root, f"s{k}") for k in range(1, 8)]
            spans.append((trace, root, 0, "request"))
        batches.append(export(spans))
    times = []
    for body in batches:
        t0 = time.perf_counter()
        call("POST", "/v1/traces", body, otlp)
        times.append(time.perf_counter() - t0)
    res["export_512_spans_per_s"] = 512 * len(batches) / sum(times)

    # 16 concurrent clients, every span a new trace (wrk builds each body from a template).
    template = export([(0x0A0A0A0A0A0A0A0A0A0A0A0A0A0A0A0A, 0x0B0B0B0B0B0B0B0B, 0, "wrk")])
    at = template.index(b"\x0a" * 16)
    lua = os.path.join(tmp, "otlp.lua")

    def lua_bytes(data):
        return "".join(f"\\{c}" for c in data)  # Lua's decimal escapes

    script = """
local head = "HEAD"
local tail = "TAIL"
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) n = 0; math.randomseed(id * 7919 + os.time()) end
local function bytes4(x)
  return string.char(math.floor(x / 16777216) % 256, math.floor(x / 65536) % 256,
                     math.floor(x / 256) % 256, x % 256)
end
function request()
  n = n + 1
  local id16 = bytes4(id) .. bytes4(n) .. bytes4(math.random(0, 2147483647)) .. bytes4(2024)
  return wrk.format("POST", "/v1/traces",
                    {["Content-Type"] = "application/x-protobuf",
                     ["X-Mlflow-Experiment-Id"] = "EXP"}, head .. id16 .. tail)
end
"""
    with open(lua, "w") as f:
        f.write(script.replace("HEAD", lua_bytes(template[:at]))
                .replace("TAIL", lua_bytes(template[at + 16:])).replace("EXP", exp))
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{args.seconds}s", "--latency", "-s", lua,
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            res["export_16_clients_per_s"] = float(parts[1])
        if "Non-2xx" in line or "Socket errors" in line:
            res.setdefault("wrk_errors", []).append(line.strip())

    # Reading back: one trace of 5 spans, and a page of 100 traces' infos (on a new
    # connection: the old one idled through wrk's run).
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    trace_id = "tr-" + (1).to_bytes(16, "big").hex()
    times = []
    for _ in range(100):
        t0 = time.perf_counter()
        got = json.loads(call("GET", f"/api/3.0/mlflow/traces/get?trace_id={trace_id}"))
        times.append(time.perf_counter() - t0)
    assert len(got["trace"]["spans"]) == 5, got
    res["get_trace_5_spans_median_ms"] = statistics.median(times) * 1000
    body = json.dumps({"locations": [{"mlflow_experiment": {"experiment_id": exp}}],
                       "max_results": 100})
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        found = json.loads(call("POST", "/api/3.0/mlflow/traces/search", body))
        times.append(time.perf_counter() - t0)
    assert len(found["traces"]) == 100
    res["search_traces_100_median_ms"] = statistics.median(times) * 1000
    # MLflow 3's span filters: one span holding both clauses; a regular expression.
    for key, flt in [("search_span_name_status_100_median_ms",
                      "span.name = 'step2' AND span.status = 'OK'"),
                     ("search_span_rlike_100_median_ms", "span.name RLIKE '^step[23]$'")]:
        body = json.dumps({"locations": [{"mlflow_experiment": {"experiment_id": exp}}],
                           "filter": flt, "max_results": 100})
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            found = json.loads(call("POST", "/api/3.0/mlflow/traces/search", body))
            times.append(time.perf_counter() - t0)
        assert len(found["traces"]) == 100, (flt, len(found.get("traces", [])))
        res[key] = statistics.median(times) * 1000

    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    return res


results = {kind: measure(kind) for kind in args.servers.split(",")}
higher_better = {"export_1_span_per_s", "export_512_spans_per_s", "export_16_clients_per_s"}
print(f"{'phase':36} " + " ".join(f"{k:>12}" for k in results) + "   Plinth's advantage")
for key in results[next(iter(results))]:
    if key == "wrk_errors":
        continue
    row = [results[k].get(key) for k in results]
    line = f"{key:36} " + " ".join(f"{v:12.2f}" if isinstance(v, float) else f"{v!s:>12}"
                                    for v in row)
    if "plinth" in results and "mlflow" in results and key in results["mlflow"]:
        a, b = results["plinth"][key], results["mlflow"][key]
        ratio = a / b if key in higher_better else b / a
        line += f"   {ratio:.1f}x"
    print(line)
for kind, r in results.items():
    if "wrk_errors" in r:
        print(kind, "wrk:", r["wrk_errors"])
os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
with open(os.path.join(HERE, "out", "otlp_side_by_side.json"), "w") as f:
    json.dump(results, f, indent=2)
