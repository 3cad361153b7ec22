#!/usr/bin/env python3
"""`plinth serve` over real sockets: a bundle trained on the adult data answers POST /predict
with the same probabilities as the bundle read through the training CSV reader
(tests/tools/bundle_tool, to 1e-9), for rows sent as objects and as arrays; bad requests get
4xx answers naming the row and column; /metrics counts what was served; SIGTERM exits 0.

usage: serve_test.py PLINTH BUNDLE_TOOL DATASETS_DIR
"""
import csv
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks, free_port, start_server, train_adult  # noqa: E402

PLINTH, TOOL, DATA = sys.argv[1:4]
check = Checks("serve_test")
work = tempfile.mkdtemp(prefix="plinth-serve-")
bundle = train_adult(PLINTH, DATA, work, epochs=60)
meta = json.load(open(os.path.join(bundle, "plinth-model.json")))
columns = [c["name"] for c in meta["input_schema"]]
types = {c["name"]: c["type"] for c in meta["input_schema"]}

# 200 test rows, with their missing values (empty fields) as JSON nulls.
test_csv = os.path.join(work, "rows.csv")
with open(os.path.join(DATA, "adult_test.csv")) as src:
    rows = list(csv.DictReader(src))[:200]
with open(test_csv, "w", newline="") as out:
    w = csv.DictWriter(out, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)


def value(name, text):
    if text.strip() == "":
        return None
    return int(text) if types[name] == "int64" else float(text) if types[name] == "float64" \
        else text


objects = [{c: value(c, r[c]) for c in columns} for r in rows]
arrays = [[o[c] for c in columns] for o in objects]
subprocess.run([TOOL, "predict", bundle, test_csv, os.path.join(work, "expected.csv")],
               check=True)
with open(os.path.join(work, "expected.csv")) as f:
    expected = [float(line.split(",")[0]) for line in f.read().split()[1:]]

# Bad flags: one line naming the flag, exit 2, nothing served.
for flag, value in (("--max-rows", "-1"), ("--max-body-mb", "0"), ("--port", "70000"),
                    ("--request-timeout", "0"), ("--keep-alive", "-5"),
                    ("--max-connections", "0"), ("--feedback-memory", "0")):
    p = subprocess.run([PLINTH, "serve", bundle, flag, value], capture_output=True, text=True,
                       timeout=30)
    check(p.returncode == 2 and p.stderr.startswith(f"plinth: error: {flag}")
          and p.stderr.count("\n") == 1, f"{flag} {value}: {p.returncode} {p.stderr!r}")

port = free_port()
log_dir = os.path.join(work, "log")
server = start_server([PLINTH, "serve", bundle, "--port", str(port), "--max-rows", "500",
                       "--keep-alive", "1", "--prediction-log", log_dir], port,
                      stderr=subprocess.PIPE, text=True)


def call(path, body=None, method=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


for name, data in (("objects", objects), ("arrays", arrays)):
    status, text = call("/predict", {"data": data})
    check(status == 200, f"{name}: status {status} {text[:200]}")
    body = json.loads(text)
    probs = body["probabilities"]
    check(len(body["predictions"]) == 200 and len(probs) == 200, f"{name}: 200 answers")
    check(body["classes"] == meta["class_labels"], f"{name}: classes {body['classes']}")
    worst = max(abs(p[1] - e) for p, e in zip(probs, expected))
    check(worst < 1e-9, f"{name}: probabilities differ from the CSV path by {worst}")
    check(all(abs(sum(p) - 1) < 1e-9 for p in probs), f"{name}: probabilities sum to 1")
    check(all(body["classes"][max(range(2), key=lambda k: p[k])] == c
              for p, c in zip(probs, body["predictions"])), f"{name}: predictions follow")
    digest = hashlib.sha256(open(os.path.join(bundle, "plinth-model.json"), "rb").read())
    check(body["model_version"] == digest.hexdigest()[:12], f"{name}: model_version")
    check(body["timestamp"].endswith("Z") and "T" in body["timestamp"], "timestamp")

predicted = body["predictions"]
request_id = body.get("request_id", "")
check(len(request_id) == 16, f"a request id in the answer: {request_id!r}")

# X-Request-Id: the client's id is kept and echoed.
req = urllib.request.Request(f"http://127.0.0.1:{port}/predict", method="POST",
                             data=json.dumps({"data": objects[:2]}).encode(),
                             headers={"Content-Type": "application/json",
                                      "X-Request-Id": "client-7"})
with urllib.request.urlopen(req, timeout=30) as r:
    check(r.headers.get("X-Request-Id") == "client-7" and
          json.loads(r.read())["request_id"] == "client-7", "X-Request-Id kept")

# Feedback: the true labels of the 200 rows, by request id and row; live accuracy follows.
truth = [r["income"] for r in rows]
status, text = call("/feedback", {"feedback": [
    {"request_id": request_id, "row": i, "label": t} for i, t in enumerate(truth)] + [
    {"request_id": "nope", "label": "<=50K"}, {"request_id": request_id, "row": 200,
                                                "label": "<=50K"}]})
answer = json.loads(text)
check(status == 200 and answer.get("matched") == 200 and len(answer.get("unknown", [])) == 2,
      f"/feedback: {status} {text[:300]}")
live_accuracy = sum(p == t for p, t in zip(predicted, truth)) / len(truth)
for body, part in (({"feedback": [{"row": 0, "label": "x"}]}, "feedback[0]: expected"),
                   ({"feedback": [{"request_id": "a", "row": -1, "label": "x"}]},
                    "feedback[0].row: expected an integer >= 0"),
                   ({"feedback": []}, "with 1 to 500 items")):
    status, text = call("/feedback", body)
    check(status == 400 and part in json.loads(text).get("error", ""),
          f"/feedback {part}: {status} {text}")


def scores(path, body, raw=None, content_type="application/json"):
    status, text = call(path, body, raw=raw, content_type=content_type)
    check(status == 200, f"{path}: status {status} {text[:300]}")
    return json.loads(text) if status == 200 else {}


# MLflow's scoring protocol: every body shape gives /predict's answers.
reordered = list(reversed(columns)) + ["unused"]
mlflow_bodies = {
    "dataframe_split": {"dataframe_split": {
        "columns": reordered, "data": [[o[c] for c in reordered[:-1]] + [1] for o in objects]}},
    "dataframe_records": {"dataframe_records": objects},
    "instances": {"instances": arrays},
    "inputs (columns)": {"inputs": {c: [o[c] for o in objects] for c in columns}},
}
for name, body in mlflow_bodies.items():
    got = scores("/invocations", body).get("predictions")
    check(got == predicted, f"/invocations {name}: predictions differ from /predict")
got = scores("/invocations", None, raw=open(test_csv, "rb").read(),
             content_type="text/csv; charset=utf-8").get("predictions")
check(got == predicted, "/invocations text/csv: predictions differ from /predict")
for content_type, body, raw, want, part in (
        ("text/plain", None, b"x", 415, "Content-Type 'text/plain'"),
        ("text/csv; charset=latin-1", None, b"x", 415, "charset=latin-1"),
        ("application/json", {"instances": arrays, "inputs": arrays}, None, 400,
         'both "instances" and "inputs"'),
        ("application/json", {"instances": [arrays[0][:3]]}, None, 400,
         "instances[0]: expected"),
        ("text/csv", None, b"age,sex\n1,Male\n", 400, "text/csv body: missing column"),
        ("text/csv", None, open(test_csv, "rb").read().replace(b"\n39,", b"\nold,", 1), 400,
         'column "age": expected int64')):
    status, text = call("/invocations", body, raw=raw, content_type=content_type)
    err = json.loads(text)
    check(status == want and err.get("error_code") == "BAD_REQUEST" and part in err["message"],
          f"/invocations {part}: {status} {text[:300]}")

# KServe v2: one tensor per column, typed; or one [N, F] tensor of strings.
KSERVE_TYPES = {"int64": "INT64", "float64": "FP64", "string": "BYTES", "bool": "BOOL"}
tensors = [{"name": c, "datatype": KSERVE_TYPES[types[c]], "shape": [200],
            "data": [o[c] for o in objects]} for c in columns]
base = "/v2/models/adult-income"
for name, body in (
        ("per column", {"id": "r1", "inputs": tensors}),
        ("one tensor", {"inputs": [{"name": "x", "datatype": "BYTES", "shape": [200, len(columns)],
                                    "data": [None if v is None else str(v)
                                             for a in arrays for v in a]}]})):
    answer = scores(base + "/infer", body)
    outs = {o["name"]: o for o in answer.get("outputs", [])}
    check(answer.get("model_name") == "adult-income" and answer.get("id") == body.get("id"),
          f"infer {name}: model name and id")
    probs = outs.get("probabilities", {})
    check(probs.get("shape") == [200, 2] and probs.get("datatype") == "FP64",
          f"infer {name}: probabilities shape {probs.get('shape')}")
    worst = max(abs(p - e) for p, e in zip(probs.get("data", [])[1::2], expected)) \
        if probs else 1
    check(worst < 1e-9, f"infer {name}: probabilities differ from the CSV path by {worst}")
    check(outs.get("predictions", {}).get("data") == predicted, f"infer {name}: predictions")
only = scores(base + f"/versions/{digest.hexdigest()[:12]}/infer",
              {"inputs": tensors, "outputs": [{"name": "predictions"}]})
check([o["name"] for o in only.get("outputs", [])] == ["predictions"], "infer: outputs filter")
check(scores("/v2", None).get("name") == "plinth", "/v2 server metadata")
check(scores("/v2/health/ready", None) == {"ready": True}, "/v2/health/ready")
check(scores("/v2/health/live", None) == {"live": True}, "/v2/health/live")
check(scores(base + "/ready", None) == {"name": "adult-income", "ready": True}, "model ready")
model_meta = scores(base, None)
check([i["name"] for i in model_meta.get("inputs", [])] == columns and
      model_meta.get("versions") == [digest.hexdigest()[:12]], f"model metadata {model_meta}")
wrong_width = [dict(t) for t in tensors]
wrong_width[1]["shape"], wrong_width[1]["data"] = [199], wrong_width[1]["data"][:199]
for path, body, want, part in (
        ("/v2/models/other/infer", {"inputs": tensors}, 404, "no model 'other'"),
        (base + "/versions/9/infer", {"inputs": tensors}, 404, "no version '9'"),
        (base + "/infer", {"inputs": wrong_width}, 400, "expected [200] or [200, 1]"),
        (base + "/infer", {"inputs": [dict(tensors[0], datatype="FP64")]}, 400,
         "no tensor for column 'workclass'"),
        (base + "/infer", {"inputs": [dict(tensors[0], name="x")]}, 400,
         "expected one tensor per model column"),
        (base + "/infer", {"inputs": [dict(tensors[1], datatype="INT64")]}, 400,
         "expected a INT64 value"),
        (base + "/infer", {"inputs": [dict(tensors[0], shape=[3])]}, 400, "holds 3 values"),
        (base + "/infer", {"inputs": tensors, "outputs": [{"name": "x"}]}, 400, "no output 'x'")):
    status, text = call(path, body)
    err = json.loads(text).get("error", "")
    check(status == want and part in err, f"{path} {part}: {status} {text[:300]}")
v1 = scores("/v1/models/adult-income:predict", {"instances": objects})
check(v1.get("predictions") == predicted, "KServe v1 predict")

bad_row = dict(objects[0])
del bad_row["age"]
cases = [
    ({"data": [bad_row]}, None, 400, "data[0]: missing column 'age'"),
    ({"data": [arrays[0][:-1]]}, None, 400, f"data[0]: expected {len(columns)} values"),
    ({"data": [dict(objects[0], age="old")]}, None, 400,
     'data[0].age: expected an integer (column type int64), got "old"'),
    ({"data": arrays * 3}, None, 413, "600 rows, more than the limit of 500"),
    ({"rows": []}, None, 400, "expected {\"data\""),
    (None, b'{"data": [', 400, "request body:1:"),
]
for body, raw, want, part in cases:
    status, text = call("/predict", body, raw=raw)
    check(status == want, f"{part}: status {status}")
    err = json.loads(text).get("error", "")
    check(part in err, f"error {err!r} should contain {part!r}")
check(call("/predict", method="GET")[0] == 405, "GET /predict is 405")
status, text = call("/nope")
check(status == 404 and "error" in json.loads(text), "unknown path: JSON 404")
check(call("/ping") == (200, "OK"), "/ping")
metrics = call("/metrics")[1]
check("plinth_serve_predicted_rows_total 2202" in metrics, "rows counted")
check('route="/predict",method="POST",status="400"' in metrics, "errors counted by status")
check('plinth_serve_model_info{name="adult-income"' in metrics, "model info")
live = re.search(r"^plinth_serve_live_accuracy (\S+)$", metrics, re.M)
check(live is not None and abs(float(live.group(1)) - live_accuracy) <= 1e-12,
      f"live accuracy {live_accuracy!r} in /metrics: {live.group(1) if live else None}")
check('plinth_serve_feedback_rows_total{result="matched"} 200' in metrics and
      'plinth_serve_feedback_rows_total{result="unknown"} 2' in metrics, "feedback counted")
per_class = sum(int(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                if line.startswith("plinth_serve_predictions_total{"))
check(per_class == 2202, f"predictions by class sum to the rows scored: {per_class}")
check("plinth_serve_prediction_confidence_count 2202" in metrics, "confidence histogram")
check('plinth_serve_log_rows_total{result="dropped"} 0' in metrics, "no log rows dropped")
# The whole exposition as Prometheus' own Python client parses it (Debian's python3-prometheus-client).
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
families = {f.name: f for f in text_string_to_metric_families(metrics)}
check(families["plinth_serve_request_rows"].type == "histogram" and
      families["plinth_serve_live_accuracy"].type == "gauge" and
      families["plinth_serve_http_requests"].type == "counter",
      f"families parsed with their types: {sorted(families)}")
confidence = {s.labels.get("le"): s.value for s in families["plinth_serve_prediction_confidence"].samples
              if s.name.endswith("_bucket")}
check(confidence.get("+Inf") == 2202, f"the confidence histogram's +Inf bucket: {confidence}")

# --keep-alive 1: an idle keep-alive connection is closed after a second.
with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
    conn.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    first = conn.recv(4096)
    time.sleep(2)
    check(first.startswith(b"HTTP/1.1 200") and conn.recv(4096) == b"",
          "--keep-alive 1: the idle connection is closed")

server.send_signal(signal.SIGTERM)
check(server.wait(timeout=10) == 0, "SIGTERM: exit 0")

# Dynamic batching: eight clients at once, each sending its own 3 rows again and again; every
# answer must be the prediction of its own rows, while the model calls merge requests.
port = free_port()
server = start_server([PLINTH, "serve", bundle, "--port", str(port), "--threads", "8",
                       "--max-batch-size", "64", "--max-queue-delay-us", "2000",
                       "--prediction-log", "off"], port, stderr=subprocess.PIPE, text=True)


def client(k, results):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    mine = list(range(3 * k, 3 * k + 3))
    for _ in range(40):
        conn.request("POST", "/predict", json.dumps({"data": [objects[i] for i in mine]}),
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        body = json.loads(r.read())
        results.append(r.status == 200 and max(
            abs(p[1] - expected[i]) for p, i in zip(body["probabilities"], mine)) < 1e-9)


def batched_clients(what):
    """Eight clients at once; every answer must be its own rows', and model calls merged."""
    results = []
    clients = [threading.Thread(target=client, args=(k, results)) for k in range(8)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    check(len(results) == 320 and all(results),
          f"{what}: each answer is its request's own: {sum(results)} of {len(results)}")
    metrics = call("/metrics")[1]
    calls = int(re.search(r"plinth_serve_batch_requests_count (\d+)", metrics).group(1))
    merged = int(re.search(r'plinth_serve_batch_requests_bucket\{le="1"\} (\d+)',
                           metrics).group(1))
    check(calls < 320 and calls - merged > 0,
          f"{what}: requests were merged: {calls} model calls for 320 requests, "
          f"{calls - merged} merged")


batched_clients("batched")
server.send_signal(signal.SIGTERM)
check(server.wait(timeout=10) == 0, "SIGTERM with batching: exit 0")

# The I/O thread does not wait for a batch: with one I/O thread, concurrent requests still
# share model calls (the batcher answers each through the server's Responder).
port = free_port()
server = start_server([PLINTH, "serve", bundle, "--port", str(port), "--threads", "1",
                       "--max-batch-size", "64", "--max-queue-delay-us", "20000",
                       "--prediction-log", "off"], port, stderr=subprocess.PIPE, text=True)
batched_clients("one I/O thread, batched")
server.send_signal(signal.SIGTERM)
check(server.wait(timeout=10) == 0, "SIGTERM with batching on one I/O thread: exit 0")
for flag, value in (("--max-batch-size", "-1"), ("--max-queue-delay-us", "20000000")):
    p = subprocess.run([PLINTH, "serve", bundle, flag, value], capture_output=True, text=True,
                       timeout=30)
    check(p.returncode == 2 and p.stderr.startswith(f"plinth: error: {flag}"),
          f"{flag} {value}: {p.returncode} {p.stderr!r}")

# --feedback-memory 3: the server remembers its 3 latest requests, the oldest forgotten first.
port = free_port()
server = start_server([PLINTH, "serve", bundle, "--port", str(port), "--feedback-memory", "3",
                       "--prediction-log", "off"], port, stderr=subprocess.PIPE, text=True)


def predict_as(request_id, i):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/predict",
                                 data=json.dumps({"data": [objects[i]]}).encode(),
                                 headers={"Content-Type": "application/json",
                                          "X-Request-Id": request_id})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["predictions"][0]


def feedback_for(ids):
    status, text = call("/feedback", {"feedback": [{"request_id": i, "label": ">50K"}
                                                   for i in ids]})
    body = json.loads(text) if status == 200 else {}
    return body.get("matched"), sorted(u["request_id"] for u in body.get("unknown", []))


predicted_as = {f"r{i}": predict_as(f"r{i}", i) for i in range(5)}
got = feedback_for([f"r{i}" for i in range(5)])
check(got == (3, ["r0", "r1"]), f"memory of 3: r2..r4 known, r0 and r1 forgotten: {got}")
predict_as("r3", 3)  # a repeated id takes over its own slot: nothing else is forgotten
got = feedback_for(["r2", "r3", "r4"])
check(got == (3, []), f"a repeated id forgets nothing: {got}")
predicted_as["r5"] = predict_as("r5", 5)  # the oldest slot (r2's) goes
got = feedback_for(["r2", "r3", "r4", "r5"])
check(got == (3, ["r2"]), f"the next new id forgets r2: {got}")
# Matched rows, each labelled ">50K": r2-r4, r2-r4, r3-r5.
matched = ["r2", "r3", "r4"] * 2 + ["r3", "r4", "r5"]
accuracy = sum(predicted_as[r] == ">50K" for r in matched) / len(matched)
metrics = call("/metrics")[1]
live = re.search(r"plinth_serve_live_accuracy ([\d.e-]+)", metrics)
check('plinth_serve_feedback_rows_total{result="matched"} 9' in metrics and
      'plinth_serve_feedback_rows_total{result="unknown"} 3' in metrics and live and
      abs(float(live.group(1)) - accuracy) < 1e-9,
      f"feedback counted against the remembered requests (live accuracy {accuracy})")
server.send_signal(signal.SIGTERM)
check(server.wait(timeout=10) == 0, "SIGTERM: exit 0")

# The prediction log: closed segments only, a line per scored request holding every row, the
# first request's rows as sent and as answered, and the feedback.
files = sorted(os.listdir(log_dir))
check(files and not any(f.endswith(".partial") for f in files), f"closed segments: {files}")
lines = [json.loads(line) for f in files if f.startswith("predictions-")
         for line in open(os.path.join(log_dir, f))]
logged = [r for r in lines if "status" not in r]
# Requests answered with an error are logged without rows (the error rate monitoring reads).
failed = [r for r in lines if "status" in r]
check(failed and all(400 <= r["status"] <= 599 and r["rows"] == 0 and "features" not in r and
                     r["route"] in ("/predict", "/invocations") or "/v" in r["route"]
                     for r in failed), f"error lines: {failed[:3]}")


def values(column):
    """A logged column's values: an array, or a string column's dictionary and indices."""
    if isinstance(column, dict):
        return [None if i is None else column["dictionary"][i] for i in column["indices"]]
    return column


total = sum(r["rows"] for r in logged)
check(total == 2202, f"{total} logged rows, expected 2202")
check(all(len(r["predictions"]) == r["rows"] and
          all(len(values(v)) == r["rows"] for v in r["features"].values()) for r in logged),
      "every logged column holds the request's rows")
first = [r for r in logged if r["request_id"] == request_id]
check(len(first) == 1 and first[0]["rows"] == 200, "the request logged once, with its 200 rows")
first = first[0] if first else {"features": {}, "predictions": [], "probabilities": {}}
MISSING = ("", "NA", "N/A", "NaN", "null", "?")  # read as missing, logged as null
check(list(first["features"]) == columns and
      all(values(first["features"][c]) == [None if o[c] in MISSING else o[c] for o in objects]
          for c in columns), "logged features as read, in the model's column order")
check(any(isinstance(v, dict) for v in first["features"].values()),
      "repeating string columns logged as a dictionary")
check(first["predictions"] == predicted, "logged predictions as answered")
# Logged as the model's float32 outputs: the same value to float32's precision.
# A binary model logs its positive class alone (the other is 1 minus it).
check(list(first["probabilities"]) == [">50K"] and len(first["probabilities"][">50K"]) == 200 and
      all(abs(v - e) < 1e-7 for v, e in zip(first["probabilities"][">50K"], expected)),
      "logged probabilities")
check(first.get("model") == "adult-income" and
      first.get("model_version") == digest.hexdigest()[:12] and
      first.get("route") == "/predict" and first.get("latency_ms", 0) > 0, "logged metadata")

# Bearer tokens (--auth-token-file): scoring needs a token, /admin/reload an admin one,
# health stays public by default; the file must be private and well formed.
tokens = os.path.join(work, "tokens")
with open(tokens, "w") as f:
    f.write("# who may call\nscore score-token-0123456789\nadmin admin-token-0123456789\n")
os.chmod(tokens, 0o644)
bad = subprocess.run([PLINTH, "serve", bundle, "--port", "0", "--auth-token-file", tokens],
                     capture_output=True, text=True, timeout=60)
check(bad.returncode == 2 and "chmod 600" in bad.stderr, f"a readable token file refused: {bad.stderr}")
os.chmod(tokens, 0o600)
for text, message in (("score short\n", "at least 16 characters"),
                      ("owner abcdefghijklmnopqrstuvwxyz\n", "unknown role 'owner'")):
    odd = os.path.join(work, "odd-tokens")
    with open(odd, "w") as f:
        f.write(text)
    os.chmod(odd, 0o600)
    r = subprocess.run([PLINTH, "serve", bundle, "--port", "0", "--auth-token-file", odd],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 2 and message in r.stderr and "odd-tokens:1" in r.stderr,
          f"bad token file: {r.stderr.strip()}")
port = free_port()
server = start_server([PLINTH, "serve", bundle, "--port", str(port), "--prediction-log", "off",
                       "--auth-token-file", tokens], port, stderr=subprocess.PIPE, text=True)


def status(path, token=None, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="GET" if body is None
                                 else "POST", data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


one = {"data": [objects[0]]}
check(status("/predict", None, one) == 401, "no token: 401")
check(status("/predict", "score-token-012345678", one) == 401, "a wrong token: 401")
check(status("/predict", "score-token-0123456789", one) == 200, "a score token scores")
check(status("/predict", "admin-token-0123456789", one) == 200, "an admin token scores")
check(status("/admin/reload", "score-token-0123456789", {}) == 403, "a score token cannot reload")
check(status("/admin/reload", "admin-token-0123456789", {}) == 200, "an admin token reloads")
check(status("/health") == 200 and status("/metrics") == 401 and status("/version") == 401,
      "health public; metrics and metadata need a token by default")
check(status("/metrics", "score-token-0123456789") == 200, "metrics with a token")
server.send_signal(signal.SIGTERM)
server.wait(timeout=30)
feedback = [json.loads(line) for f in files if f.startswith("feedback-")
            for line in open(os.path.join(log_dir, f))]
check(len(feedback) == 202 and feedback[0] == {**feedback[0], "request_id": request_id, "row": 0,
                                               "label": truth[0]}, "logged feedback")
check.done()
