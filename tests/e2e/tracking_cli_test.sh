#!/usr/bin/env bash
# plinth train records runs and registers bundles in the project's store; the
# experiments/runs/models/lineage commands read them; models:/ URIs resolve; and
# plinth server serves the same store to MLflow clients.
# Usage: tracking_cli_test.sh PLINTH SOURCE_DIR
PLINTH=$1
SRC=$2
DATA=$SRC/../shared/datasets
source "$SRC/tests/e2e/lib.sh"
export USER=ana
unset PLINTH_TRACKING_URI MLFLOW_TRACKING_URI PLINTH_ARTIFACTS_ROOT

cd "$T" && git init -q . && "$PLINTH" init >/dev/null
cp "$DATA/adult_train.csv" "$DATA/adult_test.csv" .
cat > train.yaml <<'YAML'
name: adult
data: {path: adult_train.csv, test: adult_test.csv, target: income}
model: {type: gbdt, epochs: 20}
YAML

"$PLINTH" train train.yaml -q >out1 2>err1
expect '[ $? -eq 0 ] && grep -q "registered models:/adult/1" out1' "train is tracked and registered"
"$PLINTH" train train.yaml -q --set model.learning_rate=0.3 >out2 2>&1
expect 'grep -q "registered models:/adult/2" out2' "a second run is version 2"
"$PLINTH" train train.yaml -q --no-track >out3 2>&1
expect '! grep -q tracked out3' "--no-track records nothing"

"$PLINTH" runs ls --json >runs.json
expect '[ "$(python3 -c "import json; print(len(json.load(open(\"runs.json\"))))")" = 2 ]' "two runs"
RUN2=$(python3 -c "import json; print(json.load(open('runs.json'))[0]['info']['run_id'])")
RUN1=$(python3 -c "import json; print(json.load(open('runs.json'))[1]['info']['run_id'])")
expect 'python3 - <<PY
import json
r = json.load(open("runs.json"))[0]
p = {x["key"]: x["value"] for x in r["data"]["params"]}
m = {x["key"]: x["value"] for x in r["data"]["metrics"]}
t = {x["key"]: x["value"] for x in r["data"]["tags"]}
assert p["model.learning_rate"] == "0.3" and p["model.type"] == "gbdt", p
assert 0.8 < m["test_accuracy"] < 1 and "validation_logloss" in m, m
assert r["info"]["status"] == "FINISHED" and t["mlflow.user"] == "ana", t
assert r["inputs"]["dataset_inputs"][0]["dataset"]["name"] == "adult_train.csv"
PY' "params, metrics, tags and the dataset input of the run"
"$PLINTH" runs search "params.model.learning_rate = '0.3'" --json >found.json
expect '[ "$(python3 -c "import json; print([r[\"info\"][\"run_id\"] for r in json.load(open(\"found.json\"))])")" = "['"'"'$RUN2'"'"']" ]' "runs search"
"$PLINTH" runs show "$RUN1" >show.txt
expect 'grep -q "validation_logloss" show.txt && grep -q "input adult_train.csv" show.txt' "runs show"
"$PLINTH" runs compare "$RUN1" "$RUN2" >cmp.txt
expect 'grep -q "param \* *model.learning_rate" cmp.txt' "runs compare marks the differing param"
HIST=$(ls .plinth/artifacts/1/"$RUN1"/artifacts/model)
expect '[ "$HIST" = "$(printf "MLmodel\nmodel.ubj\nplinth-model.json\npreprocess.json\nreference.csv.gz\nreference.json")" ]' "the bundle is a run artifact"

"$PLINTH" models alias adult production 1 >/dev/null
"$PLINTH" models alias adult production 2 >/dev/null
"$PLINTH" models stage adult 2 staging >/dev/null
"$PLINTH" models history adult --json >hist.json
expect 'python3 -c "
import json
h = json.load(open(\"hist.json\"))
assert [(e[\"kind\"], e[\"from\"], e[\"to\"], e[\"user\"]) for e in h] == [(\"alias\", \"\", \"1\", \"ana\"), (\"alias\", \"1\", \"2\", \"ana\"), (\"stage\", \"None\", \"Staging\", \"ana\")], h
"' "models history: who moved what, from, to"
"$PLINTH" evaluate models:/adult@production adult_test.csv --json ev_alias.json >/dev/null
"$PLINTH" evaluate models/adult adult_test.csv --json ev_dir.json >/dev/null 2>&1
"$PLINTH" evaluate "runs:/$RUN2/model" adult_test.csv --json ev_run.json >/dev/null
expect 'cmp -s ev_alias.json ev_run.json' "models:/NAME@ALIAS and runs:/ID/model name the same bundle"
"$PLINTH" evaluate models:/adult/Staging adult_test.csv --json ev_stage.json >/dev/null
expect 'cmp -s ev_alias.json ev_stage.json' "models:/NAME/STAGE"
"$PLINTH" evaluate models:/adult/7 adult_test.csv >/dev/null 2>err
expect '[ $? -eq 2 ] && grep -q "Model Version (name=adult, version=7) not found" err' "missing version"
"$PLINTH" lineage adult/2 --json >lin.json
expect 'python3 -c "
import json
e = {(x[\"src_kind\"], x[\"dst_kind\"]) for x in json.load(open(\"lin.json\"))}
assert (\"data\", \"run\") in e and (\"run\", \"model_version\") in e, e
"' "lineage: data -> run -> model version"
"$PLINTH" lineage nothing-here >/dev/null 2>err
expect '[ $? -eq 2 ]' "lineage of an unknown id"

# A training run inside `plinth run` is linked: data -> pipeline run -> run -> model version.
cat > plinth.yaml <<'YAML'
stages:
  training:
    cmd: plinth train train.yaml -q --json report.json
    deps: [adult_train.csv, train.yaml]
    outs: [models/adult]
YAML
mkdir -p bin && ln -sf "$PLINTH" bin/plinth
PATH="$T/bin:$PATH" "$PLINTH" run >run.out 2>&1
expect '[ $? -eq 0 ]' "plinth run trains"
PRUN=$("$PLINTH" runs ls --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['info']['run_id'])")
"$PLINTH" lineage "$PRUN" --json >plin.json
expect 'python3 -c "
import json
e = {(x[\"src_kind\"], x[\"dst_kind\"]) for x in json.load(open(\"plin.json\"))}
assert {(\"data\", \"pipeline_run\"), (\"pipeline_run\", \"run\"), (\"run\", \"model_version\")} <= e, e
"' "lineage through the pipeline run"

# Bad tracking URIs fail before any training.
"$PLINTH" train train.yaml -q --tracking-uri mysql://x >/dev/null 2>err
expect '[ $? -eq 2 ] && grep -q "unknown scheme" err && [ "$(grep -c "plinth: error" err)" = 1 ]' "unknown scheme"
"$PLINTH" train train.yaml -q --tracking-uri http://127.0.0.1:1 >/dev/null 2>err
expect '[ $? -eq 3 ] && grep -q "127.0.0.1:1" err' "an unreachable tracking server"

# Outside a project nothing is tracked, and training still works.
OUT=$(mktemp -d)
cp train.yaml adult_*.csv "$OUT"/ && (cd "$OUT" && "$PLINTH" train train.yaml >o 2>e)
expect '[ $? -eq 0 ] && grep -q "not tracked" "$OUT/e"' "outside a project: not tracked"
rm -rf "$OUT"

# plinth server serves the same store: MLflow clients see the CLI's runs.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PLINTH" server --port "$PORT" 2>server.log &
SERVER=$!
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT))" 2>/dev/null && break; sleep 0.1; done
python3 - "$PORT" "$RUN2" >srv.out <<'PY'
import json, sys, urllib.request
port, run = sys.argv[1], sys.argv[2]
req = urllib.request.Request(f"http://127.0.0.1:{port}/api/2.0/mlflow/registered-models/alias?name=adult&alias=production")
mv = json.load(urllib.request.urlopen(req))["model_version"]
print(mv["version"], mv["run_id"] == run)
PY
expect '[ "$(cat srv.out)" = "2 True" ]' "the server answers from the CLI's store"
# Each training is one trace of its run: MLflow 3's client reads it like its own.
TRACE1=$(sed -n 's/^traced: \(tr-[0-9a-f]*\) .*/\1/p' out1)
PYTHONPATH=$SRC/../shared/mlflow3/client:$SRC/../shared/mlflow3/deps MLFLOW_DISABLE_TELEMETRY=true \
  DO_NOT_TRACK=true /usr/bin/python3 - "$PORT" "$TRACE1" "$RUN1" >trace.out 2>trace.err <<'PY'
import sys, mlflow
port, trace_id, run = sys.argv[1:]
mlflow.set_tracking_uri(f"http://127.0.0.1:{port}")
t = mlflow.get_trace(trace_id)
names = [s.name for s in t.data.spans]
assert names[0] == "plinth train adult" and names[1:] == ["load", "clean_split", "preprocess", "fit", "evaluate", "bundle"], names
root = t.data.spans[0]
assert root.inputs["data"].endswith("adult_train.csv") and root.outputs["run_id"] == run, root.outputs
assert 0.8 < root.outputs["metrics"]["test"]["accuracy"] < 1, root.outputs["metrics"]
assert all(s.parent_id == root.span_id for s in t.data.spans[1:])
assert str(t.info.state) == "OK" and t.info.trace_metadata["mlflow.sourceRun"] == run
found = mlflow.search_traces(filter_string=f"run_id = '{run}'", return_type="list",
                             locations=[t.info.experiment_id])
print([x.info.trace_id for x in found] == [trace_id])
PY
expect '[ -n "$TRACE1" ] && [ "$(cat trace.out)" = "True" ]' "plinth train's trace read with MLflow 3's client ($(tail -1 trace.err))"
kill -TERM $SERVER; wait $SERVER
expect '[ $? -eq 0 ]' "server exits 0 on SIGTERM"

# --tracking-uri http://: train against a server with its own store and artifact root;
# runs, registry, history and models:/ URIs all go through its REST API.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PLINTH" server --port "$PORT" --store "sqlite:///$T/remote.db" --artifacts-root "$T/remote-art" 2>remote.log &
SERVER=$!
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT))" 2>/dev/null && break; sleep 0.1; done
export XDG_CACHE_HOME=$T/cache
URI=http://127.0.0.1:$PORT
"$PLINTH" train train.yaml -q --tracking-uri "$URI" >rout 2>&1
expect 'grep -q "registered models:/adult/1" rout' "train over HTTP registers on the server"
RTRACE=$(sed -n 's/^traced: \(tr-[0-9a-f]*\) .*/\1/p' rout)
python3 - "$PORT" "$RTRACE" >rtrace.out <<'PY'
import json, sys, urllib.request
port, trace_id = sys.argv[1:]
t = json.load(urllib.request.urlopen(
    f"http://127.0.0.1:{port}/api/3.0/mlflow/traces/get?trace_id={trace_id}"))["trace"]
print(t["trace_info"]["tags"]["mlflow.trace.spansLocation"], len(t["spans"]))
PY
expect '[ "$(cat rtrace.out)" = "TRACKING_STORE 7" ]' "train over HTTP sends its trace's spans over OTLP"
expect '[ -f "$T/remote-art/1/$(ls "$T/remote-art/1")/artifacts/model/model.ubj" ]' "the bundle was uploaded through the artifact proxy"
"$PLINTH" runs ls --tracking-uri "$URI" --json >rruns.json
expect '[ "$(python3 -c "import json; print(len(json.load(open(\"rruns.json\"))))")" = 1 ]' "runs ls over HTTP"
"$PLINTH" models alias adult champion 1 --tracking-uri "$URI" >/dev/null
"$PLINTH" models history adult --tracking-uri "$URI" --json >rhist.json
expect 'grep -q "\"user\": \"ana\"" rhist.json' "alias history over HTTP records the user"
"$PLINTH" evaluate models:/adult@champion adult_test.csv --tracking-uri "$URI" --json rev.json >/dev/null
expect '[ -f rev.json ] && [ -d "$T/cache/plinth/artifacts" ]' "evaluate models:/ over HTTP downloads the bundle"
"$PLINTH" lineage adult/1 --tracking-uri "$URI" >rlin.txt
expect 'grep -q "model_version adult/1" rlin.txt' "lineage over HTTP"
kill -TERM $SERVER; wait $SERVER
finish
