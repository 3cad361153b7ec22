#!/usr/bin/env python3
"""Both servers over TLS (--tls-cert, --tls-key) with a self-signed certificate made by
openssl: curl and MLflow 2.17.2's own client (MLFLOW_TRACKING_SERVER_CERT_PATH, with
--auth's Basic credentials) against `plinth server`, curl against `plinth serve`; plain
HTTP and untrusting clients are refused; bad certificate flags exit 2 naming the flag.

usage: tls_test.py PLINTH SHARED_DIR DATASETS_DIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import Checks, free_port, start_server, train_adult  # noqa: E402

PLINTH, SHARED, DATA = sys.argv[1:4]
check = Checks("tls_test")
work = tempfile.mkdtemp(prefix="plinth-tls-")
cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)


def curl(*args):
    r = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", *args],
                       capture_output=True, text=True, timeout=60)
    body, _, code = r.stdout.rpartition("\n")
    return r.returncode, code, body


# Bad flags: exit 2 with the flag named.
for flags, message in ((["--tls-cert", cert], "--tls-cert and --tls-key go together"),
                       (["--tls-cert", os.path.join(work, "nope.pem"), "--tls-key", key],
                        "--tls-cert"),
                       (["--tls-cert", cert, "--tls-key", cert], "--tls-key")):
    r = subprocess.run([PLINTH, "server", "--store", "sqlite:///" + os.path.join(work, "x.db"),
                        "--artifacts-root", os.path.join(work, "x"), "--port", "0", *flags],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 2 and message in r.stderr, f"bad TLS flags {flags}: {r.stderr.strip()}")

auth = os.path.join(work, "auth.ini")
with open(auth, "w") as f:
    f.write("[mlflow]\ndefault_permission = READ\nadmin_username = admin\n"
            "admin_password = adminpw\n")
port = free_port()
server = start_server([PLINTH, "server", "--store", "sqlite:///" + os.path.join(work, "m.db"),
                       "--artifacts-root", os.path.join(work, "art"), "--port", str(port),
                       "--tls-cert", cert, "--tls-key", key, "--auth", "--auth-config", auth],
                      port, stderr=subprocess.PIPE, text=True)
base = f"https://127.0.0.1:{port}"
rc, code, body = curl("--cacert", cert, base + "/health")
check(rc == 0 and code == "200" and body == "OK", f"curl over TLS: {rc} {code} {body}")
rc, code, _ = curl(base + "/health")
check(rc == 60, f"a client that does not trust the certificate stops: curl exit {rc}")
rc, code, _ = curl(f"http://127.0.0.1:{port}/health")
check(rc != 0 or code != "200", "plain HTTP on the TLS port is not answered")

# MLflow's client, trusting the certificate, signed in.
client = f"""
import mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri("{base}")
with mlflow.start_run() as run:
    mlflow.log_param("p", "1")
    mlflow.log_metric("m", 0.5, step=2)
got = MlflowClient().get_run(run.info.run_id)
print(got.data.params["p"], got.data.metrics["m"])
"""
env = dict(os.environ)
env.update({
    "PYTHONPATH": os.path.join(SHARED, "mlflow", "client") + ":" + os.path.join(SHARED, "mlflow", "deps"),
    "MLFLOW_TRACKING_SERVER_CERT_PATH": cert,
    "MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": "adminpw",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
})
r = subprocess.run(["/usr/bin/python3", "-c", client], env=env, capture_output=True, text=True,
                   timeout=300, cwd=work)
check(r.returncode == 0 and r.stdout.strip() == "1 0.5",
      f"MLflow's client over TLS: {r.stdout.strip()} {r.stderr.strip()[-400:]}")
server.send_signal(signal.SIGTERM)
check(server.wait(timeout=30) == 0, "plinth server stops on SIGTERM")

# plinth serve over TLS.
bundle = train_adult(PLINTH, DATA, work, epochs=5)
port = free_port()
serve = start_server([PLINTH, "serve", bundle, "--port", str(port), "--prediction-log", "off",
                      "--tls-cert", cert, "--tls-key", key], port, stderr=subprocess.PIPE, text=True)
meta = json.load(open(os.path.join(bundle, "plinth-model.json")))
row = {c["name"]: None for c in meta["input_schema"]}
rc, code, body = curl("--cacert", cert, "-H", "Content-Type: application/json",
                      "-d", json.dumps({"data": [row]}), f"https://127.0.0.1:{port}/predict")
check(rc == 0 and code == "200" and "predictions" in body, f"/predict over TLS: {code} {body[:200]}")
serve.send_signal(signal.SIGTERM)
check(serve.wait(timeout=30) == 0, "plinth serve stops on SIGTERM")
shutil.rmtree(work, ignore_errors=True)
check.done()
