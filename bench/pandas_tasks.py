#!/usr/bin/python3
"""The pandas side of the side-by-side benchmarks. Prints the seconds spent in
the task itself (after `import pandas`), which flatters pandas a little.

usage: pandas_tasks.py read|profile|validate FILE
"""
import sys
import time

import numpy as np
import pandas as pd

task, path = sys.argv[1], sys.argv[2]
NULLS = ["", "NA", "N/A", "NaN", "null", "?"]
QS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
start = time.perf_counter()
df = pd.read_csv(path, keep_default_na=False, na_values=NULLS, low_memory=False)
if task == "profile":
    num = df.select_dtypes("number")
    desc = num.describe()                 # count, mean, std, min, quartiles, max
    quant = num.quantile(QS)
    hist = {c: np.histogram(num[c].dropna(), bins=20) for c in num.columns}
    nulls = df.isna().sum()
    distinct = df.nunique()
    cats = {c: df[c].value_counts() for c in df.columns if df[c].dtype == object}
    dups = int(df.duplicated().sum())
elif task == "validate":
    out = {}
    out["completeness"] = (df.isna().mean() <= 0.05).all()
    out["duplicates"] = df.duplicated().mean() <= 0.01
    out["unique"] = int(df["id"].duplicated(keep=False).sum()) == 0
    for c, lo, hi, mostly in [("i0", -1000, 100000, 1), ("i1", -1000, 100000, 1),
                              ("i2", -1000, 100000, 1), ("f0", 0, 200, .99), ("f9", 0, 2000, .99)]:
        v = df[c].dropna()
        out["between_" + c] = v.between(lo, hi).mean() >= mostly
    cities = ["Amsterdam", "Berlin", "Cairo", "Delhi", "Edinburgh", "Fukuoka", "Geneva", "Hanoi",
              "Istanbul", "Jakarta", "Kyiv", "Lima"]
    out["in_set"] = df["city"].dropna().isin(cities).all()
    code = df["code"].dropna()
    out["regex"] = code.str.contains(r"^C-[0-9]+$", regex=True).all()
    out["length"] = code.str.len().between(3, 12).all()
    r1 = (df.f1 > df.f0)[df.f0.notna() & df.f1.notna()]
    out["rule1"] = r1.mean() >= 0.5
    r2 = ((df.i0 - df.i1).abs() < 200000)[df.i0.notna() & df.i1.notna()]
    out["rule2"] = r2.all()
    out["mean"] = 99 <= df.f0.mean() <= 101
    out["quantile"] = 900 <= df.f9.quantile(0.5) <= 1100
    out["rows"] = len(df) >= 1
elif task != "read":
    sys.exit("unknown task " + task)
print(f"{time.perf_counter() - start:.4f}")
