#!/usr/bin/python3
"""Compares `plinth profile --json` with pandas on every dataset in ../shared/datasets.

Tolerances: counts, nulls, distinct, duplicate rows and category counts exactly;
mean, std (ddof=1), sum, min, max and quantiles (numpy's default 'linear'
interpolation) to 1e-9 relative (1e-9 absolute near zero).
pandas reads with the same null markers as Plinth's defaults. Timestamp columns
(which pandas leaves as text) are converted with pd.to_datetime and compared in
seconds since the epoch.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

PLINTH, DATASETS = sys.argv[1], sys.argv[2]
NULLS = ["", "NA", "N/A", "NaN", "null", "?"]
REL = 1e-9
failures = []


def close(a, b):
    if a is None or b is None:
        return a is None and (b is None or (isinstance(b, float) and math.isnan(b)))
    return abs(a - b) <= REL * max(abs(a), abs(b), 1.0)


def check(cond, what):
    if not cond:
        failures.append(what)


def compare(name):
    path = os.path.join(DATASETS, name)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "p.json")
        subprocess.run([PLINTH, "profile", "-q", path, "--json", out], check=True)
        prof = json.load(open(out))
    sep = ";" if name.startswith("bank") else ","
    df = pd.read_csv(path, sep=sep, keep_default_na=False, na_values=NULLS, low_memory=False)
    where = name
    check(prof["rows"] == len(df), f"{where}: rows {prof['rows']} != {len(df)}")
    check(prof["duplicate_rows"] == int(df.duplicated().sum()),
          f"{where}: duplicate_rows {prof['duplicate_rows']} != {int(df.duplicated().sum())}")
    check([c["name"] for c in prof["columns"]] == list(df.columns), f"{where}: column names")
    for col in prof["columns"]:
        s = df[col["name"]]
        w = f"{where}:{col['name']}"
        if col["type"] == "timestamp":
            s = pd.to_datetime(s).astype("int64") / 1e9
            s = s.where(df[col["name"]].notna())
        check(col["count"] == int(s.count()), f"{w}: count {col['count']} != {s.count()}")
        check(col["nulls"] == int(s.isna().sum()), f"{w}: nulls")
        check(col["distinct"] == int(s.nunique()), f"{w}: distinct {col['distinct']} != {s.nunique()}")
        if "numeric" in col:
            n = col["numeric"]
            v = s.dropna().astype("float64")
            if len(v) == 0:
                continue
            for key, ref in [("mean", v.mean()), ("std", v.std()), ("sum", v.sum()),
                             ("min", v.min()), ("max", v.max())]:
                check(close(n[key], float(ref)), f"{w}: {key} {n[key]!r} != {ref!r}")
            for q in [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]:
                key = "p%g" % (q * 100)
                ref = float(np.quantile(v.to_numpy(), q))
                check(close(n["quantiles"][key], ref), f"{w}: {key} {n['quantiles'][key]!r} != {ref!r}")
            counts, _ = np.histogram(v.to_numpy(), bins=np.array(n["histogram"]["edges"]))
            if len(n["histogram"]["counts"]) > 1:
                check(list(map(int, counts)) == n["histogram"]["counts"], f"{w}: histogram counts")
        else:
            c = col["categories"]
            vc = s.dropna().astype(str).value_counts()
            if s.dtype == bool:
                vc = s.dropna().map({True: "true", False: "false"}).value_counts()
            for value, count in zip(c["values"][:20], c["counts"][:20]):
                check(vc.get(value) == count, f"{w}: count of {value!r} {count} != {vc.get(value)}")
            check(sum(c["counts"]) + c["other_count"] == int(s.count()), f"{w}: category total")


names = sorted(f for f in os.listdir(DATASETS) if f.endswith(".csv") or f.endswith(".csv.gz"))
for name in names:
    compare(name)
print(f"compared {len(names)} datasets with pandas {pd.__version__}")
for f in failures[:50]:
    print("MISMATCH", f)
print(f"{len(names) - len({f.split(':')[0] for f in failures})} passed, "
      f"{len({f.split(':')[0] for f in failures})} failed")
sys.exit(1 if failures else 0)
