#!/usr/bin/env bash
# PLACEHOLDER until `plinth train` owns feature engineering (the training issue):
# copies the CSV without the columns params.yaml drops.
set -euo pipefail
in=$1 out=$2
mkdir -p "$(dirname "$out")"
drop=$(sed -n 's/^  drop_columns: \[\(.*\)\]/\1/p' params.yaml | tr -d ' ')
awk -F, -v drop="$drop" 'BEGIN { n = split(drop, d, ",") }
  NR == 1 { for (i = 1; i <= NF; i++) { keep[i] = 1; for (j = 1; j <= n; j++) if ($i == d[j]) keep[i] = 0 } }
  { line = ""; for (i = 1; i <= NF; i++) if (keep[i]) line = line (line == "" ? "" : ",") $i; print line }' "$in" > "$out"
echo "features: $(wc -l < "$out") lines, dropped $drop"
