#!/usr/bin/env python3
"""`plinth monitor report` over a large prediction log, side by side with what a user writes
today for the same report in Python (json.loads per line, a pandas frame per window, scipy's
wasserstein_distance and jensenshannon per feature as Evidently computes them, numpy's latency
percentiles), on the same log in the same run. The log is adult's test rows scored by the
example model, ROWS rows in requests of REQUEST_ROWS rows over WINDOWS hourly windows, as
plinth serve writes it (dictionary-encoded strings). Prints seconds and rows/s per side and
writes bench/out/monitor_report.json.

usage: monitor_report_bench.py BUILD_DIR DATASETS [--rows 10000000] [--request-rows 100]
       [--windows 10] [--python-rows 1000000]
The Python side reads the first --python-rows rows' lines (it is slow); its rate is compared.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pylib"))
from plinth_procs import train_adult_project  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("build")
p.add_argument("datasets")
p.add_argument("--rows", type=int, default=10_000_000)
p.add_argument("--request-rows", type=int, default=100)
p.add_argument("--windows", type=int, default=10)
p.add_argument("--python-rows", type=int, default=1_000_000)
p.add_argument("--work", help="keep the model and log in this (new) directory")
args = p.parse_args()
PLINTH = os.path.abspath(os.path.join(args.build, "apps", "plinth", "plinth"))
START = 1764547200


def column(values, numeric):
    out = [None if pd.isna(v) else (float(v) if numeric else str(v)) for v in values]
    if numeric:
        return out
    labels = list(dict.fromkeys(v for v in out if v is not None))
    return {"dictionary": labels, "indices": [None if v is None else labels.index(v) for v in out]}


def write_log(path, scored, inputs, numeric, pos):
    """Requests cut from 400 precomputed payloads (each REQUEST_ROWS random rows), the time
    and id spliced in: generating 10M rows stays quick."""
    rng = np.random.default_rng(1)
    payloads = []
    for _ in range(400):
        chunk = scored.iloc[rng.integers(0, len(scored), size=args.request_rows)]
        body = json.dumps({"rows": args.request_rows,
                           "features": {c: column(chunk[c], numeric[c]) for c in inputs},
                           "predictions": list(chunk["prediction"].astype(str)),
                           "probabilities": {pos[len("probability_"):]: list(chunk[pos])}})
        payloads.append(body[1:])
    requests = args.rows // args.request_rows
    span = args.windows * 3600
    segment = 0
    f = None
    for k in range(requests):
        if f is None or f.tell() > 64 << 20:  # plinth serve closes a segment at 64 MiB
            if f is not None:
                f.close()
            segment += 1
            f = open(os.path.join(path, f"predictions-20251201T000000Z-1-{segment:06d}.jsonl"), "w")
        at = START + span * (k + 0.5) / requests
        t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1e6):06d}Z"
        f.write(f'{{"time":"{t}","request_id":"r{k}","model":"adult-income",'
                f'"model_version":"1","route":"/predict","latency_ms":'
                f'{1 + (k * 7919 % 1000) / 250:.3f},' + payloads[k % 400] + "\n")
    f.close()
    return requests, segment


def python_report(path, reference, inputs, numeric, max_rows):
    """The report a user writes: per hourly window, Evidently's default test per feature
    (reference > 1000 rows: normed Wasserstein for numbers, Jensen-Shannon for categories)
    and the latency percentiles."""
    windows = {}
    rows = 0
    for line in (x for name in sorted(os.listdir(path)) for x in open(os.path.join(path, name))):
        j = json.loads(line)
        w = int((pd.Timestamp(j["time"]).timestamp() - START) // 3600)
        feats = {c: (v if isinstance(v, list) else
                     [None if i is None else v["dictionary"][i] for i in v["indices"]])
                 for c, v in j["features"].items()}
        windows.setdefault(w, ([], []))
        windows[w][0].append(pd.DataFrame(feats))
        windows[w][1].append(j["latency_ms"])
        rows += j["rows"]
        if rows >= max_rows:
            break
    out = []
    for w, (frames, lat) in sorted(windows.items()):
        cur = pd.concat(frames)
        res = {"latency": np.percentile(lat, [50, 90, 99]).tolist()}
        for c in inputs:
            a, b = reference[c].dropna(), cur[c].dropna()
            if numeric[c] and a.nunique() > 5:
                res[c] = stats.wasserstein_distance(a, b) / max(np.std(a), 0.001)
            else:
                keys = sorted(set(a.astype(str)) | set(b.astype(str)))
                pa = a.astype(str).value_counts(normalize=True).reindex(keys, fill_value=0)
                pb = b.astype(str).value_counts(normalize=True).reindex(keys, fill_value=0)
                res[c] = distance.jensenshannon(pa, pb)
        out.append(res)
    return rows, out


def main():
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        meta = train_adult_project(PLINTH, os.path.abspath(args.datasets), work)
        inputs = [c["name"] for c in meta["input_schema"]]
        numeric = {c["name"]: c["type"] != "string" for c in meta["input_schema"]}
        pos = f"probability_{meta['class_labels'][1]}"
        test = pd.read_csv(os.path.join(args.datasets, "adult_test.csv"), skipinitialspace=True,
                           na_values=["?"])
        test.to_csv(os.path.join(work, "test.csv"), index=False)
        subprocess.run([PLINTH, "predict", "model", "--input", "test.csv", "--output",
                        "scored.csv", "-q", "--keep-columns", ",".join(inputs)], cwd=work,
                       check=True)
        scored = pd.read_csv(os.path.join(work, "scored.csv"), na_values=["?", ""],
                             keep_default_na=False)
        logdir = os.path.join(work, "log")
        os.makedirs(logdir)
        t0 = time.time()
        requests, segments = write_log(logdir, scored, inputs, numeric, pos)
        size = sum(os.path.getsize(os.path.join(logdir, n)) for n in os.listdir(logdir))
        print(f"log: {args.rows:,} rows in {requests:,} requests, {segments} segments, "
              f"{size / 1e6:.0f} MB "
              f"(written in {time.time() - t0:.0f} s)")
        subprocess.run(["sync"], check=True)

        def run_plinth(*extra):
            t0 = time.time()
            r = subprocess.run([PLINTH, "monitor", "report", "model", "--log", "log", "--every",
                                "1h", "--no-record", "-q", "--json", "report.json", *extra],
                               cwd=work, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"plinth monitor report failed: {r.stderr}")
            return time.time() - t0

        # The median of three runs (the machine is shared; the first run after writing the
        # log also meets the kernel still busy with it), and one with --html.
        runs = sorted(run_plinth() for _ in range(3))
        plinth_s = runs[1]
        print("plinth monitor report: " + ", ".join(f"{t:.2f}" for t in runs) + " s")
        html_s = run_plinth("--html", "report.html")
        print(f"plinth monitor report --html: {html_s:.2f} s, {args.rows / html_s:,.0f} rows/s")
        run_plinth()  # report.json as the JSON runs write it
        report = json.load(open(os.path.join(work, "report.json")))
        assert sum(w["rows"] for w in report["windows"]) == args.rows
        reference = pd.read_csv(os.path.join(work, "model", "reference.csv.gz"),
                                keep_default_na=False, na_values=[""])
        t0 = time.time()
        py_rows, py_out = python_report(logdir, reference, inputs, numeric, args.python_rows)
        python_s = time.time() - t0
        # The same statistics on the windows both covered whole (the first ones).
        first = report["windows"][0]["columns"]
        for c in inputs:
            assert abs(first[c]["score"] - py_out[0][c]) < 1e-9, (c, first[c], py_out[0][c])
        plinth_rate, python_rate = args.rows / plinth_s, py_rows / python_s
        result = {"rows": args.rows, "request_rows": args.request_rows, "log_mb": size / 1e6,
                  "windows": args.windows, "plinth_seconds": plinth_s, "plinth_runs": runs,
                  "plinth_html_seconds": html_s,
                  "plinth_rows_per_second": plinth_rate, "python_rows": py_rows,
                  "python_seconds": python_s, "python_rows_per_second": python_rate,
                  "speedup": plinth_rate / python_rate}
        print(f"plinth monitor report (median): {plinth_s:.1f} s, {plinth_rate:,.0f} rows/s")
        print(f"python (json + pandas + scipy), {py_rows:,} rows: {python_s:.1f} s, "
              f"{python_rate:,.0f} rows/s")
        print(f"ratio: {plinth_rate / python_rate:.1f}x")
        with open(os.path.join(HERE, "out", "monitor_report.json"), "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
