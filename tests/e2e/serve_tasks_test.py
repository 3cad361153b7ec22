#!/usr/bin/env python3
"""Serving and `plinth predict` for every kind of task, not only a binary gbdt: a regressor
(diabetes, gbdt), a multiclass model with string labels (iris with species names, gbdt), one
with numeric labels (wine, target 0/1/2, gbdt) and an mlp bundle (iris with species names).

For each bundle, on held-out rows:
  - `plinth predict` (CSV), POST /predict, /invocations (MLflow), /v2/models/NAME/infer
    (KServe v2) and /v1/models/NAME:predict (KServe v1) give the same predictions, and the
    same probabilities/values to 1e-9;
  - the metric computed here from `plinth predict`'s output and the labels (MAE, accuracy)
    equals `plinth evaluate --json` on the same file and, for the regressor, the bundle's own
    test metrics are in the same range;
  - POST /feedback with the true labels of every answered row makes the server's live metric
    (plinth_serve_live_mae, plinth_serve_live_accuracy in /metrics) equal to the one computed
    here from /predict's answers and the labels, to 1e-9.

usage: serve_tasks_test.py PLINTH DATASETS_DIR
"""
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks, free_port, start_server  # noqa: E402

PLINTH, DATA = sys.argv[1:3]
check = Checks("serve_tasks_test")
work = tempfile.mkdtemp(prefix="plinth-serve-tasks-")
IRIS = {"0": "setosa", "1": "versicolor", "2": "virginica"}


def split_file(name, source, target, rename=None, every=4):
    """Writes WORK/NAME_train.csv and NAME_test.csv (every `every`th row held out); returns
    (train path, test path, test rows as dicts)."""
    with open(os.path.join(DATA, source)) as f:
        rows = list(csv.DictReader(f))
    if rename:
        for r in rows:
            r[target] = rename[r[target]]
    paths = []
    for part, keep in (("train", lambda i: i % every != 0), ("test", lambda i: i % every == 0)):
        path = os.path.join(work, f"{name}_{part}.csv")
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
            w.writeheader()
            w.writerows(r for i, r in enumerate(rows) if keep(i))
        paths.append(path)
    test = [r for i, r in enumerate(rows) if i % every == 0]
    return paths[0], paths[1], test


def train(name, train_csv, target, task, kind, epochs):
    config = os.path.join(work, f"{name}.yaml")
    with open(config, "w") as f:
        f.write(f"name: {name}\nseed: 1\n"
                f"data: {{path: {train_csv}, target: {target}, task: {task}}}\n"
                f"model: {{type: {kind}, epochs: {epochs}}}\n"
                f"output: {name}\n")
    p = subprocess.run([PLINTH, "train", config, "-q", "--json", config + ".json"],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"{name}: train: {p.returncode} {p.stderr}")
    return os.path.join(work, name), json.load(open(config + ".json")) if p.returncode == 0 else {}


def call(port, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def answer(port, path, body, what):
    status, text = call(port, path, body)
    check(status == 200, f"{what}: {path}: {status} {text[:300]}")
    return json.loads(text) if status == 200 else {}


def near(a, b, tol=1e-9):
    return len(a) == len(b) and all(abs(x - y) <= tol * max(1.0, abs(y)) for x, y in zip(a, b))


def run_case(name, source, target, task, kind, epochs, rename=None):
    train_csv, test_csv, test = split_file(name, source, target, rename)
    bundle, report = train(name, train_csv, target, task, kind, epochs)
    if not report:
        return
    meta = json.load(open(os.path.join(bundle, "plinth-model.json")))
    schema = meta["input_schema"]
    columns = [c["name"] for c in schema]
    regression = task == "regression"
    labels = meta.get("class_labels", [])
    if not regression:
        check(sorted(labels) == sorted(set(r[target] for r in test)),
              f"{name}: class labels {labels}")

    # plinth predict: the CSV path.
    out = os.path.join(work, f"{name}_pred.csv")
    p = subprocess.run([PLINTH, "predict", bundle, "--input", test_csv, "--output", out, "-q"],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"{name}: predict: {p.returncode} {p.stderr}")
    with open(out) as f:
        got = list(csv.DictReader(f))
    check(len(got) == len(test), f"{name}: predict wrote {len(got)} rows for {len(test)}")
    truth = [r[target] for r in test]
    if regression:
        csv_values = [float(r["prediction"]) for r in got]
        metric = sum(abs(v - float(t)) for v, t in zip(csv_values, truth)) / len(truth)
    else:
        csv_classes = [r["prediction"] for r in got]
        csv_probs = [[float(r[f"probability_{c}"]) for c in labels] for r in got]
        metric = sum(c == t for c, t in zip(csv_classes, truth)) / len(truth)
        check(all(labels[max(range(len(labels)), key=lambda k: p[k])] == c
                  for p, c in zip(csv_probs, csv_classes)), f"{name}: predict: likeliest class")

    # plinth evaluate on the same file gives the metric computed from predict's output.
    ev = os.path.join(work, f"{name}_eval.json")
    p = subprocess.run([PLINTH, "evaluate", bundle, test_csv, "--json", ev],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"{name}: evaluate: {p.returncode} {p.stderr}")
    key = "mae" if regression else "accuracy"
    evaluated = json.load(open(ev)) if p.returncode == 0 else {}
    flat = evaluated.get("metrics", evaluated)
    check(key in flat and abs(flat[key] - metric) <= 1e-9 * max(1.0, metric),
          f"{name}: evaluate {key} {flat.get(key)!r}, from predict's output {metric!r}")
    if regression:
        bundle_mae = report.get("metrics", {}).get("test", {}).get("mae") or \
            report.get("test_metrics", {}).get("mae")
        check(bundle_mae is not None and 0.5 * bundle_mae < metric < 2 * bundle_mae,
              f"{name}: held-out MAE {metric} far from the bundle's test MAE {bundle_mae}")

    # The server: every protocol gives predict's answers.
    def typed(c, text):
        if text == "":
            return None
        return int(text) if c["type"] == "int64" else float(text) \
            if c["type"] == "float64" else text
    objects = [{c["name"]: typed(c, r[c["name"]]) for c in schema} for r in test]
    arrays = [[o[c] for c in columns] for o in objects]
    port = free_port()
    server = start_server([PLINTH, "serve", bundle, "--port", str(port), "--prediction-log",
                           "off"], port, stderr=subprocess.PIPE, text=True)
    try:
        body = answer(port, "/predict", {"data": objects}, name)
        preds = body.get("predictions", [])
        # Numeric class labels travel as JSON numbers (wine: 0, 1, 2), others as strings.
        numeric_labels = not regression and all(isinstance(p, int) for p in preds)
        check(numeric_labels == (name == "wine"), f"{name}: labels as numbers: {preds[:3]}")
        as_text = [str(p) for p in preds] if numeric_labels else preds
        request_id = body.get("request_id", "")
        if regression:
            check(near(preds, csv_values), f"{name}: /predict values differ from predict's")
        else:
            check(as_text == csv_classes, f"{name}: /predict classes differ from predict's")
            classes = body.get("classes", [])
            check([str(c) for c in classes] == labels, f"{name}: /predict classes {classes}")
            check(all(near(a, b) for a, b in zip(body.get("probabilities", []), csv_probs)) and
                  len(body.get("probabilities", [])) == len(test),
                  f"{name}: /predict probabilities differ from predict's")
        mlflow = answer(port, "/invocations", {"dataframe_records": objects}, name)
        check(mlflow.get("predictions") == preds, f"{name}: /invocations differs from /predict")
        v1 = answer(port, f"/v1/models/{name}:predict", {"instances": objects}, name)
        check(v1.get("predictions") == preds, f"{name}: KServe v1 differs from /predict")
        kinds = {"int64": "INT64", "float64": "FP64", "string": "BYTES", "bool": "BOOL"}
        tensors = [{"name": c["name"], "datatype": kinds[c["type"]], "shape": [len(test)],
                    "data": [o[c["name"]] for o in objects]} for c in schema]
        v2 = answer(port, f"/v2/models/{name}/infer", {"inputs": tensors}, name)
        outs = {o["name"]: o for o in v2.get("outputs", [])}
        check(outs.get("predictions", {}).get("data") == preds,
              f"{name}: KServe v2 predictions differ from /predict")
        if not regression:
            flat_probs = [x for row in csv_probs for x in row]
            check(outs.get("probabilities", {}).get("shape") == [len(test), len(labels)] and
                  near(outs["probabilities"].get("data", []), flat_probs),
                  f"{name}: KServe v2 probabilities differ from predict's")

        # Feedback: the true label of every row; the live metric from the same answers.
        # A client sends labels back in the type the server answers with.
        items = [{"request_id": request_id, "row": i,
                  "label": float(t) if regression else int(t) if numeric_labels else t}
                 for i, t in enumerate(truth)]
        fb = answer(port, "/feedback", {"feedback": items}, name)
        check(fb.get("matched") == len(truth) and fb.get("unknown") == [],
              f"{name}: /feedback {fb}")
        if regression:
            want = sum(abs(v - float(t)) for v, t in zip(preds, truth)) / len(truth)
            gauge = "plinth_serve_live_mae"
        else:
            want = sum(c == t for c, t in zip(as_text, truth)) / len(truth)
            gauge = "plinth_serve_live_accuracy"
        metrics = call(port, "/metrics")[1]
        live = re.search("^" + gauge + r" (\S+)$", metrics, re.M)
        check(live is not None and abs(float(live.group(1)) - want) <= 1e-9,
              f"{name}: {gauge} {live.group(1) if live else None}, computed here {want!r}")
        check(abs(want - metric) <= 1e-9 * max(1.0, metric),
              f"{name}: live {want!r} and evaluate {metric!r} on the same rows")
        print(f"{name}: {len(test)} rows, {key} {metric:.6g}, live {want:.6g}")
        if regression:
            # A regressor's label must be a number.
            status, text = call(port, "/feedback", {"feedback": [
                {"request_id": request_id, "row": 0, "label": "abc"}]})
            check(status == 400 and "feedback[0].label: expected a number" in text,
                  f"{name}: a non-numeric label: {status} {text}")
    finally:
        server.send_signal(signal.SIGTERM)
        check(server.wait(timeout=10) == 0, f"{name}: SIGTERM: exit 0")


run_case("diabetes", "sklearn_diabetes.csv", "target", "regression", "gbdt", 30)
run_case("iris", "sklearn_iris.csv", "target", "multiclass", "gbdt", 20, rename=IRIS)
run_case("wine", "sklearn_wine.csv", "target", "multiclass", "gbdt", 20)
run_case("iris-mlp", "sklearn_iris.csv", "target", "multiclass", "mlp", 30, rename=IRIS)
check.done()
