#!/usr/bin/env python3
"""The real MLflow 2.17.2 client (../shared/mlflow) against `plinth server`, through its
fluent API and MlflowClient: experiments (create, tags, rename, delete, restore, search),
runs (params, metrics with steps, tags, batches, status, search with filters, order and
pages, metric history, delete and restore), dataset inputs, artifacts (log, list, download),
sklearn and xgboost models logged, registered and loaded back with mlflow.pyfunc.load_model
(predictions equal to the originals), the registry (versions, tags, aliases, stages, search,
latest versions, rename, delete), 2.x traces (@mlflow.trace, read back, searched, deleted),
and the error codes a client sees. Runs on SQLite, and on PostgreSQL too when
PLINTH_TEST_POSTGRES_URI is set (tests/scripts/with_postgres.sh).

usage: mlflow2_client_test.py PLINTH_BINARY SHARED_DIR
(the client half runs as: mlflow2_client_test.py --client TRACKING_URL)
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def client(url):
    import mlflow
    import numpy as np
    import pandas as pd
    import sklearn.linear_model as lm
    import xgboost as xgb
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag, ViewType
    from mlflow.exceptions import MlflowException

    sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
    from plinth_procs import Checks

    check = Checks("mlflow2-client")

    def error_of(fn):
        try:
            fn()
        except MlflowException as e:
            return e.error_code
        return None

    mlflow.set_tracking_uri(url)
    c = MlflowClient()

    # Experiments.
    exp = c.create_experiment("e2e-2x", tags={"team": "ml"})
    check(c.get_experiment(exp).tags.get("team") == "ml", "experiment tag")
    check(c.get_experiment_by_name("e2e-2x").experiment_id == exp, "get by name")
    check(error_of(lambda: c.create_experiment("e2e-2x")) == "RESOURCE_ALREADY_EXISTS",
          "a second experiment of the same name")
    other = c.create_experiment("to-delete")
    c.rename_experiment(other, "renamed")
    c.delete_experiment(other)
    check(c.get_experiment(other).lifecycle_stage == "deleted", "deleted experiment")
    names = {e.name for e in c.search_experiments(view_type=ViewType.ALL)}
    check({"e2e-2x", "renamed", "Default"} <= names, f"search experiments {names}")
    check("renamed" not in {e.name for e in c.search_experiments()}, "active only by default")
    c.restore_experiment(other)
    check(c.get_experiment(other).lifecycle_stage == "active", "restored")
    found = c.search_experiments(filter_string="tags.team = 'ml'")
    check([e.experiment_id for e in found] == [exp], "search experiments by tag")

    # Runs: params, metrics with steps, tags, batches, datasets, artifacts.
    mlflow.set_experiment(experiment_id=exp)
    rng = np.random.default_rng(3)
    x = rng.random((50, 3))
    y = (x[:, 0] + 0.2 * rng.random(50) > 0.6).astype(int)
    frame = pd.DataFrame(x, columns=["a", "b", "c"]).assign(label=y)
    run_ids = []
    for i, lr in enumerate([0.1, 0.3, 0.5]):
        with mlflow.start_run(run_name=f"r{i}") as run:
            mlflow.log_params({"lr": lr, "model": "gbdt" if i < 2 else "linear"})
            for step in range(5):
                mlflow.log_metric("loss", 1.0 / (step + 1) + lr, step=step)
            mlflow.log_metric("acc", 0.8 + 0.05 * i)
            mlflow.set_tag("round", str(i))
            mlflow.log_input(mlflow.data.from_pandas(frame, name="train"), context="training")
            run_ids.append(run.info.run_id)
    r = c.get_run(run_ids[1])
    check(r.data.params == {"lr": "0.3", "model": "gbdt"}, f"params {r.data.params}")
    check(r.data.metrics["acc"] == 0.8 + 0.05 * 1 and r.data.tags["round"] == "1",
          f"metrics and tags {r.data.metrics}")
    check(r.info.status == "FINISHED" and r.info.run_name == "r1", "status and name")
    check([d.dataset.name for d in r.inputs.dataset_inputs] == ["train"], "dataset input")
    history = c.get_metric_history(run_ids[0], "loss")
    check([(m.step, round(m.value, 6)) for m in history] ==
          [(s, round(1.0 / (s + 1) + 0.1, 6)) for s in range(5)], "metric history")
    check(error_of(lambda: c.log_param(run_ids[0], "lr", "9")) == "INVALID_PARAMETER_VALUE",
          "a param cannot change")
    c.log_batch(run_ids[2], metrics=[Metric("m", float(k), 0, k) for k in range(100)],
                params=[Param("p", "1")], tags=[RunTag("t", "x")])
    check(len(c.get_metric_history(run_ids[2], "m")) == 100, "log_batch of 100 metrics")

    def runs(**kw):
        return [x.info.run_name for x in mlflow.search_runs(experiment_ids=[exp],
                                                            output_format="list", **kw)]
    check(runs(filter_string="params.model = 'gbdt' and metrics.acc > 0.82") == ["r1"],
          "filter by param and metric")
    check(runs(order_by=["metrics.acc DESC"]) == ["r2", "r1", "r0"], "order by metric")
    check(runs(filter_string="tags.round = '0'") == ["r0"], "filter by tag")
    page = c.search_runs([exp], max_results=2, order_by=["attributes.start_time ASC"])
    page2 = c.search_runs([exp], max_results=2, order_by=["attributes.start_time ASC"],
                          page_token=page.token)
    check([p.info.run_name for p in page] + [p.info.run_name for p in page2] == ["r0", "r1", "r2"],
          "pages")
    c.delete_run(run_ids[2])
    check(runs() == ["r1", "r0"], "a deleted run is not searched")
    c.restore_run(run_ids[2])
    check(len(runs()) == 3, "restored run")

    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "plots"))
        with open(os.path.join(d, "plots", "a.txt"), "w") as f:
            f.write("hello")
        with open(os.path.join(d, "notes.md"), "w") as f:
            f.write("# notes")
        c.log_artifacts(run_ids[0], d)
        c.log_artifact(run_ids[0], os.path.join(d, "notes.md"), artifact_path="docs")
    listed = sorted(f.path for f in c.list_artifacts(run_ids[0]))
    check(listed == ["docs", "notes.md", "plots"], f"list artifacts {listed}")
    with tempfile.TemporaryDirectory() as d:
        got = c.download_artifacts(run_ids[0], "plots/a.txt", d)
        with open(got) as f:
            check(f.read() == "hello", "download artifact")

    # Models: sklearn and xgboost logged, registered, loaded back.
    with mlflow.start_run() as run:
        skm = lm.LogisticRegression().fit(x, y)
        mlflow.sklearn.log_model(skm, "model", registered_model_name="clf")
    sk_run = run.info.run_id
    want = skm.predict(x)
    for uri in ("models:/clf/1", f"runs:/{sk_run}/model"):
        check(list(mlflow.pyfunc.load_model(uri).predict(x)) == list(want),
              f"predictions of {uri}")
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2},
                        xgb.DMatrix(x, label=y), num_boost_round=5)
    with mlflow.start_run() as run:
        mlflow.xgboost.log_model(booster, "xgbm")
    mv = mlflow.register_model(f"runs:/{run.info.run_id}/xgbm", "clf")
    check(str(mv.version) == "2", f"second version {mv.version}")
    got = mlflow.pyfunc.load_model("models:/clf/2").predict(x)
    check(np.allclose(np.asarray(got).ravel(), booster.predict(xgb.DMatrix(x)), atol=1e-6),
          "xgboost predictions")

    # The registry.
    c.set_registered_model_tag("clf", "owner", "ana")
    c.set_model_version_tag("clf", "2", "validated", "yes")
    c.set_registered_model_alias("clf", "champion", "2")
    check(c.get_model_version_by_alias("clf", "champion").version == "2", "alias")
    c.transition_model_version_stage("clf", "1", "Production")
    latest = {v.current_stage: v.version for v in c.get_latest_versions("clf")}
    check(latest == {"Production": "1", "None": "2"}, f"latest versions {latest}")
    check([m.name for m in c.search_registered_models(filter_string="name LIKE 'cl%'")] == ["clf"],
          "search registered models")
    versions = c.search_model_versions("name = 'clf' and tags.validated = 'yes'")
    check([v.version for v in versions] == ["2"], f"search versions by tag {versions}")
    rm = c.get_registered_model("clf")
    check(rm.tags == {"owner": "ana"} and rm.aliases == {"champion": "2"},
          f"registered model {rm.tags} {rm.aliases}")
    c.update_model_version("clf", "1", description="first")
    check(c.get_model_version("clf", "1").description == "first", "version description")
    c.rename_registered_model("clf", "classifier")
    check(c.get_model_version("classifier", "2").run_id == run.info.run_id, "renamed model")
    check(error_of(lambda: c.get_registered_model("clf")) == "RESOURCE_DOES_NOT_EXIST",
          "the old name is gone")
    c.delete_model_version("classifier", "1")
    check([v.version for v in c.search_model_versions("name = 'classifier'")] == ["2"],
          "deleted version")
    c.delete_registered_model("classifier")
    check(c.search_registered_models() == [], "deleted model")

    # 2.x traces: the client starts and ends the trace and writes its spans to traces.json.
    @mlflow.trace
    def add(a, b):
        with mlflow.start_span("inner") as span:
            span.set_attribute("fruit", "apple")
        return a + b

    check(add(1, 2) == 3, "traced function")
    frame = mlflow.search_traces(experiment_ids=[exp])
    check(len(frame) == 1, f"fluent search_traces {frame}")
    found = c.search_traces([exp])
    check(len(found) == 1, f"search traces {found}")
    if found:
        t = c.get_trace(found[0].info.request_id)
        check([sp.name for sp in t.data.spans] == ["add", "inner"] and
              t.data.spans[1].attributes.get("fruit") == "apple", "spans read back")
        check(t.info.status == "OK", f"trace status {t.info.status}")
        c.set_trace_tag(t.info.request_id, "reviewed", "yes")
        check(len(c.search_traces([exp], filter_string="tags.reviewed = 'yes'")) == 1,
              "search traces by tag")
        check(c.delete_traces(exp, request_ids=[t.info.request_id]) == 1, "delete traces")

    print(f"mlflow2-client: {check.failed} failures", flush=True)
    return 1 if check.failed else 0


def run_against(plinth, shared, store, label):
    sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
    from plinth_procs import free_port, mlflow_client_env, start_server

    with tempfile.TemporaryDirectory(prefix="plinth-mlflow2-") as work:
        port = free_port()
        proc = start_server([plinth, "server", "--store", store(work), "--artifacts-root",
                             os.path.join(work, "artifacts"), "--port", str(port)], port,
                            stderr=subprocess.PIPE, text=True)
        try:
            env = mlflow_client_env(shared, "mlflow", work)
            env["PYTHONWARNINGS"] = "ignore"
            rc = subprocess.run(["/usr/bin/python3", os.path.abspath(__file__), "--client",
                                 f"http://127.0.0.1:{port}"], env=env, cwd=work).returncode
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
