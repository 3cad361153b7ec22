#!/usr/bin/env python3
"""What `plinth serve --monitor` costs, measured in adjacent pairs: the adult GBDT bundle served
with the prediction log, without and with live monitoring (a window of up to 100,000 rows
recomputed every 30 s, the default), wrk at 64 connections, the two servers taking turns run
by run so that both see the same moment of a shared, noisy machine. Per run: requests per
second, p99, and the server's CPU time per request (from /proc, all its threads); the summary
gives the medians over the rounds and their ratios.

With --same, both servers of each pair run without monitoring (an A/A run): how far the
ratios of two identical servers wander on this machine, the floor under any figure the A/B
run gives. With --shadow, the second server runs `--shadow` with a second bundle (20 rounds)
instead of monitoring: what scoring every request twice costs. With --canary, the second server
answers 10% of requests with a second bundle (`--canary BUNDLE=10`): what routing requests
between two models and counting each apart costs.

usage: serve_monitor_bench.py BUILD_DIR [--rounds 8] [--seconds 6] [--rows 1,100]
                              [--same | --shadow | --canary]
"""
import argparse
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


def cpu_ticks(pid):
    """User + system clock ticks of every thread of `pid` so far."""
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a thread that ended meanwhile
        total += int(fields[11]) + int(fields[12])
    return total


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--seconds", type=int, default=6)
    p.add_argument("--rows", default="1,100")
    p.add_argument("--same", action="store_true", help="A/A: both servers without monitoring")
    p.add_argument("--shadow", action="store_true",
                   help="the second server with --shadow (a second bundle), not --monitor")
    p.add_argument("--canary", action="store_true",
                   help="the second server with --canary (10%% to a second bundle)")
    args = p.parse_args()
    plinth = os.path.join(args.build, "apps/plinth/plinth")
    datasets = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                            "datasets")
    import pandas as pd
    tmp = tempfile.mkdtemp(prefix="plinth-monitor-bench-")
    model = train_adult(plinth, datasets, tmp, epochs=60)
    monitoring = os.path.join(tmp, "monitoring.yaml")
    with open(monitoring, "w") as f:
        f.write("window: {duration: 1h, rows: 100000}\ninterval: 30s\nalerts:\n"
                "  - {name: Slow, metric: latency_p99_ms, threshold: 100}\n"
                "  - {name: Drift, metric: dataset_drift_share, threshold: 0.05}\n")
    rows = pd.read_csv(os.path.join(datasets, "adult_test.csv")).drop(columns=["income", "fnlwgt"])
    rows = rows.astype(object).where(rows.notna(), None)
    tick = os.sysconf("SC_CLK_TCK")
    configs = [("without", []), ("--monitor", ["--monitor", monitoring])]
    if args.same:
        configs = [("without", []), ("again", [])]
    if args.shadow or args.canary:
        os.makedirs(os.path.join(tmp, "challenger"))
        challenger = train_adult(plinth, datasets, os.path.join(tmp, "challenger"), epochs=20)
        configs = [("without", []), ("--shadow", ["--shadow", challenger])] if args.shadow else \
            [("without", []), ("--canary", ["--canary", challenger + "=10"])]
    for n in (int(x) for x in args.rows.split(",")):
        script = wrk_script(tmp, "adult", rows, n)
        results = {name: [] for name, _ in configs}
        for r in range(args.rounds):
            for name, extra in configs:
                port = free_port()
                log = os.path.join(tmp, f"log-{n}-{r}-{name}")
                server = start_server([plinth, "serve", model, "--threads", "2", "--port",
                                       str(port), "--prediction-log", log] + extra, port,
                                      stderr=subprocess.DEVNULL)
                url = f"http://127.0.0.1:{port}/predict"
                wrk(url, 64, 2, script)  # warm-up
                before = cpu_ticks(server.pid)
                rate, _, p99, bad, errors = wrk(url, 64, args.seconds, script)
                cpu_us = (cpu_ticks(server.pid) - before) / tick * 1e6 / (rate * args.seconds)
                server.terminate()
                server.wait(timeout=30)
                subprocess.run(["rm", "-rf", log])
                results[name].append((rate, p99, cpu_us))
                print(f"{n:3d} rows, round {r + 1}, {name:9s}: {rate:9,.0f} req/s  p99 "
                      f"{p99:6.2f} ms  CPU {cpu_us:6.1f} us/request  non-2xx {bad} {errors}",
                      flush=True)
        med = {name: [statistics.median(x[i] for x in v) for i in range(3)]
               for name, v in results.items()}
        a, b = med[configs[0][0]], med[configs[1][0]]
        print(f"{n:3d} rows at 64 connections, {configs[1][0]} vs {configs[0][0]}, medians of "
              f"{args.rounds}: req/s {b[0]:,.0f} vs "
              f"{a[0]:,.0f} ({b[0] / a[0]:.3f}), p99 {b[1]:.2f} vs {a[1]:.2f} ms "
              f"({b[1] / a[1]:.3f}), CPU per request {b[2]:.1f} vs {a[2]:.1f} us "
              f"({b[2] / a[2]:.3f})", flush=True)
        pairs = sorted(y[1] / x[1] for x, y in zip(results[configs[0][0]],
                                                   results[configs[1][0]]))
        print(f"{n:3d} rows: p99 ratio within each pair: median {statistics.median(pairs):.3f}, "
              f"from {pairs[0]:.3f} to {pairs[-1]:.3f}", flush=True)
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
