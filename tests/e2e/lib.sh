# Shared by the e2e scripts (sourced): a temporary directory removed on exit,
# check counting, and the closing "N passed, N failed" line CI reads.
set -u
T=$(mktemp -d)
cleanup() { rm -rf "$T"; }
trap 'cleanup' EXIT
passed=0
failed=0
# expect 'SHELL CONDITION' "what it checks": counts a pass, or prints FAIL.
expect() { if eval "$1"; then passed=$((passed + 1)); else echo "FAIL $2"; failed=$((failed + 1)); fi; }
# Prints the closing line; the script's exit status says whether all passed.
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; }
