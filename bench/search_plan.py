#!/usr/bin/env python3
"""Why plinth server keeps its run-search plan: a filter on a metric, a param and a tag, run as
Plinth runs it (correlated EXISTS per run of the experiment) and as the faster-looking plan
(runs IN the metric index range), on a one-experiment store like bench/tracking_bench.py's and
on one with 100 experiments of 1,000 runs. SQLite through Python's sqlite3, in memory.

usage: search_plan.py"""
import sqlite3
import time

db = sqlite3.connect(":memory:")
db.executescript("""
CREATE TABLE runs (run_uuid TEXT PRIMARY KEY, experiment_id INTEGER, start_time INTEGER);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time);
CREATE TABLE latest_metrics (run_uuid TEXT, key TEXT, value REAL, is_nan INTEGER, PRIMARY KEY (run_uuid, key));
CREATE INDEX latest_metrics_by_key ON latest_metrics (key, value);
CREATE TABLE params (run_uuid TEXT, key TEXT, value TEXT, PRIMARY KEY (run_uuid, key));
CREATE TABLE tags (run_uuid TEXT, key TEXT, value TEXT, PRIMARY KEY (run_uuid, key));
""")
def fill(experiments, per):
    rows = 0
    for e in range(experiments):
        for i in range(per):
            r = f"{e:04d}{i:06d}"
            db.execute("INSERT INTO runs VALUES (?,?,?)", (r, e, i))
            db.execute("INSERT INTO latest_metrics VALUES (?,?,?,0)", (r, "acc", (i % 1000) / 1000))
            db.execute("INSERT INTO params VALUES (?,?,?)", (r, "model", ["gbdt","linear","mlp"][i % 3]))
            db.execute("INSERT INTO tags VALUES (?,?,?)", (r, "team", f"t{i % 10}"))
exists = """SELECT r.run_uuid FROM runs r WHERE r.experiment_id = 0
 AND EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = 'acc' AND m.is_nan = 0 AND m.value > ?)
 AND EXISTS (SELECT 1 FROM params x WHERE x.run_uuid = r.run_uuid AND x.key = 'model' AND x.value = 'gbdt')
 AND EXISTS (SELECT 1 FROM tags x WHERE x.run_uuid = r.run_uuid AND x.key = 'team' AND x.value = 't3')
 ORDER BY r.start_time DESC LIMIT 1001"""
inq = exists.replace("AND EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = 'acc' AND m.is_nan = 0 AND m.value > ?)",
  "AND r.run_uuid IN (SELECT m.run_uuid FROM latest_metrics m WHERE m.key = 'acc' AND m.is_nan = 0 AND m.value > ?)")
def t(q, v, n=50):
    best = []
    for _ in range(n):
        t0 = time.perf_counter(); db.execute(q, (v,)).fetchall(); best.append(time.perf_counter() - t0)
    best.sort(); return best[len(best)//2] * 1000
fill(1, 1000)
print("1 experiment x 1000: exists acc>0.9 %.3f ms, in %.3f ms; acc>0 exists %.3f, in %.3f" % (t(exists, .9), t(inq, .9), t(exists, 0), t(inq, 0)))
for e in range(1, 100):
    for i in range(1000):
        r = f"{e:04d}{i:06d}"
        db.execute("INSERT INTO runs VALUES (?,?,?)", (r, e, i))
        db.execute("INSERT INTO latest_metrics VALUES (?,?,?,0)", (r, "acc", (i % 1000) / 1000))
        db.execute("INSERT INTO params VALUES (?,?,?)", (r, "model", "x"))
        db.execute("INSERT INTO tags VALUES (?,?,?)", (r, "team", "x"))
print("100 experiments x 1000: exists acc>0.9 %.3f ms, in %.3f ms; acc>0 exists %.3f, in %.3f" % (t(exists, .9), t(inq, .9), t(exists, 0), t(inq, 0)))
