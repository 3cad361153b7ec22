#!/usr/bin/python3
"""Side-by-side benchmarks of Plinth against the Python tools it replaces, on
the same data in the same run. Runs each pair alternately REPEAT times and
reports medians, ratios and peak memory (max RSS of the process).

usage: side_by_side.py BUILD_DIR [--rows N] [--repeat K] [--memory]
  --memory  also profile a 10x larger file to show streaming memory stays flat
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pylib"))
from plinth_procs import timed_run  # noqa: E402

PY = "/usr/bin/python3"

ap = argparse.ArgumentParser()
ap.add_argument("build")
ap.add_argument("--rows", type=int, default=1_000_000)
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--memory", action="store_true")
args = ap.parse_args()
plinth = os.path.join(args.build, "apps/plinth/plinth")
bench = os.path.join(args.build, "bench/plinth_bench")
out_dir = os.path.join(HERE, "out")
os.makedirs(out_dir, exist_ok=True)
data = os.path.join(out_dir, f"bench_{args.rows}.csv")
if not os.path.exists(data):
    print(f"generating {data} ...", file=sys.stderr)
    subprocess.run([PY, os.path.join(HERE, "gen_data.py"), data, str(args.rows)], check=True)


def run(cmd, self_timed=False):
    """Runs cmd; returns (seconds, peak RSS in MB). Self-timed commands print their seconds."""
    wall, rss, out = timed_run(cmd)
    secs = wall
    if self_timed:
        text = out.strip().splitlines()[-1]
        secs = json.loads(text)["seconds"] if text.startswith("{") else float(text)
    return secs, rss


def pair(name, plinth_cmd, py_cmd, plinth_self_timed=False):
    p, q = [], []
    for _ in range(args.repeat):
        p.append(run(plinth_cmd, plinth_self_timed))
        q.append(run(py_cmd, True))
    pt = statistics.median(x[0] for x in p)
    qt = statistics.median(x[0] for x in q)
    pm = max(x[1] for x in p)
    qm = max(x[1] for x in q)
    return {"task": name, "plinth_s": pt, "python_s": qt, "speedup": qt / pt,
            "plinth_mb": pm, "python_mb": qm}


size_mb = os.path.getsize(data) / 1e6
rows = []
rows.append(pair("CSV read (whole table)", [bench, "read", data],
                 [PY, os.path.join(HERE, "pandas_tasks.py"), "read", data], True))
rows.append(pair("CSV read (streaming scan)", [bench, "scan", data],
                 [PY, os.path.join(HERE, "pandas_tasks.py"), "read", data], True))
rows.append(pair("profile", [plinth, "profile", "-q", data, "--json", os.path.join(out_dir, "p.json")],
                 [PY, os.path.join(HERE, "pandas_tasks.py"), "profile", data]))
rows.append(pair("validate", [plinth, "validate", "-q", data, "--suite", os.path.join(HERE, "suite.yaml")],
                 [PY, os.path.join(HERE, "pandas_tasks.py"), "validate", data]))

lines = [f"data: {args.rows:,} rows, {size_mb:.0f} MB ({os.path.basename(data)}), "
         f"median of {args.repeat} alternating runs",
         "",
         "| task | Plinth s | pandas s | speedup | Plinth MB/s | Plinth peak MB | pandas peak MB |",
         "|---|---:|---:|---:|---:|---:|---:|"]
for r in rows:
    lines.append(f"| {r['task']} | {r['plinth_s']:.3f} | {r['python_s']:.3f} | "
                 f"**{r['speedup']:.1f}x** | {size_mb / r['plinth_s']:.0f} | "
                 f"{r['plinth_mb']:.0f} | {r['python_mb']:.0f} |")

if args.memory:
    big = os.path.join(out_dir, f"bench_{args.rows * 10}.csv")
    if not os.path.exists(big):
        print(f"building {big} (the 1x file's rows 10 times) ...", file=sys.stderr)
        # Streamed in small blocks: a child's peak RSS starts from this process's
        # RSS at fork, so the runner must stay small.
        with open(big + ".tmp", "wb") as dst:
            for i in range(10):
                with open(data, "rb") as src:
                    header = src.readline()
                    if i == 0:
                        dst.write(header)
                    shutil.copyfileobj(src, dst, 1 << 20)
        os.rename(big + ".tmp", big)
    lines += ["", "| streaming path | 1x peak MB | 10x peak MB | 10x seconds |", "|---|---:|---:|---:|"]
    for name, cmd in [("scan", [bench, "scan"]),
                      ("profile", [plinth, "profile", "-q"])]:
        s1, m1 = run(cmd + [data])
        s10, m10 = run(cmd + [big])
        lines.append(f"| {name} | {m1:.0f} | {m10:.0f} | {s10:.1f} |")

text = "\n".join(lines)
print(text)
open(os.path.join(out_dir, "results.md"), "w").write(text + "\n")
