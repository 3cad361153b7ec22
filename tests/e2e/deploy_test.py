#!/usr/bin/env python3
"""`plinth deploy`: gates, the environment's alias, its endpoints, rollback, status; conflicts
and kill -9.

A `plinth serve models:/adult-income@production` registers itself where the registry is; a
deployment of a weak version fails its gates and leaves production where it was; a good one
moves the alias and waits until the endpoint serves it (KServe v2 metadata); rollback goes
back; an endpoint that never comes is a timeout (exit 1, recorded); two deployments started
from the same state: one wins, the other is a conflict; plinth deploy killed with SIGKILL at
random moments leaves the alias at the old or the new version and the history and the
deployments consistent; the endpoint leaves the registry on a clean stop; bad input is exit 2
with a one-line message.

usage: deploy_test.py PLINTH_BINARY DATASETS_DIR
"""
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import (adult_test_rows, Checks, free_port, retrain_adult,  # noqa: E402
                          start_server, train_adult_project)

check = Checks("deploy")


def main():
    plinth, datasets = (os.path.abspath(a) for a in sys.argv[1:3])
    with tempfile.TemporaryDirectory() as work:
        path = lambda *p: os.path.join(work, *p)  # noqa: E731
        env = dict(os.environ, USER="ci")

        def run(*args):
            return subprocess.run([plinth, *args], cwd=work, capture_output=True, text=True,
                                  env=env)

        train_adult_project(plinth, datasets, work, epochs=20)  # version 1
        retrain_adult(plinth, work, 1)   # version 2: weak
        retrain_adult(plinth, work, 20)  # version 3
        adult_test_rows(datasets).drop(columns=["fnlwgt"]).head(2000).to_csv(
            path("eval.csv"), index=False)
        with open(path("gates.yaml"), "w") as f:
            f.write("suite: release\ndata: eval.csv\ngates:\n"
                    "  - {metric: roc_auc, threshold: 0.9}\n"
                    "  - {output: {no_nulls: true}}\n")

        def status():
            r = run("deploy", "status", "adult-income", "--json", "--admin-token-file", "tokens")
            assert r.returncode == 0, r.stderr
            return {e["env"]: e for e in json.loads(r.stdout)}

        def alias():
            r = run("models", "versions", "adult-income", "--json")
            for v in json.loads(r.stdout):
                if "production" in v.get("aliases", []):
                    return int(v["version"])
            return 0

        # Production at version 1 before any endpoint: nothing to wait for.
        r = run("deploy", "adult-income", "--env", "production", "1")
        check(r.returncode == 0 and "deployed: adult-income version 1 to production (was unset)"
              in r.stdout and "no endpoints of production" in r.stdout,
              f"first deployment: {r.returncode} {r.stdout} {r.stderr}")
        check(run("deploy", "adult-income", "--env", "production", "1").stdout.startswith(
            "adult-income version 1 is already at production"), "same version: nothing to do")

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        # The endpoint asks tokens (scoring and metadata too): deploy reloads it and reads its
        # version with the admin token, given as plinth serve's token file spells it.
        with open(path("tokens"), "w") as f:
            f.write("admin adm-7f3e2a9c41d0e5b6\nscore sc-0b8d5e61f2a4c9d3\n")
        os.chmod(path("tokens"), 0o600)
        serve = start_server([plinth, "serve", "models:/adult-income@production", "--port",
                              str(port), "--poll-interval", "1", "--prediction-log", "off",
                              "--auth-token-file", "tokens", "--public-routes", "health"],
                             port, cwd=work, env=env, stderr=subprocess.PIPE)
        tok = ["--admin-token-file", "tokens"]

        def live():
            req = urllib.request.Request(f"{url}/v2/models/adult-income",
                                         headers={"Authorization": "Bearer adm-7f3e2a9c41d0e5b6"})
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.load(r)["versions"][0]
        try:
            eps = status()["production"]["endpoints"]
            check(len(eps) == 1 and eps[0]["url"] == url and eps[0]["live_version"] == "1"
                  and eps[0]["pid"] == serve.pid, f"the endpoint registered itself: {eps}")

            # A weak version fails its gates: production stays at 1.
            r = run("deploy", "adult-income", "--env", "production", "2", "--gates",
                    "gates.yaml")
            check(r.returncode == 1 and "version 2 did not pass its gates; production stays at "
                  "version 1" in r.stderr, f"weak version: {r.returncode} {r.stderr}")
            check(alias() == 1 and live() == "1", "the alias and the endpoint stayed at 1")

            # A good one passes, moves the alias, and the endpoint serves it when deploy returns.
            r = run("deploy", "adult-income", "--env", "production", "3", "--gates",
                    "gates.yaml", "--reason", "better model", *tok)
            check(r.returncode == 0 and "deployed: adult-income version 3 to production (was 1)"
                  in r.stdout and f"{url}" in r.stdout and "serves version 3" in r.stdout,
                  f"good version: {r.returncode} {r.stdout} {r.stderr}")
            check(live() == "3", f"the endpoint serves version 3: {live()}")
            last = status()["production"]["last_deployment"]
            check(last["status"] == "live" and last["version"] == 3 and last["gate_run"]
                  and last["previous_version"] == 1 and last["user"] == "ci"
                  and last["endpoints"][0]["ok"], f"recorded: {last}")
            lineage = run("lineage", "adult-income/3", "--json")
            check(f"adult-income@production/{last['id']}" in lineage.stdout
                  and last["gate_run"] in lineage.stdout,
                  f"lineage reaches the deployment: {lineage.stdout[:400]}")
            history = run("models", "history", "adult-income").stdout
            check(f"deploy {last['id']}: better model" in history, f"history: {history}")

            # Without the token the endpoint neither reloads at once nor tells its version.
            r = run("deploy", "adult-income", "--env", "production", "2", "--timeout", "2")
            check(r.returncode == 1 and "refused to reload now (HTTP 401: no --admin-token-file)"
                  in r.stderr and "(answered HTTP 401)" in r.stdout,
                  f"no token: {r.returncode} {r.stdout} {r.stderr}")
            # Rollback: back to 3, the version production served before 2; then back to 1, the
            # one before 3 (not forth to 2 again).
            r = run("deploy", "rollback", "adult-income", "--env", "production", *tok)
            check(r.returncode == 0 and "rolled back: adult-income version 3 to production (was "
                  "2)" in r.stdout and live() == "3", f"rollback: {r.stdout} {r.stderr}")
            r = run("deploy", "rollback", "adult-income", "--env", "production", *tok)
            check(r.returncode == 0 and "rolled back: adult-income version 1 to production (was "
                  "3)" in r.stdout and live() == "1", f"rollback twice: {r.stdout} {r.stderr}")
            r = run("deploy", "rollback", "adult-income", "--env", "production", "--to", "1")
            check(r.returncode == 2 and "--to 1: production is at that version already"
                  in r.stderr, f"rollback to itself: {r.stderr}")

            # An endpoint that never answers: the alias moves, deploy waits, then exit 1.
            dead = f"http://127.0.0.1:{free_port()}"
            r = run("deploy", "adult-income", "--env", "production", "3", "--endpoint", dead,
                    "--timeout", "2", *tok)
            check(r.returncode == 1 and "not every endpoint of production serves version 3 "
                  "within 2 s" in r.stderr and "(unreachable)" in r.stdout and live() == "3",
                  f"timeout: {r.returncode} {r.stdout} {r.stderr}")
            check(status()["production"]["last_deployment"]["status"] == "timeout",
                  "the timeout is recorded")

            # Another machine's endpoint registered at a loopback URL cannot be reached from
            # here: said, and not waited for.
            con = sqlite3.connect(path(".plinth", "plinth.db"))
            con.execute("INSERT INTO serving_endpoints (url, host, pid, name, env, version, "
                        "poll_seconds, started, heartbeat) VALUES ('http://127.0.0.1:9', "
                        "'other-host', 1, 'adult-income', 'production', 1, 30, ?, ?)",
                        (int(time.time() * 1000),) * 2)
            con.commit()
            con.close()
            r = run("deploy", "adult-income", "--env", "production", "1", "--timeout", "20", *tok)
            check(r.returncode == 0 and "registered by other-host at a loopback URL, not "
                  "reachable from here: not waited for" in r.stdout and live() == "1",
                  f"another host's loopback URL: {r.returncode} {r.stdout} {r.stderr}")

            # Two deployments started from the same state (production at 2), each running its
            # gates (30,000 one-row requests: seconds, long beside the skew of two process
            # starts) before it moves the alias: one wins, the other is a conflict.
            with open(path("gates_slow.yaml"), "w") as f:
                f.write("suite: release\ndata: eval.csv\ngates:\n"
                        "  - {metric: roc_auc, threshold: 0.9}\n"
                        "  - {latency: {batch: 1, p99_ms: 10000000, requests: 30000}}\n")
            check(run("deploy", "adult-income", "--env", "production", "2", *tok).returncode == 0,
                  "production to version 2 (unprotected)")
            procs = [subprocess.Popen([plinth, "deploy", "adult-income", "--env", "production",
                                       v, "--gates", "gates_slow.yaml", "--no-wait"], cwd=work,
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)
                     for v in ("1", "3")]
            outs = [p.communicate() + (p.returncode,) for p in procs]
            codes = sorted(o[2] for o in outs)
            loser = [o for o in outs if o[2] != 0]
            check(codes == [0, 1] and len(loser) == 1 and "conflict: alias 'production' of "
                  "adult-income was moved to version" in loser[0][1]
                  and "by someone else while this deployment ran (it found version 2)"
                  in loser[0][1] and len(loser[0][1].strip().splitlines()) == 1,
                  f"concurrent deployments (one line of error): {outs}")
            winner = [o for o in outs if o[2] == 0]
            check(len(winner) == 1 and f"version {alias()} to production" in winner[0][0],
                  f"the winner's version holds the alias: {alias()} {winner}")

            # SIGKILL at random moments: the alias is at the old or the new version, never
            # unset; every deployment is one event of the history and the history ends at it.
            rng = random.Random(5)
            db = path(".plinth", "plinth.db")
            killed_moved = 0
            for i in range(16):
                before = alias()
                target = 1 if before == 3 else 3
                p = subprocess.Popen([plinth, "deploy", "adult-income", "--env", "production",
                                      str(target), "--endpoint", url, *tok], cwd=work, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(0.0, 0.12))
                p.kill()
                p.wait()
                now = alias()
                check(now in (before, target), f"kill {i}: alias {now}, was {before}")
                con = sqlite3.connect(db)
                try:
                    check(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok",
                          f"kill {i}: integrity")
                    last = con.execute(
                        "SELECT to_value FROM registry_events WHERE name = 'adult-income' AND "
                        "kind = 'alias' AND key = 'production' ORDER BY seq DESC LIMIT 1"
                    ).fetchone()
                    check(last is not None and int(last[0]) == now,
                          f"kill {i}: the history ends at the alias: {last} vs {now}")
                    deployments = con.execute(
                        "SELECT id, kind, version, status FROM deployments WHERE name = "
                        "'adult-income'").fetchall()
                    events = {r[0]: int(r[1]) for r in con.execute(
                        "SELECT reason, to_value FROM registry_events WHERE name = "
                        "'adult-income' AND key = 'production' AND (reason LIKE 'deploy %' OR "
                        "reason LIKE 'rollback %')")}
                    check(len(events) == len(deployments) and all(
                        any(k.split(":")[0] == f"{kind} {id_}" and v == version
                            for k, v in events.items())
                        for id_, kind, version, _ in deployments),
                        f"kill {i}: deployments and history agree")
                    killed_moved = sum(1 for d in deployments if d[3] == "moved")
                finally:
                    con.close()
            print(f"kill -9: {killed_moved} deployments left 'moved' (killed after the move)")
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=30)
        left = [e["url"] for e in status()["production"]["endpoints"]]
        check(url not in left and left == ["http://127.0.0.1:9"],
              f"a clean stop takes the endpoint out of the registry: {left}")

        # Bad input: exit 2 and one line naming what is wrong.
        for args, says in [
                (["deploy"], "NAME is required"),
                (["deploy", "adult-income"], "--env is required"),
                (["deploy", "nope", "--env", "production"],
                 "Registered Model with name=nope not found"),
                (["deploy", "adult-income", "--env", "production", "9"], "VERSION: "),
                (["deploy", "adult-income", "--env", "production", "--timeout", "-1"],
                 "--timeout -1: expected 0 to 86400 seconds"),
                (["deploy", "adult-income", "--env", "production", "--endpoint", "ftp://x"],
                 "--endpoint ftp://x: expected a URL starting with http://"),
                (["deploy", "adult-income", "--env", "production", "--data", "eval.csv"],
                 "--data: only with --gates"),
                (["deploy", "adult-income", "--env", "bad alias!"], "Invalid alias name"),
                (["deploy", "rollback", "adult-income", "--env", "staging"],
                 "nothing is deployed to staging of adult-income"),
                (["deploy", "status", "nope"], "Registered Model with name=nope not found"),
                (["deploy", "adult-income", "--env", "staging", "--admin-token-file",
                  "/dev/zero"], "--admin-token-file: "),
                (["deploy", "adult-income", "--env", "staging", "--admin-token-file", "."],
                 "--admin-token-file: ")]:
            r = run(*args)
            lines = r.stderr.strip().splitlines()
            # One line (usage errors add plinth's "Run 'plinth --help'" hint).
            one = len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("Run 'plinth"))
            check(r.returncode == 2 and one and says in lines[0],
                  f"{args}: {r.returncode} {r.stderr!r}")
        check.done()


if __name__ == "__main__":
    main()
