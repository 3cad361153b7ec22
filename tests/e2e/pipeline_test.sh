#!/usr/bin/env bash
# Pipelines driven like a user: skip when unchanged; re-run on a dependency,
# parameter or command change; parallel independent stages; failure
# propagation and --keep-going; the manual gate and only-branch; run-cache
# restore; --dry; and bad plinth.yaml files rejected before anything runs.
# Usage: pipeline_test.sh PLINTH SOURCE_DIR
PLINTH=$1
source "$(dirname "$0")/lib.sh"
run() { "$PLINTH" run "$@" > "$T/out" 2>&1; echo $? > "$T/code"; }
said() { grep -q -- "$1" "$T/out"; }
code() { [ "$(cat "$T/code")" = "$1" ]; }

cd "$T" && git init -q -b main p && cd p && git config user.email t@t && git config user.name t
"$PLINTH" init > /dev/null
printf 'a,b\n1,2\n' > raw.csv
printf 'feat:\n  scale: 2\ntrain:\n  lr: 0.1\n' > params.yaml
cat > plinth.yaml <<'YAML'
stages:
  features:
    cmd: awk -F, -v s=$SCALE 'NR>1 {print $1*s}' raw.csv > features.txt
    deps: [raw.csv]
    params: [feat.scale]
    env: {SCALE: "2"}
    outs: [features.txt]
  left:
    cmd: date +%s%N > left.start && sleep 0.5 && date +%s%N > left.end
    deps: [features.txt]
    outs: [left.start, left.end]
  right:
    cmd: date +%s%N > right.start && sleep 0.5 && date +%s%N > right.end
    deps: [features.txt]
    outs: [right.start, right.end]
  train:
    cmd:
      - echo "train lr"
      - 'echo "{\"acc\": 0.8}" > metrics.json'
      - cat features.txt > model.txt
    deps: [features.txt, left.end, right.end]
    params: [train.lr]
    outs: [model.txt]
    metrics: [metrics.json]
  deploy:
    cmd: cp model.txt deployed.txt
    deps: [model.txt]
    outs: [{path: deployed.txt, cache: false}]
    when: manual
    only: [main]
YAML

run -j 2
expect 'code 0' "first run succeeds"
git add -A && git commit -qm "first run"
expect 'said "\[train\] train lr"' "stage output is prefixed with its name"
expect 'said "stage deploy: waiting for approval"' "manual stage waits"
expect '[ "$(cat features.txt)" = "2" ]' "env and params reach the command"
# left and right ran at the same time: each started before the other ended.
expect '[ "$(cat left.start)" -lt "$(cat right.end)" ] && [ "$(cat right.start)" -lt "$(cat left.end)" ]' "independent stages ran in parallel (-j 2)"
expect 'grep -q "fingerprint:" plinth.lock && grep -q "params.yaml:train.lr: 0.1" plinth.lock' "plinth.lock records the stages"
# A damaged plinth.lock: one line naming the file, the line, the key and the type expected.
cp plinth.lock "$T/lock.good"
sed -i '0,/size: [0-9]*/s//size: big/' plinth.lock
run
expect 'code 2 && said "plinth.lock:[0-9]*: stage .[a-z_]*.: key .size.: expected bytes, got .big.; delete plinth.lock to rebuild"' "a wrong-typed plinth.lock member is named"
expect '[ "$(grep -c . "$T/out")" = 1 ]' "a wrong-typed plinth.lock member: a one-line error"
sed -i '0,/fingerprint: .*/s//fingerprint: [1, 2]/' plinth.lock
run
expect 'code 2 && said "plinth.lock:[0-9]*: stage .[a-z_]*.: key .fingerprint.: expected a string, got a list"' "a plinth.lock fingerprint that is a list is named"
cp "$T/lock.good" plinth.lock

run
expect 'code 0 && said "stage features: up to date" && said "stage train: up to date"' "nothing runs when nothing changed"

printf 'a,b\n5,6\n' > raw.csv
run --dry
expect 'said "stage features: would run: dependency changed: raw.csv"' "--dry says why"
expect '[ "$(cat features.txt)" = "2" ]' "--dry runs nothing"
run
expect 'said "stage features: ran: dependency changed: raw.csv"' "dependency change re-runs"
expect 'said "stage left: ran: dependency changed: features.txt"' "and downstream"

sed -i 's/lr: 0.1/lr: 0.2/' params.yaml
run
expect 'said "stage train: ran: parameter changed: train.lr" && said "stage features: up to date"' "param change re-runs only its stage"

sed -i 's/echo "train lr"/echo "train lr v2"/' plinth.yaml
run
expect 'said "stage train: ran: command changed"' "command change re-runs"

rm model.txt
run
expect 'said "stage train: restored from run cache: output missing or changed: model.txt"' "missing output restored from the run cache"
expect '[ -f model.txt ]' "output back"

sed -i 's/lr: 0.2/lr: 0.3/' params.yaml && run && sed -i 's/lr: 0.3/lr: 0.2/' params.yaml
run
expect 'said "stage train: restored from run cache: parameter changed: train.lr"' "switching a parameter back costs nothing"

run --approve deploy
expect 'said "stage deploy: ran" && [ -f deployed.txt ]' "approved manual stage runs on main"
git checkout -q -b feature
rm deployed.txt
run --approve deploy train
expect 'said "stage deploy: skipped (branch): runs only on main; this is feature"' "only: other branch skips"
git checkout -q main

# Failures: exit code propagates, dependents wait, lock untouched.
cp plinth.lock "$T/lock.before"
sed -i 's/cat features.txt > model.txt/exit 7/' plinth.yaml
run
expect 'code 7' "failing command's exit code propagates"
expect 'said "stage train: failed: command exited with 7"' "failure reported"
expect 'said "stage deploy: not run: waits for stage train"' "dependents do not run"
expect 'cmp -s plinth.lock "$T/lock.before"' "failed stage leaves plinth.lock untouched"

cat > plinth.yaml <<'YAML'
stages:
  broken:
    cmd: exit 1
  independent:
    cmd: echo ok > ok.txt
    outs: [ok.txt]
YAML
run
expect 'said "stage independent: not run"' "without --keep-going the rest stops"
run --keep-going
expect 'said "stage independent: ran" && code 1' "--keep-going runs the rest, still fails"

# Bad plinth.yaml files: rejected before anything runs, naming line and key.
bad() { printf "$1" > plinth.yaml; run; expect "code 2 && said \"$2\"" "$3"; }
bad 'stages:\n  a:\n    cmd: touch ran\n    dpes: [x]\n' 'plinth.yaml:4: stage .a.: unknown key .dpes.' "unknown key"
bad 'stages:\n  a:\n    cmd: touch ran\n    deps: [b.out]\n    outs: [a.out]\n  b:\n    cmd: x\n    deps: [a.out]\n    outs: [b.out]\n' 'the stages form a cycle: a -> b -> a' "cycle"
bad 'stages:\n  a:\n    cmd: touch ran\n    outs: [o]\n  b:\n    cmd: touch ran\n    outs: [o]\n' "stage 'b' writes o, which overlaps o written by stage 'a'" "two stages, one output"
bad 'stages:\n  a:\n    cmd: touch ran\n    deps: [nowhere.csv]\n' 'dependency nowhere.csv does not exist and no stage produces it' "missing dependency"
bad 'stages:\n  a:\n    cmd: touch ran\n    needs: [ghost]\n' 'no stage named .ghost.' "unknown needs"
bad 'stages:\n  a:\n    cmd: touch ran\n    params: [no.such]\n' 'parameter no.such is not in params.yaml' "unknown parameter"
bad 'stages:\n  a:\n    deps: [x]\n' "missing key 'cmd'" "no cmd"
bad 'stages:\n  a:\n    cmd: touch ran\n    outs: [../outside]\n' 'is outside the project' "output outside the project"
expect '[ ! -e ran ]' "nothing ran for any bad file"

# Outputs that are Plinth's or git's own, or leave the project through a
# symlink, are refused before anything runs (outputs are removed before a stage
# runs): each file is still there afterwards.
mkdir -p "$T/outside" && echo keep > "$T/outside/victim.txt" && ln -sfn "$T/outside" escape
ln -sfn .git gitlink
echo keep > .plinth/keep.txt
refused() {  # PLINTH_YAML_TEXT MESSAGE WHAT
  printf "$1" > "$T/plinth.yaml.new"
  cp "$T/plinth.yaml.new" plinth.yaml
  cp plinth.yaml "$T/plinth.yaml.before"
  run
  expect "code 2 && said \"$2\"" "$3: refused, exit 2"
  expect '[ "$(grep -c . "$T/out")" = 1 ]' "$3: a one-line error"
  expect '[ -d .git ] && git rev-parse -q HEAD >/dev/null && [ -f .plinth/config.yaml ] && [ -f .plinth/keep.txt ] && cmp -s plinth.yaml "$T/plinth.yaml.before"' "$3: .git, .plinth and plinth.yaml intact"
  expect '[ "$(cat "$T/outside/victim.txt")" = keep ] && [ ! -e ran ]' "$3: the file outside intact, nothing ran"
}
refused 'stages:\n  a:\n    cmd: touch ran\n    outs: [.git]\n' "plinth.yaml:3: stage 'a': output .git is .git, which Plinth or git own" ".git as an output"
refused 'stages:\n  a:\n    cmd: touch ran\n    outs: [.plinth/keep.txt]\n' "stage 'a': output .plinth/keep.txt is .plinth, which Plinth or git own" "a file in .plinth as an output"
refused 'stages:\n  a:\n    cmd: touch ran\n    wdir: sub\n    outs: [../plinth.yaml]\n' "stage 'a': output plinth.yaml is plinth.yaml" "plinth.yaml as an output (through wdir)"
refused 'stages:\n  a:\n    cmd: touch ran\n    outs: [params.yaml]\n' "stage 'a': output params.yaml is params.yaml, which Plinth or git own" "params.yaml as an output"
refused 'stages:\n  a:\n    cmd: touch ran\n    outs: [data/raw.csv.plinth]\n' "stage 'a': output data/raw.csv.plinth is data/raw.csv.plinth, which Plinth or git own" "a pointer file as an output"
refused 'stages:\n  a:\n    cmd: touch ran\n    outs: [escape/victim.txt]\n' "stage 'a': output escape/victim.txt resolves through a symlink to $T/outside/victim.txt, outside the project" "an output through a symlink to outside"
refused 'stages:\n  a:\n    cmd: touch ran\n    outs: [gitlink/config]\n' "stage 'a': output gitlink/config resolves through a symlink to .git/config, inside .git" "an output through a symlink to .git"
rm -f escape gitlink .plinth/keep.txt
# A symlink made by an earlier stage is caught just before the later stage runs.
printf 'stages:\n  a:\n    cmd: ln -sfn "%s" made\n  b:\n    cmd: touch ran\n    needs: [a]\n    outs: [made/victim.txt]\n' "$T/outside" > plinth.yaml
run
expect 'code 2 && said "stage b: failed: .*output made/victim.txt resolves through a symlink to $T/outside/victim.txt, outside the project"' "a symlink made by an earlier stage: refused at run time"
expect '[ "$(cat "$T/outside/victim.txt")" = keep ] && [ ! -e ran ]' "a symlink made by an earlier stage: the file outside intact"
rm -f made

# dag, metrics show|diff, params diff and stage targets, on a project of their own.
cd "$T" && git init -q -b main q && cd q && git config user.email t@t && git config user.name t
"$PLINTH" init > /dev/null
echo 0.8 > raw.txt
printf 'train:\n  lr: 0.1\n  depth: 3\nunused: 5\n' > params.yaml
cat > plinth.yaml <<'YAML'
stages:
  prep:
    cmd: cp raw.txt prep.txt
    deps: [raw.txt]
    outs: [prep.txt]
  train:
    cmd: |-
      printf '{"acc": %s, "loss": {"val": 0.5}, "name": "m1", "hist": [1, 2]}' "$(cat prep.txt)" > metrics.json
    deps: [prep.txt]
    params: [train.lr, train.depth]
    metrics: [metrics.json]
  report:
    cmd: cp metrics.json report.txt
    deps: [metrics.json]
    outs: [report.txt]
  lint:
    cmd: echo ok > lint.txt
    outs: [lint.txt]
YAML
cmd() { "$PLINTH" "$@" > "$T/out" 2> "$T/err"; echo $? > "$T/code"; }
err() { grep -q -- "$1" "$T/err" && [ "$(wc -l < "$T/err")" = 1 ] && [ ! -s "$T/out" ]; }
row() { grep -Eq -- "^$1 *\$" "$T/out"; }  # a whole output line, cells apart by spaces

cmd dag
expect 'code 0 && [ "$(cat "$T/out")" = "$(printf "prep\ntrain <- prep\nreport <- train\nlint")" ]' "dag: stages in order, each with what it waits for"
cmd dag --dot
expect 'code 0 && head -1 "$T/out" | grep -q "^digraph pipeline {" && grep -q "\"prep\" -> \"train\";" "$T/out" && grep -q "\"train\" -> \"report\";" "$T/out" && [ "$(grep -c -- "->" "$T/out")" = 2 ]' "dag --dot: Graphviz with one edge per dependency"

cmd metrics show
expect 'code 0 && [ "$(cat "$T/out")" = "no metrics: no file a stage lists under '"'"'metrics'"'"' in plinth.yaml exists yet" ]' "metrics show: none yet is said, not an empty table"

cmd run report
expect 'code 0 && [ -f report.txt ] && [ ! -e lint.txt ]' "run STAGE: the stage and what it needs, nothing else"
expect 'grep -q "stage prep: ran" "$T/out" && grep -q "stage train: ran" "$T/out" && ! grep -Eq "stage lint|^lint " "$T/out"' "run STAGE: lint not even listed"
cmd run prep
expect 'code 0 && grep -q "stage prep: up to date" "$T/out" && ! grep -q "stage train" "$T/out"' "run STAGE: an up-to-date target, nothing downstream"
cmd run ghost
expect 'code 2 && err "plinth.yaml: no stage named \"ghost\""' "run STAGE: an unknown stage, exit 2, one line"
expect '[ ! -e lint.txt ]' "run STAGE: nothing ran for an unknown stage"

cmd metrics show
expect 'code 0 && row "file +key +value" && row "metrics.json +acc +0.8" && row "metrics.json +loss.val +0.5" && row "metrics.json +name +\"m1\""' "metrics show: every metric, nested keys dotted"
expect '[ "$(grep -c metrics.json "$T/out")" = 3 ] && ! grep -q hist "$T/out"' "metrics show: lists are not metrics"

"$PLINTH" run > /dev/null 2>&1
git add -A && git commit -qm "v1"
cmd metrics diff
expect 'code 0 && [ "$(cat "$T/out")" = "no metric changed since HEAD" ]' "metrics diff: nothing changed"
cmd params diff
expect 'code 0 && [ "$(cat "$T/out")" = "no parameter changed since HEAD" ]' "params diff: nothing changed"

echo 0.85 > raw.txt
printf 'train:\n  lr: 0.25\n  depth: 3\nunused: 6\n' > params.yaml
"$PLINTH" run > /dev/null 2>&1
cmd metrics diff
expect 'code 0 && row "file +key +HEAD +now +change" && row "metrics.json +acc +0.8 +0.85 +\+0.05"' "metrics diff: old, new and change per key (dvc metrics diff)"
expect '[ "$(wc -l < "$T/out")" = 3 ]' "metrics diff: unchanged keys left out (header, rule, one row)"
cmd params diff
expect 'code 0 && row "file +key +HEAD +now +change" && row "params.yaml +train.lr +0.1 +0.25 +\+0.15" && [ "$(wc -l < "$T/out")" = 3 ]' "params diff: the changed parameter only (not unused ones)"
git add -A && git commit -qm "v2"
cmd metrics diff HEAD~1
expect 'code 0 && row "metrics.json +acc +0.8 +0.85 +\+0.05"' "metrics diff REV: against an older commit"
# A metric that appears, and one whose value is not a number.
printf '{"acc": 0.85, "loss": {"val": 0.5}, "name": "m2", "f1": 0.7}' > metrics.json
cmd metrics diff
expect 'code 0 && row "metrics.json +f1 +- +0.7" && row "metrics.json +name +\"m1\" +\"m2\""' "metrics diff: a new key shows -, a string no change"

cmd metrics diff no-such-rev
expect 'code 2 && err "unknown git revision \"no-such-rev\""' "metrics diff: unknown revision, exit 2, one line"
cmd params diff no-such-rev
expect 'code 2 && err "unknown git revision \"no-such-rev\""' "params diff: unknown revision, exit 2, one line"
echo '{"acc": ' > metrics.json
cmd metrics show
expect 'code 2 && err "metrics.json"' "metrics show: a malformed metrics file named, exit 2"
cmd metrics
expect 'code 2' "metrics without a subcommand: exit 2"
rm plinth.yaml
for c in dag "metrics show" "metrics diff" "params diff"; do
  cmd $c
  expect 'code 2 && err "plinth.yaml: no pipeline here"' "$c without plinth.yaml: exit 2, one line"
done
cd "$T"
cmd dag
expect 'code 2 && err "not inside a Plinth project"' "dag outside a project: exit 2"

finish
