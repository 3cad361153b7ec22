#!/usr/bin/env python3
"""Nothing a client of `plinth server` sends makes it touch files outside its artifact root or
store a number other than the one sent:

- the artifact routes (GET, PUT, list, DELETE, get-artifact, artifacts/list)
  refuse paths through a symbolic link in the artifact root that leads outside it with a 4xx
  and MLflow's error JSON, leaving the outside files as they were; a GET of a FIFO in the root
  is refused at once instead of hanging;
- registered model names that cannot be a file name ('../x', 'a/b', control characters) are
  refused by registered-models/create and /rename (400 INVALID_PARAMETER_VALUE);
- int64 fields of the REST bodies (metric steps and timestamps, start and end times) out of
  range or not integral are refused with 400 INVALID_PARAMETER_VALUE naming the field, and
  2^63 - 1 is kept exactly;
- wrong-typed members nested in a body (a dataset's name, a tag that is not an object) are
  refused with 400 INVALID_PARAMETER_VALUE naming the member, never a 500.

usage: safety_test.py PLINTH
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks, free_port, start_server  # noqa: E402

PLINTH = sys.argv[1]
check = Checks("safety_test")
work = tempfile.mkdtemp(prefix="plinth-safety-")


def call(port, method, path, body=None, query=None, raw=None, timeout=10):
    url = f"http://127.0.0.1:{port}/api/2.0{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Content-Type": "application/json"} if data is not None else {}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text, status = r.read(), r.status
    except urllib.error.HTTPError as e:
        text, status = e.read(), e.code
    except OSError as e:  # a timeout: the server hung on the request
        return 0, str(e)
    try:
        return status, json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return status, text.decode(errors="replace")


def refused(resp, code=None):
    status, body = resp
    return (400 <= status < 500 and isinstance(body, dict) and "error_code" in body
            and (code is None or body["error_code"] == code))


# ---- plinth server: artifacts, registry names, int64 fields ----

root = os.path.join(work, "artifacts")
outside = os.path.join(work, "outside")
os.makedirs(os.path.join(root, "1", "run", "artifacts"))
os.makedirs(outside)
secret = os.path.join(outside, "secret.txt")
with open(secret, "w") as f:
    f.write("secret")
os.makedirs(os.path.join(outside, "sub"))
open(os.path.join(outside, "sub", "kept.txt"), "w").close()
os.symlink(outside, os.path.join(root, "out"))
os.symlink(secret, os.path.join(root, "1", "run", "artifacts", "secret-link"))
os.mkfifo(os.path.join(root, "pipe"))
port = free_port()
server = start_server([PLINTH, "server", "--store", f"sqlite:///{work}/mlflow.db",
                       "--artifacts-root", root, "--port", str(port)], port,
                      stderr=subprocess.DEVNULL)
try:
    art = "/mlflow-artifacts/artifacts"
    check(call(port, "PUT", f"{art}/1/run/artifacts/ok.txt", raw=b"fine")[0] == 200,
          "PUT inside the root")
    st, body = call(port, "GET", f"{art}/1/run/artifacts/ok.txt")
    check(st == 200 and body == "fine", f"GET inside the root: {st} {body!r}")
    for what, resp in [
            ("GET", call(port, "GET", f"{art}/out/secret.txt")),
            ("GET of a link to a file", call(port, "GET", f"{art}/1/run/artifacts/secret-link")),
            ("PUT", call(port, "PUT", f"{art}/out/secret.txt", raw=b"overwritten")),
            ("PUT of a new file", call(port, "PUT", f"{art}/out/new.txt", raw=b"new")),
            ("PUT of a new directory", call(port, "PUT", f"{art}/out/d/new.txt", raw=b"new")),
            ("list", call(port, "GET", art, query={"path": "out"})),
            ("DELETE", call(port, "DELETE", f"{art}/out/secret.txt")),
            ("DELETE of a directory", call(port, "DELETE", f"{art}/out/sub"))]:
        check(refused(resp), f"{what} through a link out of the root: {resp}")
    st, body = call(port, "GET", art, query={"path": "1/run/artifacts"})
    names = [f["path"] for f in body.get("files", [])] if isinstance(body, dict) else body
    check(st == 200 and names == ["ok.txt"], f"a listing leaves escaping links out: {st} {body}")
    st, body = call(port, "GET", art)
    names = [f["path"] for f in body.get("files", [])] if isinstance(body, dict) else body
    check(st == 200 and "out" not in names and "pipe" not in names,
          f"the root's listing: no escaping link, no FIFO: {body}")
    # A run's artifacts, as the UI and MlflowClient.list_artifacts reach them.
    st, body = call(port, "POST", "/mlflow/runs/create", {"experiment_id": "0"})
    run_id = body["run"]["info"]["run_id"]
    run_dir = os.path.join(root, body["run"]["info"]["artifact_uri"]
                           .removeprefix("mlflow-artifacts:").lstrip("/"))
    os.makedirs(run_dir, exist_ok=True)
    os.symlink(outside, os.path.join(run_dir, "leak"))
    for what, resp in [
            ("get-artifact", call(port, "GET", "/get-artifact",
                                  query={"run_id": run_id, "path": "leak/secret.txt"})),
            ("artifacts/list", call(port, "GET", "/mlflow/artifacts/list",
                                    query={"run_id": run_id, "path": "leak"}))]:
        check(refused(resp), f"{what} through a link out of the root: {resp}")
    start = time.monotonic()
    resp = call(port, "GET", f"{art}/pipe", timeout=5)
    check(refused(resp) and time.monotonic() - start < 4, f"GET of a FIFO: {resp}")
    left = sorted(os.path.relpath(os.path.join(d, f), outside)
                  for d, _, files in os.walk(outside) for f in files)
    check(left == ["secret.txt", "sub/kept.txt"] and open(secret).read() == "secret",
          f"outside the root, as it was: {left}")

    # Registered model names.
    for name in ["../evil", "a/b", "a\\b", "..", ".", "x\ny", "nul\x00", "a" * 257]:
        resp = call(port, "POST", "/mlflow/registered-models/create", {"name": name})
        check(refused(resp, "INVALID_PARAMETER_VALUE") and resp[0] == 400,
              f"create {name!r}: {resp}")
    for name in ["churn", "Churn model v2.1", "churn_v-2", "a" * 256]:
        st, body = call(port, "POST", "/mlflow/registered-models/create", {"name": name})
        check(st == 200 and body["registered_model"]["name"] == name, f"create {name!r}: {body}")
    resp = call(port, "POST", "/mlflow/registered-models/rename",
                {"name": "churn", "new_name": "../../evil"})
    check(refused(resp, "INVALID_PARAMETER_VALUE") and resp[0] == 400, f"rename: {resp}")

    # int64 fields.
    now = int(time.time() * 1000)
    big = 2 ** 63
    cases = [
        ("step", "/mlflow/runs/log-metric",
         {"run_id": run_id, "key": "m", "value": 1, "timestamp": now, "step": big}),
        ("step", "/mlflow/runs/log-metric",
         {"run_id": run_id, "key": "m", "value": 1, "timestamp": now, "step": -big - 1}),
        ("step", "/mlflow/runs/log-metric",
         {"run_id": run_id, "key": "m", "value": 1, "timestamp": now, "step": 1.5}),
        ("step", "/mlflow/runs/log-metric",
         {"run_id": run_id, "key": "m", "value": 1, "timestamp": now, "step": 1e19}),
        ("step", "/mlflow/runs/log-metric",
         {"run_id": run_id, "key": "m", "value": 1, "timestamp": now, "step": str(big)}),
        ("timestamp", "/mlflow/runs/log-metric",
         {"run_id": run_id, "key": "m", "value": 1, "timestamp": big}),
        ("step", "/mlflow/runs/log-batch",
         {"run_id": run_id, "metrics": [{"key": "m", "value": 1, "timestamp": now,
                                         "step": 2 ** 64}]}),
        ("start_time", "/mlflow/runs/create", {"experiment_id": "0", "start_time": big}),
        ("end_time", "/mlflow/runs/update", {"run_id": run_id, "end_time": big}),
    ]
    for field, path, body in cases:
        st, resp = call(port, "POST", path, body)
        check(st == 400 and isinstance(resp, dict)
              and resp.get("error_code") == "INVALID_PARAMETER_VALUE"
              and f"'{field}'" in resp.get("message", ""),
              f"{path} {field}={body.get(field, body.get('metrics'))!r}: {st} {resp}")
    st, _ = call(port, "POST", "/mlflow/runs/log-metric",
                 {"run_id": run_id, "key": "m", "value": 2, "timestamp": now,
                  "step": 2 ** 63 - 1})
    check(st == 200, "log-metric at step 2^63 - 1")
    st, body = call(port, "GET", "/mlflow/metrics/get-history",
                    query={"run_id": run_id, "metric_key": "m"})
    steps = [m["step"] for m in body.get("metrics", [])] if isinstance(body, dict) else body
    check(st == 200 and steps == [2 ** 63 - 1], f"only the valid point, exactly: {steps}")

    # Wrong-typed members nested in a body: a 400 naming the member, never a 500.
    ds = {"name": "d", "digest": "x", "source_type": "local", "source": "a.csv"}
    nested = [
        ("'name'", "/mlflow/runs/log-inputs",
         {"run_id": run_id, "datasets": [{"dataset": dict(ds, name=5)}]}),
        ("'schema'", "/mlflow/runs/log-inputs",
         {"run_id": run_id, "datasets": [{"dataset": dict(ds, schema={"a": 1})}]}),
        ("'tags'", "/mlflow/runs/log-inputs",
         {"run_id": run_id, "datasets": [{"dataset": ds, "tags": "x"}]}),
        ("'tags'", "/mlflow/experiments/create", {"name": "e", "tags": [5]}),
        ("'value'", "/mlflow/runs/log-batch",
         {"run_id": run_id, "metrics": [{"key": "m", "value": [], "timestamp": now}]}),
    ]
    for field, path, body in nested:
        st, resp = call(port, "POST", path, body)
        check(st == 400 and isinstance(resp, dict)
              and resp.get("error_code") == "INVALID_PARAMETER_VALUE"
              and field in resp.get("message", ""),
              f"{path} {json.dumps(body)}: {st} {resp}")
    st, _ = call(port, "POST", "/mlflow/runs/log-inputs",
                 {"run_id": run_id, "datasets": [{"dataset": ds}]})
    check(st == 200, "log-inputs with a well-typed dataset")
finally:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()

check.done()
