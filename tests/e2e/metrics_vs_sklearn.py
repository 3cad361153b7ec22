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
from sklearn import metrics
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

TOOL, DATA = sys.argv[1], sys.argv[2]
TOL = 1e-9
failures = []


def check(name, got, want):
    if want is None or (isinstance(want, float) and np.isnan(want)):
        ok = got is None
    else:
        ok = got is not None and abs(got - want) <= TOL * max(1.0, abs(want))
    if not ok:
        failures.append(f"{name}: plinth {got} sklearn {want}")


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
    if k == 2:
        pred = (proba[:, 1] >= threshold).astype(int)
        check(f"{name} precision", got["precision"], metrics.precision_score(yte, pred, zero_division=0))
        check(f"{name} recall", got["recall"], metrics.recall_score(yte, pred, zero_division=0))
        check(f"{name} f1", got["f1"], metrics.f1_score(yte, pred, zero_division=0))
        check(f"{name} roc_auc", got["roc_auc"], metrics.roc_auc_score(yte, proba[:, 1]))
        check(f"{name} pr_auc", got["pr_auc"], metrics.average_precision_score(yte, proba[:, 1]))
    else:
        pred = proba.argmax(axis=1)
        for avg in ("macro", "weighted"):
            check(f"{name} precision_{avg}", got[f"precision_{avg}"],
                  metrics.precision_score(yte, pred, average=avg, zero_division=0))
            check(f"{name} recall_{avg}", got[f"recall_{avg}"],
                  metrics.recall_score(yte, pred, average=avg, zero_division=0))
            check(f"{name} f1_{avg}", got[f"f1_{avg}"],
                  metrics.f1_score(yte, pred, average=avg, zero_division=0))
        check(f"{name} roc_auc", got["roc_auc"],
              metrics.roc_auc_score(yte, proba, multi_class="ovr", average="macro"))
        onehot = np.eye(k)[yte]
        check(f"{name} pr_auc", got["pr_auc"],
              metrics.average_precision_score(onehot, proba, average="macro"))
    check(f"{name} accuracy", got["accuracy"], metrics.accuracy_score(yte, pred))
    check(f"{name} log_loss", got["log_loss"], metrics.log_loss(yte, proba, labels=list(range(k))))
    cm = metrics.confusion_matrix(yte, pred, labels=list(range(k))).tolist()
    if got["confusion_matrix"]["rows_true_cols_predicted"] != cm:
        failures.append(f"{name} confusion matrix: plinth {got['confusion_matrix']} sklearn {cm}")
    return len(yte)


def regression(name, X, y):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, random_state=0)
    pred = LinearRegression().fit(Xtr, ytr).predict(Xte)
    got = run_tool(["regress"], pd.DataFrame({"y": yte, "pred": pred}))
    check(f"{name} mae", got["mae"], metrics.mean_absolute_error(yte, pred))
    check(f"{name} rmse", got["rmse"], np.sqrt(metrics.mean_squared_error(yte, pred)))
    check(f"{name} r2", got["r2"], metrics.r2_score(yte, pred))
    check(f"{name} mape", got["mape"], metrics.mean_absolute_percentage_error(yte, pred))
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
