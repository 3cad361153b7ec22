#!/usr/bin/env python3
"""`plinth monitor report` over a prediction log as plinth serve writes it: six hourly windows
of adult's test rows, the last three shifted to people over 50, feedback for half the rows,
error answers. Per window: requests, failures, rows, error rate, latency quantiles equal to
numpy's percentiles (1e-9), realized accuracy equal to the labelled rows' (1e-12), CBPE's
estimate, each feature's drift, dataset and prediction drift that turn on with the shift; the
report recorded as a run of experiment monitoring/adult-income with a metric step per window
and linked in lineage from the model version; the errors (exit 2, one line).

usage: monitor_report_test.py PLINTH_BINARY DATASETS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from monitor_log import write_log  # noqa: E402
from plinth_procs import adult_test_rows, Checks, train_adult_project  # noqa: E402

check = Checks("monitor_report")
START = 1764547200  # 2025-12-01T00:00:00Z
HOUR = 3600


def main():
    plinth, datasets = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory() as work:
        def run(*args):
            return subprocess.run([plinth, *args], capture_output=True, text=True, cwd=work)

        def path(name):
            return os.path.join(work, name)

        meta = train_adult_project(plinth, datasets, work)
        inputs = [c["name"] for c in meta["input_schema"]]
        numeric = {c["name"]: c["type"] != "string" for c in meta["input_schema"]}
        classes = meta["class_labels"]
        test = adult_test_rows(datasets)
        test.to_csv(path("test.csv"), index=False)
        r = run("predict", "model", "--input", "test.csv", "--output", "scored.csv", "-q",
                "--keep-columns", ",".join(inputs + ["income"]))
        check(r.returncode == 0, f"predict: {r.stderr}")
        scored = pd.read_csv(path("scored.csv"), na_values=["?", ""], keep_default_na=False)
        pos = f"probability_{classes[1]}"
        write_log(path("log"), scored, inputs, numeric, ("income", classes), START, windows=6,
                  per_window=40, request_rows=20, window_seconds=HOUR, shift_from=3,
                  feedback_share=0.5, errors_per_window=2, seed=5,
                  predict=lambda c: (c["prediction"].astype(str), c[pos]))
        lines = [json.loads(x) for x in open(path("log/predictions-20261201T000000Z-1-000001.jsonl"))]
        feedback = [json.loads(x) for x in open(path("log/feedback-20261201T000000Z-1-000001.jsonl"))]

        r = run("monitor", "report", "models:/adult-income/1", "--log", "log", "--every", "1h",
                "--json", "report.json", "--html", "report.html")
        check(r.returncode == 0, f"report: exit {r.returncode} {r.stderr}")
        report = json.load(open(path("report.json")))
        windows = report["windows"]
        check(len(windows) == 6 and windows[0]["start"] == "2025-12-01T00:00:00Z" and
              windows[5]["end"] == "2025-12-01T06:00:00Z", f"windows: {[w['start'] for w in windows]}")
        labels = {(f["request_id"], f["row"]): f["label"] for f in feedback}
        for i, w in enumerate(windows):
            scored_lines = [x for x in lines if "status" not in x and
                            START + i * HOUR <= pd.Timestamp(x["time"]).timestamp() < START + (i + 1) * HOUR]
            lat = np.array([x["latency_ms"] for x in scored_lines])
            for q in (50, 90, 99):
                want = np.percentile(lat, q)
                check(abs(w["latency_ms"][f"p{q}"] - want) <= 1e-9,
                      f"window {i} p{q}: {w['latency_ms'][f'p{q}']} vs numpy {want}")
            check(w["requests"] == 40 and w["failed_requests"] == 2 and w["rows"] == 800 and
                  abs(w["error_rate"] - 2 / 42) < 1e-12 and abs(w["rows_per_second"] - 800 / HOUR) < 1e-12,
                  f"window {i} counts: {({k: w[k] for k in ('requests', 'failed_requests', 'rows', 'error_rate')})}")
            pairs = [(p, labels[(x["request_id"], j)]) for x in scored_lines
                     for j, p in enumerate(x["predictions"]) if (x["request_id"], j) in labels]
            acc = np.mean([p == t for p, t in pairs])
            real = w["performance"]["realized"]
            check(w["labelled_rows"] == len(pairs) and real["rows"] == len(pairs) and
                  abs(real["accuracy"] - acc) <= 1e-12, f"window {i} realized: {real} vs {acc}")
            est = w["performance"]["estimated"]
            check(est["rows"] == 800 and abs(est["accuracy"] - acc) < 0.06,
                  f"window {i} estimated {est['accuracy']} vs realized {acc}")
            shifted = i >= 3
            check(w["columns"]["age"]["drifted"] == shifted and
                  w["prediction_drift"] == shifted, f"window {i} drift: age "
                  f"{w['columns']['age']} prediction {w['prediction_drift']}")
            check(w["columns"]["income"]["role"] == "target" and
                  set(inputs) <= set(w["columns"]), f"window {i} columns {list(w['columns'])}")
            check("error" in w["multivariate_drift"], f"window {i}: {w['multivariate_drift']}")
        check(all(not w["dataset_drift"] for w in windows[:3]) and
              all(w["features_drifted"] >= 3 for w in windows[3:]),
              f"drifted features: {[w['features_drifted'] for w in windows]}")
        html = open(path("report.html")).read()
        check(html.count("<svg") >= 7 + len(inputs) and "Latency (ms)" in html and
              "estimated (CBPE)" in html, "HTML charts")
        check("2025-12-01T03:00:00Z" in r.stdout and "recorded as run" in r.stdout,
              f"text: {r.stdout[-600:]}")

        # Recorded: a run of monitoring/adult-income, linked from the model version.
        r = run("lineage", "adult-income/1", "--json")
        edges = json.loads(r.stdout) if r.returncode == 0 else []
        monitored = [e for e in edges if e.get("relation") == "monitored"]
        check(len(monitored) == 1, f"lineage: {r.stdout[-500:]} {r.stderr}")
        if monitored:
            run_id = monitored[0]["dst_id"]
            r = run("runs", "show", run_id, "--json")
            shown = json.loads(r.stdout) if r.returncode == 0 else {}
            metrics = {m["key"]: m["value"] for m in shown.get("data", {}).get("metrics", [])}
            check(abs(metrics.get("latency_p99_ms", -1) - windows[5]["latency_ms"]["p99"]) < 1e-9 and
                  "drift_score.age" in metrics and metrics.get("error_rate") is not None,
                  f"run metrics: {sorted(metrics)[:20]}")

        # --since/--until cut the windows; --no-record records nothing.
        r = run("monitor", "report", "model", "--log", "log", "--every", "2h", "--since",
                "2025-12-01T02:00:00Z", "--until", "2025-12-01T06:00:00Z", "--json", "cut.json",
                "--no-record", "-q")
        cut = json.load(open(path("cut.json")))
        check(r.returncode == 0 and [w["rows"] for w in cut["windows"]] == [1600, 1600] and
              not r.stdout, f"cut: {r.returncode} {r.stderr} {[w['rows'] for w in cut['windows']]}")

        # Errors: exit 2 and one line.
        for args, message in [
            (["--every", "5x"], "--every: expected a duration such as 1d"),
            (["--every", "1s"], "the period 2025-12-01T00:00:45Z .. 2025-12-01T05:59:16Z holds "
                                "21511 windows of --every, at most 10000 are reported"),
            (["--since", "yesterday"], "--since: expected a time"),
        ]:
            r = run("monitor", "report", "model", "--log", "log", *args)
            check(r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1,
                  f"{args}: {r.returncode} {r.stderr!r}")
        for args, message in [
            (["model", "--log", "nowhere"], "prediction log nowhere: no such directory"),
            (["model"], "/.plinth/monitoring/adult-income: no such directory"),
            (["noref", "--log", "log"], "noref: "),
        ]:
            r = run("monitor", "report", *args)
            check(r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1,
                  f"{args}: {r.returncode} {r.stderr!r}")
    check.done()


if __name__ == "__main__":
    main()
