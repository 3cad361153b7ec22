#!/usr/bin/env python3
"""Drift of many numeric columns, Plinth's monitor module side by side with what Evidently
runs (scipy.stats.ks_2samp per column plus the numpy PSI with Evidently's binning), on the same
values in the same run: FEATURES columns, ROWS reference rows vs ROWS current rows (half the
columns shifted by 0.02 standard deviations, the rest not). Both sides get the data in memory
(raw float64 files; no CSV parsing is timed), and both compute the KS p-value and the PSI of
every column; the answers are compared (1e-9) before the times are. Prints seconds and peak
memory per side; writes bench/out/drift_side_by_side.json.

usage: drift_bench.py BUILD_DIR [--rows 1000000] [--features 20]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pylib"))
from plinth_procs import timed_run  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("build")
p.add_argument("--rows", type=int, default=1_000_000)
p.add_argument("--features", type=int, default=20)
p.add_argument("--python-only", action="store_true", help=argparse.SUPPRESS)
p.add_argument("--ref", help=argparse.SUPPRESS)
p.add_argument("--cur", help=argparse.SUPPRESS)
args = p.parse_args()


def psi(ref, cur):
    # Evidently's get_binned_data (numeric, > 20 distinct values) and psi.
    bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    rp = np.histogram(ref, bins)[0] / len(ref)
    cp = np.histogram(cur, bins)[0] / len(cur)
    for arr in (rp, cp):
        low = min(arr[arr != 0])
        np.place(arr, arr == 0, low / 10**6 if low <= 0.0001 else 0.0001)
    return float(np.sum((rp - cp) * np.log(rp / cp)))


if args.python_only:  # the baseline, in its own process for its peak memory
    ref = np.fromfile(args.ref).reshape(args.features, -1)
    cur = np.fromfile(args.cur).reshape(args.features, -1)
    start = time.perf_counter()
    cols = [{"ks_pvalue": float(stats.ks_2samp(ref[f], cur[f]).pvalue), "psi": psi(ref[f], cur[f])}
            for f in range(args.features)]
    print(json.dumps({"seconds": time.perf_counter() - start, "columns": cols}))
    sys.exit(0)

rng = np.random.default_rng(11)
with tempfile.TemporaryDirectory() as work:
    ref_path, cur_path = os.path.join(work, "ref.f64"), os.path.join(work, "cur.f64")
    ref = rng.normal(size=(args.features, args.rows))
    cur = rng.normal(size=(args.features, args.rows))
    cur[: args.features // 2] += 0.02
    ref.tofile(ref_path)
    cur.tofile(cur_path)
    del ref, cur
    tool = os.path.join(args.build, "bench", "drift_bench")
    py_wall, py_mb, py_out = timed_run(["/usr/bin/python3", os.path.abspath(__file__), args.build,
                                        "--python-only", "--ref", ref_path, "--cur", cur_path,
                                        "--features", str(args.features)])
    pl_wall, pl_mb, pl_out = timed_run([tool, ref_path, cur_path, str(args.features)])
py, pl = json.loads(py_out), json.loads(pl_out)
for a, b in zip(py["columns"], pl["columns"]):
    for key in ("ks_pvalue", "psi"):
        if abs(a[key] - b[key]) > 1e-9 * max(1.0, abs(a[key])):
            sys.exit(f"answers differ: {key} scipy {a[key]!r} Plinth {b[key]!r}")
data_mb = 2 * args.features * args.rows * 8 / 2**20
result = {"rows": args.rows, "features": args.features, "data_mb": data_mb,
          "scipy_seconds": py["seconds"], "plinth_seconds": pl["seconds"],
          "speedup": py["seconds"] / pl["seconds"], "scipy_peak_mb": py_mb,
          "plinth_peak_mb": pl_mb}
print(f"{args.features} columns, {args.rows:,} vs {args.rows:,} rows ({data_mb:.0f} MB of data), "
      f"KS + PSI per column, same answers (1e-9):")
print(f"  scipy + numpy: {py['seconds']:.2f} s, peak {py_mb:.0f} MB")
print(f"  Plinth:        {pl['seconds']:.2f} s, peak {pl_mb:.0f} MB   ({result['speedup']:.1f}x)")
os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
with open(os.path.join(HERE, "out", "drift_side_by_side.json"), "w") as f:
    json.dump(result, f, indent=2)
