#!/usr/bin/python3
"""The Python equivalent of `plinth train` with its defaults, step for step, as
an ML engineer writes it with pandas + scikit-learn + xgboost: read the CSV,
drop unlabelled and duplicate rows, split 70/15/15 stratified (or 85/15 with a
test file), fit on the training split only: IQR outliers (factor 3) removed,
median / most-frequent imputation, clipping, standard scaling, one-hot with at
most 32 columns; XGBoost hist (eta 0.1, depth 6) with early stopping after 5
rounds on validation log loss; evaluate with sklearn.metrics; save the model
and the fitted preprocessing. Prints one JSON line: seconds per step, peak
memory is measured by the caller.

usage: train_baseline.py DATA.csv TARGET [TEST.csv] [--threads N] [--out DIR]
"""
import json
import time

t0 = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn import metrics  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler  # noqa: E402
import pickle  # noqa: E402

import argparse  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("target")
ap.add_argument("test", nargs="?")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--out", default="/tmp")
cli = ap.parse_args()
threads, out_dir, data, target, test_file = cli.threads, cli.out, cli.data, cli.target, cli.test
times = {"imports": time.perf_counter() - t0}
lap = time.perf_counter()


def mark(step):
    global lap
    now = time.perf_counter()
    times[step] = now - lap
    lap = now


NA = ["", "NA", "N/A", "NaN", "null", "?"]
df = pd.read_csv(data, na_values=NA, keep_default_na=False)
test_df = pd.read_csv(test_file, na_values=NA, keep_default_na=False) if test_file else None
mark("load")

df = df[df[target].notna()].drop_duplicates()
classes = sorted(df[target].astype(str).unique())
y_all = df[target].astype(str).map({c: i for i, c in enumerate(classes)}).values
X_all = df.drop(columns=[target])
if test_file:
    X_train, X_valid, y_train, y_valid = train_test_split(
        X_all, y_all, test_size=0.15, stratify=y_all, random_state=42)
    X_test = test_df.drop(columns=[target])
    y_test = test_df[target].astype(str).map({c: i for i, c in enumerate(classes)}).values
else:
    X_train, X_rest, y_train, y_rest = train_test_split(
        X_all, y_all, test_size=0.3, stratify=y_all, random_state=42)
    X_valid, X_test, y_valid, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=42)
mark("clean_split")

numeric = X_train.select_dtypes("number").columns.tolist()
categorical = [c for c in X_train.columns if c not in numeric]
q1 = X_train[numeric].quantile(0.25)
q3 = X_train[numeric].quantile(0.75)
iqr = q3 - q1
lower = (q1 - 3 * iqr).where(iqr > 0, -np.inf)
upper = (q3 + 3 * iqr).where(iqr > 0, np.inf)
outside = ((X_train[numeric] < lower) | (X_train[numeric] > upper)).any(axis=1)
X_train, y_train = X_train[~outside], y_train[~outside.values]
clip = FunctionTransformer(np.clip, kw_args={"a_min": lower.values, "a_max": upper.values})
pre = ColumnTransformer([
    ("num", make_pipeline(SimpleImputer(strategy="median"), clip, StandardScaler()), numeric),
    ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                          OneHotEncoder(handle_unknown="ignore", max_categories=32,
                                        sparse_output=False)), categorical),
])
Xt = pre.fit_transform(X_train).astype(np.float32)
Xv = pre.transform(X_valid).astype(np.float32)
Xs = pre.transform(X_test).astype(np.float32)
mark("preprocess")

dtrain = xgb.DMatrix(Xt, label=y_train)
dvalid = xgb.DMatrix(Xv, label=y_valid)
params = {"objective": "binary:logistic", "tree_method": "hist", "eta": 0.1, "max_depth": 6,
          "eval_metric": "logloss", "seed": 42, "nthread": threads}
booster = xgb.train(params, dtrain, num_boost_round=1000, evals=[(dtrain, "train"),
                    (dvalid, "valid")], early_stopping_rounds=5, verbose_eval=False)
mark("fit")

p1 = booster.predict(xgb.DMatrix(Xs), iteration_range=(0, booster.best_iteration + 1))
mark("predict")
p1 = p1.astype(np.float64)
pred = (p1 >= 0.5).astype(int)
result = {
    "accuracy": metrics.accuracy_score(y_test, pred),
    "precision": metrics.precision_score(y_test, pred),
    "recall": metrics.recall_score(y_test, pred),
    "f1": metrics.f1_score(y_test, pred),
    "roc_auc": metrics.roc_auc_score(y_test, p1),
    "pr_auc": metrics.average_precision_score(y_test, p1),
    "log_loss": metrics.log_loss(y_test, p1),
    "confusion": metrics.confusion_matrix(y_test, pred).tolist(),
}
mark("evaluate")

booster[: booster.best_iteration + 1].save_model(f"{out_dir}/baseline.ubj")
with open(f"{out_dir}/baseline_preprocess.pkl", "wb") as f:
    pickle.dump((pre, classes), f)
mark("save")
print(json.dumps({"times": times, "metrics": result, "rounds": booster.best_iteration + 1}))
