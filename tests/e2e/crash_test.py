#!/usr/bin/env python3
"""What a user can do in a project does not make Plinth write outside it, and a killed command
leaves nothing behind that the next one does not clean up:

- `plinth train --set name=...` with a name that cannot be a file name ('../evil', 'a/b',
  '..') exits 2 with one line naming the key, writing nothing; `plinth serve` of a bundle that
  carries such a name refuses to place its prediction log outside .plinth/monitoring;
- `plinth train` killed with -9 leaves its run RUNNING; the next `plinth train` in the project
  marks it FAILED and removes the killed write's temporary bundle directory, not a concurrent
  one's;
- `plinth predict` killed with -9 leaves a hidden partial output that the next predict of that
  output removes, not a concurrent one's.

usage: crash_test.py PLINTH DATASETS_DIR
"""
import csv
import fcntl
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks, free_port  # noqa: E402

PLINTH, DATA = sys.argv[1:3]
check = Checks("crash_test")
work = tempfile.mkdtemp(prefix="plinth-crash-")
ENV = dict(os.environ, USER="ana")
for k in ("PLINTH_TRACKING_URI", "MLFLOW_TRACKING_URI", "PLINTH_ARTIFACTS_ROOT"):
    ENV.pop(k, None)

project = os.path.join(work, "project")
os.makedirs(project)
subprocess.run([PLINTH, "init"], cwd=project, env=ENV, check=True, capture_output=True)
with open(os.path.join(project, "train.yaml"), "w") as f:
    f.write(f"""name: adult
seed: 1
data: {{path: {DATA}/adult_train.csv, target: income}}
model: {{type: gbdt, epochs: 5}}
""")


def plinth(*args, timeout=300):
    return subprocess.run([PLINTH, *args], cwd=project, env=ENV, capture_output=True, text=True,
                          timeout=timeout)


for name in ["../evil", "a/b", ".."]:
    p = plinth("train", "train.yaml", "-q", "--set", f"name={name}")
    check(p.returncode == 2 and p.stderr.count("\n") == 1 and "'name'" in p.stderr,
          f"train --set name={name}: {p.returncode} {p.stderr!r}")
check(not os.path.exists(os.path.join(work, "evil")) and
      not os.path.exists(os.path.join(project, "evil")), "no bundle written outside models/")


def runs():
    p = plinth("runs", "ls", "--json")
    return json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else []


def tags(run):
    return {t["key"]: t["value"] for t in run.get("data", {}).get("tags", [])}


# A long training, killed -9 once its run is recorded.
proc = subprocess.Popen([PLINTH, "train", "train.yaml", "-q", "--set", "model.epochs=100000",
                         "--set", "model.early_stopping_patience=0",
                         "--set", "model.learning_rate=0.001"],
                        cwd=project, env=ENV, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
killed_run = None
deadline = time.monotonic() + 60
while time.monotonic() < deadline and proc.poll() is None and killed_run is None:
    running = [r for r in runs() if r["info"]["status"] == "RUNNING"]
    killed_run = running[0]["info"]["run_id"] if running else None
    time.sleep(0.2)
time.sleep(0.5)  # into the training itself
proc.send_signal(signal.SIGKILL)
proc.wait()
check(killed_run is not None, "the run is recorded as RUNNING while training")
# What a kill during the bundle's write leaves (the lock died with the process), and the
# temporary directory of a training that still runs (it holds its lock).
models = os.path.join(project, "models")
os.makedirs(os.path.join(models, "adult.tmp-deadbeef0000"), exist_ok=True)
with open(os.path.join(models, "adult.tmp-deadbeef0000", "model.ubj"), "w") as f:
    f.write("partial")
live_tmp = os.path.join(models, "adult.tmp-0123456789ab")
os.makedirs(live_tmp)
live_fd = os.open(live_tmp, os.O_RDONLY)
fcntl.flock(live_fd, fcntl.LOCK_EX)

p = plinth("train", "train.yaml", "-q")
check(p.returncode == 0, f"the next train: {p.returncode} {p.stderr}")
after = {r["info"]["run_id"]: r for r in runs()}
old = after.get(killed_run, {})
check(old.get("info", {}).get("status") == "FAILED" and "plinth.failure" in tags(old)
      and "end_time" in old.get("info", {}),
      f"the killed run is marked FAILED: {old.get('info')} {tags(old)}")
newest = [r for r in after.values() if r["info"]["run_id"] != killed_run]
check(len(newest) == 1 and newest[0]["info"]["status"] == "FINISHED",
      f"the new run finished: {[r['info']['status'] for r in newest]}")
check(not os.path.exists(os.path.join(models, "adult.tmp-deadbeef0000")),
      "the killed write's temporary bundle is removed")
check(os.path.isdir(live_tmp), "a running write's temporary bundle is kept")
os.close(live_fd)
check(sorted(os.listdir(models)) == ["adult", "adult.tmp-0123456789ab"],
      f"models/: {os.listdir(models)}")

# A registered model whose bundle carries a name that is no file name: serve refuses to log
# outside .plinth/monitoring.
bundle = os.path.join(models, "adult")
meta_path = os.path.join(bundle, "plinth-model.json")
meta = json.load(open(meta_path))
meta["name"] = "../../escaped"
json.dump(meta, open(meta_path, "w"))
serve_port = free_port()
serve = subprocess.Popen([PLINTH, "serve", bundle, "--port", str(serve_port)], cwd=project,
                         env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
try:
    err = serve.communicate(timeout=15)[1]
except subprocess.TimeoutExpired:
    serve.kill()
    err = serve.communicate()[1]
check(serve.returncode == 2 and err.count("\n") == 1 and "name" in err,
      f"serve of a bundle named '../../escaped': {serve.returncode} {err!r}")
check(not os.path.exists(os.path.join(work, "escaped")) and
      not os.path.exists(os.path.join(project, "escaped")), "no log directory outside")

# plinth predict killed -9 mid-way, then run again.
rows = list(csv.reader(open(os.path.join(DATA, "adult_test.csv"))))
big_input = os.path.join(work, "big.csv")
with open(big_input, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(rows[0])
    for _ in range(60):
        w.writerows(rows[1:])
small_input = os.path.join(work, "small.csv")
with open(small_input, "w", newline="") as f:
    csv.writer(f, lineterminator="\n").writerows(rows[:101])
meta["name"] = "adult"
json.dump(meta, open(meta_path, "w"))
out = os.path.join(work, "preds", "out.csv")
os.makedirs(os.path.dirname(out))
partial = os.path.join(work, "preds", ".out.csv.tmp.*")
proc = subprocess.Popen([PLINTH, "predict", bundle, "--input", big_input, "--output", out, "-q",
                         "--threads", "1", "--batch-size", "64"], cwd=project, env=ENV,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = time.monotonic() + 60
while time.monotonic() < deadline and proc.poll() is None and not glob.glob(partial):
    time.sleep(0.01)
proc.send_signal(signal.SIGKILL)
proc.wait()
check(len(glob.glob(partial)) == 1 and not os.path.exists(out),
      f"a killed predict leaves its partial output only: {os.listdir(os.path.dirname(out))}")
live_partial = os.path.join(work, "preds", ".out.csv.tmp.99.99")
with open(live_partial, "w") as f:
    f.write("a concurrent predict's rows")
live_fd = os.open(live_partial, os.O_RDONLY)
fcntl.flock(live_fd, fcntl.LOCK_EX)
p = plinth("predict", bundle, "--input", small_input, "--output", out, "-q")
check(p.returncode == 0 and len(open(out).read().splitlines()) == 101,
      f"the next predict: {p.returncode} {p.stderr}")
check(glob.glob(partial) == [live_partial],
      f"only the running predict's partial output is left: {glob.glob(partial)}")
os.close(live_fd)

check.done()
