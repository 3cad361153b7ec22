#!/usr/bin/env python3
"""`plinth monitor drift` as a user runs it: adult's train file as the reference against its
test file (no drift: exit 0) and against a shifted copy (dataset drift: exit 1), each column's
test, score and verdict equal to Evidently's definitions restated in drift_vs_scipy.py (to
1e-9); the rules file (a method and threshold per column, ignore, drift_share, min_values); the
JSON and HTML reports; and the errors (exit 2, one line naming the file, line, key or column).

usage: monitor_drift_test.py PLINTH_BINARY DATASETS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drift_vs_scipy as ref  # noqa: E402

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL", what)


def plinth(*args):
    return subprocess.run([PLINTH, "monitor", "drift", *args], capture_output=True, text=True)


def main():
    global PLINTH
    PLINTH, datasets = sys.argv[1], sys.argv[2]
    # "?" is adult's missing value, as Plinth's CSV reader reads it by default.
    train = pd.read_csv(os.path.join(datasets, "adult_train.csv"), skipinitialspace=True,
                        na_values=["?"])
    test = pd.read_csv(os.path.join(datasets, "adult_test.csv"), skipinitialspace=True,
                       na_values=["?"])
    rng = np.random.default_rng(3)
    with tempfile.TemporaryDirectory() as work:
        path = lambda name: os.path.join(work, name)  # noqa: E731
        train.to_csv(path("ref.csv"), index=False)
        test.to_csv(path("cur.csv"), index=False)
        shifted = test.copy()
        shifted["age"] = shifted["age"] + 8
        shifted["hours-per-week"] = shifted["hours-per-week"] * 1.3
        shifted["workclass"] = np.where(rng.random(len(shifted)) < 0.2, "Gig-economy",
                                        shifted["workclass"])
        shifted["education-num"] = shifted["education-num"] + 1
        shifted["capital-gain"] = shifted["capital-gain"] * 2
        shifted["race"] = "White"
        shifted["sex"] = "Male"
        shifted["fnlwgt"] = shifted["fnlwgt"] * 0.5
        shifted.to_csv(path("shift.csv"), index=False)

        r = plinth("--reference", path("ref.csv"), "--current", path("cur.csv"),
                   "--json", path("same.json"), "--html", path("same.html"))
        check(r.returncode == 0, f"no drift: exit {r.returncode} {r.stderr}")
        check("dataset drift not detected" in r.stdout, f"no drift: {r.stdout[-300:]}")
        r = plinth("--reference", path("ref.csv"), "--current", path("shift.csv"),
                   "--json", path("shift.json"), "--html", path("shift.html"))
        check(r.returncode == 1, f"drift: exit {r.returncode} {r.stderr}")
        check("dataset drift DETECTED" in r.stdout, f"drift: {r.stdout[-300:]}")

        # Every column as Evidently tests it.
        for name, current in (("same", test), ("shift", shifted)):
            with open(path(f"{name}.json")) as f:
                report = json.load(f)
            drifted = 0
            for col in report["columns"]:
                c = col["column"]
                numeric = col["type"] == "numeric"
                a, b = ref.ev_clean(train[c]), ref.ev_clean(current[c])
                if not numeric:
                    a, b = a.astype(str), b.astype(str)
                want = ref.evidently(a, b, numeric)
                check(col.get("method") == want["default"],
                      f"{name} {c}: method {col.get('method')} vs {want['default']}")
                score = want.get(col.get("method"))
                check(score is not None and ref.close(col["score"], float(score)),
                      f"{name} {c}: score {col['score']} vs {score}")
                drifted += col["drifted"]
            check(report["columns_drifted"] == drifted and report["columns_compared"] == 15,
                  f"{name}: counts {report['columns_drifted']}/{report['columns_compared']}")
            check(report["dataset_drift"] == (name == "shift"), f"{name}: dataset_drift")
            html = open(path(f"{name}.html")).read()
            check(html.count("<svg") == 15 and "dataset drift" in html, f"{name}: HTML report")
        workclass = next(c for c in json.load(open(path("shift.json")))["columns"]
                         if c["column"] == "workclass")
        check(workclass["new_categories"] == 1, f"new category counted: {workclass}")

        # Rules: a method and threshold, an ignored column, the share.
        with open(path("rules.yaml"), "w") as f:
            f.write("drift_share: 0.9\ncolumns:\n  age: {method: psi, threshold: 0.05}\n"
                    "  fnlwgt: {ignore: true}\n")
        r = plinth("--reference", path("ref.csv"), "--current", path("shift.csv"),
                   "--rules", path("rules.yaml"), "--json", path("rules.json"))
        report = json.load(open(path("rules.json")))
        age = next(c for c in report["columns"] if c["column"] == "age")
        want = ref.evidently(ref.ev_clean(train["age"]), ref.ev_clean(shifted["age"]), True)
        check(age["method"] == "psi" and ref.close(age["score"], float(want["psi"])) and
              age["threshold"] == 0.05, f"rules: age {age}")
        fnlwgt = next(c for c in report["columns"] if c["column"] == "fnlwgt")
        check(fnlwgt.get("skipped") == "ignored by the rules", f"rules: fnlwgt {fnlwgt}")
        check(r.returncode == 0 and report["columns_compared"] == 14,
              f"rules: drift_share 0.9 -> exit {r.returncode}, {report['columns_compared']}")
        # Too few values: "not enough data", never "no drift".
        test.head(20).to_csv(path("tiny.csv"), index=False)
        r = plinth("--reference", path("ref.csv"), "--current", path("tiny.csv"),
                   "--json", path("tiny.json"))
        tiny = json.load(open(path("tiny.json")))
        check(r.returncode == 2 and "not enough data: no feature has 30 values" in r.stderr and
              tiny["verdict"] == "not enough data" and all(
            c["skipped"].startswith("not enough data: ") for c in tiny["columns"]) and
            tiny["columns"][0]["skipped"] ==
            "not enough data: 20 values in the current sample, 30 needed",
            f"tiny: {r.returncode} {tiny['columns'][0]}")

        # The current data from a prediction log (docs/FORMATS.md): 100-row requests over two
        # hours, a dictionary-encoded column, a malformed line, a cut line in a .partial
        # segment; --since/--until take the first hour.
        logdir = path("log")
        os.makedirs(logdir)
        cols = ["age", "workclass", "hours-per-week"]
        window_rows = []
        with open(os.path.join(logdir, "predictions-20261206T100000Z-1-000001.jsonl"), "w") as f:
            for k, at in enumerate(range(0, 4000, 100)):
                chunk = test.iloc[at:at + 100]
                minute = k * 3  # 40 requests over 120 minutes
                feats = {c: [None if pd.isna(v) else (float(v) if c != "workclass" else v)
                             for v in chunk[c]] for c in cols}
                labels = sorted({v for v in feats["workclass"] if v is not None})
                feats["workclass"] = {"dictionary": labels, "indices": [
                    None if v is None else labels.index(v) for v in feats["workclass"]]}
                line = {"time": f"2026-12-06T{10 + minute // 60:02d}:{minute % 60:02d}:00.5Z",
                        "request_id": f"r{k}", "model": "adult", "model_version": "1",
                        "route": "/predict", "latency_ms": 1.0, "rows": len(chunk),
                        "features": feats, "predictions": ["<=50K"] * len(chunk)}
                f.write(json.dumps(line) + "\n")
                if minute < 60:
                    window_rows.append(chunk)
            f.write('{"time": "2026-12-06T10:30:00Z", "rows": 2, "features": {"age": [1]}}\n')
        with open(os.path.join(logdir, "predictions-20261206T120000Z-1-000002.jsonl.partial"),
                  "w") as f:
            f.write('{"time": "2026-12-06T10:10:00Z", "rows": 1, "feat')
        r = plinth("--reference", path("ref.csv"), "--log", logdir, "--since",
                   "2026-12-06T10:00:00Z", "--until", "2026-12-06T11:00:00Z", "--json",
                   path("log.json"))
        check(r.returncode in (0, 1) and "2 malformed log lines skipped" in r.stderr and
              "feature 'age': a column without one value per row" in r.stderr,
              f"log: exit {r.returncode} {r.stderr!r}")
        report = json.load(open(path("log.json")))
        window = pd.concat(window_rows)
        check("(20 requests since" in report["current"]["source"] and
              report["current"]["rows"] == len(window), f"log window: {report['current']}")
        check([c["column"] for c in report["columns"]] == cols, f"log columns: {report['columns']}")
        for col in report["columns"]:
            c = col["column"]
            numeric = c != "workclass"
            a, b = ref.ev_clean(train[c]), ref.ev_clean(window[c])
            if not numeric:
                a, b = a.astype(str), b.astype(str)
            want = ref.evidently(a, b, numeric)
            check(col["method"] == want["default"] and
                  ref.close(col["score"], float(want[col["method"]])),
                  f"log {c}: {col['method']} {col['score']} vs {want}")
        # Prediction drift: a reference with the model's outputs (as plinth predict writes
        # them) adds the log's prediction column to the comparison.
        with_pred = train[cols].copy()
        with_pred["prediction"] = np.where(train["age"] > 45, ">50K", "<=50K")
        with_pred.to_csv(path("ref_pred.csv"), index=False)
        r = plinth("--reference", path("ref_pred.csv"), "--log", logdir, "--json",
                   path("pred.json"))
        pred = json.load(open(path("pred.json")))
        prediction = next((c for c in pred["columns"] if c["column"] == "prediction"), None)
        want = ref.evidently(ref.ev_clean(with_pred["prediction"]),
                             pd.Series(["<=50K"] * pred["current"]["rows"]), False)
        check(prediction is not None and prediction["method"] == want["default"] and
              ref.close(prediction["score"], float(want[want["default"]])) and
              prediction["drifted"], f"prediction drift: {prediction} vs {want}")
        r = plinth("--reference", path("ref.csv"), "--log", logdir, "--since", "yesterday")
        check(r.returncode == 2 and "--since: expected a time" in r.stderr, f"since: {r.stderr!r}")
        r = plinth("--reference", path("ref.csv"), "--log", path("nolog"))
        check(r.returncode == 2 and "no such directory" in r.stderr, f"no log: {r.stderr!r}")

        # Values near both ends of double's range (one bin), a column the current data lacks
        # but the rules ignore, a current column without a value.
        with open(path("huge.csv"), "w") as f:
            f.write("x,y\n" + "".join(f"{v},{i}\n" for i, v in enumerate([-1e308, 1e308] * 20)))
        with open(path("huge2.csv"), "w") as f:
            f.write("x\n" + "".join(f"{i}\n" for i in range(40)))
        with open(path("rules.yaml"), "w") as f:
            f.write("columns:\n  y: {ignore: true}\n")
        r = plinth("--reference", path("huge.csv"), "--current", path("huge2.csv"),
                   "--rules", path("rules.yaml"), "--json", path("huge.json"))
        huge = json.load(open(path("huge.json")))
        check(r.returncode in (0, 1) and [c.get("skipped") for c in huge["columns"]] ==
              [None, "ignored by the rules"], f"huge: exit {r.returncode} {r.stderr!r} {huge}")
        with open(path("empty.csv"), "w") as f:
            f.write("x,y\n" + ",\n" * 40)
        r = plinth("--reference", path("huge.csv"), "--current", path("empty.csv"))
        check(r.returncode == 2 and "not enough data" in r.stderr, f"empty: {r.stderr!r}")

        # Errors: exit 2 and one line naming what was wrong.
        test.drop(columns=["age"]).to_csv(path("noage.csv"), index=False)
        bad_rules = [("drift_share: 0.5\nwindow: 1h\n", "rules.yaml:2: unknown key 'window'"),
                     ("columns:\n  age: {method: kl}\n",
                      "column 'age': unknown drift method 'kl'"),
                     ("columns:\n  nope: {ignore: true}\n", "column 'nope'"),
                     ("drift_share: 2\n", "key 'drift_share': expected a share"),
                     ("drift_share: 0.5\ndrift_share: 0.6\n", "key 'drift_share' given twice"),
                     ("columns:\n  age: {threshold: 5}\n",
                      "a threshold of 1 or more applies to a distance")]
        for text, message in bad_rules:
            with open(path("rules.yaml"), "w") as f:
                f.write(text)
            r = plinth("--reference", path("ref.csv"), "--current", path("cur.csv"),
                       "--rules", path("rules.yaml"))
            check(r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1,
                  f"rules {text!r}: exit {r.returncode} {r.stderr!r}")
        for args, message in [
                (["--current", path("noage.csv")],
                 "column 'age' of the reference data is missing from the current data"),
                (["--current", path("cur.csv"), "--columns", "age,nope"],
                 "column 'nope' is not in the reference data"),
                (["--current", path("missing.csv")], "missing.csv"),
                (["--current", path("cur.csv"), "--rules", "/dev/zero"],
                 "/dev/zero: the drift rules must be a regular file")]:
            r = plinth("--reference", path("ref.csv"), *args)
            check(r.returncode == 2 and message in r.stderr,
                  f"{args}: exit {r.returncode} {r.stderr!r}")
    print(f"monitor-drift: {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
