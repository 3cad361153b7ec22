"""Plinth's metrics equal sklearn.metrics on the same predictions (1e-9).

Real data from ../shared/datasets: sklearn models are fitted (quickly, on part
of each dataset) and their predictions on the rest are scored twice, by
sklearn.metrics and by Plinth (tests/tools/metrics_tool). Covers binary
(breast cancer, adult, titanic), multiclass (iris, wine, digits) and regression
(diabetes, california housing), plus tied scores and the threshold.
Usage: metrics_vs_sklearn.py METRICS_TOOL DATASETS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_metrics

TOOL, DATA = sys.argv[1], sys.argv[2]
TOL = 1e-9
failures = []


def run_tool(args, frame):
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        frame.to_csv(f, index=False, float_format="%.17g")
        path = f.name
    try:
        out = subprocess.run([TOOL, *args, path], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)
    finally:
        os.unlink(path)


def classification(name, X, y, threshold=0.5, round_to=None):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(Xtr, ytr)
    proba = model.predict_proba(Xte)
    if round_to is not None:
        proba = np.round(proba, round_to)  # many tied scores
    k = proba.shape[1]
    frame = pd.DataFrame({"y": yte})
    for c in range(k):
        frame[f"p{c}"] = proba[:, c]
    got = run_tool(["classify", str(k), str(threshold)], frame)
    failures.extend(sklearn_metrics.compare(name, got, sklearn_metrics.classification(
        yte, proba, threshold), TOL))
    return len(yte)


def regression(name, X, y):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, random_state=0)
    pred = LinearRegression().fit(Xtr, ytr).predict(Xte)
    got = run_tool(["regress"], pd.DataFrame({"y": yte, "pred": pred}))
    failures.extend(sklearn_metrics.compare(name, got, sklearn_metrics.regression(yte, pred), TOL))
    return len(yte)


def load(name):
    return pd.read_csv(os.path.join(DATA, name))


rows = 0
bc = load("sklearn_breast_cancer.csv")
rows += classification("breast_cancer", bc.drop(columns="target").values, bc["target"].values)
rows += classification("breast_cancer threshold 0.3", bc.drop(columns="target").values,
                       bc["target"].values, threshold=0.3)
adult = load("adult_train.csv")
num = adult.select_dtypes("number").columns
y = (adult["income"].str.strip().str.rstrip(".") == ">50K").astype(int).values
rows += classification("adult", adult[num].values, y)
rows += classification("adult tied scores", adult[num].values, y, round_to=2)
ti = load("titanic_train.csv")
X = ti[["Pclass", "SibSp", "Parch", "Fare"]].fillna(0).values
rows += classification("titanic", X, ti["Survived"].values)
for ds in ("sklearn_iris.csv", "sklearn_wine.csv", "sklearn_digits.csv"):
    d = load(ds)
    rows += classification(ds, d.drop(columns="target").values, d["target"].values)
db = load("sklearn_diabetes.csv")
rows += regression("diabetes", db.drop(columns="target").values, db["target"].values)
ca = load("california_housing.csv").dropna()
rows += regression("california_housing",
                   ca.drop(columns=["median_house_value", "ocean_proximity"]).values,
                   ca["median_house_value"].values)

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"metrics equal sklearn within {TOL} on {rows} predictions from 9 real datasets")
