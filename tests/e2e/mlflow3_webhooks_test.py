#!/usr/bin/env python3
"""MLflow 3's registry webhooks on `plinth server`, driven by the real MLflow 3.10.1 client
(../shared/mlflow3): create, list (paged), get, update, test and delete through MlflowClient;
registry events delivered to a receiver on loopback with MLflow's headers and signature, their
payloads as MLflow's, retried after 500s; the secret never answered; bad webhooks refused with
MLflow's messages; and, with MLflow's default policy (https only, public addresses only), a
webhook to loopback refused.

usage: mlflow3_webhooks_test.py PLINTH_BINARY SHARED_DIR
(the client half runs as: mlflow3_webhooks_test.py --client TRACKING_URL RECEIVER_URL LOG)
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = "s3cret-for-tests"


def client(url, receiver, log_path):
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            print("FAIL", what, flush=True)

    def error_of(fn):
        try:
            fn()
        except MlflowException as e:
            return e.message
        return None

    c = MlflowClient(url)
    hook = c.create_webhook(name="deploy-bot", url=receiver + "/hook", secret=SECRET,
                            events=["model_version.created", "registered_model.created",
                                    "model_version_alias.created", "model_version_tag.set"],
                            description="tells the deployer")
    check(hook.secret is None, "the secret is never answered")
    check([str(e) for e in hook.events] == ["model_version.created", "registered_model.created",
                                            "model_version_alias.created",
                                            "model_version_tag.set"],
          f"events in order: {hook.events}")
    got = c.get_webhook(hook.webhook_id)
    check(got.name == "deploy-bot" and got.description == "tells the deployer" and
          got.status.value == "ACTIVE" and got.secret is None, f"get: {got}")
    flaky = c.create_webhook(name="flaky", url=receiver + "/flaky",
                             events=["registered_model.created"])
    for i in range(3):
        c.create_webhook(name=f"extra-{i}", url=receiver + "/other",
                         events=["prompt.created"], status="DISABLED")
    page1 = c.list_webhooks(max_results=2)
    page2 = c.list_webhooks(max_results=2, page_token=page1.token)
    page3 = c.list_webhooks(max_results=2, page_token=page2.token)
    ids = [w.webhook_id for w in page1] + [w.webhook_id for w in page2] + [w.webhook_id for w in page3]
    check(len(page1) == 2 and page1.token and len(page2) == 2 and len(set(ids)) == 5 and
          not page3.token, f"pages of 2: {len(page1)} {len(page2)} {len(page3)}")
    before = got.last_updated_timestamp
    updated = c.update_webhook(hook.webhook_id, description="tells the deployer, twice")
    check(updated.description == "tells the deployer, twice" and
          updated.last_updated_timestamp > before and updated.status.value == "ACTIVE",
          "update changes what it names")
    disabled = c.update_webhook(flaky.webhook_id, status="DISABLED")
    check(disabled.status.value == "DISABLED", "disabled")
    kept = c.update_webhook(flaky.webhook_id, description="still off")
    check(kept.status.value == "DISABLED", "an update without status keeps it")
    c.update_webhook(flaky.webhook_id, status="ACTIVE")

    # Refusals with MLflow's messages.
    for kwargs, message in (
            ({"name": "bad name!", "url": receiver, "events": ["model_version.created"]},
             "Webhook name 'bad name!' is invalid"),
            ({"name": "x", "url": "ftp://example.com", "events": ["model_version.created"]},
             "Invalid webhook URL scheme"),
            ({"name": "x", "url": "   ", "events": ["model_version.created"]},
             "Webhook URL cannot be empty or just whitespace"),
    ):
        err = error_of(lambda: c.create_webhook(**kwargs))
        check(err is not None and message in err, f"refused {kwargs}: {err}")
    err = error_of(lambda: c.get_webhook("nonexistent"))
    check(err is not None and "Webhook with ID nonexistent not found" in err, f"unknown id: {err}")

    # /test: the example payload, sent now; the receiver's answer reported.
    result = c.test_webhook(hook.webhook_id)
    check(result.success and result.response_status == 200, f"test: {result}")
    result = c.test_webhook(hook.webhook_id, event="model_version_alias.created")
    check(result.success, f"test with an event: {result}")

    # Registry events.
    c.create_registered_model("churn", tags={"team": "risk"}, description="churn model")
    c.create_model_version("churn", "s3://bucket/churn/1", run_id=None, tags={"k": "v"})
    c.set_registered_model_alias("churn", "champion", "1")
    c.set_model_version_tag("churn", "1", "validated", "yes")
    c.delete_webhook(flaky.webhook_id)
    err = error_of(lambda: c.get_webhook(flaky.webhook_id))
    check(err is not None and "not found" in err, "deleted")
    with open(log_path, "w") as f:
        json.dump({"failures": failures, "hook": hook.webhook_id}, f)
    return 1 if failures else 0


class Receiver(BaseHTTPRequestHandler):
    calls = []
    flaky_hits = 0
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Receiver.lock:
            Receiver.calls.append({"path": self.path, "headers": dict(self.headers),
                                   "body": body.decode()})
            status = 200
            if self.path == "/flaky":
                Receiver.flaky_hits += 1
                status = 500 if Receiver.flaky_hits <= 2 else 200
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"down")

    def log_message(self, *args):
        pass


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--client":
        sys.exit(client(*sys.argv[2:5]))
    plinth, shared = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
    from plinth_procs import free_port, mlflow_client_env, start_server

    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            print("FAIL", what, flush=True)

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    receiver_url = f"http://127.0.0.1:{receiver.server_address[1]}"
    work = tempfile.mkdtemp(prefix="plinth-webhooks-")
    env = dict(os.environ)
    env.update(MLFLOW_WEBHOOK_ALLOWED_SCHEMES="http,https", MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS="true")
    port = free_port()
    store = os.environ.get("PLINTH_TEST_POSTGRES_URI") or f"sqlite:///{work}/m.db"
    proc = start_server([plinth, "server", "--store", store, "--artifacts-root", f"{work}/art",
                         "--port", str(port)], port, env=env, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    cenv = mlflow_client_env(shared, "mlflow3", work)
    log = os.path.join(work, "client.json")
    rc = subprocess.run(["/usr/bin/python3", os.path.abspath(__file__), "--client", url,
                         receiver_url, log], env=cenv, timeout=600).returncode
    check(rc == 0, f"client checks (exit {rc})")
    hook_id = json.load(open(log))["hook"] if os.path.exists(log) else ""

    # Deliveries are asynchronous: wait for the four registry events and the retried one.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with Receiver.lock:
            hooks = [c for c in Receiver.calls if c["path"] == "/hook"]
            flaky = [c for c in Receiver.calls if c["path"] == "/flaky"]
        if len(hooks) >= 6 and len(flaky) >= 3:
            break
        time.sleep(0.2)
    events = {}
    for call in hooks:
        h = {k.lower(): v for k, v in call["headers"].items()}
        body = json.loads(call["body"])
        expected = "v1," + base64.b64encode(hmac.new(
            SECRET.encode(), f"{h['x-mlflow-delivery-id']}.{h['x-mlflow-timestamp']}.{call['body']}"
            .encode(), hashlib.sha256).digest()).decode()
        check(hmac.compare_digest(h.get("x-mlflow-signature", ""), expected),
              f"signature of {body['entity']}.{body['action']}")
        check(h.get("content-type") == "application/json" and
              len(h.get("x-mlflow-delivery-id", "")) == 36 and
              body["timestamp"].endswith("+00:00"), "headers and envelope")
        events.setdefault(f"{body['entity']}.{body['action']}", []).append(body["data"])
    # The two /test calls: the example payloads.
    check({"name": "example_model", "version": "1", "source": "models:/123",
           "run_id": "abcd1234abcd5678", "tags": {"example_key": "example_value"},
           "description": "An example model version"} in events.get("model_version.created", []),
          f"test payload: {events.get('model_version.created')}")
    check({"name": "example_model", "alias": "example_alias", "version": "1"}
          in events.get("model_version_alias.created", []), "test payload with an event")
    check({"name": "churn", "tags": {"team": "risk"}, "description": "churn model"}
          in events.get("registered_model.created", []),
          f"registered_model.created: {events.get('registered_model.created')}")
    check({"name": "churn", "version": "1", "source": "s3://bucket/churn/1", "run_id": None,
           "tags": {"k": "v"}, "description": None} in events.get("model_version.created", []),
          f"model_version.created: {events.get('model_version.created')}")
    check({"name": "churn", "alias": "champion", "version": "1"}
          in events.get("model_version_alias.created", []), "model_version_alias.created")
    check({"name": "churn", "version": "1", "key": "validated", "value": "yes"}
          in events.get("model_version_tag.set", []), "model_version_tag.set")
    check(len(flaky) == 3 and all("x-mlflow-signature" not in {k.lower() for k in c["headers"]}
                                  for c in flaky),
          f"a receiver failing twice is tried three times, unsigned without a secret: {len(flaky)}")
    proc.terminate()
    proc.wait(timeout=30)

    # MLflow's default policy: https only, and public addresses only.
    port = free_port()
    strict = start_server([plinth, "server", "--store", f"sqlite:///{work}/strict.db",
                           "--artifacts-root", f"{work}/art2", "--port", str(port)], port,
                          stderr=subprocess.PIPE, text=True)
    import urllib.request
    import urllib.error
    for hook_url, message in (("http://example.com/x", "Invalid webhook URL scheme: 'http'"),
                              ("https://localhost:9/x", "must not resolve to a non-public IP")):
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/2.0/mlflow/webhooks", method="POST",
            data=json.dumps({"name": "h", "url": hook_url, "events": [
                {"entity": "MODEL_VERSION", "action": "CREATED"}]}).encode(),
            headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=30)
            check(False, f"{hook_url} accepted")
        except urllib.error.HTTPError as e:
            body = json.loads(e.read())
            check(e.code == 400 and message in body.get("message", ""), f"{hook_url}: {body}")
    strict.terminate()
    strict.wait(timeout=30)
    receiver.shutdown()
    print("mlflow3-webhooks:", "FAILED" if failures else "ok", f"({len(failures)} failures)",
          f"hook {hook_id}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
