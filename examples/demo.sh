#!/usr/bin/env bash
# The Plinth demo on the embedded default, in a scratch copy of examples/:
# profile and validate the data, version it, train a model (tracked and registered in
# the project's store, as plinth server shows it to MLflow clients), run the pipeline, then
# serve the production model, call it over HTTP, batch-score a file and stop the server;
# serve it again with live monitoring, shift the traffic and watch an alert fire.
# Usage: examples/demo.sh PATH/TO/plinth   (make demo passes the built binary)
set -euo pipefail
PLINTH=$(realpath "${1:-$(command -v plinth)}")
HERE=$(cd "$(dirname "$0")" && pwd)
WORK="$HERE/out/project"
rm -rf "$WORK" && mkdir -p "$WORK"
cp -r "$HERE/data" "$HERE/scripts" "$HERE/checks.yaml" "$HERE/great_expectations_suite.json" \
  "$HERE/plinth.yaml" "$HERE/train.yaml" "$HERE/monitoring.yaml" "$HERE/gates.yaml" \
  "$HERE/features" "$WORK/"
cd "$WORK"
mkdir -p bin && ln -sf "$PLINTH" bin/plinth && export PATH="$WORK/bin:$PATH"
git init -q -b main . && git config user.email demo@plinth && git config user.name demo

echo "== 1. Profile: column statistics (also the future drift reference)"
plinth profile data/adult.csv --json reports/profile.json --html reports/profile.html
echo
echo "== 2. Validate against checks.yaml (Plinth's suite format)"
mkdir -p reports
plinth validate data/adult.csv --suite checks.yaml --html reports/validation.html
echo
echo "== 3. Validate against a Great Expectations suite, unchanged"
plinth validate data/adult.csv --suite great_expectations_suite.json -q && echo "GE suite: passed"
echo
echo "== 4. Version the data next to git"
plinth init
plinth add data/adult.csv
git add -A && git commit -qm "data v1" && plinth status
echo
echo "== 5. Train: clean -> features -> split -> gbdt with early stopping -> evaluate -> bundle"
plinth train train.yaml --set output=models/first-try --html reports/training.html
echo
echo "== 6. Tracked and registered: the run, the model version, an alias, the lineage"
plinth runs ls
plinth models alias adult-income production 1
plinth models versions adult-income
plinth lineage adult-income/1
plinth evaluate models:/adult-income@production data/adult_test.csv | head -4
echo
echo "== 6b. Protect production: a version must pass gates.yaml and be approved; a deliberately"
echo "       weak model (one boosting round) fails its gates and production stays at version 1"
plinth models protect adult-income production --gates gates.yaml --approvals 1
plinth train train.yaml --set output=models/weak --set model.epochs=1 -q
plinth models test models:/adult-income/2 --gates gates.yaml --html reports/gates-v2.html ||
  echo "(exit $?: version 2 failed its gates)"
plinth models approve adult-income 2
plinth models alias adult-income production 2 ||
  echo "(refused: production is still version $(plinth models alias adult-income production --json | grep -o '"version": *"[0-9]*"' | grep -o '[0-9]\+'))"
echo
echo "== 7. The pipeline: validation -> training -> evaluation -> deployment"
plinth dag
plinth run
echo
echo "== 8. Nothing changed: nothing runs"
plinth run | tail -7
echo
echo "== 9. Deployment, approved by hand (main branch only): plinth deploy runs the gates on the"
echo "       new version, moves production and waits until the serving endpoint serves it"
plinth serve models:/adult-income@production --port 0 2> serve.log &
SERVER=$!
for _ in $(seq 200); do grep -q "http://" serve.log && break; sleep 0.05; done
URL=$(grep -o "http://[0-9.:]*" serve.log | head -1)
[ -n "$URL" ] || { cat serve.log; exit 1; }
cat serve.log
plinth run --approve model_deployment | grep -E "model_deployment|deployed|serves version"
plinth deploy status adult-income
plinth models history adult-income | tail -4
plinth metrics show
echo
echo
echo "== 10. Call the production endpoint, batch-score a file, stop the server"
# Two test rows as JSON objects: numbers stay numbers, text is quoted, empty is null.
ROWS=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) name[i] = $i; next }
  NR <= 3 { row = ""; for (i = 1; i <= NF; i++) {
      v = ($i == "") ? "null" : ($i ~ /^-?[0-9.]+$/) ? $i : "\"" $i "\""
      row = row (i > 1 ? ", " : "") "\"" name[i] "\": " v }
    rows = rows (NR > 2 ? ", " : "") "{" row "}" }
  END { print "{\"data\": [" rows "]}" }' data/adult_test.csv)
echo "POST $URL/predict"
curl -sf -XPOST "$URL/predict" -H 'Content-Type: application/json' -d "$ROWS"
echo
echo "POST $URL/invocations (MLflow's scoring protocol, the CSV rows as they are)"
head -3 data/adult_test.csv | curl -sf -XPOST "$URL/invocations" -H 'Content-Type: text/csv' \
  --data-binary @-
echo
plinth predict models:/adult-income@production --input data/adult_test.csv \
  --output reports/scored.csv --keep-columns age,income -q
head -3 reports/scored.csv
kill -TERM "$SERVER" && wait "$SERVER" && echo "server stopped (exit 0)"
echo
echo "== 11. Monitor: serve with monitoring.yaml, send normal then shifted traffic, watch the"
echo "       drift gauge and an alert reach a local webhook, write the report"
# The example's rules, recomputed every second over the last 2,000 rows for the demo.
/usr/bin/python3 scripts/alert_receiver.py reports/alerts.jsonl > receiver.port &
RECEIVER=$!
trap 'kill "$RECEIVER" "${SERVER:-}" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s receiver.port ] && break; sleep 0.05; done
sed -e 's/interval: 30s/interval: 1s/' -e 's/rows: 100000/rows: 2000/' \
  -e 's/for: [0-9]*m/for: 2s/' -e "s|^# webhook: .*|webhook: {url: \"http://127.0.0.1:$(cat receiver.port)/alerts\"}|" \
  monitoring.yaml > monitoring-demo.yaml
plinth serve models:/adult-income@production --port 0 --monitor monitoring-demo.yaml 2> serve.log &
SERVER=$!
for _ in $(seq 200); do grep -q "http://" serve.log && break; sleep 0.05; done
URL=$(grep -o "http://[0-9.:]*" serve.log | head -1)
[ -n "$URL" ] || { cat serve.log; exit 1; }
# Traffic in requests of 50 CSV rows: the test file as it is, then people over 50 only.
send() {
  awk -F, -v sel="$1" 'NR == 1 { print > "chunk.header"; next }
    (sel == "all" || $1 + 0 > 50) && n++ < 2000 { print }' data/adult_test.csv > chunk.rows
  split -l 50 chunk.rows chunk.part.
  for part in chunk.part.*; do
    cat chunk.header "$part" | curl -sf -o /dev/null -XPOST "$URL/invocations" \
      -H 'Content-Type: text/csv' --data-binary @-
  done
  rm -f chunk.part.* chunk.rows chunk.header
}
gauge() { curl -sf "$URL/metrics" | grep -E "^plinth_dataset_drift_share " || echo "(not computed yet)"; }
send all && sleep 2
echo "normal traffic:  $(gauge)"
send old
for _ in $(seq 100); do grep -q '"DataDrift"' reports/alerts.jsonl 2>/dev/null && break; sleep 0.1; done
echo "shifted traffic: $(gauge)"
echo "the webhook received:"
grep -o '"alertname":"[A-Za-z]*","severity":"[a-z]*"' reports/alerts.jsonl | sort -u
grep -q '"DataDrift"' reports/alerts.jsonl || { echo "no DataDrift alert"; cat serve.log; exit 1; }
kill -TERM "$SERVER" && wait "$SERVER"
kill "$RECEIVER" 2>/dev/null || true
plinth monitor alerts adult-income
plinth monitor report models:/adult-income@production --every 1m --html reports/monitoring.html -q
echo "report: reports/monitoring.html (recorded as a run of experiment monitoring/adult-income)"
echo
echo "== 12. Feature store: driver statistics defined in features/features.yaml, recorded with"
echo "       versions; a point-in-time training set (each order gets the statistics as they were"
echo "       when it was placed); a model trained on the service; the online store; a lookup"
plinth features apply features/features.yaml
plinth features historical --entities features/orders.csv --service late_orders \
  --out reports/late_orders_train.parquet -q
plinth train features/train.yaml -q
plinth features materialize 2024-03-01 2024-03-16T00:00:00Z -q
plinth features get --service late_orders --entity driver_id=1,2,21
echo
echo "Model bundle: $WORK/models/adult (docs/FORMATS.md)"
echo "Reports: $WORK/reports/profile.html, $WORK/reports/validation.html, $WORK/reports/training.html,"
echo "  $WORK/reports/monitoring.html"
echo "Scores: $WORK/reports/scored.csv"
