#!/usr/bin/env python3
"""`plinth predict`: batch scores equal the bundle's own CSV path (tests/tools/bundle_tool, to
1e-9, its printed precision) in input order; gzip input, --batch-size and --shard I/N (the
shards' rows concatenated) give the same output; --on-bad-rows error|skip|null do what they
say and count it; a failed run leaves an existing output file untouched; bad flags exit 2 with
one line naming them.

usage: predict_test.py PLINTH BUNDLE_TOOL DATASETS_DIR
"""
import csv
import gzip
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks, train_adult  # noqa: E402

PLINTH, TOOL, DATA = sys.argv[1:4]
check = Checks("predict_test")
work = tempfile.mkdtemp(prefix="plinth-predict-")
bundle = train_adult(PLINTH, DATA, work, epochs=20)
labels = json.load(open(os.path.join(bundle, "plinth-model.json")))["class_labels"]

# 3,000 test rows with an id column in front.
src_rows = list(csv.reader(open(os.path.join(DATA, "adult_test.csv"))))
header, rows = src_rows[0], src_rows[1:3001]
data = os.path.join(work, "rows.csv")
with open(data, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["id"] + header)
    w.writerows([[f"r{i}"] + r for i, r in enumerate(rows)])
subprocess.run([TOOL, "predict", bundle, data, os.path.join(work, "expected.csv")], check=True)
expected = [float(line.split(",")[0])
            for line in open(os.path.join(work, "expected.csv")).read().split()[1:]]


def predict(*args, output="out.csv"):
    out = os.path.join(work, output)
    p = subprocess.run([PLINTH, "predict", bundle, "--output", out, "-q", *args],
                       capture_output=True, text=True, timeout=120)
    return p, out


def read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


p, out = predict("--input", data, "--keep-columns", "id,age")
check(p.returncode == 0, f"predict: {p.returncode} {p.stderr}")
check("scored 3,000 rows" in p.stdout, f"summary: {p.stdout!r}")
got = read(out)
check(got[0] == ["id", "age", "prediction"] + [f"probability_{c}" for c in labels],
      f"header {got[0]}")
check([r[0] for r in got[1:]] == [f"r{i}" for i in range(3000)], "rows in input order")
check([r[1] for r in got[1:]] == [r[0] for r in rows], "kept age")
worst = max(abs(float(r[4]) - e) for r, e in zip(got[1:], expected))
check(worst < 1e-9, f"probabilities differ from the CSV path by {worst}")
check(all(r[2] == labels[1 if float(r[4]) > float(r[3]) else 0] for r in got[1:]),
      "predictions are the likelier class")
full = open(out).read()

# gzip input, small batches, and shards give the same rows.
with open(data, "rb") as src, gzip.open(data + ".gz", "wb") as dst:
    dst.write(src.read())
p, out = predict("--input", data + ".gz", "--keep-columns", "id,age", "--batch-size", "7",
                 output="gz.csv")
check(p.returncode == 0 and open(out).read() == full, f"gzip + --batch-size 7: {p.stderr}")
for n in (2, 3, 7):
    parts = []
    for i in range(n):
        p, out = predict("--input", data, "--keep-columns", "id,age", "--shard", f"{i}/{n}",
                         output=f"shard{i}.csv")
        check(p.returncode == 0, f"shard {i}/{n}: {p.stderr}")
        text = open(out).read()
        parts.append(text[text.index("\n") + 1:])
    check(full[:full.index("\n") + 1] + "".join(parts) == full, f"{n} shards: not the whole")
p, _ = predict("--input", data + ".gz", "--shard", "0/2", output="x.csv")
check(p.returncode == 2 and "gzip" in p.stderr, f"--shard on gzip: {p.stderr}")

# Bad rows: r5's age is "old", r9's line is short.
bad = os.path.join(work, "bad.csv")
lines = open(data).read().split("\n")
cells = lines[6].split(",")
cells[1] = "old"
lines[6] = ",".join(cells)
lines[10] = "r9,25"
open(bad, "w").write("\n".join(lines))
existing = os.path.join(work, "existing.csv")
open(existing, "w").write("keep me\n")
p, _ = predict("--input", bad, output="existing.csv")
check(p.returncode == 2 and 'bad.csv:7: column "age": expected int64' in p.stderr
      and p.stderr.count("\n") == 1, f"bad rows, error: {p.returncode} {p.stderr!r}")
check(open(existing).read() == "keep me\n", "a failed run leaves the output untouched")
check(not [f for f in os.listdir(work) if ".tmp." in f], "no temporary file left behind")
p, out = predict("--input", bad, "--keep-columns", "id", "--on-bad-rows", "skip", output="s.csv")
ids = [r[0] for r in read(out)[1:]]
check(p.returncode == 0 and len(ids) == 2998 and "r5" not in ids and "r9" not in ids,
      f"skip: {p.returncode} {len(ids)} {p.stderr}")
check("2 skipped, 0 values read as missing" in p.stdout and "bad.csv:7: skipped" in p.stdout,
      f"skip summary: {p.stdout!r}")
p, out = predict("--input", bad, "--keep-columns", "id", "--on-bad-rows", "null", output="n.csv")
ids = [r[0] for r in read(out)[1:]]
check(p.returncode == 0 and len(ids) == 2999 and "r5" in ids and "r9" not in ids,
      f"null: {p.returncode} {len(ids)} {p.stderr}")
check("1 skipped, 1 values read as missing" in p.stdout and "read as missing" in p.stdout,
      f"null summary: {p.stdout!r}")

# Bad flags and inputs: exit 2, one line naming what is wrong.
no_age = os.path.join(work, "no_age.csv")
open(no_age, "w").write("x,y\n1,2\n")
for args, part in ((["--input", data, "--shard", "3/3"], "--shard \"3/3\""),
                   (["--input", data, "--shard", "a/b"], "--shard"),
                   (["--input", data, "--on-bad-rows", "maybe"], "--on-bad-rows"),
                   (["--input", data, "--batch-size", "-1"], "--batch-size"),
                   (["--input", data, "--keep-columns", "nope"], "--keep-columns: no column"),
                   (["--input", no_age], 'the model\'s input schema: no column named "age"'),
                   (["--input", os.path.join(work, "missing.csv")], "missing.csv")):
    p, _ = predict(*args, output="flags.csv")
    check(p.returncode == 2 and part in p.stderr and p.stderr.count("\n") == 1,
          f"{args}: {p.returncode} {p.stderr!r}")

check.done()
