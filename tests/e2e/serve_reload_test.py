#!/usr/bin/env python3
"""Hot reload in `plinth serve`, under load: two versions of a model are registered, the server
serves models:/adult-income@production while four client threads call /predict without pause,
and the alias is moved (found by polling, then by POST /admin/reload, then removed so that a
reload fails). Every request must succeed, answers must move from one version to the other, and
the two versions' predictions must differ. A served bundle directory replaced on disk is picked
up the same way.

usage: serve_reload_test.py PLINTH DATASETS_DIR
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks, free_port, start_server, train_adult  # noqa: E402

PLINTH, DATA = sys.argv[1:3]
check = Checks("serve_reload_test")
work = tempfile.mkdtemp(prefix="plinth-reload-")
os.environ["PLINTH_TRACKING_URI"] = f"sqlite:///{work}/store.db"
os.environ["PLINTH_ARTIFACTS_ROOT"] = f"{work}/artifacts"
bundles = []
for version, epochs in ((1, 5), (2, 40)):
    os.makedirs(f"{work}/v{version}")
    bundles.append(train_adult(PLINTH, DATA, f"{work}/v{version}", epochs=epochs))


def plinth(*args):
    subprocess.run([PLINTH, *args], check=True, capture_output=True)


plinth("models", "alias", "adult-income", "production", "1")

ROW = {"age": 39, "workclass": "State-gov", "education": "Bachelors", "education-num": 13,
       "marital-status": "Never-married", "occupation": "Adm-clerical",
       "relationship": "Not-in-family", "race": "White", "sex": "Male", "capital-gain": 2174,
       "capital-loss": 0, "hours-per-week": 40, "native-country": "United-States"}
BODY = json.dumps({"data": [ROW]})


class Load:
    """Threads calling POST /predict on keep-alive connections until stopped; they record every
    answer's model version and probability, and every failure."""

    def __init__(self, port, threads=4):
        self.port, self.stop = port, threading.Event()
        self.lock = threading.Lock()
        self.answers, self.failures = [], []
        self.threads = [threading.Thread(target=self.run) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            try:
                conn.request("POST", "/predict", BODY, {"Content-Type": "application/json"})
                r = conn.getresponse()
                text = r.read().decode()
                if r.status != 200:
                    raise RuntimeError(f"status {r.status}: {text}")
                a = json.loads(text)
                with self.lock:
                    self.answers.append((a["model_version"], a["probabilities"][0][1]))
            except Exception as e:  # noqa: BLE001 - every failure is the finding
                with self.lock:
                    self.failures.append(repr(e))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def latest(self):
        with self.lock:
            return self.answers[-1][0] if self.answers else None

    def wait_for(self, version, seconds=15):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.latest() == version:
                return True
            time.sleep(0.05)
        return False

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()


def call(port, path, method="POST"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, "" if method == "POST" else None)
    r = conn.getresponse()
    return r.status, r.read().decode()


port = free_port()
server = start_server([PLINTH, "serve", "models:/adult-income@production", "--port", str(port),
                       "--poll-interval", "1"], port, stderr=subprocess.PIPE, text=True)
load = Load(port)
check(load.wait_for("1"), "answers from version 1")

# 1. The alias moves: the poller finds it within a second or two.
time.sleep(0.5)
plinth("models", "alias", "adult-income", "production", "2")
check(load.wait_for("2"), "answers from version 2 after the alias moved (polling)")

# 2. Moved back, and reloaded by hand at once.
time.sleep(0.3)
plinth("models", "alias", "adult-income", "production", "1")
status, text = call(port, "/admin/reload")
answer = json.loads(text)
check(status == 200 and answer.get("reloaded") is True and answer.get("model_version") == "1"
      and answer.get("previous_version") == "2", f"POST /admin/reload: {status} {text}")
check(load.wait_for("1", seconds=5), "answers from version 1 after /admin/reload")
status, text = call(port, "/admin/reload")
check(status == 200 and json.loads(text).get("reloaded") is False, f"nothing to reload: {text}")
check(call(port, "/admin/reload", method="GET")[0] == 405, "GET /admin/reload: 405")

# 3. The alias removed: reloads fail, the served model stays.
plinth("models", "alias", "adult-income", "production", "--delete")
status, text = call(port, "/admin/reload")
check(status == 500 and "still serving version 1" in json.loads(text).get("error", ""),
      f"failed reload: {status} {text}")
time.sleep(1.5)  # a failed poll too
load.finish()
metrics = call(port, "/metrics", method="GET")[1]
check(load.latest() == "1", "still version 1 after the failed reloads")
check(not load.failures, f"{len(load.failures)} failed requests during the swaps: "
      f"{load.failures[:3]}")
seen = {v for v, _ in load.answers}
check(seen == {"1", "2"}, f"versions answered: {seen}")
proba = {v: {p for w, p in load.answers if w == v} for v in seen}
check(all(len(p) == 1 for p in proba.values()) and proba.get("1") != proba.get("2"),
      f"each version answers its own probability: {proba}")
check('plinth_serve_reloads_total{result="swapped"} 2' in metrics, "two swaps counted")
check('plinth_serve_reloads_total{result="failed"}' in metrics
      and 'plinth_serve_reloads_total{result="failed"} 0' not in metrics, "failures counted")
check('plinth_serve_model_info{name="adult-income",version="1"} 1' in metrics, "model info")
print(f"{len(load.answers)} requests, {len(load.failures)} failed; versions {sorted(seen)}")
server.send_signal(signal.SIGTERM)
check(server.wait(timeout=10) == 0, "SIGTERM: exit 0")
log = server.stderr.read()
check("now serving version 2 (was 1)" in log, f"the poller says what it swapped: {log[-300:]}")

# 4. A bundle directory replaced on disk (rename into place) is reloaded by hand.
served = f"{work}/served"
shutil.copytree(bundles[0], served)
port = free_port()
server = start_server([PLINTH, "serve", served, "--port", str(port)], port,
                      stderr=subprocess.PIPE, text=True)
load = Load(port, threads=2)
time.sleep(0.3)
before = load.latest()
shutil.copytree(bundles[1], f"{work}/incoming")
os.rename(served, f"{work}/old")
os.rename(f"{work}/incoming", served)
status, text = call(port, "/admin/reload")
answer = json.loads(text)
check(status == 200 and answer.get("reloaded") is True and answer.get("previous_version") == before
      and answer.get("model_version") != before, f"bundle replaced: {status} {text}")
check(load.wait_for(answer.get("model_version"), seconds=5), "answers from the new bundle")
load.finish()
check(not load.failures, f"bundle swap: {len(load.failures)} failed requests")
server.send_signal(signal.SIGTERM)
check(server.wait(timeout=10) == 0, "SIGTERM: exit 0")

shutil.rmtree(work)
check.done()
