#!/usr/bin/env python3
"""Plinth's preprocessing (src/ml/preprocess.cc) against scikit-learn on real training rows
(adult, titanic): the fitted statistics and the feature matrix of held-out rows.

Plinth's preprocessing is fitted by tests/tools/preprocess_tool with outliers off and no limit
on categories; the reference is, per column, the scikit-learn pipeline with these settings:
  numeric:  SimpleImputer(strategy="median" | "mean")   (median: numpy's, the mean of the two
            middle values) then StandardScaler() (with_mean, with_std; population standard
            deviation, ddof=0; a constant column gets scale 1) or MinMaxScaler() (feature_range
            (0, 1); a constant column gets range 1);
  string:   SimpleImputer(strategy="most_frequent") (a tie goes to the smallest value, as
            Plinth's "first in name order") then OneHotEncoder(handle_unknown="ignore",
            sparse_output=False) (a category not seen in training: all zeros).
Both read the same CSV cells as missing: "", NA, N/A, NaN, null and ? (pandas with
keep_default_na=False and those na_values).

What is compared:
  - fill values, centers and scales (StandardScaler's mean_/scale_, MinMaxScaler's
    data_min_/data_range_) to 1e-9, relative; the categories of each column as sets;
  - the feature matrix, column by column through the feature names (Plinth orders one-hot
    columns by frequency, scikit-learn by name: the same columns, another order). Plinth's
    features are float32 by design (the matrix XGBoost and torch take), so a feature must be
    scikit-learn's float64 value rounded to float32: within half a float32 ulp plus 1e-12.
    One-hot features must be exactly 0 or 1 and equal.

usage: preprocess_vs_sklearn.py PREPROCESS_TOOL DATASETS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks  # noqa: E402

TOOL, DATA = sys.argv[1:3]
check = Checks("preprocess_vs_sklearn")
work = tempfile.mkdtemp(prefix="plinth-preprocess-")
NULLS = ["", "NA", "N/A", "NaN", "null", "?"]


def close(a, b, what, tol=1e-9):
    ok = abs(a - b) <= tol * max(1.0, abs(b))
    check(ok, f"{what}: Plinth {a!r}, scikit-learn {b!r}")
    return ok


def compare(name, train_csv, apply_csv, columns, scaling, impute):
    out = os.path.join(work, f"{name}-{scaling}-{impute}")
    p = subprocess.run([TOOL, train_csv, apply_csv, out, scaling, impute, ",".join(columns)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        check(False, f"{name}: preprocess_tool failed: {p.stderr}")
        return
    fitted = json.load(open(out + ".json"))
    plinth = pd.read_csv(out + ".csv", dtype=np.float32)
    kinds = {c["name"]: c for c in fitted["columns"]}
    dtypes = {c: (str if kinds[c]["kind"] == "categorical" else float) for c in columns}
    read = dict(keep_default_na=False, na_values=NULLS, usecols=columns, dtype=dtypes)
    train = pd.read_csv(train_csv, **read)
    apply = pd.read_csv(apply_csv, **read)
    worst, checked = 0.0, 0
    for c in columns:
        info = kinds[c]
        what = f"{name} ({scaling}, {impute}) column {c}"
        if info["kind"] == "numeric":
            imputer = SimpleImputer(strategy=impute).fit(train[[c]])
            close(info["fill"], imputer.statistics_[0], f"{what}: fill")
            x_train = imputer.transform(train[[c]])
            x_apply = imputer.transform(apply[[c]])
            if scaling == "standard":
                scaler = StandardScaler().fit(x_train)
                close(info["center"], scaler.mean_[0], f"{what}: center")
                close(info["scale"], scaler.scale_[0], f"{what}: scale")
            else:
                scaler = MinMaxScaler().fit(x_train)
                close(info["center"], scaler.data_min_[0], f"{what}: center (min)")
                rng = scaler.data_range_[0] if scaler.data_range_[0] != 0 else 1.0
                close(info["scale"], rng, f"{what}: scale (range)")
            want = scaler.transform(x_apply)[:, 0]
            got = plinth[c].to_numpy(dtype=np.float64)
            # float32 rounding of the float64 value: half an ulp of float32.
            tol = np.abs(want) * 2.0**-24 * 1.0001 + 1e-12
            bad = np.abs(got - want) > tol
            check(not bad.any(), f"{what}: {int(bad.sum())} features differ beyond float32 "
                  f"rounding, e.g. row {int(np.argmax(bad))}: Plinth "
                  f"{got[np.argmax(bad)]!r}, scikit-learn {want[np.argmax(bad)]!r}")
            rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-300)
            worst = max(worst, float(rel[want != 0].max()) if (want != 0).any() else 0.0)
            checked += len(want)
        else:
            imputer = SimpleImputer(strategy="most_frequent").fit(train[[c]])
            check(info["fill"] == imputer.statistics_[0],
                  f"{what}: fill {info['fill']!r}, scikit-learn {imputer.statistics_[0]!r}")
            encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
            encoder.fit(imputer.transform(train[[c]]))
            cats = list(encoder.categories_[0])
            check(sorted(info["categories"]) == sorted(cats) and not info["other"],
                  f"{what}: categories {len(info['categories'])} vs {len(cats)}")
            want = encoder.transform(imputer.transform(apply[[c]]))
            for k, cat in enumerate(cats):
                feature = f"{c}={cat}"
                if feature not in plinth.columns:
                    check(False, f"{what}: no feature {feature!r}")
                    continue
                got = plinth[feature].to_numpy(dtype=np.float64)
                bad = got != want[:, k]
                check(not bad.any(), f"{what}: {feature}: {int(bad.sum())} rows differ")
                checked += len(got)
    n_features = len(plinth.columns)
    n_sklearn = sum(1 if kinds[c]["kind"] == "numeric" else len(kinds[c]["categories"])
                    for c in columns)
    check(n_features == n_sklearn, f"{name}: {n_features} features, scikit-learn {n_sklearn}")
    print(f"{name} ({scaling}, {impute}): {len(apply)} rows x {n_features} features, "
          f"{checked} values; worst relative difference of a numeric feature {worst:.2e}")


# adult: 5,000 training rows (missing workclass, occupation, native-country as "?"); applied to
# 2,000 test rows, three of them with categories and a missing number never seen in training.
adult_columns = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
                 "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
                 "hours-per-week", "native-country"]
lines = open(os.path.join(DATA, "adult_train.csv")).read().splitlines()
adult_train = os.path.join(work, "adult_train.csv")
open(adult_train, "w").write("\n".join(lines[:5001]) + "\n")
test_lines = open(os.path.join(DATA, "adult_test.csv")).read().splitlines()[:2001]
header = test_lines[0].split(",")
for row, column, value in ((1, "workclass", "Space-agency"), (2, "native-country", "Atlantis"),
                           (3, "age", "")):
    cells = test_lines[row].split(",")
    cells[header.index(column)] = value
    test_lines[row] = ",".join(cells)
adult_apply = os.path.join(work, "adult_apply.csv")
open(adult_apply, "w").write("\n".join(test_lines) + "\n")
check(sum("?" in line for line in lines[1:5001]) > 100, "adult rows with missing values")

# titanic: every row; Age and Embarked have missing values, Cabin's most frequent values tie.
titanic = os.path.join(DATA, "titanic_train.csv")
titanic_columns = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Cabin", "Embarked"]

for scaling, impute in (("standard", "median"), ("minmax", "mean")):
    compare("adult", adult_train, adult_apply, adult_columns, scaling, impute)
    compare("titanic", titanic, titanic, titanic_columns, scaling, impute)
check.done()
