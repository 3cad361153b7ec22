#!/usr/bin/env python3
"""`plinth serve --shadow`: a challenger scores every request unseen.

models:/adult-income/1 (20 rounds) is served with models:/adult-income/2 (1 round) as its
shadow. 300 test rows in requests of 10: every answer is version 1's (as `plinth predict` scores
those rows offline); every log line carries version 2's outputs on the same rows, equal to its
offline predictions (float32); /metrics counts both models' requests and the rows on which
they agree, which equals the offline count. Shadows that cannot shadow (another task, a column
the served model does not read) are refused at start with exit 2.

usage: serve_shadow_test.py PLINTH_BINARY DATASETS_DIR
"""
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import (adult_test_rows, Checks, free_port, offline_predictions,  # noqa: E402
                          retrain_adult, start_server, train_adult_project)

check = Checks("serve_shadow")


def main():
    plinth, datasets = (os.path.abspath(a) for a in sys.argv[1:3])
    import pandas as pd
    with tempfile.TemporaryDirectory() as work:
        path = lambda *p: os.path.join(work, *p)  # noqa: E731

        def run(*args):
            return subprocess.run([plinth, *args], cwd=work, capture_output=True, text=True)

        train_adult_project(plinth, datasets, work, epochs=20)  # version 1
        retrain_adult(plinth, work, 1)  # version 2, the shadow
        rows = adult_test_rows(datasets).drop(columns=["fnlwgt", "income"]).head(300)
        rows.to_csv(path("rows.csv"), index=False)
        offline = offline_predictions(plinth, work, "rows.csv", ("1", "2"))

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        serve = start_server([plinth, "serve", "models:/adult-income/1", "--port", str(port),
                              "--shadow", "models:/adult-income/2", "--prediction-log", "log"],
                             port, cwd=work, stderr=subprocess.PIPE)
        answers = []
        truth = []
        try:
            records = rows.astype(object).where(rows.notna(), None).to_dict("records")
            for i in range(0, len(records), 10):
                body = json.dumps({"data": records[i:i + 10]}).encode()
                req = urllib.request.Request(f"{url}/predict", body,
                                             {"Content-Type": "application/json",
                                              "X-Request-Id": f"req-{i // 10:03d}"})
                with urllib.request.urlopen(req, timeout=30) as r:
                    answers.append(json.load(r))
            with urllib.request.urlopen(f"{url}/metrics", timeout=30) as r:
                metrics = r.read().decode()
            # Ground truth for every row.
            truth = list(adult_test_rows(datasets)["income"].head(300))
            body = json.dumps({"feedback": [
                {"request_id": f"req-{i // 10:03d}", "row": i % 10, "label": truth[i]}
                for i in range(300)]}).encode()
            req = urllib.request.Request(f"{url}/feedback", body,
                                         {"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                r.read()
        finally:
            serve.send_signal(signal.SIGTERM)
            _, err = serve.communicate(timeout=30)
        check(b"shadow: adult-income version 2" in err, f"the banner names the shadow: {err!r}")

        served = [p for a in answers for p in a["predictions"]]
        check(served == list(offline["1"]["prediction"]) and
              all(a["model_version"] == "1" for a in answers),
              "every answer is the served model's")

        lines = []
        for name in sorted(glob.glob(path("log", "predictions-*.jsonl"))):
            with open(name) as f:
                lines += [json.loads(line) for line in f]
        lines.sort(key=lambda line: line["request_id"])
        check(len(lines) == 30, f"30 log lines: {len(lines)}")
        shadow_pred = [p for line in lines for p in line.get("shadow", {}).get("predictions", [])]
        shadow_prob = [p for line in lines
                       for p in line.get("shadow", {}).get("probabilities", {}).get(">50K", [])]
        check(all(line["model_version"] == "1" and line["shadow"]["model_version"] == "2"
                  and line["shadow"]["latency_ms"] >= 0 for line in lines),
              "each line: the served version and the shadow's")
        check(shadow_pred == list(offline["2"]["prediction"]),
              "the shadow's predictions are version 2's offline ones")
        worst = max(abs(a - b) for a, b in zip(shadow_prob, offline["2"]["probability_>50K"]))
        check(len(shadow_prob) == 300 and worst < 1e-6,
              f"the shadow's probabilities are version 2's to float32: {worst}")

        agreed = int((offline["1"]["prediction"] == offline["2"]["prediction"]).sum())

        def sample(name, **labels):
            want = ",".join(f'{k}="{v}"' for k, v in labels.items())
            for line in metrics.splitlines():
                if line.startswith(name + ("{" + want + "}" if want else " ")):
                    return float(line.rsplit(" ", 1)[1])
            return None
        check(sample("plinth_serve_shadow_rows_total", agreement="agreed") == agreed and
              sample("plinth_serve_shadow_rows_total", agreement="disagreed") == 300 - agreed,
              f"agreement on /metrics: {agreed} offline\n{metrics[-1500:]}")
        check(sample("plinth_serve_model_requests_total", role="served", version="1",
                     result="scored") == 30 and
              sample("plinth_serve_model_requests_total", role="shadow", version="2",
                     result="scored") == 30,
              "each model's requests on /metrics")
        check(agreed < 300, f"the two models disagree somewhere (else the test proves little): "
              f"{agreed}")

        # plinth models compare-live: the agreement, and each model's accuracy on the rows
        # with ground truth, as pandas computes them from the offline predictions.
        r = run("models", "compare-live", "adult-income", "--log", "log", "--json", "c.json")
        check(r.returncode == 0, f"compare-live: {r.returncode} {r.stderr}")
        if r.returncode == 0:
            with open(path("c.json")) as f:
                pairs = json.load(f)["pairs"]
            want1 = float((offline["1"]["prediction"] == pd.Series(truth)).mean())
            want2 = float((offline["2"]["prediction"] == pd.Series(truth)).mean())
            check(len(pairs) == 1 and pairs[0]["served_version"] == "1"
                  and pairs[0]["shadow_version"] == "2" and pairs[0]["rows"] == 300
                  and pairs[0]["requests"] == 30 and pairs[0]["agreed_rows"] == agreed
                  and pairs[0]["labelled_rows"] == 300
                  and abs(pairs[0]["served_accuracy"] - want1) < 1e-12
                  and abs(pairs[0]["shadow_accuracy"] - want2) < 1e-12,
                  f"compare-live: {pairs} vs {agreed} {want1} {want2}")
        r = run("models", "compare-live", "adult-income", "--log", "nolog")
        check(r.returncode == 2 and "--log nolog" in r.stderr, f"no log: {r.stderr}")

        # The log with shadow outputs still reads as before.
        r = run("monitor", "drift", "models:/adult-income/1", "--log", "log", "--json", "d.json")
        check(r.returncode in (0, 1) and os.path.exists(path("d.json")),
              f"monitor drift reads the log: {r.returncode} {r.stderr}")

        # Shadows that cannot shadow.
        retrain_adult(plinth, work, 5, ["fnlwgt", "race"])  # version 3 reads no race
        p = free_port()
        for model, shadow, says in [
                ("models:/adult-income/3", "models:/adult-income/1",
                 "--shadow models:/adult-income/1: it reads the column 'race', which the served "
                 "model does not read"),
                ("models:/adult-income/1", "models:/adult-income/9", "--shadow: ")]:
            r = run("serve", model, "--port", str(p), "--shadow", shadow)
            lines_ = r.stderr.strip().splitlines()
            check(r.returncode == 2 and lines_ and says in lines_[0],
                  f"{shadow}: {r.returncode} {r.stderr!r}")
        check.done()


if __name__ == "__main__":
    main()
