#!/usr/bin/env bash
# The Plinth demo on the embedded default: profile the example data, then
# validate it against Plinth's suite and against a Great Expectations suite.
# Usage: examples/demo.sh PATH/TO/plinth   (make demo passes the built binary)
set -euo pipefail
PLINTH=${1:-plinth}
cd "$(dirname "$0")"
mkdir -p out

echo "== 1. Profile: column statistics (also the future drift reference)"
"$PLINTH" profile data/adult.csv --json out/profile.json --html out/profile.html
echo
echo "== 2. Validate against checks.yaml (Plinth's suite format)"
"$PLINTH" validate data/adult.csv --suite checks.yaml --report out/validation.json \
  --html out/validation.html
echo
echo "== 3. Validate against a Great Expectations suite, unchanged"
"$PLINTH" validate data/adult.csv --suite great_expectations_suite.json \
  --report out/ge_validation.json
echo
echo "Reports: examples/out/profile.html, examples/out/validation.html (open in a browser)"
