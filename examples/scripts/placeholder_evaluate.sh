#!/usr/bin/env bash
# PLACEHOLDER until `plinth evaluate` lands (the training issue).
set -euo pipefail
model=$1 out=$2
mkdir -p "$(dirname "$out")"
echo '{"placeholder": true, "accuracy": null}' > "$out"
echo "placeholder evaluation of $model"
