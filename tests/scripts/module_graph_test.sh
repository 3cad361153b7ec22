#!/usr/bin/env bash
# scripts/check_module_graph.py: passes on this repository, and fails, naming file and line,
# on a copy whose code breaks the graph (an include of a module not depended on, a private
# dependency in a header, an internal header included from outside, a CMake link the graph
# does not list, a dependency listed after its user).
set -u
repo=$1
check=$repo/scripts/check_module_graph.py
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

out=$(/usr/bin/python3 "$check" "$repo" 2>&1) || fail "the repository breaks its graph: $out"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/docs" "$tmp/src/a" "$tmp/src/b" "$tmp/src/c"
cat > "$tmp/docs/ARCHITECTURE.md" <<'MD'
<!-- module graph -->
```text
a:
b: a
c: | b
```
MD
echo 'plinth_module(a SOURCES a.cc)' > "$tmp/src/a/CMakeLists.txt"
echo 'plinth_module(b SOURCES b.cc PUBLIC plinth::a)' > "$tmp/src/b/CMakeLists.txt"
echo 'plinth_module(c SOURCES c.cc PRIVATE plinth::b)' > "$tmp/src/c/CMakeLists.txt"
printf '// Internal to the a module.\n#pragma once\n' > "$tmp/src/a/detail.h"
printf '#pragma once\n' > "$tmp/src/a/a.h"
printf '#include "a/a.h"\n' > "$tmp/src/b/b.h"
printf '#include "b/b.h"\n' > "$tmp/src/c/c.cc"
out=$(/usr/bin/python3 "$check" "$tmp" 2>&1) || fail "a graph that holds is refused: $out"

expect() {  # expect WHAT PATTERN: the check fails and says PATTERN
  out=$(/usr/bin/python3 "$check" "$tmp" 2>&1)
  rc=$?
  if [ $rc -ne 1 ] || ! grep -qF -- "$2" <<<"$out"; then
    fail "$1: exit $rc, output: $out"
  fi
}
printf '#include "b/b.h"\n' > "$tmp/src/a/a.cc"
expect "an include the graph does not give" "src/a/a.cc:1: a includes b, which the module graph does not give it"
rm "$tmp/src/a/a.cc"
printf '#include "b/b.h"\n' > "$tmp/src/c/c.h"
expect "a private dependency in a header" "src/c/c.h:1: a header of c includes b, a private dependency"
rm "$tmp/src/c/c.h"
printf '#include "a/detail.h"\n' > "$tmp/src/b/b.cc"
expect "an internal header from outside" "src/b/b.cc:1: b includes a/detail.h, which is internal to a"
rm "$tmp/src/b/b.cc"
echo 'plinth_module(c SOURCES c.cc PRIVATE plinth::b plinth::a)' > "$tmp/src/c/CMakeLists.txt"
expect "a link the graph does not list" "c links PRIVATE ['a', 'b']; the module graph says ['b']"
echo 'plinth_module(c SOURCES c.cc PRIVATE plinth::b)' > "$tmp/src/c/CMakeLists.txt"
sed -i 's/^a:$/a: c/' "$tmp/docs/ARCHITECTURE.md"
expect "a dependency listed after its user" "a depends on 'c', which is not listed before it"

if [ $failures -ne 0 ]; then
  echo "module_graph_test: FAILED ($failures failures)"
  exit 1
fi
echo "module_graph_test: passed"
