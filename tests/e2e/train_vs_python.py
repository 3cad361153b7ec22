"""Bundles written by `plinth train` against the Python libraries, on real data.

For each dataset x model kind: `plinth train` writes a bundle; the bundle's
feature matrix (tests/tools/bundle_tool) goes through the same model file
loaded by python3-xgboost (model.ubj) or torch.jit.load (model.pt), and the
outputs must equal the bundle's own (1e-6). Then `plinth evaluate --json` on
the labelled file must equal sklearn.metrics computed from Python's
predictions (1e-9). Finally models trained in Python are imported with
`plinth models import-xgboost` / `import-torchscript` and must predict what
Python predicts.
Usage: train_vs_python.py PLINTH BUNDLE_TOOL DATASETS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
import torch
import xgboost as xgb

import sklearn_metrics

PLINTH, TOOL, DATA = sys.argv[1:4]
PRED_TOL = 1e-6
METRIC_TOL = 1e-9
failures = []
work = tempfile.mkdtemp(prefix="plinth-train-py-")

DATASETS = {
    "adult": ("adult_train.csv", "income", "  test: {d}/adult_test.csv\n", "adult_test.csv"),
    "titanic": ("titanic_train.csv", "Survived",
                "  id_columns: [PassengerId]\n  ignore_columns: [Name, Ticket]\n", None),
    "bank": ("bank-additional-full.csv", "y", "  ignore_columns: [duration]\n", None),
    "california": ("california_housing.csv", "median_house_value", "", None),
    "wine": ("sklearn_wine.csv", "target", "", None),
    "iris": ("sklearn_iris.csv", "target", "", None),
    "digits": ("sklearn_digits.csv", "target", "", None),
}
RUNS = [(d, "gbdt") for d in DATASETS] + [
    ("titanic", "linear"), ("california", "linear"), ("wine", "linear"),
    ("titanic", "random_forest"), ("california", "random_forest"), ("digits", "random_forest"),
    ("titanic", "mlp"), ("california", "mlp"), ("wine", "mlp"),
]


def run(args):
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {out.returncode}: {out.stderr.strip()}")
    return out.stdout


def matrix(path):
    return pd.read_csv(path).values.astype(np.float32)


def python_outputs(bundle, kind, x):
    if kind == "mlp":
        module = torch.jit.load(os.path.join(bundle, "model.pt"))
        with torch.no_grad():
            return module(torch.from_numpy(x)).numpy()
    booster = xgb.Booster(model_file=os.path.join(bundle, "model.ubj"))
    return booster.predict(xgb.DMatrix(x, missing=np.nan))


def check_outputs(name, ours, theirs):
    ours = np.asarray(ours, dtype=np.float64).reshape(len(ours), -1)
    theirs = np.asarray(theirs, dtype=np.float64).reshape(len(ours), -1)
    if ours.shape != theirs.shape:
        failures.append(f"{name}: output shape {ours.shape} vs Python {theirs.shape}")
        return
    diff = np.max(np.abs(ours - theirs)) if ours.size else 0.0
    if not diff <= PRED_TOL:
        failures.append(f"{name}: predictions differ from Python's by {diff}")


def labelled(file, target, meta):
    sep = ";" if file.startswith("bank") else ","
    frame = pd.read_csv(os.path.join(DATA, file), sep=sep, na_values=["?"], keep_default_na=True)
    y = frame[target]
    if meta["task"] == "regression":
        return frame, y.values.astype(np.float64)
    labels = {label: i for i, label in enumerate(meta["class_labels"])}
    return frame, np.array([labels[str(v)] for v in y])


def expected_metrics(meta, y, out):
    if meta["task"] == "regression":
        return sklearn_metrics.regression(y, out.reshape(-1))
    out = np.asarray(out, dtype=np.float64)
    proba = np.column_stack([1 - out, out]) if meta["task"] == "binary" else out
    return sklearn_metrics.classification(y, proba, meta.get("threshold", 0.5))


checked = 0
for dataset, kind in RUNS:
    file, target, extra, test_file = DATASETS[dataset]
    name = f"{dataset}/{kind}"
    bundle = os.path.join(work, name.replace("/", "-"))
    config = os.path.join(work, f"{dataset}-{kind}.yaml")
    with open(config, "w") as f:
        f.write(f"name: {dataset}\ndata:\n  path: {DATA}/{file}\n  target: {target}\n"
                + extra.format(d=DATA)
                + f"model:\n  type: {kind}\n" + ("  epochs: 30\n" if kind == "mlp" else "")
                + f"output: {bundle}\n")
    try:
        run([PLINTH, "train", config, "-q"])
        meta = json.load(open(os.path.join(bundle, "plinth-model.json")))
        eval_file = os.path.join(DATA, test_file or file)
        feats = os.path.join(work, "features.csv")
        preds = os.path.join(work, "preds.csv")
        run([TOOL, "features", bundle, eval_file, feats])
        run([TOOL, "predict", bundle, eval_file, preds])
        x = matrix(feats)
        ours = matrix(preds)
        theirs = python_outputs(bundle, kind, x)
        check_outputs(name, ours, theirs)
        # plinth evaluate on the labelled file = sklearn on Python's predictions.
        metrics_path = os.path.join(work, "metrics.json")
        run([PLINTH, "evaluate", bundle, eval_file, "--json", metrics_path])
        got = json.load(open(metrics_path))
        frame, y = labelled(test_file or file, target, meta)
        if len(y) != got["n"]:
            failures.append(f"{name}: evaluated {got['n']} rows, pandas read {len(y)}")
            continue
        failures.extend(sklearn_metrics.compare(name, got, expected_metrics(meta, y, theirs),
                                                METRIC_TOL))
        checked += len(y)
    except RuntimeError as e:
        failures.append(f"{name}: {e}")

# Models trained in Python, imported into bundles.
bc = pd.read_csv(os.path.join(DATA, "sklearn_breast_cancer.csv"))
features = [c for c in bc.columns if c != "target"]
X = bc[features].values.astype(np.float32)
schema = {"task": "binary", "class_labels": ["0", "1"], "target": "target",
          "inputs": [{"name": c, "type": "float64"} for c in features]}
schema_path = os.path.join(work, "schema.json")
json.dump(schema, open(schema_path, "w"))
booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "seed": 1},
                    xgb.DMatrix(X, label=bc["target"].values), num_boost_round=20)
model_path = os.path.join(work, "py.ubj")
booster.save_model(model_path)
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(len(features), 8), torch.nn.ReLU(),
                          torch.nn.Linear(8, 1), torch.nn.Sigmoid())
ts_path = os.path.join(work, "py.pt")
torch.jit.script(net).save(ts_path)
for command, path, want in [
        ("import-xgboost", model_path, booster.predict(xgb.DMatrix(X))),
        ("import-torchscript", ts_path, net(torch.from_numpy(X)).detach().numpy())]:
    bundle = os.path.join(work, command)
    try:
        run([PLINTH, "models", command, path, "--schema", schema_path, "-o", bundle])
        preds = os.path.join(work, "imported.csv")
        run([TOOL, "predict", bundle, os.path.join(DATA, "sklearn_breast_cancer.csv"), preds])
        check_outputs(command, matrix(preds), want)
        labels = json.load(open(os.path.join(bundle, "plinth-model.json")))["class_labels"]
        if labels != ["0", "1"]:
            raise RuntimeError(f"class labels {labels}, expected the schema's ['0', '1']")
    except RuntimeError as e:
        failures.append(f"{command}: {e}")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"{len(RUNS)} bundles predict as python3-xgboost / torch do (within {PRED_TOL}) and "
      f"their metrics equal sklearn's (within {METRIC_TOL}) on {checked} rows; "
      f"2 Python models imported")
