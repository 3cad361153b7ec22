#!/usr/bin/python3
"""Writes the benchmark table: ROWS rows, an id, 20 numeric columns (10 int, 10
float), 2 text columns (a 12-value category and a free-text code), 2% nulls in
every column but the id. Deterministic (seed 42).

usage: gen_data.py OUT.csv [ROWS]
"""
import sys

import numpy as np
import pandas as pd

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rng = np.random.default_rng(42)
cols = {"id": np.arange(rows)}
for i in range(10):
    cols[f"i{i}"] = pd.array(rng.integers(-1000, 100000, rows), dtype="Int64")
for i in range(10):
    cols[f"f{i}"] = np.round(rng.normal(100 * (i + 1), 15 * (i + 1), rows), 6)
cities = np.array(["Amsterdam", "Berlin", "Cairo", "Delhi", "Edinburgh", "Fukuoka", "Geneva",
                   "Hanoi", "Istanbul", "Jakarta", "Kyiv", "Lima"])
cols["city"] = cities[rng.integers(0, len(cities), rows)]
cols["code"] = np.char.add("C-", rng.integers(0, 10**8, rows).astype(str))
df = pd.DataFrame(cols)
for name in df.columns[1:]:
    mask = rng.random(rows) < 0.02
    df.loc[mask, name] = None
df.to_csv(out, index=False)
