#!/usr/bin/python3
"""Runs `plinth validate` on every dataset in ../shared/datasets with a suite
generated from pandas, and checks that Plinth's verdicts and counts equal what
the equivalent pandas code computes.

For each column: completeness at exactly pandas' null fraction (must pass) and
just below it (must fail); for numeric columns, between [min, max] (0 unexpected),
values >= median (unexpected = pandas' count below the median) and the mean
within 1e-9 relative; for text columns, in_set of the three most frequent values
(unexpected = the rest), a regex and unique (unexpected = pandas'
duplicated(keep=False) among non-null values); for the table, duplicate_rows
(unexpected = df.duplicated().sum()) and row_count. Exact equality is required
for every count.
"""
import json
import os
import subprocess
import sys
import tempfile

import pandas as pd

PLINTH, DATASETS = sys.argv[1], sys.argv[2]
NULLS = ["", "NA", "N/A", "NaN", "null", "?"]
failures = []


def q(s):
    return json.dumps(s)


def suite_for(df):
    checks, expect = [], []

    def add(check, ok, unexpected=None):
        checks.append(check)
        expect.append((ok, unexpected))

    n = len(df)
    add(f"row_count: {{min: {n}, max: {n}}}", True)
    dups = int(df.duplicated().sum())
    add(f"duplicate_rows: {{max_fraction: {dups / n!r}}}", True, dups)
    for col in df.columns:
        s = df[col]
        frac = float(s.isna().mean())
        add(f"completeness: {{column: {q(col)}, max_null_fraction: {frac!r}}}", True, int(s.isna().sum()))
        if frac > 0:
            add(f"completeness: {{column: {q(col)}, max_null_fraction: {frac * (1 - 1e-9)!r}}}", False)
        v = s.dropna()
        if len(v) == 0:
            continue
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            lo, hi, med = float(v.min()), float(v.max()), float(v.median())
            add(f"between: {{column: {q(col)}, min: {lo!r}, max: {hi!r}}}", True, 0)
            below = int((v < med).sum())
            add(f"between: {{column: {q(col)}, min: {med!r}}}", below == 0, below)
            m = float(v.mean())
            tol = 1e-9 * max(abs(m), 1.0)
            add(f"mean: {{column: {q(col)}, min: {m - tol!r}, max: {m + tol!r}}}", True)
        elif s.dtype == object:
            top = list(v.astype(str).value_counts().index[:3])
            rest = int((~v.astype(str).isin(top)).sum())
            values = ", ".join(q(t) for t in top)
            add(f"in_set: {{column: {q(col)}, values: [{values}]}}", rest == 0, rest)
            starts = int(v.astype(str).str.contains(r"^[A-Za-z]", regex=True).sum())
            add(f"regex: {{column: {q(col)}, pattern: '^[A-Za-z]'}}", starts == len(v), len(v) - starts)
            dup = int(v.duplicated(keep=False).sum())
            add(f"unique: {{column: {q(col)}}}", dup == 0, dup)
    return "checks:\n" + "".join(f"  - {c}\n" for c in checks), expect


def run(name):
    path = os.path.join(DATASETS, name)
    sep = ";" if name.startswith("bank") else ","
    df = pd.read_csv(path, sep=sep, keep_default_na=False, na_values=NULLS, low_memory=False)
    suite, expect = suite_for(df)
    with tempfile.TemporaryDirectory() as tmp:
        sp, rp = os.path.join(tmp, "suite.yaml"), os.path.join(tmp, "report.json")
        open(sp, "w").write(suite)
        proc = subprocess.run([PLINTH, "validate", "-q", path, "--suite", sp, "--report", rp])
        report = json.load(open(rp))
    all_ok = all(ok for ok, _ in expect)
    if proc.returncode != (0 if all_ok else 1):
        failures.append(f"{name}: exit {proc.returncode}, expected {0 if all_ok else 1}")
    results = report["results"]
    if len(results) != len(expect):
        failures.append(f"{name}: {len(results)} results for {len(expect)} checks")
        return
    for r, (ok, unexpected) in zip(results, expect):
        if r["success"] != ok:
            failures.append(f"{name}: {r['check']}: success {r['success']} != {ok} ({r.get('error', '')})")
        if unexpected is not None and r["unexpected_count"] != unexpected:
            failures.append(f"{name}: {r['check']}: unexpected {r['unexpected_count']} != {unexpected}")
    return len(results)


names = sorted(f for f in os.listdir(DATASETS) if f.endswith(".csv") or f.endswith(".csv.gz"))
total = 0
for name in names:
    total += run(name) or 0
print(f"{total} checks on {len(names)} datasets compared with pandas {pd.__version__}")
for f in failures[:50]:
    print("MISMATCH", f)
bad = {f.split(":")[0] for f in failures}
print(f"{len(names) - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if failures else 0)
