#!/usr/bin/python3
"""Every dataset x model kind through `plinth train` with default settings:
test metrics, rounds and wall time, as a Markdown table for docs/BENCHMARKS.md.
Splits are Plinth's defaults (70/15/15 stratified, seed 42) except adult,
which is scored on its official test file.

usage: train_matrix.py BUILD_DIR
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.abspath(os.path.join(HERE, "..", "..", "shared", "datasets"))
plinth = os.path.abspath(os.path.join(sys.argv[1], "apps/plinth/plinth"))
out = os.path.join(HERE, "out", "train_matrix")
os.makedirs(out, exist_ok=True)

DATASETS = [
    ("adult", "adult_train.csv", "income", "  test: {d}/adult_test.csv\n"),
    ("titanic", "titanic_train.csv", "Survived",
     "  id_columns: [PassengerId]\n  ignore_columns: [Name, Ticket]\n"),
    ("bank marketing", "bank-additional-full.csv", "y", "  ignore_columns: [duration]\n"),
    ("california housing", "california_housing.csv", "median_house_value", ""),
    ("wine", "sklearn_wine.csv", "target", ""),
    ("iris", "sklearn_iris.csv", "target", ""),
    ("digits", "sklearn_digits.csv", "target", ""),
]
KINDS = ["gbdt", "random_forest", "linear", "mlp"]

print("| dataset | task | kind | test metrics | rounds (best) | wall s |")
print("|---|---|---|---|---:|---:|")
rows = []
for name, file, target, extra in DATASETS:
    for kind in KINDS:
        config = os.path.join(out, "train.yaml")
        with open(config, "w") as f:
            f.write(f"data:\n  path: {DATA}/{file}\n  target: {target}\n" + extra.format(d=DATA)
                    + f"model:\n  type: {kind}\noutput: {out}/bundle\n")
        report = os.path.join(out, "report.json")
        start = time.perf_counter()
        subprocess.run([plinth, "train", config, "-q", "--json", report], check=True,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        r = json.load(open(report))
        m = r["metrics"]["test"]
        if r["task"] == "regression":
            shown = f"RMSE {m['rmse']:,.0f}, R2 {m['r2']:.3f}" if m["rmse"] > 100 else \
                f"RMSE {m['rmse']:.3f}, R2 {m['r2']:.3f}"
        elif r["task"] == "binary":
            shown = f"acc {m['accuracy']:.4f}, F1 {m['f1']:.3f}, AUC {m['roc_auc']:.4f}"
        else:
            shown = f"acc {m['accuracy']:.4f}, F1 macro {m['f1_macro']:.3f}"
        t = r["training"]
        print(f"| {name} | {r['task']} | {kind} | {shown} | {t['rounds']} ({t['best_round'] + 1}) "
              f"| {wall:.1f} |", flush=True)
        rows.append({"dataset": name, "kind": kind, "report": r, "wall": wall})
json.dump(rows, open(os.path.join(out, "train_matrix.json"), "w"), indent=1)
