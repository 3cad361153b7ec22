#!/usr/bin/env python3
"""Does the latency gate of `plinth models test` measure what serving does? The example's model
(a GBDT bundle on the adult data), 1-row requests one at a time: the gate's p99 (its in-process
`plinth serve` request path, and through a running `plinth serve` with --url) next to wrk's p99
at 1 connection against `plinth serve` on the same bundle (bench/serve_bench.py's 1-connection
figure), the three taking turns round by round. Prints the medians and the ratios gate / wrk.

usage: gates_latency_bench.py BUILD_DIR [--rounds 7] [--requests 5000] [--seconds 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "pylib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plinth_procs import free_port, start_server, train_adult  # noqa: E402
from serve_bench import wrk, wrk_script  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--seconds", type=int, default=5)
    args = p.parse_args()
    plinth = os.path.join(args.build, "apps/plinth/plinth")
    datasets = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                            "datasets")
    import pandas as pd
    tmp = tempfile.mkdtemp(prefix="plinth-gates-latency-")
    model = train_adult(plinth, datasets, tmp, epochs=60)
    rows = pd.read_csv(os.path.join(datasets, "adult_test.csv")).drop(columns=["income", "fnlwgt"])
    rows = rows.astype(object).where(rows.notna(), None)
    script = wrk_script(tmp, "adult", rows, 1)
    gates = os.path.join(tmp, "gates.yaml")
    with open(gates, "w") as f:
        f.write(f"suite: latency\ngates:\n  - {{latency: {{batch: 1, p99_ms: 1000, requests: "
                f"{args.requests}}}}}\n")

    def gate(url=None):
        out = os.path.join(tmp, "gates.json")
        cmd = [plinth, "models", "test", model, "--gates", gates, "--json", out, "--no-record",
               "-q"] + (["--url", url] if url else [])
        subprocess.run(cmd, check=True)
        with open(out) as f:
            return json.load(f)["gates"][0]["values"]["p99_ms"]

    results = {"gate": [], "gate --url": [], "wrk 1 conn": []}
    for r in range(args.rounds):
        results["gate"].append(gate())
        port = free_port()
        server = start_server([plinth, "serve", model, "--threads", "2", "--port", str(port),
                               "--prediction-log", "off"], port, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            results["gate --url"].append(gate(url))
            wrk(url + "/predict", 1, 1, script)  # warm-up
            results["wrk 1 conn"].append(wrk(url + "/predict", 1, args.seconds, script)[2])
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(f"round {r + 1}: " + ", ".join(f"{k} p99 {v[-1]:.3f} ms"
                                             for k, v in results.items()), flush=True)
    med = {k: statistics.median(v) for k, v in results.items()}
    base = med["wrk 1 conn"]
    print(f"1-row p99, medians of {args.rounds}: " + ", ".join(
        f"{k} {v:.3f} ms ({v / base:.2f}x wrk)" for k, v in med.items()), flush=True)
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
