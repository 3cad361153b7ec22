#!/usr/bin/env python3
"""`plinth models test`: model tests as promotion gates, on the adult data.

A good model (models:/adult-income/1) passes every kind of gate on adult's test file; a
threshold it misses fails with exit 1, the figure and the tag plinth.gates.<suite> = failed on
the version; a weak model (version 2) is compared with the production alias, and each metric
gate's verdict equals the real MLflow client's `_validate` (MetricThreshold) on the same
figures; the latency gate also runs through a running `plinth serve` (--url); bad gates files
and missing data are exit 2 with the file and line.

usage: gates_test.py PLINTH_BINARY DATASETS_DIR SHARED_DIR
"""
import json
import os
import pwd
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import (adult_test_rows, Checks, free_port, mlflow_client_env,  # noqa: E402
                          start_server, train_adult_project)

check = Checks("gates")

MLFLOW_ALIAS = r"""
import json, sys
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
c = MlflowClient(sys.argv[1])
out = {}
for what, call in [("alias 2", lambda: c.set_registered_model_alias("adult-income", "production", "2")),
                   ("stage 2", lambda: c.transition_model_version_stage("adult-income", "2", "Production")),
                   ("stage 1", lambda: c.transition_model_version_stage("adult-income", "1", "Production"))]:
    try:
        call()
        out[what] = "ok"
    except MlflowException as e:
        out[what] = e.message  # "INVALID_STATE: ..."
print(json.dumps(out))
"""

MLFLOW_VALIDATE = r"""
import json, sys
from mlflow.models import MetricThreshold
from mlflow.models.evaluation.base import _validate
from mlflow.exceptions import MlflowException
cases = json.load(sys.stdin)
out = []
for c in cases:
    t = MetricThreshold(**c["threshold"])
    try:
        _validate({c["metric"]: t}, {c["metric"]: c["candidate"]}, {c["metric"]: c["baseline"]})
        out.append(True)
    except MlflowException:
        out.append(False)
print(json.dumps(out))
"""


def main():
    plinth, datasets, shared = (os.path.abspath(a) for a in sys.argv[1:4])
    with tempfile.TemporaryDirectory() as work:
        path = lambda *p: os.path.join(work, *p)  # noqa: E731

        def run(*args, user="ci"):
            return subprocess.run([plinth, *args], cwd=work, capture_output=True, text=True,
                                  env=dict(os.environ, USER=user))

        train_adult_project(plinth, datasets, work, epochs=30)
        test = adult_test_rows(datasets)
        test.drop(columns=["fnlwgt"]).to_csv(path("eval.csv"), index=False)
        test.drop(columns=["fnlwgt"]).head(3000).to_csv(path("eval_head.csv"), index=False)
        with open(path("checks.yaml"), "w") as f:
            f.write("name: eval\nchecks:\n  - completeness: {column: age, max_null_fraction: 0}\n"
                    "  - row_count: {min: 1000}\n")
        with open(path("gates.yaml"), "w") as f:
            f.write("""suite: release
data: eval.csv
gates:
  - {metric: accuracy, threshold: 0.8}
  - {metric: log_loss, threshold: 0.5}
  - {metric: f1, baseline: production, min_relative_change: 0.01}
  - {metric: accuracy, slice: {column: sex}, min_rows: 100, threshold: 0.75}
  - {metric: accuracy, slice: {expr: "age >= 60"}, threshold: 0.7}
  - {output: {no_nulls: true, probabilities: true}}
  - {latency: {batch: 1, p99_ms: 10000000, requests: 200}}
  - {latency: {batch: 100, p99_ms: 10000000, requests: 50}}
  - {quality: checks.yaml}
  - {drift: {max_share: 0.5}}
  - {invariance: {column: race, max_change: 1.0}}
  - {directional: {column: capital-gain, increase: 1000, max_violations: 0.5}}
""")
        r = run("models", "test", "models:/adult-income/1", "--gates", "gates.yaml", "--json",
                "report.json", "--html", "report.html")
        check(r.returncode == 0, f"good model: exit {r.returncode}: {r.stderr}{r.stdout}")
        report = json.load(open(path("report.json"))) if os.path.exists(path("report.json")) else {}
        gates = {g["name"]: g for g in report.get("gates", [])}
        check(report.get("passed") is True and len(gates) == 12 and
              all(g["passed"] for g in gates.values()), f"all passed: {report}")
        check("no version is production yet" in gates.get("f1 vs production", {}).get("detail", ""),
              f"no baseline yet: {gates.get('f1 vs production')}")
        sliced = gates.get("accuracy per sex", {}).get("values", {}).get("slices", [])
        check(sorted(s["slice"] for s in sliced) == ["sex=Female", "sex=Male"] and
              all(s["judged"] for s in sliced), f"slices: {sliced}")
        # Each slice's accuracy equals sklearn-free arithmetic on plinth predict's output.
        subprocess.run([plinth, "predict", "models:/adult-income/1", "--input", "eval.csv",
                        "--output", "pred.csv"], cwd=work, check=True, capture_output=True)
        import pandas as pd
        pred = pd.read_csv(path("pred.csv"))
        ev = pd.read_csv(path("eval.csv"))
        check(len(pred) == len(ev), "predictions, one per row")
        pred["sex"], pred["income"] = ev["sex"], ev["income"]
        for s in sliced:
            rows = pred[pred["sex"] == s["slice"].split("=")[1]]
            acc = float((rows["prediction"] == rows["income"]).mean())
            check(abs(acc - s["value"]) < 1e-12, f"{s['slice']}: {s['value']} vs {acc}")
        lat = gates.get("latency, 1 row", {}).get("values", {})
        check(0 < lat.get("p50_ms", 0) <= lat.get("p99_ms", 0) and lat.get("endpoint") ==
              "in-process", f"latency: {lat}")
        check(os.path.getsize(path("report.html")) > 1000 and
              "<svg" in open(path("report.html")).read(), "the HTML report")
        db = sqlite3.connect(path(".plinth", "plinth.db"))

        def tag(version, key):
            row = db.execute("SELECT value FROM model_version_tags WHERE name = ? AND "
                             "version = ? AND key = ?", ("adult-income", version, key)).fetchone()
            return row[0] if row else None
        check(tag(1, "plinth.gates.release") == "passed", "tag passed on version 1")
        run_id = tag(1, "plinth.gates.release.run")
        lineage = run("lineage", f"adult-income/1", "--json")
        check(run_id is not None and run_id in lineage.stdout, f"lineage: {lineage.stdout[:300]}")

        # A slice where the metric is undefined (one class alone) is listed, not judged.
        with open(path("slices.yaml"), "w") as f:
            f.write("gates:\n  - {metric: roc_auc, slice: {column: workclass}, min_rows: 1, "
                    "threshold: 0.0}\n")
        r = run("models", "test", "model", "--gates", "slices.yaml", "--data", "eval.csv",
                "--json", "slices.json")
        never = [s for s in json.load(open(path("slices.json")))["gates"][0]["values"]["slices"]
                 if s["slice"] == "workclass=Never-worked"] if r.returncode == 0 else []
        check(len(never) == 1 and never[0]["judged"] is False and
              "undefined" in never[0].get("why", ""), f"one-class slice: {r.stderr} {never}")

        # A threshold the model misses: exit 1, the figure, the tag failed.
        with open(path("strict.yaml"), "w") as f:
            f.write("suite: strict\ngates:\n  - {metric: accuracy, threshold: 0.99}\n"
                    "  - {output: {}}\n")
        r = run("models", "test", "models:/adult-income/1", "--gates", "strict.yaml")
        check(r.returncode == 1 and "FAILED" in r.stdout and "1 of 2 gates failed" in r.stdout,
              f"strict: exit {r.returncode}: {r.stdout}{r.stderr}")
        check(tag(1, "plinth.gates.strict") == "failed", "tag failed on version 1")
        # Without data, the test metrics recorded at training are judged.
        meta = json.load(open(path("model", "plinth-model.json")))
        recorded = meta["metrics"]["test"]["accuracy"]
        r = run("models", "test", "model", "--gates", "strict.yaml", "--json", "strict.json")
        strict = json.load(open(path("strict.json")))
        check(r.returncode == 1 and strict["gates"][0]["values"]["value"] == recorded and
              strict["data"] == "the test metrics recorded at training",
              f"recorded metrics: {strict['gates'][0]} vs {recorded}")

        # A weak model (version 2) against production (version 1): each verdict as MLflow's.
        with open(path("weak.yaml"), "w") as f:
            f.write(f"""name: adult-income
seed: 3
data: {{path: {datasets}/adult_train.csv, target: income, ignore_columns: [fnlwgt]}}
model: {{type: gbdt, epochs: 2}}
output: weak
""")
        subprocess.run([plinth, "train", "weak.yaml", "-q"], cwd=work, check=True,
                       capture_output=True)
        run("models", "alias", "adult-income", "production", "1")
        thresholds = [
            ("accuracy", {"min_absolute_change": 0.01, "greater_is_better": True}),
            ("accuracy", {"min_relative_change": 0.05, "greater_is_better": True}),
            ("accuracy", {"threshold": 0.5, "min_relative_change": 0.0, "greater_is_better": True}),
            ("log_loss", {"min_absolute_change": 0.001, "greater_is_better": False}),
            ("log_loss", {"min_relative_change": 0.5, "greater_is_better": False}),
            ("log_loss", {"threshold": 10.0, "greater_is_better": False}),
            ("f1", {"threshold": 0.1, "min_absolute_change": 0.5, "greater_is_better": True}),
            ("roc_auc", {"min_relative_change": 1.0, "greater_is_better": True}),
            ("accuracy", {"min_absolute_change": 0.001, "greater_is_better": False}),
            ("roc_auc", {"min_relative_change": 0.001, "greater_is_better": False}),
        ]
        with open(path("compare.yaml"), "w") as f:
            f.write("suite: compare\ndata: eval.csv\ngates:\n")
            for i, (metric, t) in enumerate(thresholds):
                keys = ", ".join(f"{k}: {str(v).lower()}" for k, v in t.items())
                base = ", baseline: production" if "min_absolute_change" in t or \
                    "min_relative_change" in t else ""
                f.write(f"  - {{name: g{i}, metric: {metric}, {keys}{base}}}\n")
        r = run("models", "test", "models:/adult-income/2", "--gates", "compare.yaml", "--json",
                "compare.json")
        compare = json.load(open(path("compare.json"))) if os.path.exists(path("compare.json")) \
            else {"gates": []}
        check(r.returncode in (0, 1) and len(compare["gates"]) == len(thresholds),
              f"compare: exit {r.returncode}: {r.stderr}")
        cases = []
        for (metric, t), g in zip(thresholds, compare["gates"]):
            cases.append({"metric": metric, "threshold": t, "candidate": g["values"]["value"],
                          "baseline": g["values"].get("baseline", g["values"]["value"])})
            check("baseline" in g["values"] or "min_absolute_change" not in t,
                  f"{g['name']}: compared with production: {g}")
        mlflow = subprocess.run(["/usr/bin/python3", "-c", MLFLOW_VALIDATE],
                                input=json.dumps(cases), capture_output=True, text=True,
                                env=mlflow_client_env(shared, "mlflow", work))
        verdicts = json.loads(mlflow.stdout) if mlflow.returncode == 0 else []
        check(len(verdicts) == len(cases), f"MLflow's _validate: {mlflow.stderr[-800:]}")
        for v, g in zip(verdicts, compare["gates"]):
            check(v == g["passed"], f"{g['name']}: plinth {g['passed']}, MLflow {v}: {g}")
        check(sum(verdicts) >= 3 and not all(verdicts), f"both outcomes exercised: {verdicts}")

        # A protected production alias: a version must pass the gates 'release' (this file) and
        # have one approval; the store refuses every client otherwise, MLflow's too.
        run("models", "alias", "adult-income", "production", "--delete")
        r = run("models", "protect", "adult-income", "production", "--gates", "gates.yaml",
                "--approvals", "1")
        check(r.returncode == 0 and "is protected" in r.stdout, f"protect: {r.stderr}")
        r = run("models", "alias", "adult-income", "production", "1")
        check(r.returncode == 2 and r.stderr.strip() == "plinth: error: alias 'production' of "
              "adult-income is protected by the gates 'release': version 1 has 0 of 1 approvals "
              "(plinth models approve adult-income 1)", f"no approval: {r.stderr}")
        # Approvals are the operating system account's, whatever $USER says.
        account = pwd.getpwuid(os.getuid()).pw_name
        # A run on other data (or through --url) is another run: it does not count.
        r = run("models", "test", "models:/adult-income/1", "--gates", "gates.yaml", "--data",
                "eval_head.csv", "-q")
        r = run("models", "alias", "adult-income", "production", "1")
        check(r.returncode == 2 and "version 1 ran other gates than the protection names" in
              r.stderr, f"--data elsewhere: {r.stderr}")
        run("models", "test", "models:/adult-income/1", "--gates", "gates.yaml", "-q")
        r = run("models", "approve", "adult-income", "1", user="somebody-else")
        check(r.returncode == 0 and r.stdout.strip().endswith(f"approved by {account}"),
              f"approve: {r.stdout} {r.stderr}")
        r = run("models", "alias", "adult-income", "production", "1")
        check(r.returncode == 0, f"passed and approved: {r.stderr}")
        run("models", "approve", "adult-income", "2")
        r = run("models", "alias", "adult-income", "production", "2")
        check(r.returncode == 2 and "version 2 has not run them (plinth models test "
              "models:/adult-income/2 --gates FILE)" in r.stderr, f"not tested: {r.stderr}")
        r = run("models", "test", "models:/adult-income/2", "--gates", "gates.yaml", "-q")
        check(r.returncode == 1, f"the weak model fails release: {r.returncode} {r.stderr}")
        r = run("models", "alias", "adult-income", "production", "2")
        check(r.returncode == 2 and "version 2 failed them (log_loss, f1 vs production)" in
              r.stderr, f"failed: {r.stderr}")
        port = free_port()
        server = start_server([plinth, "server", "--port", str(port)], port, cwd=work,
                              stderr=subprocess.DEVNULL)
        client = subprocess.run(["/usr/bin/python3", "-c", MLFLOW_ALIAS,
                                 f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                                env=mlflow_client_env(shared, "mlflow", work))
        server.terminate()
        server.wait(timeout=10)
        answers = json.loads(client.stdout) if client.returncode == 0 else {}
        for what in ("alias 2", "stage 2"):
            check(answers.get(what, "").startswith("INVALID_STATE: alias 'production' of "
                                                    "adult-income is protected by the gates "
                                                    "'release': version 2 failed them"),
                  f"MLflow client, {what}: {answers.get(what)} {client.stderr[-500:]}")
        check(answers.get("stage 1") == "ok", f"MLflow client, stage 1: {answers}")
        r = run("models", "alias", "adult-income", "production", "--delete")
        check(r.returncode == 2 and "is protected: plinth models unprotect adult-income "
              "production first" in r.stderr, f"delete: {r.stderr}")
        r = run("models", "alias", "adult-income", "production", "2", "--force", "--reason",
                "hotfix 42")
        check(r.returncode == 0, f"forced: {r.stderr}")
        history = json.loads(run("models", "history", "adult-income", "--json").stdout)
        check({"kind": "alias", "key": "production", "from": "1", "to": "2",
               "reason": "hotfix 42"}.items() <= history[-1].items() and
              any(e["kind"] == "approval" and e["version"] == 1 and e["user"] == account
                  for e in history) and
              any(e["kind"] == "protection" for e in history), f"history: {history[-3:]}")
        r = run("models", "alias", "adult-income", "production", "2", "--force")
        check(r.returncode == 2 and "--reason" in r.stderr, f"force without reason: {r.stderr}")
        # A changed gates file: version 1's run was of another file.
        with open(path("gates.yaml"), "a") as f:
            f.write("  - {output: {}}\n")
        run("models", "protect", "adult-income", "production", "--gates", "gates.yaml")
        r = run("models", "alias", "adult-income", "production", "1")
        check(r.returncode == 2 and "ran other gates than the protection names" in r.stderr,
              f"changed suite: {r.stderr}")
        r = run("models", "unprotect", "adult-income", "production")
        r2 = run("models", "alias", "adult-income", "production", "1")
        check(r.returncode == 0 and r2.returncode == 0, f"unprotected: {r.stderr} {r2.stderr}")

        # Latency through a running plinth serve.
        port = free_port()
        server = start_server([plinth, "serve", "models:/adult-income/1", "--port", str(port),
                               "--prediction-log", "off"], port, cwd=work,
                              stderr=subprocess.DEVNULL)
        with open(path("latency.yaml"), "w") as f:
            # (bounds no run can miss or meet: no timing asserts)
            f.write("gates:\n  - {latency: {batch: 1, p99_ms: 10000000, requests: 100}}\n"
                    "  - {latency: {batch: 1, p50_ms: 0, requests: 20}}\n")
        url = f"http://127.0.0.1:{port}"
        r = run("models", "test", "model", "--gates", "latency.yaml", "--url", url, "--json",
                "latency.json")
        server.terminate()
        server.wait(timeout=10)
        lat = json.load(open(path("latency.json")))["gates"] if r.returncode == 1 else []
        check(r.returncode == 1 and [g["passed"] for g in lat] == [True, False] and
              lat[0]["values"]["endpoint"] == url and lat[1]["values"]["p50_ms"] > 0,
              f"--url: exit {r.returncode}: {r.stderr} {lat}")

        # Bad input: exit 2, the file and line.
        for text, expected in [
            ("gates:\n  - {metric: accuracy, treshold: 0.9}\n",
             "bad.yaml:2: metric gate: unknown key 'treshold'"),
            ("gates:\n  - {metric: brier, threshold: 0.1}\n",
             "bad.yaml:2: metric 'brier': not one plinth evaluate computes"),
            ("gates:\n  - {metric: f1, min_absolute_change: 0.1}\n",
             "bad.yaml:2: metric gate 'f1': min_absolute_change and min_relative_change need a "
             "baseline"),
            ("gates:\n  - {metric: f1, threshold: 0.5, latency: {p99_ms: 1}}\n",
             "bad.yaml:2: a gate: expected exactly one of"),
            ("gates:\n  - {latency: {batch: 0, p99_ms: 1}}\n",
             "bad.yaml:2: key 'batch': expected 1 to 10000 rows"),
            ("suite: ../x\ngates:\n  - {output: {}}\n", "bad.yaml:1: key 'suite': expected"),
            ("gates: []\n", "bad.yaml:1: key 'gates': expected a list of at least one gate"),
            ("gates:\n  - {metric: accuracy, slice: {expr: \"age >\"}, threshold: 0.5}\n",
             "bad.yaml:2: slice.expr:"),
        ]:
            with open(path("bad.yaml"), "w") as f:
                f.write(text)
            r = run("models", "test", "model", "--gates", "bad.yaml")
            check(r.returncode == 2 and expected in r.stderr and r.stderr.count("\n") == 1,
                  f"{text!r}: exit {r.returncode}: {r.stderr}")
        with open(path("nodata.yaml"), "w") as f:
            f.write("gates:\n  - {metric: accuracy, slice: {column: sex}, threshold: 0.5}\n")
        r = run("models", "test", "model", "--gates", "nodata.yaml")
        check(r.returncode == 2 and "nodata.yaml:2: gate 'accuracy per sex': a metric per slice "
              "needs evaluation data" in r.stderr, f"no data: {r.returncode} {r.stderr}")
        r = run("models", "test", "model", "--gates", "/dev/null")
        check(r.returncode == 2 and "/dev/null" in r.stderr, f"device: {r.stderr}")
    check.done()


main()
