#!/usr/bin/env python3
"""`plinth serve --canary`: a challenger answers a share of the requests, the same clients always.

models:/adult-income@production (version 1, 20 rounds) is served with
models:/adult-income@challenger (version 2, 1 round) as a 25% canary. 400 one-row requests with
ids req-000..req-399: each is answered by the model the documented hash picks (FNV-1a then
splitmix64's finalizer, bucket < 2500), recomputed here, so replicas and restarts agree; each
answer is its version's offline prediction (`plinth predict`); the log marks the canary's lines;
/metrics counts each model's requests and its live accuracy on its own traffic, equal to pandas'
on the same rows; `plinth models compare-live` reports each model's accuracy on its traffic;
`plinth monitor drift --log` leaves the canary's requests out unless asked. A restart answers the
same ids with the same models; KServe v2 paths naming a version reach it; --canary-header keeps a
user on one model whatever the request id; a canary that no longer fits the served model after
its alias moved is set aside (everything answered by the served model) until it fits again. Bad
flags are one-line errors with exit 2.

usage: serve_canary_test.py PLINTH_BINARY DATASETS_DIR
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

check = Checks("serve_canary")
MASK = (1 << 64) - 1


def bucket(key):
    """The canary bucket of `key` as docs/DEPLOYMENT.md defines it."""
    h = 0xcbf29ce484222325
    for c in key.encode():
        h = ((h ^ c) * 0x100000001b3) & MASK
    h ^= h >> 30
    h = (h * 0xbf58476d1ce4e5b9) & MASK
    h ^= h >> 27
    h = (h * 0x94d049bb133111eb) & MASK
    h ^= h >> 31
    return h % 10000


def post(url, body, headers=None, with_headers=False):
    req = urllib.request.Request(url, json.dumps(body).encode(),
                                 {"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=30) as r:
        return (json.load(r), r.headers) if with_headers else json.load(r)


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read().decode()


def sample(metrics, metric, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in metrics.splitlines():
        if line.startswith(metric + ("{" + want + "}" if want else " ")):
            return float(line.rsplit(" ", 1)[1])
    return None


def main():
    plinth, datasets = (os.path.abspath(a) for a in sys.argv[1:3])
    with tempfile.TemporaryDirectory() as work:
        path = lambda *p: os.path.join(work, *p)  # noqa: E731

        def run(*args):
            return subprocess.run([plinth, *args], cwd=work, capture_output=True, text=True)

        train_adult_project(plinth, datasets, work, epochs=20)  # version 1
        retrain_adult(plinth, work, 1)  # version 2, the canary
        retrain_adult(plinth, work, 5)  # version 3: fits
        # Version 4 reads fnlwgt, which version 1 does not: it does not fit beside it.
        retrain_adult(plinth, work, 5, ["education-num"])
        for alias, version in (("production", "1"), ("challenger", "2")):
            r = run("models", "alias", "adult-income", alias, version)
            assert r.returncode == 0, r.stderr
        test = adult_test_rows(datasets).head(400)
        rows = test.drop(columns=["fnlwgt", "income"])
        rows.to_csv(path("rows.csv"), index=False)
        offline = {v: list(frame["prediction"]) for v, frame in
                   offline_predictions(plinth, work, "rows.csv", ("1", "2")).items()}
        truth = list(test["income"])
        records = rows.astype(object).where(rows.notna(), None).to_dict("records")
        ids = [f"req-{i:03d}" for i in range(400)]
        expected = ["2" if bucket(i) < 2500 else "1" for i in ids]

        def serve(*extra, log="log"):
            port = free_port()
            proc = start_server([plinth, "serve", "models:/adult-income@production", "--port",
                                 str(port), "--poll-interval", "0", "--prediction-log", log,
                                 *extra], port, cwd=work, stderr=subprocess.PIPE)
            return proc, f"http://127.0.0.1:{port}"

        def stop(proc):
            proc.send_signal(signal.SIGTERM)
            return proc.communicate(timeout=30)[1].decode()

        canary = ["--canary", "models:/adult-income@challenger=25"]
        proc, url = serve(*canary)
        answers = []
        version_headers = []
        # A request the canary is picked for that nobody can score: counted as the canary's.
        bad_id = next(f"bad-{k}" for k in range(1000) if bucket(f"bad-{k}") < 2500)
        try:
            for i, rid in enumerate(ids):
                answer, headers = post(f"{url}/predict", {"data": [records[i]]},
                                       {"X-Request-Id": rid}, with_headers=True)
                answers.append(answer)
                version_headers.append(headers.get("X-Model-Version"))
            try:
                post(f"{url}/predict", {"data": [{"age": "old"}]}, {"X-Request-Id": bad_id})
                check(False, "a bad body is refused")
            except urllib.error.HTTPError as e:
                check(e.code == 400, f"a bad body: {e.code}")
            post(f"{url}/feedback", {"feedback": [{"request_id": rid, "row": 0, "label": truth[i]}
                                                  for i, rid in enumerate(ids)]})
            metrics = get(f"{url}/metrics")
        finally:
            err = stop(proc)
        check("canary: adult-income version 2 answers 25% of requests" in err,
              f"the banner names the canary: {err!r}")
        got = [a["model_version"] for a in answers]
        n_canary = got.count("2")
        check(got == expected, f"each request answered by the model its id's bucket picks: "
              f"{sum(a != b for a, b in zip(got, expected))} differ")
        check(60 <= n_canary <= 140, f"about a quarter answered by the canary: {n_canary} of 400")
        check(all(a["predictions"][0] == offline[a["model_version"]][i]
                  for i, a in enumerate(answers)),
              "each answer is its version's offline prediction")
        check(version_headers == got, "X-Model-Version names the version that answered")

        # /metrics: each model's requests and its live accuracy on its own traffic.
        acc = {}
        for v in ("1", "2"):
            mine = [i for i in range(400) if got[i] == v]
            acc[v] = sum(offline[v][i] == truth[i] for i in mine) / len(mine)
        check(sample(metrics, "plinth_serve_model_requests_total", role="served", version="1",
                     result="scored") == 400 - n_canary and
              sample(metrics, "plinth_serve_model_requests_total", role="canary", version="2",
                     result="scored") == n_canary and
              sample(metrics, "plinth_serve_model_requests_total", role="canary", version="2",
                     result="failed") == 1 and
              sample(metrics, "plinth_serve_model_requests_total", role="served", version="1",
                     result="failed") == 0 and
              sample(metrics, "plinth_serve_canary_model_info", name="adult-income", version="2",
                     percent="25") == 1,
              f"each model's requests on /metrics\n{metrics[-2500:]}")
        for role, v in (("served", "1"), ("canary", "2")):
            live = sample(metrics, "plinth_serve_model_live_accuracy", role=role, version=v)
            check(live is not None and abs(live - acc[v]) < 1e-12,
                  f"{role}'s live accuracy on its traffic: {live} vs pandas {acc[v]}")
            count = sample(metrics, "plinth_serve_model_request_duration_seconds_count", role=role,
                           version=v)
            check(count == (n_canary if role == "canary" else 400 - n_canary),
                  f"{role}'s latency histogram counts its requests: {count}")

        # The log: the canary's lines say so.
        lines = []
        for name in sorted(glob.glob(path("log", "predictions-*.jsonl"))):
            with open(name) as f:
                lines += [json.loads(line) for line in f]
        failed = [line for line in lines if "status" in line]
        check(len(failed) == 1 and failed[0]["request_id"] == bad_id and
              failed[0].get("role") == "canary" and failed[0]["model_version"] == "2",
              f"the canary's failure is logged as the canary's: {failed}")
        lines = [line for line in lines if "status" not in line]
        by_id = {line["request_id"]: line for line in lines}
        check(len(lines) == 400 and all(
            by_id[rid]["model_version"] == got[i] and
            (by_id[rid].get("role") == "canary") == (got[i] == "2") for i, rid in enumerate(ids)),
              "each log line names the model that answered, the canary's its role")

        # compare-live: each model on its own traffic, as pandas computes it.
        r = run("models", "compare-live", "adult-income", "--log", "log", "--json", "c.json")
        check(r.returncode == 0 and "canary" in r.stdout, f"compare-live: {r.returncode} "
              f"{r.stdout} {r.stderr}")
        sys.stdout.write(r.stdout)
        if r.returncode == 0:
            with open(path("c.json")) as f:
                models = {m["role"]: m for m in json.load(f)["models"]}
            for role, v in (("served", "1"), ("canary", "2")):
                m = models.get(role, {})
                n = n_canary if role == "canary" else 400 - n_canary
                check(m.get("version") == v and m.get("requests") == n and
                      m.get("labelled_rows") == n and abs(m.get("accuracy", -1) - acc[v]) < 1e-12
                      and abs(m.get("share", -1) - n / 400) < 1e-12
                      and m.get("latency_p99_ms", 0) >= m.get("latency_p50_ms", 1) > 0,
                      f"compare-live {role}: {m} vs {n} {acc[v]}")

        # Monitoring reads the served model's traffic unless asked.
        def drift_rows(name):
            with open(path(name)) as f:
                return json.load(f)["current"]["rows"]
        r = run("monitor", "drift", "models:/adult-income/1", "--log", "log", "--json", "d.json")
        check(r.returncode in (0, 1) and
              f"{n_canary + 1} requests answered by a canary left out" in r.stderr and
              drift_rows("d.json") == 400 - n_canary,
              f"monitor drift leaves the canary out: {r.returncode} {r.stderr}")
        r = run("monitor", "drift", "models:/adult-income/2", "--log", "log", "--traffic", "canary",
                "--json", "d2.json")
        check(r.returncode in (0, 1) and f"{400 - n_canary} requests answered by the served "
              f"model left out" in r.stderr and drift_rows("d2.json") == n_canary,
              f"--traffic canary: {r.returncode} {r.stderr}")
        r = run("monitor", "drift", "models:/adult-income/1", "--log", "log", "--traffic", "most")
        check(r.returncode == 2 and r.stderr.strip() ==
              "plinth: error: --traffic most: expected served, canary or all",
              f"--traffic most: {r.returncode} {r.stderr!r}")

        # A restart answers the same ids with the same models; versions by path; the alias
        # moving to a model that does not fit sets the canary aside until one fits.
        proc, url = serve(*canary, log="off")
        try:
            again = [post(f"{url}/predict", {"data": [records[i]]},
                          {"X-Request-Id": ids[i]})["model_version"] for i in range(40)]
            check(again == got[:40], "after a restart, the same ids reach the same models")
            meta = json.loads(get(f"{url}/v2/models/adult-income"))
            check(meta["versions"] == ["1", "2"], f"v2 metadata: the served version first: {meta}")
            # A row on which the two versions disagree: each path answers with its version's.
            k = next(i for i in range(400) if offline["1"][i] != offline["2"][i])
            infer = {"inputs": [{"name": "x", "datatype": "BYTES", "shape": [1, len(rows.columns)],
                                 "data": [None if records[k][c] is None else str(records[k][c])
                                          for c in rows.columns]}]}
            for v in ("1", "2"):
                a = post(f"{url}/v2/models/adult-income/versions/{v}/infer", infer)
                out = {o["name"]: o["data"] for o in a.get("outputs", [])}
                check(a["model_version"] == v and a["model_name"] == "adult-income" and
                      out.get("predictions") == [offline[v][k]],
                      f"/versions/{v}/infer is answered by version {v}: {a}")
            served_meta = json.loads(get(f"{url}/v2/models/adult-income/versions/1"))
            canary_meta = json.loads(get(f"{url}/v2/models/adult-income/versions/2"))
            check(canary_meta["versions"] == ["2"] and
                  canary_meta["inputs"] == served_meta["inputs"],
                  f"the canary version's metadata: the inputs requests are read with: "
                  f"{canary_meta}")
            try:
                post(f"{url}/v2/models/adult-income/versions/3/infer", infer)
                check(False, "version 3 is not served here")  # not yet: the canary is 2
            except urllib.error.HTTPError as e:
                body = e.read().decode()
                check(e.code == 404 and "serving version 1, canary version 2" in body,
                      f"version 3: {e.code} {body}")
            run("models", "alias", "adult-income", "challenger", "4")
            reload = post(f"{url}/admin/reload", {})
            check("set aside" in reload.get("challenger_error", "") and
                  "'fnlwgt'" in reload["challenger_error"] and "canary_version" not in reload,
                  f"a canary that reads a column the served model does not is set aside: {reload}")
            aside = [post(f"{url}/predict", {"data": [records[i]]},
                          {"X-Request-Id": ids[i]})["model_version"] for i in range(40)]
            check(aside == ["1"] * 40, f"set aside, the canary answers nothing: {aside}")
            check("plinth_serve_canary_model_info" not in get(f"{url}/metrics"),
                  "set aside, /metrics shows no canary")
            again_reload = post(f"{url}/admin/reload", {})
            check("challenger_error" not in again_reload and
                  "set aside" in again_reload.get("challenger_set_aside", ""),
                  f"a later reload still says the canary is set aside: {again_reload}")
            run("models", "alias", "adult-income", "challenger", "3")
            reload = post(f"{url}/admin/reload", {})
            back = [post(f"{url}/predict", {"data": [records[i]]},
                         {"X-Request-Id": ids[i]})["model_version"] for i in range(40)]
            check(reload.get("canary_version") == "3" and "challenger_error" not in reload and
                  back == ["3" if v == "2" else "1" for v in got[:40]],
                  f"a canary that fits again answers its share: {reload} {back}")
        finally:
            stop(proc)
        run("models", "alias", "adult-income", "challenger", "2")

        # --canary-header: a user stays on one model whatever the request id.
        proc, url = serve(*canary, "--canary-header", "X-User-Id", log="off")
        try:
            users = [f"user-{k}" for k in range(30)]
            for u in users:
                want = "2" if bucket(u) < 2500 else "1"
                seen = {post(f"{url}/predict", {"data": [records[0]]},
                             {"X-User-Id": u, "X-Request-Id": f"{u}-{k}"})["model_version"]
                        for k in range(3)}
                check(seen == {want}, f"{u} stays on version {want}: {seen}")
        finally:
            stop(proc)

        # Bad flags: one line, exit 2.
        port = str(free_port())
        for extra, says in [
                (["--canary", "models:/adult-income@challenger"],
                 "--canary models:/adult-income@challenger: expected MODEL=PERCENT"),
                (["--canary", "models:/adult-income@challenger=0"], "PERCENT from 0.01 to 100"),
                (["--canary", "models:/adult-income@challenger=101"], "PERCENT from 0.01 to 100"),
                (["--canary", "models:/adult-income@challenger=ten"], "PERCENT from 0.01 to 100"),
                (["--canary", "models:/adult-income@challenger=nan"], "PERCENT from 0.01 to 100"),
                (["--canary", "models:/adult-income@challenger=1e1"], "PERCENT from 0.01 to 100"),
                (["--canary", "models:/adult-income@challenger=10.005"], "at most two decimals"),
                (["--canary", "=10"], "PERCENT from 0.01 to 100"),
                (["--canary", "models:/adult-income@challenger=" + "9" * 5000],
                 "PERCENT from 0.01 to 100"),
                (["--canary", "models:/adult-income@nobody=10"], "--canary: "),
                (["--canary", "models:/adult-income/2=10", "--shadow", "models:/adult-income/2"],
                 "--shadow and --canary: one challenger at a time"),
                (["--canary-header", "X-User-Id"], "--canary-header needs --canary"),
                (["--canary", "models:/adult-income/2=10", "--canary-header", "X User"],
                 "--canary-header 'X User': expected a header name")]:
            r = run("serve", "models:/adult-income@production", "--port", port, *extra)
            lines_ = r.stderr.strip().splitlines()
            check(r.returncode == 2 and len(lines_) == 1 and says in lines_[0],
                  f"{extra}: {r.returncode} {r.stderr!r}")
        r = run("serve", "models:/adult-income/4", "--port", port, "--canary",
                "models:/adult-income/1=10")
        check(r.returncode == 2 and
              "--canary models:/adult-income/1: it reads the column 'education-num'"
              in r.stderr, f"a canary reading more than the served model: {r.stderr!r}")
        check.done()


if __name__ == "__main__":
    main()
