#!/usr/bin/env python3
"""Monitoring against the reference set a model carries: `plinth train` writes
reference.csv.gz into the bundle (a seeded sample of the held-out rows with the model's
outputs, equal to what `plinth predict` answers for them), and `plinth monitor drift MODEL`
(a bundle or a models:/ URI) compares current data with it: features, the label (target
drift) and the model's outputs (prediction drift), the outputs of a CSV without them scored
by the model, the labels of a prediction log joined from its /feedback files; and the
errors (exit 2, one line).

usage: monitor_model_test.py PLINTH_BINARY DATASETS_DIR
"""
import filecmp
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import adult_test_rows, Checks, train_adult_project  # noqa: E402

check = Checks("monitor_model")


def check_cbpe_restated(run, path, ref, labels, est, real):
    from sklearn.isotonic import IsotonicRegression
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
    r = run("predict", "model", "--input", "aged.csv", "--output", "aged_scored.csv", "-q",
            "--keep-columns", "income")
    cur = pd.read_csv(path("aged_scored.csv"), keep_default_na=False)
    pos = f"probability_{labels[1]}"
    iso = IsotonicRegression(out_of_bounds="clip").fit(
        ref[pos].to_numpy(), (ref["income"].astype(str) == labels[1]).astype(float))
    p1 = iso.predict(cur[pos].to_numpy())
    yhat = (cur["prediction"].astype(str) == labels[1]).to_numpy()
    tp, fp = p1[yhat].sum(), (1 - p1[yhat]).sum()
    fn, tn = p1[~yhat].sum(), (1 - p1[~yhat]).sum()
    want = {"accuracy": (tp + tn) / len(p1), "precision": tp / (tp + fp),
            "recall": tp / (tp + fn), "f1": 2 * tp / (2 * tp + fp + fn)}
    for k, v in want.items():
        check(abs(est[k] - v) <= 1e-9, f"CBPE {k}: plinth {est[k]!r}, restated {v!r}")
    y = (cur["income"].astype(str) == labels[1]).to_numpy()
    for k, fn_ in [("accuracy", accuracy_score), ("precision", precision_score),
                   ("recall", recall_score), ("f1", f1_score)]:
        v = fn_(y, yhat)
        check(abs(real[k] - v) <= 1e-12, f"realized {k}: plinth {real[k]!r}, sklearn {v!r}")


def main():
    plinth, datasets = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory() as work:
        def run(*args):
            return subprocess.run([plinth, *args], capture_output=True, text=True, cwd=work)

        def path(name):
            return os.path.join(work, name)

        meta = train_adult_project(plinth, datasets, work)
        inputs = [c["name"] for c in meta["input_schema"]]
        labels = meta["class_labels"]
        ref = pd.read_csv(path("model/reference.csv.gz"), keep_default_na=False,
                          na_values=["", "?"])
        held_out = meta["data"]["validation_rows"] + meta["data"]["test_rows"]
        check(list(ref.columns) == inputs + ["income", "prediction"] +
              [f"probability_{c}" for c in labels], f"reference columns: {list(ref.columns)}")
        check(len(ref) == held_out, f"reference rows {len(ref)}, held out {held_out}")

        # The outputs in the reference set are the model's: plinth predict on the same rows.
        ref[inputs].to_csv(path("ref_inputs.csv"), index=False)
        r = run("predict", "model", "--input", "ref_inputs.csv", "--output", "ref_scored.csv", "-q")
        check(r.returncode == 0, f"predict: {r.stderr}")
        scored = pd.read_csv(path("ref_scored.csv"), keep_default_na=False)
        check((scored["prediction"].astype(str) == ref["prediction"].astype(str)).all(),
              "reference predictions differ from plinth predict")
        for c in labels:
            diff = np.abs(scored[f"probability_{c}"] - ref[f"probability_{c}"]).max()
            check(diff < 1e-6, f"probability_{c} differs from plinth predict by {diff}")

        # A smaller sample is seeded: two trainings write the same rows.
        for out in ("small_a", "small_b"):
            r = run("train", "train.yaml", "-q", "--set", "monitoring.reference_rows=1000",
                    "--set", f"output={out}", "--set", "tracking.register=false")
            check(r.returncode == 0, f"train {out}: {r.stderr}")
        small = [gzip.open(path(f"{o}/reference.csv.gz")).read() for o in ("small_a", "small_b")]
        lines = [s.count(b"\n") for s in small]
        check(small[0] == small[1] and lines[0] == 1001, f"seeded sample: {lines}")

        # Current data as a CSV: adult's test file, without outputs (the model scores it).
        test = adult_test_rows(datasets)
        test.to_csv(path("cur.csv"), index=False)
        for model in ("model", "models:/adult-income/1"):
            r = run("monitor", "drift", model, "--current", "cur.csv", "--json", "cur.json")
            check(r.returncode == 0, f"{model}: exit {r.returncode} {r.stderr}")
            report = json.load(open(path("cur.json")))
            roles = {c["column"]: c["role"] for c in report["columns"]}
            check(roles.get("income") == "target" and roles.get("prediction") == "prediction" and
                  roles.get(f"probability_{labels[1]}") == "prediction" and
                  [c for c, role in roles.items() if role == "feature"] == inputs,
                  f"{model}: roles {roles}")
            mv = report["multivariate_drift"]
            check(mv["drifted"] is False and mv["error"] <= mv["threshold"] and
                  mv["columns"] == len(inputs), f"{model}: multivariate {mv}")
            check(report["columns_compared"] == len(inputs) and
                  report["target_drift"] is False and report["prediction_drift"] is False and
                  report["model"]["name"] == "adult-income", f"{model}: {report}")
        # Older people: the features and the model's outputs drift.
        test[test["age"] > 50].to_csv(path("old.csv"), index=False)
        r = run("monitor", "drift", "model", "--current", "old.csv", "--json", "old.json")
        report = json.load(open(path("old.json")))
        check(report["prediction_drift"] is True and "prediction drift DETECTED" in r.stdout,
              f"old: {r.stdout[-400:]}")
        check(report["multivariate_drift"]["drifted"] is True and
              "multivariate drift DETECTED" in r.stdout, f"old: {report['multivariate_drift']}")

        # A prediction log with feedback for some rows: the labels join by request and row.
        logdir = path("log")
        os.makedirs(logdir)
        scored_test = test.head(1000)
        with open(os.path.join(logdir, "predictions-20261206T100000Z-1-000001.jsonl"), "w") as f:
            for k in range(50):
                chunk = scored_test.iloc[k * 20:(k + 1) * 20]
                feats = {c: [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)
                             for v in chunk[c]] for c in inputs}
                f.write(json.dumps({
                    "time": f"2026-12-06T10:{k:02d}:00Z", "request_id": f"q{k}",
                    "model": "adult-income", "model_version": "1", "route": "/predict",
                    "latency_ms": 2.0, "rows": 20, "features": feats,
                    "predictions": ["<=50K"] * 20,
                    "probabilities": {labels[1]: [0.1] * 20}}) + "\n")
        labelled = 0
        with open(os.path.join(logdir, "feedback-20261206T100000Z-1-000001.jsonl"), "w") as f:
            for k in range(0, 50, 2):
                for row in range(20):
                    label = scored_test["income"].iloc[k * 20 + row]
                    f.write(json.dumps({"time": "2026-12-06T11:00:00Z", "request_id": f"q{k}",
                                        "row": row, "label": label}) + "\n")
                    labelled += 1
            f.write('{"request_id": "q1", "row": 0}\n')  # no label: skipped
        r = run("monitor", "drift", "model", "--log", "log", "--json", "log.json")
        report = json.load(open(path("log.json")))
        income = next((c for c in report["columns"] if c["column"] == "income"), {})
        check(f"{labelled} labelled" in report["current"]["source"] and
              income.get("current_values") == labelled and income.get("role") == "target",
              f"log feedback: {report['current']} {income}")
        check(report["prediction_drift"] is True,  # every logged prediction is <=50K
              f"log prediction drift: {report['prediction_drift']}")

        # --window: the last hour of a log written hours ago holds no request.
        r = run("monitor", "drift", "model", "--log", "log", "--window", "1h")
        check(r.returncode == 2 and "not enough data: the prediction log log has no scored "
              "request in the last 1h" in r.stderr, f"--window: {r.returncode} {r.stderr!r}")
        # --log without DIR: where plinth serve writes the model's log.
        r = run("monitor", "drift", "model", "--log")
        check(r.returncode == 2 and "/.plinth/monitoring/adult-income: no such directory" in
              r.stderr, f"--log without DIR: {r.stderr!r}")

        # Errors: exit 2 and one line.
        r = run("train", "train.yaml", "-q", "--set", "monitoring.reference_rows=0",
                "--set", "output=noref", "--set", "tracking.register=false")
        check(r.returncode == 0 and not os.path.exists(path("noref/reference.csv.gz")),
              f"reference_rows 0: {r.returncode} {r.stderr}")
        for args, message in [
            (["monitor", "drift", "noref", "--current", "cur.csv"],
             "noref: the model has no reference set"),
            (["monitor", "drift", "--current", "cur.csv"], "MODEL or --reference"),
            (["train", "train.yaml", "--set", "monitoring.reference_rows=-1"],
             "key 'monitoring.reference_rows': expected an integer from 0 to 10000000, got -1"),
            (["train", "train.yaml", "--set", "monitoring.rows=5"], "monitoring.rows"),
        ]:
            r = run(*args)
            check(r.returncode == 2 and message in r.stderr and
                  r.stderr.strip().count("\n") <= 1, f"{args}: {r.returncode} {r.stderr!r}")
        # Estimated quality (CBPE) under a covariate shift: adult's test rows resampled towards
        # older people. The estimate is within 0.02 of the realized accuracy, and equal (to
        # 1e-9) to NannyML's method restated with scikit-learn's IsotonicRegression; the
        # realized metrics equal scikit-learn's.
        rng = np.random.default_rng(11)
        weight = np.exp((test["age"].to_numpy() - 38) / 12.0)
        shifted = test.iloc[rng.choice(len(test), size=8000, p=weight / weight.sum())]
        shifted.to_csv(path("aged.csv"), index=False)
        r = run("monitor", "drift", "model", "--current", "aged.csv", "--json", "aged.json")
        perf = json.load(open(path("aged.json")))["performance"]
        est, real = perf["estimated"], perf["realized"]
        check(est is not None and real is not None and real["rows"] == 8000 and
              abs(est["accuracy"] - real["accuracy"]) <= 0.02,
              f"CBPE under covariate shift: {perf}")
        check("estimated" in r.stdout and "(CBPE, 8000 rows)" in r.stdout, f"text: {r.stdout}")
        check_cbpe_restated(run, path, ref, labels, est, real)
        check(perf["reference"]["accuracy"] > 0.8, f"reference quality: {perf['reference']}")

        # A reference file given by hand replaces the model's.
        ref.head(500).to_csv(path("mine.csv"), index=False)
        r = run("monitor", "drift", "noref", "--reference", "mine.csv", "--current", "cur.csv",
                "--json", "mine.json")
        mine = json.load(open(path("mine.json")))
        check(r.returncode in (0, 1) and mine["reference"]["rows"] == 500 and
              mine["reference"]["source"] == "mine.csv", f"--reference: {r.stderr}")
        check(filecmp.cmp(path("small_a/reference.csv.gz"), path("small_b/reference.csv.gz"),
                          shallow=False), "gzip bytes of the seeded samples")
    check.done()


if __name__ == "__main__":
    main()
