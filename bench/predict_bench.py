#!/usr/bin/env python3
"""Batch inference side by side: `plinth predict` against the Python way of scoring a large
CSV file with the same XGBoost model (pandas read_csv(chunksize=...) + predict + to_csv), and
against XGBoost's own in-memory predict (the whole file already in a numpy array: the limit).

The model is trained here with python3-xgboost (binary: is a California district's median
house value above the median, from its 8 numeric columns) and wrapped into a bundle with
`plinth models import-xgboost`, so both sides run the very same booster. The input is the
dataset's rows repeated to --rows rows, and to 10x that to show that peak memory stays flat.

Each figure is the best of --repeat runs. `plinth predict, trees by xgboost` is the same command
with PLINTH_TREE_ENGINE=xgboost: XGBoost's predict instead of Plinth's native tree evaluator.

usage: predict_bench.py BUILD_DIR [--rows 200000] [--trees 100] [--repeat 3]
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "pylib"))
from plinth_procs import timed_run  # noqa: E402

import housing_model  # noqa: E402

FEATURES = housing_model.FEATURES

# The Python baseline, run in its own process so that its memory is measured alone. It prints
# the seconds spent after imports and model load, like a scoring job's log would.
CHUNKED = """
import sys, time
import pandas as pd, xgboost as xgb
path, model, chunk, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
booster = xgb.Booster(model_file=model)
features = %r
start = time.perf_counter()
first = True
for part in pd.read_csv(path, chunksize=chunk):
    p = booster.inplace_predict(part[features].to_numpy())
    pd.DataFrame({"prediction": (p > 0.5).astype(int), "probability_1": p}).to_csv(
        out, mode="w" if first else "a", header=first, index=False)
    first = False
print(time.perf_counter() - start)
""" % FEATURES


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("--rows", type=int, default=200000)
    p.add_argument("--trees", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3, help="runs of each; the fastest counts")
    args = p.parse_args()
    import numpy as np
    import pandas as pd

    plinth = os.path.join(args.build, "apps/plinth/plinth")
    tmp = tempfile.mkdtemp(prefix="plinth-predict-bench-")
    df, booster, model, bundle = housing_model.build(plinth, tmp, args.trees)

    files = {}
    for scale in (1, 10):
        n = args.rows * scale
        path = os.path.join(tmp, f"input_{n}.csv")
        reps = -(-n // len(df))
        pd.concat([df[FEATURES]] * reps, ignore_index=True).iloc[:n].to_csv(path, index=False)
        files[scale] = (n, path)

    n, path = files[1]
    print(f"model: {args.trees} trees of depth 6 on {len(FEATURES)} float columns; "
          f"input: {n:,} rows ({os.path.getsize(path) / 1e6:.1f} MB)")
    x = pd.read_csv(path)[FEATURES].to_numpy()
    booster.inplace_predict(x[:1000])
    in_memory = 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        expected = booster.inplace_predict(x)
        in_memory = max(in_memory, n / (time.perf_counter() - start))

    def best(cmd, env=None):
        """The fastest of --repeat runs (these machines are shared): (wall, peak MB, stdout)."""
        runs = [timed_run(cmd, env) for _ in range(args.repeat)]
        return min(r[0] for r in runs), max(r[1] for r in runs), runs[0][2]

    results = {}
    for chunk in (1000, 100000):
        script = os.path.join(tmp, "chunked.py")
        with open(script, "w") as f:
            f.write(CHUNKED)
        out = os.path.join(tmp, f"py_{chunk}.csv")
        runs = [timed_run(["/usr/bin/python3", script, path, model, str(chunk), out])
                for _ in range(args.repeat)]
        results[f"pandas chunks of {chunk:,} + predict + to_csv"] = (
            max(n / float(r[2]) for r in runs), max(r[1] for r in runs))
    out = os.path.join(tmp, "plinth.csv")
    wall, rss, _ = best([plinth, "predict", bundle, "--input", path, "--output", out, "-q"])
    results["plinth predict"] = (n / wall, rss)
    # The same run with XGBoost evaluating the trees instead of the native evaluator.
    xgb_wall, xgb_rss, _ = best(
        [plinth, "predict", bundle, "--input", path, "--output", out + ".xgb", "-q"],
        env=dict(os.environ, PLINTH_TREE_ENGINE="xgboost"))
    results["plinth predict, trees by xgboost"] = (n / xgb_wall, xgb_rss)
    got = pd.read_csv(out)["probability_1"].to_numpy()
    worst = float(np.max(np.abs(got - expected)))
    big_n, big_path = files[10]
    big_wall, big_rss, _ = best([plinth, "predict", bundle, "--input", big_path, "--output", out,
                                 "-q"])

    print(f"{'':48s} {'rows/s':>10s} {'peak MB':>8s}")
    print(f"{'xgboost in-memory predict (numpy array)':48s} {in_memory:10,.0f} {'-':>8s}")
    for name, (rate, mb) in results.items():
        print(f"{name:48s} {rate:10,.0f} {mb:8.0f}")
    print(f"{'plinth predict, 10x the rows':48s} {big_n / big_wall:10,.0f} {big_rss:8.0f}")
    plinth_rate = results["plinth predict"][0]
    print(f"plinth / pandas 1,000-row chunks: "
          f"{plinth_rate / results['pandas chunks of 1,000 + predict + to_csv'][0]:.1f}x; "
          f"plinth / xgboost in-memory: {plinth_rate / in_memory:.0%}; "
          f"peak memory at 10x rows: {big_rss / results['plinth predict'][1]:.2f}x")
    print(f"largest difference from xgboost's probabilities: {worst:.2e}")
    shutil.rmtree(tmp)
    if worst > 1e-6:
        sys.exit("plinth's probabilities differ from xgboost's")


main()
