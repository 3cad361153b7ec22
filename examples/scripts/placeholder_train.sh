#!/usr/bin/env bash
# PLACEHOLDER until `plinth train` lands (the training issue): writes a model
# directory shaped like a Plinth bundle, with no real model in it.
set -euo pipefail
features=$1 out=$2
mkdir -p "$out"
printf '{"name": "adult", "placeholder": true, "trained_on_rows": %d}\n' \
  "$(($(wc -l < "$features") - 1))" > "$out/plinth-model.json"
echo "placeholder model written to $out (real training arrives with plinth train)"
