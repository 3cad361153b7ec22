#!/usr/bin/python3
"""`plinth train` side by side with the same pipeline in pandas + scikit-learn
+ xgboost (bench/train_baseline.py), on the same data in the same run: adult
(train file + official test file) and a generated 1M-row adult-like file.
Each pair runs alternately REPEAT times; medians of wall time per part and the
peak memory (max RSS) of each process. Parts:
  data work = load + clean + split + preprocess + evaluate (+ writing the model)
  fit       = the XGBoost boosting loop with early stopping
Both sides use 2 threads, hist trees, eta 0.1, depth 6, patience 5.

usage: train_bench.py BUILD_DIR [--repeat K] [--rows N]
"""
import argparse
import json
import os
import statistics
import sys

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pylib"))
from plinth_procs import timed_run  # noqa: E402

PY = "/usr/bin/python3"
DATA = os.path.join(HERE, "..", "..", "shared", "datasets")

ap = argparse.ArgumentParser()
ap.add_argument("build")
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--rows", type=int, default=1_000_000)
args = ap.parse_args()
plinth = os.path.abspath(os.path.join(args.build, "apps/plinth/plinth"))
out = os.path.join(HERE, "out", "train")
os.makedirs(out, exist_ok=True)

big = os.path.join(out, f"adult_{args.rows}.csv")
if not os.path.exists(big):
    # Adult rows drawn with replacement, numbers jittered so rows stay distinct.
    print(f"generating {big} ...", file=sys.stderr)
    rng = np.random.default_rng(42)
    src = pd.read_csv(os.path.join(DATA, "adult_train.csv"), na_values=["?"])
    df = src.iloc[rng.integers(0, len(src), args.rows)].reset_index(drop=True)
    df["age"] = np.clip(df["age"] + rng.integers(-2, 3, args.rows), 17, 90)
    df["fnlwgt"] = (df["fnlwgt"] * rng.uniform(0.9, 1.1, args.rows)).astype(int)
    df["hours-per-week"] = np.clip(df["hours-per-week"] + rng.integers(-3, 4, args.rows), 1, 99)
    df.to_csv(big, index=False, na_rep="?")

CASES = [
    ("adult (32,561 rows + 16,281 test)", os.path.join(DATA, "adult_train.csv"),
     os.path.join(DATA, "adult_test.csv")),
    (f"generated adult-like ({args.rows:,} rows)", big, None),
]


def plinth_run(data, test):
    config = os.path.join(out, "train.yaml")
    with open(config, "w") as f:
        f.write(f"data:\n  path: {data}\n  target: income\n"
                + (f"  test: {test}\n" if test else "")
                # the cleaning train_baseline.py replicates (not Plinth's defaults)
                + "clean: {drop_duplicates: true, outliers: {method: iqr, action: remove}}\n"
                + f"model:\n  threads: 2\noutput: {out}/bundle\n")
    report = os.path.join(out, "report.json")
    wall, rss, _ = timed_run([plinth, "train", config, "-q", "--json", report])
    r = json.load(open(report))
    fit = r["timings_ms"]["fit"] / 1000
    predict = r["timings_ms"].get("evaluate_predict", 0) / 1000
    return {"wall": wall, "fit": fit, "data": wall - fit, "rss": rss, "predict": predict,
            "data_no_predict": wall - fit - predict,
            "accuracy": r["metrics"]["test"]["accuracy"], "auc": r["metrics"]["test"]["roc_auc"],
            "rounds": r["training"]["best_round"] + 1, "steps": r["timings_ms"]}


def python_run(data, test):
    cmd = [PY, os.path.join(HERE, "train_baseline.py"), data, "income"] + ([test] if test else [])
    wall, rss, text = timed_run(cmd + ["--threads", "2", "--out", out])
    r = json.loads(text.strip().splitlines()[-1])
    fit = r["times"]["fit"]
    predict = r["times"]["predict"]
    return {"wall": wall, "fit": fit, "data": wall - fit, "rss": rss, "predict": predict,
            "data_no_imports": wall - fit - r["times"]["imports"],
            "data_no_predict": wall - fit - predict,
            "accuracy": r["metrics"]["accuracy"], "auc": r["metrics"]["roc_auc"],
            "rounds": r["rounds"], "steps": r["times"]}


def med(runs, key):
    return statistics.median(x[key] for x in runs)


results = []
print("| data | | wall s | data work s | fit s | peak MB | test acc | test AUC | rounds |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for name, data, test in CASES:
    p, q = [], []
    for _ in range(args.repeat):
        p.append(plinth_run(data, test))
        q.append(python_run(data, test))
    for who, runs in (("plinth", p), ("pandas+sklearn+xgboost", q)):
        print(f"| {name} | {who} | {med(runs, 'wall'):.2f} | {med(runs, 'data'):.2f} | "
              f"{med(runs, 'fit'):.2f} | {max(x['rss'] for x in runs):.0f} | "
              f"{runs[0]['accuracy']:.4f} | {runs[0]['auc']:.4f} | {runs[0]['rounds']} |")
    ratio = {
        "data_work_speedup": med(q, "data") / med(p, "data"),
        "data_work_speedup_without_python_imports": med(q, "data_no_imports") / med(p, "data"),
        # XGBoost's inference on the test rows, the same library call on both
        # sides, counted with the model rather than with the data work.
        "data_work_speedup_without_model_predict":
            med(q, "data_no_predict") / med(p, "data_no_predict"),
        "predict_ratio_python_over_plinth": med(q, "predict") / med(p, "predict"),
        "fit_ratio_python_over_plinth": med(q, "fit") / med(p, "fit"),
        "fit_per_round_ratio": (med(q, "fit") / q[0]["rounds"]) / (med(p, "fit") / p[0]["rounds"]),
        "memory_plinth_over_python": max(x["rss"] for x in p) / max(x["rss"] for x in q),
    }
    print(f"|  | ratios | data work {ratio['data_work_speedup']:.1f}x faster "
          f"({ratio['data_work_speedup_without_python_imports']:.1f}x without Python's imports, "
          f"{ratio['data_work_speedup_without_model_predict']:.1f}x with the test-set predict "
          f"counted as model work); "
          f"predict {ratio['predict_ratio_python_over_plinth']:.2f}x; "
          f"fit {ratio['fit_ratio_python_over_plinth']:.2f}x "
          f"({ratio['fit_per_round_ratio']:.2f}x per round); "
          f"memory {ratio['memory_plinth_over_python']:.2f} of Python's | | | | | | | |")
    results.append({"case": name, "plinth": p, "python": q, "ratios": ratio})
json.dump(results, open(os.path.join(out, "train_bench.json"), "w"), indent=1)
