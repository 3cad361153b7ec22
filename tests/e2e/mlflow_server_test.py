#!/usr/bin/env python3
"""`plinth server` driven over real sockets the way MLflow 2.x's Python client drives a
tracking server (its RestStore: the same routes, bodies, query strings and headers), with
MLflow's field names, JSON types, defaults, error codes and HTTP statuses checked exactly,
as mlflow/protos/service.proto and mlflow/server/handlers.py define them.

The real clients drive the server in mlflow2_client_test.py (2.17.2), mlflow3_client_test.py
(3.10.1) and MLflow's own tests (mlflow_upstream_test.py). This test stays for what no client
call shows: the exact JSON types and error shapes on the wire, an over-8 KB query string, the
/metrics text, 32 concurrent loggers on two server processes over one store, the group commit,
and a graceful SIGTERM. Runs on SQLite, and on PostgreSQL when PLINTH_TEST_POSTGRES_URI is set
(tests/scripts/with_postgres.sh).

usage: mlflow_server_test.py PLINTH_BINARY
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from plinth_procs import free_port, start_server  # noqa: E402

PLINTH = sys.argv[1]
passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL", what)


class Server:
    def __init__(self, store, artifacts, extra=()):
        self.port = free_port()
        self.proc = start_server(
            [PLINTH, "server", "--store", store, "--artifacts-root", artifacts, "--port",
             str(self.port)] + list(extra), self.port, stderr=subprocess.PIPE, text=True)

    def call(self, method, path, body=None, query=None, prefix="/api/2.0", headers=None,
             raw=None):
        url = f"http://127.0.0.1:{self.port}{prefix}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        hdrs.update(headers or {})
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                text = r.read().decode()
                status = r.status
                ctype = r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            status = e.code
            ctype = e.headers.get("Content-Type", "")
        try:
            return status, json.loads(text), ctype
        except json.JSONDecodeError:
            return status, text, ctype

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def is_error(resp, status, code, message_part=""):
    st, body, ctype = resp
    return (st == status and isinstance(body, dict) and body.get("error_code") == code
            and message_part in body.get("message", "") and "json" in ctype)


RUN_INFO_KEYS = {"run_uuid", "experiment_id", "run_name", "user_id", "status", "start_time",
                 "artifact_uri", "lifecycle_stage", "run_id"}


def main():
    tmp = tempfile.mkdtemp()
    store = os.environ.get("PLINTH_TEST_POSTGRES_URI") or f"sqlite:///{tmp}/mlflow.db"
    srv = Server(store, f"{tmp}/artifacts", ["--max-body-mb", "2"])
    call = srv.call
    now = int(time.time() * 1000)

    # mlflow.set_experiment("churn"): get-by-name, then create when it does not exist.
    r = call("GET", "/mlflow/experiments/get-by-name", query={"experiment_name": "churn"})
    check(is_error(r, 404, "RESOURCE_DOES_NOT_EXIST",
                   "Could not find experiment with name 'churn'"), f"get-by-name missing: {r}")
    st, body, _ = call("POST", "/mlflow/experiments/create", {"name": "churn"})
    check(st == 200 and isinstance(body.get("experiment_id"), str), f"create: {body}")
    exp_id = body["experiment_id"]
    check(is_error(call("POST", "/mlflow/experiments/create", {"name": "churn"}), 400,
                   "RESOURCE_ALREADY_EXISTS"), "duplicate experiment")
    st, body, _ = call("GET", "/mlflow/experiments/get-by-name", query={"experiment_name": "churn"})
    e = body["experiment"]
    check(set(e) == {"experiment_id", "name", "artifact_location", "lifecycle_stage",
                     "last_update_time", "creation_time"}, f"experiment fields: {sorted(e)}")
    check(isinstance(e["creation_time"], int) and e["lifecycle_stage"] == "active",
          "experiment types")
    st, body, _ = call("GET", "/mlflow/experiments/get", query={"experiment_id": "0"})
    check(st == 200 and body["experiment"]["name"] == "Default", "default experiment")

    # mlflow.start_run(): runs/create with the client's standard tags.
    tags = [{"key": "mlflow.user", "value": "ana"},
            {"key": "mlflow.source.name", "value": "train.py"},
            {"key": "mlflow.source.type", "value": "LOCAL"}]
    st, body, _ = call("POST", "/mlflow/runs/create",
                       {"experiment_id": exp_id, "user_id": "ana", "start_time": now,
                        "tags": tags, "run_name": "parent"})
    check(st == 200, f"create run: {body}")
    run = body["run"]
    info = run["info"]
    check(set(info) == RUN_INFO_KEYS, f"run info fields: {sorted(info)}")
    check(info["run_id"] == info["run_uuid"] and len(info["run_id"]) == 32, "run ids")
    check(info["status"] == "RUNNING" and info["start_time"] == now and info["user_id"] == "ana",
          f"run info values: {info}")
    check(info["run_name"] == "parent" and info["experiment_id"] == exp_id, "run name")
    check(run["inputs"] == {} and "metrics" not in run["data"], f"empty parts: {run}")
    check({"key": "mlflow.runName", "value": "parent"} in run["data"]["tags"], "runName tag")
    parent = info["run_id"]

    # A nested run: start_run(nested=True) tags its parent.
    st, body, _ = call("POST", "/mlflow/runs/create",
                       {"experiment_id": exp_id, "start_time": now + 1,
                        "tags": tags + [{"key": "mlflow.parentRunId", "value": parent}]})
    child = body["run"]["info"]["run_id"]
    check(st == 200 and body["run"]["info"]["run_name"] != "", "generated run name")

    # log_param / log_metric / set_tag / log_batch.
    check(call("POST", "/mlflow/runs/log-parameter",
               {"run_id": parent, "run_uuid": parent, "key": "model", "value": "gbdt"})[0] == 200,
          "log-parameter")
    check(call("POST", "/mlflow/runs/log-parameter",
               {"run_uuid": parent, "key": "depth", "value": "6"})[0] == 200, "run_uuid only")
    check(is_error(call("POST", "/mlflow/runs/log-parameter",
                        {"run_id": parent, "key": "model", "value": "linear"}), 400,
                   "INVALID_PARAMETER_VALUE", "Changing param values is not allowed"),
          "immutable param")
    check(call("POST", "/mlflow/runs/log-metric",
               {"run_id": parent, "run_uuid": parent, "key": "acc", "value": 0.91,
                "timestamp": now, "step": 0})[0] == 200, "log-metric")
    check(is_error(call("POST", "/mlflow/runs/log-metric",
                        {"run_id": parent, "key": "acc", "value": 0.9}), 400,
                   "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'timestamp'"),
          "log-metric without timestamp")
    check(is_error(call("POST", "/mlflow/runs/log-metric",
                        {"run_id": parent, "key": "acc", "value": "high", "timestamp": now}), 400,
                   "INVALID_PARAMETER_VALUE",
                   "Invalid value \"high\" for parameter 'value' supplied:  Hint: Value was of "
                   "type 'str'"), "log-metric bad value")
    check(call("POST", "/mlflow/runs/set-tag",
               {"run_id": parent, "run_uuid": parent, "key": "team", "value": "x"})[0] == 200,
          "set-tag")
    batch = {"run_id": parent,
             "metrics": [{"key": "loss", "value": 1.0 / (s + 1), "timestamp": now + s, "step": s}
                         for s in range(5)] + [{"key": "nan_metric", "value": "NaN",
                                                "timestamp": now, "step": 0}],
             "params": [{"key": "lr", "value": "0.1"}],
             "tags": [{"key": "stage", "value": "dev"}]}
    check(call("POST", "/mlflow/runs/log-batch", batch)[0] == 200, "log-batch")
    too_many = {"run_id": parent, "metrics": [{"key": "m", "value": 1, "timestamp": now,
                                               "step": i} for i in range(1001)]}
    check(is_error(call("POST", "/mlflow/runs/log-batch", too_many), 400,
                   "INVALID_PARAMETER_VALUE", "at most 1000 metrics"), "batch limit")
    check(call("POST", "/mlflow/runs/delete-tag", {"run_id": parent, "key": "stage"})[0] == 200,
          "delete-tag")
    check(is_error(call("POST", "/mlflow/runs/delete-tag", {"run_id": parent, "key": "stage"}),
                   404, "RESOURCE_DOES_NOT_EXIST"), "delete missing tag")

    # log_input: a Plinth data version as an MLflow dataset.
    ds = {"name": "adult", "digest": "1e6670d2de2d00f4", "source_type": "plinth",
          "source": "data/adult.csv", "schema": "{\"mlflow_colspec\": []}"}
    check(call("POST", "/mlflow/runs/log-inputs",
               {"run_id": parent, "datasets": [{"tags": [{"key": "mlflow.data.context",
                                                          "value": "training"}],
                                                 "dataset": ds}]})[0] == 200, "log-inputs")

    # get_run: latest metric values, params, tags, inputs.
    st, body, _ = call("GET", "/mlflow/runs/get", query={"run_id": parent})
    data = body["run"]["data"]
    metrics = {m["key"]: m for m in data["metrics"]}
    check(metrics["loss"] == {"key": "loss", "value": 0.2, "timestamp": now + 4, "step": 4},
          f"latest loss: {metrics.get('loss')}")
    check(metrics["nan_metric"]["value"] == "NaN", "NaN as MLflow writes it")
    check({p["key"]: p["value"] for p in data["params"]} == {"model": "gbdt", "depth": "6",
                                                            "lr": "0.1"}, "params")
    check({"key": "team", "value": "x"} in data["tags"] and
          not any(t["key"] == "stage" for t in data["tags"]), "tags")
    di = body["run"]["inputs"]["dataset_inputs"]
    check(len(di) == 1 and di[0]["dataset"] == ds and
          di[0]["tags"] == [{"key": "mlflow.data.context", "value": "training"}],
          f"dataset inputs: {di}")
    st, body, _ = call("GET", "/mlflow/runs/get", query={"run_uuid": parent}, prefix="/ajax-api/2.0")
    check(st == 200 and body["run"]["info"]["run_id"] == parent, "ajax-api prefix, run_uuid")

    # get_metric_history, paged as the client pages it.
    history, token = [], None
    while True:
        q = {"run_id": parent, "metric_key": "loss", "max_results": 2}
        if token:
            q["page_token"] = token
        st, body, _ = call("GET", "/mlflow/metrics/get-history", query=q)
        history += body.get("metrics", [])
        token = body.get("next_page_token")
        if not token:
            break
    check([m["step"] for m in history] == [0, 1, 2, 3, 4], f"history pages: {history}")
    st, body, _ = call("GET", "/mlflow/metrics/get-history",
                       query={"run_id": parent, "metric_key": "loss"})
    check(len(body["metrics"]) == 5 and "next_page_token" not in body, "history unpaged")

    # mlflow.<flavor>.log_model(...) records the model on the run (runs/log-model).
    model_json = json.dumps({"artifact_path": "model", "flavors": {"xgboost": {}},
                             "utc_time_created": "2026-11-26 00:00:00.000000", "run_id": parent})
    check(call("POST", "/mlflow/runs/log-model",
               {"run_id": parent, "model_json": model_json})[0] == 200, "log-model")
    check(is_error(call("POST", "/mlflow/runs/log-model",
                        {"run_id": parent, "model_json": "{\"flavors\": {}}"}), 400,
                   "INVALID_PARAMETER_VALUE", "missing mandatory fields"), "log-model fields")
    st, body, _ = call("GET", "/mlflow/runs/get", query={"run_id": parent})
    hist = [t["value"] for t in body["run"]["data"]["tags"]
            if t["key"] == "mlflow.log-model.history"]
    check(len(hist) == 1 and json.loads(hist[0])[0]["artifact_path"] == "model",
          "mlflow.log-model.history tag")
    # The UI's charts: get-history-bulk-interval over several runs.
    st, body, _ = call("GET", "/mlflow/metrics/get-history-bulk-interval",
                       query={"run_ids": [parent, child], "metric_key": "loss",
                              "max_results": 3, "start_step": 0, "end_step": 4})
    # MLflow 2.17's sampling (handlers._get_sampled_steps_from_steps): of the 5 steps, every
    # 5/3-th (0, 1, 3), the last, and each run's first and last step.
    check(st == 200 and [(m["run_id"], m["step"]) for m in body["metrics"]] ==
          [(parent, 0), (parent, 1), (parent, 3), (parent, 4)], f"bulk interval: {body}")

    # End the runs (mlflow.end_run()).
    st, body, _ = call("POST", "/mlflow/runs/update",
                       {"run_id": parent, "run_uuid": parent, "status": "FINISHED",
                        "end_time": now + 100})
    check(st == 200 and body["run_info"]["status"] == "FINISHED" and
          body["run_info"]["end_time"] == now + 100, f"update run: {body}")
    check(is_error(call("POST", "/mlflow/runs/update", {"run_id": parent, "status": "DONE"}),
                   400, "INVALID_PARAMETER_VALUE"), "bad status")

    # search_runs with MLflow's filter syntax, order_by and page tokens.
    def search(filter_string, order_by=(), max_results=1000, token=None, view="ACTIVE_ONLY"):
        body = {"experiment_ids": [exp_id], "filter": filter_string, "run_view_type": view,
                "max_results": max_results, "order_by": list(order_by)}
        if token:
            body["page_token"] = token
        return call("POST", "/mlflow/runs/search", body)

    st, body, _ = search("metrics.acc > 0.9 and params.model = 'gbdt' and tags.team = 'x' "
                         "and attributes.status = 'FINISHED'")
    check(st == 200 and [r["info"]["run_id"] for r in body.get("runs", [])] == [parent],
          f"search filter: {body}")
    st, body, _ = search("tags.mlflow.parentRunId = '" + parent + "'")
    check([r["info"]["run_id"] for r in body.get("runs", [])] == [child], "search nested")
    st, body, _ = search("params.model LIKE 'gb%' and params.model ILIKE 'GB%'")
    check(len(body.get("runs", [])) == 1, "LIKE / ILIKE")
    st, body, _ = search("attributes.run_id IN ('" + parent + "', '" + child + "')",
                         order_by=["metrics.acc DESC"])
    check([r["info"]["run_id"] for r in body["runs"]] == [parent, child], "IN and order_by")
    st, body, _ = search("", max_results=1)
    check(len(body["runs"]) == 1 and "next_page_token" in body, "first page")
    st, body2, _ = search("", max_results=1, token=body["next_page_token"])
    check(len(body2["runs"]) == 1 and "next_page_token" not in body2 and
          body2["runs"][0]["info"]["run_id"] != body["runs"][0]["info"]["run_id"], "last page")
    check(is_error(search("metrics.acc > 0.9 or metrics.acc < 0.1"), 400,
                   "INVALID_PARAMETER_VALUE"), "OR rejected")
    check(is_error(search("", max_results=50001), 400, "INVALID_PARAMETER_VALUE"),
          "max_results limit")
    st, body, _ = call("GET", "/mlflow/experiments/search",
                       query={"max_results": 10, "filter": "name LIKE 'ch%'",
                              "view_type": "ALL", "order_by": ["name ASC"]})
    check(st == 200 and [x["name"] for x in body["experiments"]] == ["churn"],
          f"search experiments GET: {body}")
    st, body, _ = call("POST", "/mlflow/experiments/search", {"max_results": 10})
    check(st == 200 and len(body["experiments"]) == 2, "search experiments POST")

    # A GET whose query string is over 8 KB: a long filter with many clauses.
    long_filter = " and ".join(f"name != 'excluded-experiment-{i:04d}'" for i in range(300))
    check(len(urllib.parse.quote(long_filter)) > 8192, "the filter is long")
    st, body, _ = call("GET", "/mlflow/experiments/search",
                       query={"filter": long_filter, "max_results": 5})
    check(st == 200 and len(body["experiments"]) == 2, f"long GET query: {st}")

    # Delete and restore.
    check(call("POST", "/mlflow/runs/delete", {"run_id": child})[0] == 200, "delete run")
    st, body, _ = search("", view="DELETED_ONLY")
    check([r["info"]["run_id"] for r in body["runs"]] == [child] and
          body["runs"][0]["info"]["lifecycle_stage"] == "deleted", "deleted runs")
    check(call("POST", "/mlflow/runs/restore", {"run_id": child})[0] == 200, "restore run")
    check(call("POST", "/mlflow/experiments/update",
               {"experiment_id": exp_id, "new_name": "churn-2"})[0] == 200, "rename experiment")
    check(call("POST", "/mlflow/experiments/set-experiment-tag",
               {"experiment_id": exp_id, "key": "owner", "value": "ml"})[0] == 200,
          "experiment tag")
    st, body, _ = call("GET", "/mlflow/experiments/get", query={"experiment_id": exp_id})
    check(body["experiment"]["name"] == "churn-2" and
          body["experiment"]["tags"] == [{"key": "owner", "value": "ml"}], "renamed, tagged")

    # mlflow.log_artifact(...): the run's artifact_uri is a proxied mlflow-artifacts:/ URI,
    # so the client PUTs the bytes to /api/2.0/mlflow-artifacts/artifacts/<path>.
    check(info["artifact_uri"] == f"mlflow-artifacts:/{exp_id}/{parent}/artifacts",
          f"proxied artifact URI: {info['artifact_uri']}")
    art = info["artifact_uri"][len("mlflow-artifacts:/"):]
    blob = bytes(range(256)) * 1000
    for name, data in (("model/MLmodel", b"flavors: {}\n"), ("model/model.ubj", blob),
                       ("report.html", b"<html></html>")):
        st, body, _ = call("PUT", "/mlflow-artifacts/artifacts/" + art + "/" + name, raw=data,
                           headers={"Content-Type": "application/octet-stream"})
        check(st == 200 and body == {}, f"upload {name}: {st} {body}")
    # mlflow.artifacts.download_artifacts(...): list, then GET each file.
    st, body, _ = call("GET", "/mlflow-artifacts/artifacts", query={"path": art + "/model"})
    check(body == {"files": [{"path": "MLmodel", "is_dir": False, "file_size": 12},
                             {"path": "model.ubj", "is_dir": False, "file_size": len(blob)}]},
          f"list proxied: {body}")
    req = urllib.request.Request(f"http://127.0.0.1:{srv.port}/api/2.0/mlflow-artifacts/artifacts/"
                                 f"{art}/model/model.ubj")
    with urllib.request.urlopen(req) as r:
        check(r.read() == blob and "attachment" in r.headers.get("Content-Disposition", ""),
              "download bytes")
    st, body, _ = call("GET", "/mlflow/artifacts/list", query={"run_id": parent})
    check(body == {"root_uri": info["artifact_uri"],
                   "files": [{"path": "model", "is_dir": True},
                             {"path": "report.html", "is_dir": False, "file_size": 13}]},
          f"list run artifacts: {body}")
    st, body, _ = call("GET", "/mlflow/artifacts/list", query={"run_id": parent, "path": "model"})
    check([f["path"] for f in body["files"]] == ["model/MLmodel", "model/model.ubj"],
          "list run subdir")
    with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/get-artifact?" +
                                urllib.parse.urlencode({"run_id": parent,
                                                        "path": "report.html"})) as r:
        check(r.read() == b"<html></html>" and r.headers["Content-Type"] == "text/html",
              "UI download")
    check(is_error(call("PUT", "/mlflow-artifacts/artifacts/" + art + "/../../../escape",
                        raw=b"x", headers={"Content-Type": "application/octet-stream"}), 400,
                   "INVALID_PARAMETER_VALUE", "parent directory"), "path traversal refused")
    check(is_error(call("PUT", "/mlflow-artifacts/artifacts/" + art + "/%2e%2e/%2e%2e/x",
                        raw=b"x", headers={"Content-Type": "application/octet-stream"}), 400,
                   "INVALID_PARAMETER_VALUE"), "encoded traversal refused")
    check(is_error(call("GET", "/mlflow-artifacts/artifacts/" + art + "/nope"), 404,
                   "RESOURCE_DOES_NOT_EXIST"), "missing artifact")

    # mlflow.register_model("runs:/<id>/model", "churn-model"), as the client does it:
    # create the registered model (RESOURCE_ALREADY_EXISTS is fine), then a version.
    st, body, _ = call("POST", "/mlflow/registered-models/create", {"name": "churn-model"})
    rm = body["registered_model"]
    check(st == 200 and set(rm) == {"name", "creation_timestamp", "last_updated_timestamp"} and
          isinstance(rm["creation_timestamp"], int), f"registered model: {rm}")
    check(is_error(call("POST", "/mlflow/registered-models/create", {"name": "churn-model"}),
                   400, "RESOURCE_ALREADY_EXISTS",
                   "Registered Model (name=churn-model) already exists."), "model exists")
    source = info["artifact_uri"] + "/model"
    versions = []
    for _ in range(2):
        st, body, _ = call("POST", "/mlflow/model-versions/create",
                           {"name": "churn-model", "source": source, "run_id": parent,
                            "tags": []})
        versions.append(body["model_version"])
    mv = versions[0]
    check(st == 200 and mv["version"] == "1" and versions[1]["version"] == "2" and
          mv["current_stage"] == "None" and mv["status"] == "READY" and mv["source"] == source
          and mv["run_id"] == parent and isinstance(mv["creation_timestamp"], int),
          f"model version: {mv}")
    check(set(mv) == {"name", "version", "creation_timestamp", "last_updated_timestamp",
                      "current_stage", "source", "run_id", "status"}, f"version fields: {mv}")
    st, body, _ = call("GET", "/mlflow/model-versions/get",
                       query={"name": "churn-model", "version": "1"})
    check(st == 200 and body["model_version"]["status"] == "READY", "get version (client polls)")
    check(is_error(call("POST", "/mlflow/model-versions/create",
                        {"name": "churn-model", "source": source + "/../../../etc"}), 400,
                   "INVALID_PARAMETER_VALUE", "Invalid model version source"),
          "relative source refused")
    check(is_error(call("GET", "/mlflow/model-versions/get",
                        query={"name": "churn-model", "version": "7"}), 404,
                   "RESOURCE_DOES_NOT_EXIST", "Model Version (name=churn-model, version=7) not found"),
          "missing version")

    # Aliases: set_registered_model_alias / get_model_version_by_alias / delete.
    check(call("POST", "/mlflow/registered-models/alias",
               {"name": "churn-model", "alias": "production", "version": "1"})[0] == 200,
          "set alias")
    check(call("POST", "/mlflow/registered-models/alias",
               {"name": "churn-model", "alias": "production", "version": "2"})[0] == 200,
          "move alias")
    st, body, _ = call("GET", "/mlflow/registered-models/alias",
                       query={"name": "churn-model", "alias": "production"})
    check(st == 200 and body["model_version"]["version"] == "2" and
          body["model_version"]["aliases"] == ["production"], f"version by alias: {body}")
    check(is_error(call("POST", "/mlflow/registered-models/alias",
                        {"name": "churn-model", "alias": "latest", "version": "1"}), 400,
                   "INVALID_PARAMETER_VALUE", "reserved"), "reserved alias")
    check(call("POST", "/mlflow/registered-models/alias",
               {"name": "churn-model", "alias": "shadow", "version": "1"})[0] == 200, "alias 2")
    check(call("DELETE", "/mlflow/registered-models/alias",
               {"name": "churn-model", "alias": "shadow"})[0] == 200, "delete alias")
    check(is_error(call("GET", "/mlflow/registered-models/alias",
                        query={"name": "churn-model", "alias": "shadow"}), 404,
                   "RESOURCE_DOES_NOT_EXIST", "Registered model alias shadow not found."),
          "deleted alias")

    # transition_model_version_stage and get_latest_versions.
    st, body, _ = call("POST", "/mlflow/model-versions/transition-stage",
                       {"name": "churn-model", "version": "1", "stage": "staging",
                        "archive_existing_versions": False})
    check(st == 200 and body["model_version"]["current_stage"] == "Staging", f"stage: {body}")
    st, body, _ = call("POST", "/mlflow/model-versions/transition-stage",
                       {"name": "churn-model", "version": "2", "stage": "Staging",
                        "archive_existing_versions": True})
    check(st == 200, "stage with archive")
    check(is_error(call("POST", "/mlflow/model-versions/transition-stage",
                        {"name": "churn-model", "version": "2", "stage": "Staging"}), 400,
                   "INVALID_PARAMETER_VALUE",
                   "Missing value for required parameter 'archive_existing_versions'"),
          "archive flag required")
    st, body, _ = call("POST", "/mlflow/registered-models/get-latest-versions",
                       {"name": "churn-model", "stages": ["Staging", "Archived"]})
    check([(v["version"], v["current_stage"]) for v in body["model_versions"]] ==
          [("2", "Staging"), ("1", "Archived")], f"latest versions: {body}")
    st, body, _ = call("GET", "/mlflow/registered-models/get", query={"name": "churn-model"})
    rm = body["registered_model"]
    check(rm["aliases"] == [{"alias": "production", "version": "2"}] and
          len(rm["latest_versions"]) == 2, f"model with aliases: {rm}")
    st, body, _ = call("GET", "/mlflow/model-versions/search",
                       query={"filter": "name='churn-model'", "max_results": 10})
    check(st == 200 and len(body["model_versions"]) == 2, "search versions")
    st, body, _ = call("GET", "/mlflow/registered-models/search",
                       query={"filter": "name LIKE 'churn%'", "max_results": 10})
    check(st == 200 and [m["name"] for m in body["registered_models"]] == ["churn-model"],
          "search models")
    st, body, _ = call("PATCH", "/mlflow/registered-models/update",
                       {"name": "churn-model", "description": "who leaves"})
    check(st == 200 and body["registered_model"]["description"] == "who leaves", "update model")
    st, body, _ = call("GET", "/mlflow/model-versions/get-download-uri",
                       query={"name": "churn-model", "version": "1"})
    check(body == {"artifact_uri": source}, f"download uri: {body}")
    check(call("POST", "/mlflow/model-versions/set-tag",
               {"name": "churn-model", "version": "1", "key": "gate", "value": "passed"})[0]
          == 200, "version tag")
    with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/model-versions/get-artifact?" +
                                urllib.parse.urlencode({"name": "churn-model", "version": "1",
                                                        "path": "MLmodel"})) as r:
        check(r.read() == b"flavors: {}\n", "model version artifact")
    check(call("DELETE", "/mlflow/model-versions/delete",
               {"name": "churn-model", "version": "1"})[0] == 200, "delete version")

    # Every error is JSON in MLflow's shape, routing and parsing included.
    check(is_error(call("GET", "/mlflow/runs/get", query={"run_id": "0" * 32}), 404,
                   "RESOURCE_DOES_NOT_EXIST", "Run with id=" + "0" * 32 + " not found"),
          "missing run")
    check(is_error(call("GET", "/mlflow/runs/get"), 400, "INVALID_PARAMETER_VALUE",
                   "Missing value for required parameter 'run_id'"), "missing run_id")
    check(is_error(call("GET", "/mlflow/no-such-endpoint"), 404, "ENDPOINT_NOT_FOUND"),
          "unknown endpoint")
    check(is_error(call("GET", "/mlflow/runs/create"), 405, "BAD_REQUEST"), "wrong method")
    check(is_error(call("POST", "/mlflow/runs/create", raw=b"{not json"), 400, "BAD_REQUEST",
                   "Malformed JSON"), "malformed body")
    check(is_error(call("POST", "/mlflow/runs/create", raw=b"{}", headers={"Content-Type":
                                                                        "text/plain"}), 400,
                   "INVALID_PARAMETER_VALUE", "Content-Type must be one of"), "content type")
    check(is_error(call("POST", "/mlflow/runs/log-batch",
                        raw=b'{"run_id": "' + parent.encode() + b'", "x": "' + b"a" * 3_000_000 +
                        b'"}'), 413, "RESOURCE_EXHAUSTED"), "body over --max-body-mb")
    with socket.create_connection(("127.0.0.1", srv.port)) as s:
        s.sendall(b"GARBAGE / HTTP/9.9\r\n\r\n")
        reply = s.recv(65536).decode(errors="replace")
    check(reply.startswith("HTTP/1.1 400") and '"error_code":"BAD_REQUEST"' in reply,
          f"garbage request: {reply[:200]}")
    st, body, _ = call("GET", "/health", prefix="")
    check(st == 200 and body == "OK", "health")

    # /metrics: requests by route, method and status, and a latency histogram (Prometheus text).
    st, text, ctype = call("GET", "/metrics", prefix="")
    check(st == 200 and ctype.startswith("text/plain") and
          '# TYPE plinth_server_http_requests_total counter' in text and
          'plinth_server_http_requests_total{route="/mlflow/runs/log-metric",method="POST",'
          'status="200"} 1' in text and
          'plinth_server_http_requests_total{route="/mlflow/runs/get",method="GET",status="404"}'
          in text and
          'plinth_server_http_request_duration_seconds_bucket{route="/mlflow/runs/create",'
          'le="+Inf"}' in text and
          'route="other",method="GET",status="404"' in text, f"metrics: {text[:400]}")
    # The same text as Prometheus' own Python client parses it (python3-prometheus-client).
    from prometheus_client.parser import text_string_to_metric_families
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    check(families.get("plinth_server_http_requests") == "counter" and
          families.get("plinth_server_http_request_duration_seconds") == "histogram" and
          families.get("plinth_server_group_commit_requests") == "counter",
          f"metric families parsed: {families}")

    # Many clients at once, on two server processes over the same store: 32 concurrent
    # loggers lose no metric, experiment ids stay unique, nothing errors.
    srv2 = Server(store, f"{tmp}/artifacts")
    import threading
    st, body, _ = call("POST", "/mlflow/runs/create", {"experiment_id": exp_id, "start_time": now})
    crowd = body["run"]["info"]["run_id"]
    errors, exp_ids = [], []

    def logger(k):
        server = srv if k % 2 == 0 else srv2
        try:
            for i in range(40):
                st, body, _ = server.call("POST", "/mlflow/runs/log-metric",
                                          {"run_id": crowd, "key": "crowd", "value": float(k),
                                           "timestamp": now + i, "step": k * 1000 + i})
                if st != 200:
                    errors.append(body)
            st, body, _ = server.call("POST", "/mlflow/runs/log-batch", {
                "run_id": crowd, "metrics": [{"key": "batch", "value": float(i),
                                              "timestamp": now, "step": k * 1000 + i}
                                             for i in range(100)]})
            if st != 200:
                errors.append(body)
            st, body, _ = server.call("POST", "/mlflow/experiments/create",
                                      {"name": f"crowd-{k}"})
            if st != 200:
                errors.append(body)
            else:
                exp_ids.append(body["experiment_id"])
        except Exception as e:  # a dropped connection is a failure too
            errors.append(repr(e))

    threads = [threading.Thread(target=logger, args=(k,)) for k in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, f"concurrent loggers: {errors[:3]}")
    st, body, _ = call("GET", "/mlflow/metrics/get-history",
                       query={"run_id": crowd, "metric_key": "crowd"})
    check(len(body.get("metrics", [])) == 32 * 40, f"single metrics kept: {len(body.get('metrics', []))}")
    st, body, _ = srv2.call("GET", "/mlflow/metrics/get-history",
                            query={"run_id": crowd, "metric_key": "batch"})
    check(len(body.get("metrics", [])) == 32 * 100, "batched metrics kept, read from the other server")
    check(len(set(exp_ids)) == 32, f"unique experiment ids: {sorted(exp_ids)}")
    # The logging writes went through the group commit; the latest value of the key is
    # the largest step's, whichever batch carried it.
    st, body, _ = call("GET", "/mlflow/runs/get", query={"run_id": crowd})
    latest = {m["key"]: m for m in body["run"]["data"]["metrics"]}
    check(latest["crowd"]["step"] == 31 * 1000 + 39 and latest["crowd"]["value"] == 31.0 and
          latest["batch"]["step"] == 31 * 1000 + 99, f"latest values: {latest}")
    st, text, _ = call("GET", "/metrics", prefix="")
    counts = {line.split()[0]: int(line.split()[1]) for line in text.splitlines()
              if line.startswith("plinth_server_group_commit_")}
    check(counts.get("plinth_server_group_commit_requests_total", 0) >= 16 * 41 and
          0 < counts.get("plinth_server_group_commit_batches_total", 0) <=
          counts["plinth_server_group_commit_requests_total"], f"group commit counters: {counts}")
    check(srv2.stop() == 0, "second server stops cleanly")

    # MLflow 2.x's PromptLab run: FINISHED, with its promptlab model and evaluation table
    # in the run's artifacts (MLflow's own test checks the run only).
    st, body, _ = call("POST", "/mlflow/runs/create-promptlab-run",
                       {"experiment_id": exp_id, "prompt_template": "Hi {{name}}",
                        "prompt_parameters": [{"key": "name", "value": "Ada"}],
                        "model_route": "chat", "model_input": "Hi Ada", "model_output": "Hello",
                        "mlflow_version": "2.17.2"}, prefix="/ajax-api/2.0")
    check(st == 200 and body["run"]["info"]["status"] == "FINISHED", f"promptlab run: {body}")
    lab = body["run"]["info"]["run_id"] if st == 200 else ""
    st, body, _ = call("GET", "/mlflow/artifacts/list", query={"run_id": lab})
    check({f["path"] for f in body.get("files", [])} == {"eval_results_table.json", "model"},
          f"promptlab artifacts: {body}")
    st, text, _ = call("GET", f"/mlflow-artifacts/artifacts/{exp_id}/{lab}/artifacts/"
                       "eval_results_table.json")
    check(st == 200 and text == {"columns": ["name", "prompt", "output"],
                                 "data": [["Ada", "Hi Ada", "Hello"]]}, f"eval table: {text}")
    check(is_error(call("POST", "/mlflow/runs/create-promptlab-run", {"experiment_id": exp_id}),
                   400, "INVALID_PARAMETER_VALUE",
                   "CreatePromptlabRun request must specify prompt_template."),
          "promptlab run without a template")
    check(is_error(call("POST", "/mlflow/runs/create-promptlab-run", [1, 2]), 400, "BAD_REQUEST"),
          "promptlab run with a list for a body")

    # SIGTERM: graceful stop, exit 0.
    code = srv.stop()
    check(code == 0, f"exit status after SIGTERM: {code}")

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
