#!/usr/bin/env python3
"""MLflow 2.17.2's own live-server tests (tests/tracking/test_rest_tracking.py,
test_model_registry.py, test_mlflow_artifacts.py: the 133 that ../shared/mlflow/README.md
selects) against `plinth server`, through the pytest plugin that starts a fresh server per
test from a command template.

The outcome is compared with tests/e2e/mlflow_upstream_known_failures.txt, the tests that
fail today, each with its cause. This script fails when a test fails that is not listed (a
regression), when a listed test passes (the list must shrink with the fix), or when the
selection is not the expected 133 tests. So the list is exactly what does not work yet.

With --suite auth: MLflow's basic-auth tests (tests/server/auth/test_auth.py and
test_client.py, 20 tests) against `plinth server --auth`, with MLflow's own basic_auth.ini
(admin/password, default READ) unless the test names another (MLFLOW_AUTH_CONFIG_PATH), and
PLINTH_AUTH_JWT_SECRET=secret for the test that signs its bearer JWTs with "secret" (MLflow's
JWT example plugin); their list is mlflow_upstream_auth_known_failures.txt.

usage: mlflow_upstream_test.py PLINTH_BINARY SHARED_DIR [--suite tracking|auth] [--update]
  --update  rewrite the list from this run (keeping the causes of tests still on it)
"""
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = (" server --store {backend_uri} --artifacts-root {artifacts_destination}"
          " --default-artifact-root {artifact_root} --host {host} --port {port}")
SUITES = {
    "tracking": {
        "known": "mlflow_upstream_known_failures.txt",
        "expected": 133,
        "selection": ["tests/tracking/test_rest_tracking.py",
                      "tests/tracking/test_model_registry.py",
                      "tests/tracking/test_mlflow_artifacts.py"],
        "keywords": "(sqlalchemy or not file) and not test_mlflow_artifacts_example"
                    " and not test_gateway_proxy",
        "flags": "",
    },
    "auth": {
        "known": "mlflow_upstream_auth_known_failures.txt",
        "expected": 20,
        "selection": ["tests/server/auth/test_auth.py", "tests/server/auth/test_client.py"],
        "keywords": None,
        "flags": " --auth --auth-config ${{MLFLOW_AUTH_CONFIG_PATH:-%s}}",  # braces: str.format
    },
}


def read_known(path):
    known = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            test, _, cause = line.partition("  # ")
            known[test.strip()] = cause.strip()
    return known


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    plinth, shared = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    update = "--update" in sys.argv[3:]
    name = sys.argv[sys.argv.index("--suite") + 1] if "--suite" in sys.argv else "tracking"
    suite = SUITES[name]
    KNOWN = os.path.join(HERE, suite["known"])
    EXPECTED_TESTS = suite["expected"]
    work = tempfile.mkdtemp(prefix="plinth-mlflow-upstream-")
    try:
        client = os.path.join(work, "client")
        # pytest writes beside the tests; the shared folder is read-only in CI.
        shutil.copytree(os.path.join(shared, "mlflow", "client"), client)
        junit = os.path.join(work, "junit.xml")
        env = dict(os.environ)
        # MLflow's conftest builds and serves a wheel of itself with pip when CI=true
        # (--serve-wheel); none of the selected tests installs MLflow, and pip has no index here.
        env.pop("CI", None)
        env["PYTHONPATH"] = ":".join(
            [client, os.path.join(shared, "mlflow", "deps"), os.path.join(shared, "mlflow")])
        flags = suite["flags"]
        if "%s" in flags:
            flags = flags % os.path.join(client, "mlflow", "server", "auth", "basic_auth.ini")
            env["PLINTH_AUTH_JWT_SECRET"] = "secret"
        # The plugin runs the template through the shell ($MLFLOW_AUTH_CONFIG_PATH expands).
        env["MLFLOW_TEST_SERVER_CMD"] = plinth + SERVER + flags
        env["MLFLOW_TEST_SERVER_TIMEOUT"] = "30"
        keywords = ["-k", suite["keywords"]] if suite["keywords"] else []
        cmd = ["/usr/bin/python3", "-m", "pytest", "-p", "live_server_plugin", *suite["selection"],
               *keywords, "-o", "addopts=", "-q", "-p", "no:cacheprovider",
               "--timeout", "120", "--junitxml", junit]
        print("mlflow-upstream:", " ".join(cmd), flush=True)
        proc = subprocess.run(cmd, cwd=client, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        if not os.path.exists(junit):
            print(proc.stdout[-5000:])
            sys.exit("mlflow-upstream: pytest wrote no report (exit %d)" % proc.returncode)
        outcomes = {}
        messages = {}
        for case in ET.parse(junit).getroot().iter("testcase"):
            name = case.get("classname", "").replace(".", "/") + ".py::" + case.get("name")
            if case.find("skipped") is not None:
                outcomes[name] = "skipped"
            elif case.find("failure") is not None or case.find("error") is not None:
                outcomes[name] = "failed"
                node = case.find("failure") if case.find("failure") is not None else case.find("error")
                messages[name] = (node.get("message") or node.text or "")[:600]
            else:
                outcomes[name] = "passed"
    finally:
        shutil.rmtree(work, ignore_errors=True)

    known = read_known(KNOWN)
    failed = sorted(t for t, o in outcomes.items() if o == "failed")
    passed = sorted(t for t, o in outcomes.items() if o == "passed")
    print("mlflow-upstream: %d selected, %d passed, %d failed, %d skipped" %
          (len(outcomes), len(passed), len(failed),
           sum(1 for o in outcomes.values() if o == "skipped")))
    if update:
        header = [l for l in open(KNOWN) if l.startswith("#")]
        with open(KNOWN, "w") as f:
            f.writelines(header)
            for t in failed:
                f.write("%s  # %s\n" % (t, known.get(t, "cause not yet read")))
        print("mlflow-upstream: %s rewritten with %d tests" % (KNOWN, len(failed)))
        return
    problems = []
    if len(outcomes) != EXPECTED_TESTS:
        problems.append("selected %d tests, expected %d" % (len(outcomes), EXPECTED_TESTS))
    for t in failed:
        if t not in known:
            problems.append("fails and is not a known failure: %s\n    %s" % (t, messages.get(t, "")))
    for t in passed:
        if t in known:
            problems.append("passes now; remove it from %s: %s" % (suite["known"], t))
    for t in known:
        if t not in outcomes:
            problems.append("known failure not in the selection: " + t)
    for p in problems:
        print("FAIL", p)
    if problems:
        sys.exit(1)
    print("mlflow-upstream: every failure is a known one (%d listed)" % len(known))


if __name__ == "__main__":
    main()
