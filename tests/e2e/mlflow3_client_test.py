#!/usr/bin/env python3
"""The real MLflow 3.10.1 client (../shared/mlflow3) against `plinth server`: models logged
with the sklearn and xgboost flavors through the LoggedModel API, registered, loaded back with
mlflow.pyfunc.load_model (by model id, by version, by runs:/ URI) and compared with the
original models' predictions; search_logged_models with filters, order and pages; model
metrics, tags and soft delete; a run's model outputs and inputs; the errors a client sees;
@mlflow.trace spans (sent over OTLP) read back, searched, tagged, assessed and deleted;
OTLP spans from other senders (protobuf with gzip, JSON); plinth serve on the logged xgboost
model.
Runs on SQLite, and on PostgreSQL too when PLINTH_TEST_POSTGRES_URI is set
(tests/scripts/with_postgres.sh).

usage: mlflow3_client_test.py PLINTH_BINARY SHARED_DIR
(the client half runs as: mlflow3_client_test.py --client TRACKING_URL)
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def client(url):
    import mlflow
    import numpy as np
    import sklearn.linear_model as lm
    import xgboost as xgb
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
            return e.error_code, e.message
        return None, None

    mlflow.set_tracking_uri(url)
    c = MlflowClient()
    exp = mlflow.set_experiment("mlflow3-e2e").experiment_id
    rng = np.random.default_rng(7)
    x = rng.random((40, 3))
    y = (x[:, 0] + 0.2 * rng.random(40) > 0.6).astype(int)

    # sklearn: logged through the LoggedModel API and registered in one call.
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", 0.91)
        skm = lm.LogisticRegression().fit(x, y)
        info = mlflow.sklearn.log_model(skm, name="model", registered_model_name="demo")
    run_id = run.info.run_id
    mid = info.model_id
    check(mid.startswith("m-") and len(mid) == 34, f"model id {mid}")
    check(str(info.registered_model_version) == "1",
          f"registered version {info.registered_model_version!r}")
    m = c.get_logged_model(mid)
    check(str(m.status) == "READY", f"status {m.status}")
    check(m.source_run_id == run_id and m.name == "model", f"source run/name {m.source_run_id}")
    check(m.experiment_id == exp, f"experiment {m.experiment_id}")
    check('"demo"' in m.tags.get("mlflow.modelVersions", ""), f"tags {m.tags}")
    check([k.key for k in m.metrics] == ["acc"] and m.metrics[0].model_id == mid,
          f"metrics copied from the run {m.metrics}")
    r = c.get_run(run_id)
    outs = [(o.model_id, o.step) for o in r.outputs.model_outputs]
    check(outs == [(mid, 0)], f"run outputs {outs}")
    want = skm.predict(x)
    for uri in (f"models:/{mid}", "models:/demo/1", f"runs:/{run_id}/model"):
        got = mlflow.pyfunc.load_model(uri).predict(x)
        check(list(got) == list(want), f"predictions of {uri}")
    v = c.get_model_version("demo", "1")
    check(v.run_id == run_id and v.source == f"models:/{mid}", f"version {v.run_id} {v.source}")
    check(c.get_model_version_download_uri("demo", "1") == m.artifact_location,
          "download uri is the logged model's location")
    listed = [f.path for f in mlflow.artifacts.list_artifacts(f"runs:/{run_id}/model")]
    check("model/MLmodel" in listed, f"list_artifacts runs:/ {listed}")

    # xgboost, at a step, with params, a model type and tags; registered from runs:/.
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2},
                        xgb.DMatrix(x, label=y), num_boost_round=5)
    with mlflow.start_run() as run2:
        xinfo = mlflow.xgboost.log_model(booster, name="xgbm", params={"depth": "2"},
                                         model_type="classifier", tags={"team": "ml"}, step=3)
        mlflow.log_metric("val_auc", 0.8, model_id=xinfo.model_id, dataset=None)
    xm = c.get_logged_model(xinfo.model_id)
    check(xm.model_type == "classifier" and xm.params == {"depth": "2"},
          f"xgb type/params {xm.model_type} {xm.params}")
    check(xm.tags.get("team") == "ml", f"xgb tags {xm.tags}")
    check(any(k.key == "val_auc" for k in xm.metrics), f"model metric {xm.metrics}")
    r2 = c.get_run(run2.info.run_id)
    check([(o.model_id, o.step) for o in r2.outputs.model_outputs] == [(xinfo.model_id, 3)],
          "xgb run output at step 3")
    check(r2.inputs.model_inputs and r2.inputs.model_inputs[0].model_id == xinfo.model_id,
          "log_metric(model_id=...) records the model as the run's input")
    mv = mlflow.register_model(f"runs:/{run2.info.run_id}/xgbm", "demo-xgb")
    check(str(mv.version) == "1", f"register_model runs:/ -> {mv.version!r}")
    got = mlflow.pyfunc.load_model("models:/demo-xgb/1").predict(x)
    want = booster.predict(xgb.DMatrix(x))
    check(np.allclose(np.asarray(got).ravel(), want, atol=1e-6), "xgb predictions")
    # For plinth serve (the driver's half): the rows and XGBoost's own probabilities.
    c.set_registered_model_alias("demo-xgb", "prod", 1)
    with open("expected.json", "w") as f:
        json.dump({"rows": [{f"f{j}": float(v) for j, v in enumerate(row)} for row in x[:10]],
                   "proba": [float(p) for p in want[:10]], "model_id": mid}, f)

    # Search: filters, order, pages.
    def names(**kw):
        return [mm.name for mm in mlflow.search_logged_models(experiment_ids=[exp],
                                                              output_format="list", **kw)]
    check(names() == ["xgbm", "model"], f"newest first {names()}")
    check(names(filter_string="name = 'xgbm'") == ["xgbm"], "filter by name")
    check(names(filter_string="params.depth = '2' AND tags.team = 'ml'") == ["xgbm"],
          "filter by params and tags")
    check(names(filter_string="metrics.acc > 0.9") == ["model"], "filter by metric")
    check(names(order_by=[{"field_name": "creation_timestamp", "ascending": True}]) ==
          ["model", "xgbm"], "order by creation time")
    page = c.search_logged_models(experiment_ids=[exp], max_results=1)
    check(len(page) == 1 and page.token, "a page of one and a token")
    page2 = c.search_logged_models(experiment_ids=[exp], max_results=1, page_token=page.token)
    check([p.name for p in page2] == ["model"], "the second page")

    # Tags, finalize, delete; errors.
    c.set_logged_model_tags(mid, {"k": "v"})
    check(c.get_logged_model(mid).tags.get("k") == "v", "set tag")
    c.delete_logged_model_tag(mid, "k")
    check("k" not in c.get_logged_model(mid).tags, "delete tag")
    extra = c.create_logged_model(experiment_id=exp, name="draft")
    check(str(extra.status) == "PENDING", f"created pending {extra.status}")
    c.finalize_logged_model(extra.model_id, "FAILED")
    check(str(c.get_logged_model(extra.model_id).status) == "FAILED", "finalize failed")
    c.delete_logged_model(extra.model_id)
    code, msg = error_of(lambda: c.get_logged_model(extra.model_id))
    check(code == "RESOURCE_DOES_NOT_EXIST" and
          msg.endswith(f"Logged model with ID '{extra.model_id}' not found."),
          f"deleted: {code} {msg}")
    check("draft" not in names(), "a deleted model is not searched")
    code, msg = error_of(lambda: c.create_logged_model(experiment_id=exp, name="a/b"))
    check(code == "INVALID_PARAMETER_VALUE" and "Invalid model name" in (msg or ""),
          f"bad name: {code} {msg}")
    code, _ = error_of(lambda: c.create_logged_model(experiment_id="123456"))
    check(code == "RESOURCE_DOES_NOT_EXIST", f"unknown experiment: {code}")
    code, msg = error_of(lambda: mlflow.search_logged_models(experiment_ids=[exp],
                                                             filter_string="name ~ 'x'"))
    check(code == "INVALID_PARAMETER_VALUE", f"bad filter: {code} {msg}")

    # Tracing: @mlflow.trace spans, sent over OTLP (/v1/traces) as they end and kept in the
    # metadata store, read back, searched, tagged, assessed, deleted.
    @mlflow.trace
    def add(a, b):
        with mlflow.start_span("inner") as span:
            span.set_attribute("fruit", "apple")
            span.set_attribute("sizes", {"small": [1, 2], "large": 3.5})
        return a + b

    check(add(1, 2) == 3, "traced function")
    tid = mlflow.get_last_active_trace_id()
    check(tid is not None and tid.startswith("tr-"), f"trace id {tid}")
    t = mlflow.get_trace(tid)
    check(t is not None and str(t.info.state) == "OK", f"trace state {t and t.info.state}")
    if t is not None:
        check(t.info.tags.get("mlflow.trace.spansLocation") == "TRACKING_STORE",
              f"spans in the store: {t.info.tags}")
        check([sp.name for sp in t.data.spans] == ["add", "inner"], "spans read back")
        check(t.data.spans[1].attributes.get("fruit") == "apple", "span attribute")
        check(t.data.spans[1].attributes.get("sizes") == {"small": [1, 2], "large": 3.5},
              f"nested attribute {t.data.spans[1].attributes.get('sizes')}")
        check(t.data.spans[0].inputs == {"a": 1, "b": 2} and t.data.spans[0].outputs == 3,
              f"root inputs and outputs {t.data.spans[0].inputs} {t.data.spans[0].outputs}")
        check(t.data.spans[1].parent_id == t.data.spans[0].span_id, "parent span")
        check(t.info.experiment_id == exp, f"trace experiment {t.info.experiment_id}")
        check(t.info.execution_duration is not None and t.info.execution_duration >= 0,
              "execution duration")
        # The spans are in the database: the client wrote no traces.json.
        loc = t.info.tags.get("mlflow.artifactLocation", "")
        files = [f.path for f in mlflow.artifacts.list_artifacts(artifact_uri=loc)] if loc else []
        check(loc and files == [], f"no traces.json written under {loc}: {files}")
    found = mlflow.search_traces(return_type="list")
    check([x.info.trace_id for x in found] == [tid], f"search_traces {found}")
    check(len(found) == 1 and [sp.name for sp in found[0].data.spans] == ["add", "inner"],
          "search_traces with spans (batchGet)")

    # Assessments: feedback and expectations, updated, overridden, deleted.
    from mlflow.entities import AssessmentSource, Expectation, Feedback
    human = AssessmentSource(source_type="HUMAN", source_id="alice@example.com")
    fb = mlflow.log_feedback(trace_id=tid, name="relevance", value=0.6, source=human,
                             rationale="partly", metadata={"round": "1"})
    check(fb.assessment_id.startswith("a-") and fb.value == 0.6, f"log_feedback {fb}")
    ex = mlflow.log_expectation(trace_id=tid, name="answer", value={"sum": 3}, source=human)
    got = mlflow.get_assessment(tid, ex.assessment_id)
    check(isinstance(got, Expectation) and got.value == {"sum": 3} and got.source.source_id ==
          "alice@example.com", f"get_assessment {got}")
    up = mlflow.update_assessment(tid, fb.assessment_id,
                                  Feedback(name="relevance", value=0.7, rationale="better"))
    check(up.value == 0.7 and up.rationale == "better" and up.metadata == {"round": "1"} and
          up.source.source_id == "alice@example.com", f"update_assessment {up}")
    over = mlflow.override_feedback(trace_id=tid, assessment_id=fb.assessment_id, value=0.9,
                                    source=human)
    t = mlflow.get_trace(tid)
    by_id = {a.assessment_id: a for a in t.info.assessments}
    check(set(by_id) == {fb.assessment_id, ex.assessment_id, over.assessment_id} and
          by_id[fb.assessment_id].valid is False and by_id[over.assessment_id].overrides ==
          fb.assessment_id, f"trace assessments {t.info.assessments}")
    mlflow.delete_assessment(tid, over.assessment_id)
    check(mlflow.get_assessment(tid, fb.assessment_id).valid is True,
          "deleting the override restores the original")
    code, _ = error_of(lambda: mlflow.get_assessment(tid, over.assessment_id))
    check(code == "RESOURCE_DOES_NOT_EXIST", f"deleted assessment: {code}")
    code, _ = error_of(lambda: mlflow.update_assessment(tid, ex.assessment_id,
                                                       Feedback(name="answer", value=1)))
    check(code == "INVALID_PARAMETER_VALUE", f"feedback onto an expectation: {code}")
    # MLflow 3's search grammar over spans, assessments and the spans' text.
    for flt in ["span.name = 'inner'", "span.name = 'inner' AND span.type = 'UNKNOWN'",
                "span.attributes.fruit LIKE '%apple%'", "span.attributes.fruit RLIKE '^app'",
                "trace.text ILIKE '%APPLE%'", "feedback.relevance = '0.7'",
                "expectation.answer IS NOT NULL", "end_time > 0"]:
        found = mlflow.search_traces(filter_string=flt, return_type="list")
        check([x.info.trace_id for x in found] == [tid], f"search_traces({flt!r}): {found}")
    for flt in ["span.name = 'inner' AND span.status = 'ERROR'", "feedback.relevance = '0.9'",
                "feedback.relevance IS NULL", "span.attributes.fruit RLIKE '^pear'"]:
        found = mlflow.search_traces(filter_string=flt, return_type="list")
        check(found == [], f"search_traces({flt!r}) finds nothing: {found}")
    code, msg = error_of(lambda: mlflow.search_traces(filter_string="span.content = 'x'"))
    check(code == "INVALID_PARAMETER_VALUE" and "LIKE or ILIKE" in msg, f"span.content =: {msg}")
    c.set_trace_tag(tid, "reviewed", "yes")
    found = mlflow.search_traces(filter_string="tags.reviewed = 'yes'", return_type="list")
    check(len(found) == 1 and found[0].info.tags.get("reviewed") == "yes", "search by tag")
    check(mlflow.search_traces(filter_string="status = 'ERROR'", return_type="list") == [],
          "search by status")
    check(c.delete_traces(experiment_id=exp, trace_ids=[tid]) == 1, "delete_traces")
    check(mlflow.search_traces(return_type="list") == [], "deleted trace gone")

    # Feedback logged while its trace runs travels with the trace's StartTraceV3.
    @mlflow.trace
    def judged():
        mlflow.log_feedback(trace_id=mlflow.get_active_trace_id(), name="inline", value=True)
        return 1

    judged()
    inline = mlflow.get_trace(mlflow.get_last_active_trace_id()).info.assessments
    check([(a.name, a.value) for a in inline] == [("inline", True)],
          f"assessments logged during the trace: {inline}")

    # A trace made while a logged model is active is that model's (mlflow.modelId).
    active = mlflow.set_active_model(name="agent")

    @mlflow.trace
    def answer(q):
        return q.upper()

    answer("hi")
    mlflow.clear_active_model()
    model_trace = mlflow.get_last_active_trace_id()
    t = mlflow.get_trace(model_trace)
    check(t.info.trace_metadata.get("mlflow.modelId") == active.model_id,
          f"trace linked to its model: {t.info.trace_metadata}")
    found = mlflow.search_traces(
        filter_string=f"metadata.`mlflow.modelId` = '{active.model_id}'", return_type="list")
    check([x.info.trace_id for x in found] == [model_trace], f"traces of a model: {found}")

    # A prompt loaded inside a trace is linked to it (link-prompts), and found by it.
    mlflow.genai.register_prompt(name="qa", template="Answer: {{question}}")

    @mlflow.trace
    def ask(question):
        return mlflow.genai.load_prompt("prompts:/qa/1").format(question=question)

    ask("why?")
    prompted = mlflow.get_last_active_trace_id()
    for _ in range(100):  # the client links prompts from a thread of its own
        found = mlflow.search_traces(filter_string="prompt = 'qa/1'", return_type="list")
        if found:
            break
        time.sleep(0.05)
    check([x.info.trace_id for x in found] == [prompted], f"traces of a prompt: {found}")
    check(mlflow.search_traces(filter_string="prompt = 'qa/2'", return_type="list") == [],
          "no trace used qa/2")

    check_otlp(url, exp, check)

    print(f"mlflow3-client: {len(failures)} failures", flush=True)
    return 1 if failures else 0


def check_otlp(url, exp, check):
    """Spans from any OpenTelemetry sender: OTLP protobuf (OpenTelemetry's own message
    classes, gzip-compressed) and OTLP/JSON as the specification writes it, read back with
    MLflow's client and, as traces.json, through MLflow 2.x's get-trace-artifact."""
    import gzip
    import mlflow
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    def post(body, headers):
        req = urllib.request.Request(url + "/v1/traces", data=body, headers=headers,
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    trace_hex = "0af7651916cd43dd8448eb211c80319c"
    req = ExportTraceServiceRequest()
    span = req.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = bytes.fromhex(trace_hex)
    span.span_id = bytes.fromhex("b7ad6b7169203331")
    span.name = "GET /checkout"
    span.start_time_unix_nano = 1_700_000_000_000_000_000
    span.end_time_unix_nano = 1_700_000_000_250_000_000
    attr = span.attributes.add()
    attr.key, attr.value.int_value = "http.status_code", 200
    span.status.code = 1
    status, body = post(gzip.compress(req.SerializeToString()),
                        {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip",
                         "X-Mlflow-Experiment-Id": exp})
    check(status == 200 and body == b"", f"OTLP protobuf: {status} {body[:200]}")
    t = mlflow.get_trace("tr-" + trace_hex)
    check(t is not None and [sp.name for sp in t.data.spans] == ["GET /checkout"] and
          t.data.spans[0].attributes.get("http.status_code") == 200 and
          str(t.info.state) == "OK" and t.info.execution_duration == 250,
          f"OTLP protobuf span read back: {t}")

    json_hex = "5b8efff798038103d269b633813fc60c"
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": json_hex.upper(), "spanId": "eee19b7ec3c1b174", "name": "charge",
         "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000100000000",
         "attributes": [{"key": "amount", "value": {"doubleValue": 9.5}}],
         "status": {"code": 2, "message": "declined"}}]}]}]}
    status, body = post(json.dumps(doc).encode(), {"Content-Type": "application/json",
                                                   "X-Mlflow-Experiment-Id": exp})
    check(status == 200 and json.loads(body) == {}, f"OTLP/JSON: {status} {body[:200]}")
    t = mlflow.get_trace("tr-" + json_hex)
    check(t is not None and t.data.spans[0].attributes.get("amount") == 9.5 and
          str(t.info.state) == "ERROR", f"OTLP/JSON span read back: {t}")
    with urllib.request.urlopen(f"{url}/ajax-api/2.0/mlflow/get-trace-artifact?request_id=tr-"
                                f"{json_hex}", timeout=30) as r:
        data = json.load(r)
    check([sp["name"] for sp in data.get("spans", [])] == ["charge"],
          f"traces.json of an OTLP trace: {data}")

    for body, headers, code, words in [
            (b"{}", {"Content-Type": "application/json"}, 400, "X-Mlflow-Experiment-Id"),
            (b"{}", {"Content-Type": "text/plain", "X-Mlflow-Experiment-Id": exp}, 400,
             "Expected: application/x-protobuf"),
            (b"\xff\xff\xff", {"Content-Type": "application/x-protobuf",
                                "X-Mlflow-Experiment-Id": exp}, 400,
             "Invalid OpenTelemetry protobuf format"),
            (b"nope", {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip",
                       "X-Mlflow-Experiment-Id": exp}, 400, "not valid gzip"),
            (json.dumps(doc).encode(), {"Content-Type": "application/json",
                                        "X-Mlflow-Experiment-Id": "424242"}, 404, "424242"),
            # 65 MiB of zeros in 64 KiB: over the server's body limit once inflated.
            (gzip.compress(bytes(65 << 20)), {"Content-Type": "application/x-protobuf",
                                              "Content-Encoding": "GZIP",
                                              "X-Mlflow-Experiment-Id": exp}, 413,
             "once decompressed"),
            (json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
                {"traceId": json_hex, "spanId": "eee19b7ec3c1b174"}] * 10001}]}]}).encode(),
             {"Content-Type": "application/json", "X-Mlflow-Experiment-Id": exp}, 413,
             "send smaller batches")]:
        status, answer = post(body, headers)
        check(status == code and words in answer.decode(errors="replace"),
              f"OTLP error {headers}: {status} {answer[:200]}")


def check_v3_routes(url):
    """server-info as MLflow 3 answers it; the parts of MLflow Plinth leaves out answer a
    JSON 404 that says so."""
    rc = 0
    with urllib.request.urlopen(url + "/api/3.0/mlflow/server-info", timeout=30) as r:
        info = json.load(r)
    if info != {"store_type": "SqlStore", "workspaces_enabled": False}:
        print("FAIL server-info", info)
        rc = 1
    for path, what in [("/api/3.0/mlflow/scorers/list", "scorers"),
                       ("/api/2.0/mlflow/gateway/endpoints", "AI gateway"),
                       ("/api/3.0/mlflow/datasets/search", "evaluation datasets"),
                       ("/api/3.0/mlflow/workspaces", "workspaces"),
                       ("/api/3.0/mlflow/prompt-optimization/jobs", "prompt optimization")]:
        try:
            urllib.request.urlopen(url + path, timeout=30)
            print("FAIL", path, "answered 200")
            rc = 1
        except urllib.error.HTTPError as e:
            body = json.loads(e.read())
            if (e.code != 404 or body.get("error_code") != "ENDPOINT_NOT_FOUND" or
                    f"does not serve MLflow's {what}" not in body.get("message", "")):
                print("FAIL", path, e.code, body)
                rc = 1
    # link-prompts refuses what MLflow refuses.
    for body, status, text in [
            ({"trace_id": "tr-nope"}, 400,
             "Missing value for required parameter 'prompt_versions'"),
            ({"trace_id": "tr-nope", "prompt_versions": [{"name": "qa", "version": "x"}]}, 400,
             "Invalid version 'x' of prompt 'qa': expected a positive integer"),
            ({"trace_id": "tr-nope", "prompt_versions": [{"name": "qa", "version": "1"}]}, 404,
             "tr-nope")]:
        req = urllib.request.Request(url + "/api/2.0/mlflow/traces/link-prompts",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=30)
            print("FAIL link-prompts", body, "answered 200")
            rc = 1
        except urllib.error.HTTPError as e:
            answer = json.loads(e.read())
            if e.code != status or text not in answer.get("message", ""):
                print("FAIL link-prompts", body, e.code, answer)
                rc = 1
    return rc


def check_logged_model_files(url, model_id):
    """The UI's download of a logged model's file, and its refusals."""
    rc = 0
    base = f"{url}/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files"
    with urllib.request.urlopen(base + "?artifact_file_path=MLmodel", timeout=30) as r:
        text = r.read().decode()
        if "flavors:" not in text or "attachment" not in r.headers.get("Content-Disposition", ""):
            print("FAIL logged model file download", r.headers, text[:200])
            rc = 1
    for query, status in [("", 400), ("?artifact_file_path=../../x", 400),
                          ("?artifact_file_path=missing", 404)]:
        try:
            urllib.request.urlopen(base + query, timeout=30)
            print("FAIL logged model file", query, "answered 200")
            rc = 1
        except urllib.error.HTTPError as e:
            if e.code != status or "error_code" not in json.loads(e.read()):
                print("FAIL logged model file", query, e.code)
                rc = 1
    return rc


def serve_logged_models(plinth, url, work):
    """plinth serve on what the MLflow 3 client logged: the xgboost flavor scores as XGBoost
    does (to 1e-6); a pickled sklearn model is refused with a clear error."""
    from plinth_procs import free_port, start_server

    with open(os.path.join(work, "expected.json")) as f:
        expected = json.load(f)
    rc = check_logged_model_files(url, expected["model_id"])
    port = free_port()
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"))
    proc = start_server([plinth, "serve", "models:/demo-xgb@prod", "--tracking-uri", url,
                         "--port", str(port)], port, stderr=subprocess.PIPE, text=True, env=env)
    try:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/predict",
                                     data=json.dumps({"data": expected["rows"]}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            answer = json.load(r)
        got = [p[1] for p in answer["probabilities"]]
        if len(got) != len(expected["proba"]) or any(
                abs(a - b) > 1e-6 for a, b in zip(got, expected["proba"])):
            print("FAIL plinth serve's probabilities", got, expected["proba"])
            rc = 1
        if answer.get("model_version") != "1":
            print("FAIL plinth serve's model version", answer.get("model_version"))
            rc = 1
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    sk = subprocess.run([plinth, "serve", "models:/demo/1", "--tracking-uri", url, "--port",
                         str(free_port())], capture_output=True, text=True, env=env, timeout=60)
    if sk.returncode != 2 or "xgboost flavor" not in sk.stderr or "sklearn" not in sk.stderr:
        print("FAIL plinth serve of a pickled sklearn model:", sk.returncode, sk.stderr)
        rc = 1
    return rc


def run_against(plinth, shared, store, label):
    sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
    from plinth_procs import free_port, mlflow_client_env, start_server

    with tempfile.TemporaryDirectory(prefix="plinth-mlflow3-") as work:
        port = free_port()
        proc = start_server([plinth, "server", "--store", store(work), "--artifacts-root",
                             os.path.join(work, "artifacts"), "--port", str(port)], port,
                            stderr=subprocess.PIPE, text=True)
        try:
            env = mlflow_client_env(shared, "mlflow3", work)
            url = f"http://127.0.0.1:{port}"
            rc = subprocess.run(["/usr/bin/python3", os.path.abspath(__file__), "--client", url],
                                env=env, cwd=work).returncode
            if rc == 0:
                rc = serve_logged_models(plinth, url, work)
            rc |= check_v3_routes(url)
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=30)
        if proc.returncode not in (0, -15):
            print(f"{label}: the server exited with {proc.returncode}: {err[-2000:]}")
            rc = rc or 1
        print(f"{label}: {'ok' if rc == 0 else 'FAILED'}")
        return rc


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        sys.exit(client(sys.argv[2]))
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    plinth, shared = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    rc = run_against(plinth, shared, lambda work: "sqlite:///" + os.path.join(work, "db.sqlite"),
                     "sqlite")
    pg = os.environ.get("PLINTH_TEST_POSTGRES_URI")
    if pg:
        rc |= run_against(plinth, shared, lambda work: pg, "postgresql")
    sys.exit(rc)


if __name__ == "__main__":
    main()
