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
        check(r.returncode == 0 and tiny["columns_compared"] == 0 and all(
            c["skipped"].startswith("not enough data: ") for c in tiny["columns"]) and
            tiny["columns"][0]["skipped"] ==
            "not enough data: 20 values in the current sample, 30 needed",
            f"tiny: {r.returncode} {tiny['columns'][0]}")

        # Errors: exit 2 and one line naming what was wrong.
        test.drop(columns=["age"]).to_csv(path("noage.csv"), index=False)
        bad_rules = [("drift_share: 0.5\nwindow: 1h\n", "rules.yaml:2: unknown key 'window'"),
                     ("columns:\n  age: {method: kl}\n",
                      "column 'age': unknown drift method 'kl'"),
                     ("columns:\n  nope: {ignore: true}\n", "column 'nope'"),
                     ("drift_share: 2\n", "key 'drift_share': expected a share")]
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
                (["--current", path("missing.csv")], "missing.csv")]:
            r = plinth("--reference", path("ref.csv"), *args)
            check(r.returncode == 2 and message in r.stderr,
                  f"{args}: exit {r.returncode} {r.stderr!r}")
    print(f"monitor-drift: {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
