#!/usr/bin/env python3
"""`plinth serve --monitor monitoring.yaml` over real sockets: the window's statistics equal
`plinth monitor drift` on the same rows (1e-9), the gauges on /metrics and the JSON on
GET /monitor; shifted traffic fires the DataDrift alert, delivered to a webhook receiver on
loopback in Alertmanager's payload (after one 500 answer, retried); labels sent to
/feedback give the window's accuracy; the firing state survives a restart (no second
notification) and resolves once the traffic is normal again; `plinth monitor alerts` lists
the history; a receiver that is down costs retries and a log line, never an answer; bad
configs fail with one line naming the file and line.

usage: serve_monitor_test.py PLINTH_BINARY DATASETS_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import adult_test_rows, Checks, free_port, start_server, train_adult_project  # noqa: E402

check = Checks("serve_monitor")


class Receiver(BaseHTTPRequestHandler):
    """Answers the first POST with 500 (the sender must retry), then 200; keeps bodies."""
    bodies, attempts = [], 0
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Receiver.lock:
            Receiver.attempts += 1
            first = Receiver.attempts == 1
            if not first:
                Receiver.bodies.append(json.loads(body))
        self.send_response(500 if first else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


def wait_for(what, predicate, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    check(False, f"timed out waiting for {what}")
    return None


def main():
    plinth, datasets = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory() as work:
        def path(name):
            return os.path.join(work, name)

        meta = train_adult_project(plinth, datasets, work)
        inputs = [c["name"] for c in meta["input_schema"]]
        test = adult_test_rows(datasets)
        young, old = test[test["age"] <= 50], test[test["age"] > 50]

        receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        hook = f"http://127.0.0.1:{receiver.server_address[1]}/alerts"
        with open(path("monitoring.yaml"), "w") as f:
            f.write(f"""window: {{duration: 1h, rows: 1000}}
interval: 1s
alerts:
  - {{name: DataDrift, metric: dataset_drift_share, op: ">", threshold: 0.3, for: 1s,
     severity: warning, summary: inputs drifting}}
  - {{name: LatencyHigh, metric: latency_p99_ms, threshold: 100, severity: critical}}
webhook: {{url: "{hook}", retries: 2, timeout: 2s}}
""")
        port = free_port()
        cmd = [plinth, "serve", "model", "--port", str(port), "--monitor", "monitoring.yaml"]
        server = start_server(cmd, port, cwd=work, stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}"

        def get(route):
            return urllib.request.urlopen(base + route).read().decode()

        def post(rows, ids=None):
            body = json.dumps({"dataframe_records": json.loads(rows[inputs].to_json(
                orient="records"))}).encode()
            req = urllib.request.Request(base + "/invocations", data=body,
                                         headers={"Content-Type": "application/json",
                                                  "X-Request-Id": ids or ""})
            return json.loads(urllib.request.urlopen(req).read())

        def monitor():
            return json.loads(get("/monitor"))

        # Normal traffic: 20 requests of 50 rows, the window's statistics equal the offline
        # report's on the same rows.
        sent = young.sample(1000, random_state=1)
        for i in range(20):
            post(sent.iloc[i * 50:(i + 1) * 50], f"n{i}")
        # Labels for the first 10 requests, through /feedback.
        fb = [{"request_id": f"n{i}", "row": r, "label": sent["income"].iloc[i * 50 + r]}
              for i in range(10) for r in range(50)]
        req = urllib.request.Request(base + "/feedback", data=json.dumps({"feedback": fb}).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req).read()
        m = wait_for("the window of 1000 rows with labels",
                     lambda: (lambda j: j if j.get("rows") == 1000 and j.get("labelled_rows") == 500
                              else None)(monitor()))
        if m:
            sent[inputs].to_csv(path("sent.csv"), index=False)
            r = subprocess.run([plinth, "monitor", "drift", "model", "--current", "sent.csv",
                                "--json", "offline.json"], cwd=work, capture_output=True, text=True)
            offline = {c["column"]: c for c in json.load(open(path("offline.json")))["columns"]}
            for c in inputs:
                check(abs(m["columns"][c]["score"] - offline[c]["score"]) <= 1e-9,
                      f"{c}: live {m['columns'][c]['score']} offline {offline[c]['score']}")
            check(m["dataset_drift"] is False and
                  all(a["state"] == "inactive" for a in m["alerts"]), f"normal: {m['alerts']}")
            real = m["performance"]["realized"]
            check(real["rows"] == 500 and 0.7 < real["accuracy"] <= 1 and
                  m["performance"]["estimated"]["rows"] == 1000, f"accuracy: {m['performance']}")
            check(m["model"]["training_data_sha256"] == meta["data"]["sha256"], f"{m['model']}")
        metrics = get("/metrics")
        check('plinth_drift_score{feature="age",method="wasserstein"}' in metrics and
              "plinth_dataset_drift_share 0" in metrics and "plinth_monitor_window_rows 1000" in
              metrics and "plinth_estimated_accuracy" in metrics, "gauges on /metrics")

        # Shifted traffic: older people; the window is replaced, DataDrift fires.
        for i in range(20):
            post(old.sample(50, random_state=100 + i))
        wait_for("the DataDrift notification", lambda: Receiver.bodies)
        if Receiver.bodies:
            p = Receiver.bodies[0]
            a = p["alerts"][0]
            check(p["version"] == "4" and p["status"] == "firing" and p["receiver"] == "plinth" and
                  a["labels"]["alertname"] == "DataDrift" and a["labels"]["severity"] == "warning" and
                  a["labels"]["model"] == "adult-income" and a["status"] == "firing" and
                  a["endsAt"] == "0001-01-01T00:00:00Z" and a["annotations"]["summary"] ==
                  "inputs drifting" and len(a["fingerprint"]) == 16 and
                  p["externalURL"].endswith("/monitor"), f"payload: {p}")
            check(Receiver.attempts == 2, f"retried after a 500: {Receiver.attempts} attempts")
        metrics = get("/metrics")
        check('plinth_alerts{alertname="DataDrift",severity="warning",state="firing"} 1' in metrics
              and re.search(r'plinth_drift_detected\{feature="age"\} 1', metrics) is not None,
              "firing on /metrics")
        check(re.search(r"^plinth_monitor_last_run_duration_seconds [0-9.e-]+$", metrics,
                        re.M) is not None, "the recomputation's duration on /metrics")
        # Windows recomputed again in the last one's columns still equal the offline report on
        # the same rows (the 20 shifted requests), not the rows before them.
        computed = monitor()["computed"]
        m = wait_for("another recomputation", lambda: (
            lambda j: j if j["computed"] != computed and j["rows"] == 1000 else None)(monitor()))
        pd.concat([old.sample(50, random_state=100 + i) for i in range(20)])[inputs].to_csv(
            path("shifted.csv"), index=False)
        subprocess.run([plinth, "monitor", "drift", "model", "--current", "shifted.csv", "--json",
                        "shifted.json"], cwd=work, capture_output=True, text=True)
        offline = {c["column"]: c for c in json.load(open(path("shifted.json")))["columns"]}
        check(m is not None and m["duration_seconds"] >= 0 and
              all(abs(m["columns"][c]["score"] - offline[c]["score"]) <= 1e-9 for c in inputs),
              f"recomputed window: {m and m['columns']}")

        # A restart keeps the firing state: no second notification; normal traffic resolves.
        server.terminate()
        check(server.wait(timeout=10) == 0, "SIGTERM: exit 0")
        server = start_server(cmd, port, cwd=work, stderr=subprocess.PIPE, text=True)
        for i in range(20):
            post(old.sample(50, random_state=200 + i))
        wait_for("a recomputed window", lambda: monitor().get("rows") == 1000)
        time.sleep(2.5)
        check(len(Receiver.bodies) == 1 and
              monitor()["alerts"][0]["state"] == "firing", f"after restart: {len(Receiver.bodies)}")
        for i in range(20):
            post(young.sample(50, random_state=300 + i))
        wait_for("the resolved notification", lambda: len(Receiver.bodies) >= 2)
        if len(Receiver.bodies) >= 2:
            resolved = Receiver.bodies[1]["alerts"][0]
            check(resolved["status"] == "resolved" and resolved["endsAt"] != "0001-01-01T00:00:00Z"
                  and resolved["startsAt"] == Receiver.bodies[0]["alerts"][0]["startsAt"],
                  f"resolved: {resolved}")
        r = subprocess.run([plinth, "monitor", "alerts", "adult-income", "--json"], cwd=work,
                           capture_output=True, text=True)
        history = json.loads(r.stdout) if r.returncode == 0 else []
        check([(e["alert"], e["status"]) for e in history] ==
              [("DataDrift", "firing"), ("DataDrift", "resolved")], f"history: {r.stdout}")
        server.terminate()
        server.wait(timeout=10)

        # A tampered history line (a number where a time goes) is skipped, at start and by
        # plinth monitor alerts, never an internal error.
        with open(path(".plinth/monitoring/adult-income/alerts.jsonl"), "a") as f:
            f.write('{"alert": "DataDrift", "model": 5, "since": 5, "status": "firing"}\n')
        r = subprocess.run([plinth, "monitor", "alerts", "adult-income"], cwd=work,
                           capture_output=True, text=True)
        check(r.returncode == 0 and r.stdout.count("DataDrift") == 2, f"tampered: {r.stderr}")

        # A receiver that is down: retried, logged, and every request still answered.
        receiver.shutdown()
        receiver.server_close()
        with open(path("down.yaml"), "w") as f:
            f.write(f"""window: {{rows: 500}}
interval: 1s
alerts: [{{name: AnyRows, metric: window_rows, op: ">", threshold: 0}}]
webhook: {{url: "{hook}", retries: 1, timeout: 1s}}
""")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server([plinth, "serve", "model", "--port", str(port), "--monitor",
                               "down.yaml", "--prediction-log", "off"], port, cwd=work,
                              stderr=subprocess.PIPE, text=True)
        answered = sum(len(post(young.sample(10, random_state=i))["predictions"]) == 10
                       for i in range(10))
        wait_for("the failed delivery counted",
                 lambda: 'plinth_alert_notifications_total{result="failed"} 1' in get("/metrics"))
        server.terminate()
        err = server.communicate(timeout=10)[1]
        check(answered == 10 and "not delivered after 2 tries" in err, f"down receiver: {err}")

        # A hot reload to a model with other classes (race, 5 of them): the monitor keeps the
        # model it started with and ignores the new one's requests; nothing breaks. And an
        # alert history that is a FIFO is refused, not waited on.
        subprocess.run(["cp", "-r", path("model"), path("swap")], check=True)
        os.makedirs(path("fifo"))
        os.mkfifo(path("fifo/alerts.jsonl"))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server([plinth, "serve", "swap", "--port", str(port), "--monitor",
                               "down.yaml", "--prediction-log", "fifo", "--poll-interval", "1"],
                              port, cwd=work, stderr=subprocess.PIPE, text=True)
        post(young.sample(10, random_state=1))
        with open(path("race.yaml"), "w") as f:
            f.write(f"""name: swap
seed: 7
data: {{path: {datasets}/adult_train.csv, target: race, ignore_columns: [fnlwgt, income]}}
model: {{type: gbdt, epochs: 10}}
output: swap
tracking: {{register: false}}
""")
        r = subprocess.run([plinth, "train", "race.yaml", "-q"], cwd=work, capture_output=True,
                           text=True)
        check(r.returncode == 0, f"race model: {r.stderr}")
        races = {"White", "Black", "Asian-Pac-Islander", "Other", "Amer-Indian-Eskimo"}
        swapped = wait_for("the reload", lambda: races & set(
            post(young.sample(5, random_state=3))["predictions"]))
        time.sleep(1.5)
        check(swapped and server.poll() is None and monitor().get("requests", 0) >= 1,
              f"after a reload to another model: alive {server.poll() is None}")
        server.terminate()
        start = time.monotonic()
        err = server.communicate(timeout=20)[1]
        check(time.monotonic() - start < 10 and "alerts.jsonl: not a regular file" in err,
              f"FIFO history: {err[-400:]}")

        # Bad configs: exit 2, one line naming the file and line.
        for text, message in [
            ("alerts: [{name: X, metric: latency, threshold: 1}]",
             "bad.yaml:1: alerts[0]: key 'metric': unknown metric 'latency'"),
            ("window: {rows: 5}", "bad.yaml:1: key 'window.rows': expected a whole number"),
            ("interval: soon", "bad.yaml:1: key 'interval': expected a duration"),
            ("webhook: {url: ftp://x}", "key 'webhook.url': expected an http:// or https:// URL"),
            ("colour: red", "bad.yaml:1: monitoring: unknown key 'colour'"),
        ]:
            with open(path("bad.yaml"), "w") as f:
                f.write(text + "\n")
            r = subprocess.run([plinth, "serve", "model", "--port", str(free_port()), "--monitor",
                                "bad.yaml"], cwd=work, capture_output=True, text=True, timeout=30)
            check(r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1,
                  f"{text}: {r.returncode} {r.stderr!r}")
    check.done()


if __name__ == "__main__":
    main()
