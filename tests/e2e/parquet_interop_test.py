#!/usr/bin/env python3
"""Parquet against an independent reader: hyparquet (JavaScript, under node).

Every flat file of ../shared/datasets/parquet (written by parquet-mr, Impala, Spark and Arrow
C++: plain, dictionary, snappy, gzip, zstd, lz4, data page v2, byte-stream-split, delta
encodings, nulls, NaN, INT96 timestamps) is read by Plinth and by hyparquet, and every value must
be the same: integers exactly, floats exactly (a FLOAT widened to double), strings, booleans,
timestamps to the microsecond, nulls. Files with nested columns, and Spark's INT96 file with a
timestamp of the year 290000 (which neither DuckDB nor hyparquet reads right), are refused by
Plinth with one line naming the column, exit 2. A file Plinth writes (every type, nulls, int64 extremes, NaN and
infinities, Unicode, instants before 1970) is read back by hyparquet with the same values, its
timestamps marked as UTC instants in microseconds.

usage: parquet_interop_test.py PARQUET_TOOL DATASETS_DIR NODE_MODULES (hyparquet's)
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks  # noqa: E402

check = Checks("parquet_interop")
# Refused, one line each: nested columns, and Spark's INT96 of the year 290000 (which DuckDB
# reads wrapped around to 226414 BC, and hyparquet to 4128 BC: never passed on).
REFUSED = {"nested_lists.snappy.parquet": "column 'a' is LIST (nested)",
           "nulls.snappy.parquet": "column 'b_struct' is STRUCT (nested)",
           "nullable.impala.parquet": "column 'int_array' is LIST (nested)",
           "datapage_v2.snappy.parquet": "column 'e' is LIST (nested)",
           "int96_from_spark.parquet": "column 'a' holds a timestamp outside the years 1 to 9999"}


def same(kind, a, b):
    """Plinth's value `a` (of Plinth type `kind`) and hyparquet's `b` are the same value."""
    if a is None or b is None:
        return a is None and b is None
    if kind in ("int64", "timestamp"):
        return int(a) == int(b)
    if kind == "float64":
        return a == b if isinstance(a, str) or isinstance(b, str) else float(a) == float(b)
    return a == b


def compare(name, plinth, hyp):
    cols = [c["name"] for c in plinth["columns"]]
    kinds = [c["type"] for c in plinth["columns"]]
    if cols != hyp["columns"] or len(plinth["rows"]) != len(hyp["rows"]):
        return f"{name}: columns {cols} vs {hyp['columns']}, rows {len(plinth['rows'])} vs " \
               f"{len(hyp['rows'])}"
    for r, (pa, hb) in enumerate(zip(plinth["rows"], hyp["rows"])):
        for c, kind in enumerate(kinds):
            if not same(kind, pa[c], hb[c]):
                return f"{name}: row {r} column {cols[c]}: Plinth {pa[c]!r}, hyparquet {hb[c]!r}"
    return None


def main():
    tool, datasets, hyparquet = (os.path.abspath(a) for a in sys.argv[1:4])

    def plinth(*args):
        return subprocess.run([tool, *args], capture_output=True, text=True)

    def hyp(path):
        r = subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "hyparquet_dump.mjs"), hyparquet, path],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    folder = os.path.join(datasets, "parquet")
    files = sorted(f for f in os.listdir(folder) if f.endswith(".parquet"))
    check(len(files) == 14, f"the 14 files of datasets/parquet: {files}")
    compared = 0
    for name in files:
        path = os.path.join(folder, name)
        r = plinth("dump", path)
        if name in REFUSED:
            lines = r.stderr.strip().splitlines()
            check(r.returncode == 2 and len(lines) == 1 and REFUSED[name] in lines[0],
                  f"{name}: refused naming the column: {r.returncode} {r.stderr!r}")
            continue
        check(r.returncode == 0, f"{name}: {r.stderr}")
        if r.returncode != 0:
            continue
        mine = json.loads(r.stdout)
        theirs = hyp(path)
        diff = compare(name, mine, theirs)
        check(diff is None, diff or "")
        compared += 1
    check(compared == 9, f"9 flat files compared value by value: {compared}")

    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "every.parquet")
        r = plinth("write", out)
        check(r.returncode == 0, f"write: {r.stderr}")
        written = json.loads(r.stdout)
        theirs = hyp(out)
        diff = compare("Plinth's file", written, theirs)
        check(diff is None, diff or "")
        ts = theirs["types"][theirs["columns"].index("t")]["logical"] or {}
        check(ts.get("type") == "TIMESTAMP" and ts.get("isAdjustedToUTC") is True and
              ts.get("unit") == "MICROS",
              f"timestamps written as UTC instants in microseconds: {theirs['types']}")
        s = theirs["types"][theirs["columns"].index("s")]
        check(s["type"] == "BYTE_ARRAY" and (s["converted"] == "UTF8" or
                                             (s["logical"] or {}).get("type") == "STRING"),
              f"strings written as UTF-8: {s}")
        # Plinth reads its own file back the same.
        r = plinth("dump", out)
        check(r.returncode == 0 and compare("read back", json.loads(r.stdout), theirs) is None,
              f"read back: {r.stderr}")
        # Bad files and places: one line, exit 2.
        for args, says in [(["dump", os.path.join(work, "missing.parquet")], "missing.parquet"),
                           (["write", work], "is a directory")]:
            r = plinth(*args)
            lines = r.stderr.strip().splitlines()
            check(r.returncode == 2 and len(lines) == 1 and says in lines[0],
                  f"{args}: {r.returncode} {r.stderr!r}")
    check.done()


if __name__ == "__main__":
    main()
