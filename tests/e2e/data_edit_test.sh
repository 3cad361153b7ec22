#!/usr/bin/env bash
# No edit of a tracked file loses a committed version. For each way tools write
# files (append in place, truncate and rewrite with pandas to_csv, replace by
# rename with sed -i, and an in-place edit of one file inside a tracked
# directory): add v1, commit, edit, add v2, commit; then checking out each
# commit gives its bytes back (sha256 against the bytes saved at the time).
# Run as root (which read-only does not stop), and again as an unprivileged user.
# Usage: data_edit_test.sh PLINTH [SOURCE_DIR]   (as root: both runs)
#        PLINTH_EDIT_LINK='[hardlink, copy]' ... runs it with that cache.link
#        (to see the checks fail where hardlinks share the cache's bytes).
PLINTH=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
SELF=$(realpath "$0")
USER_NAME=plinth-e2e

snap() { find "$1" -type f -print0 | sort -z | xargs -0 sha256sum; }  # the bytes of a path

# scenario NAME TRACKED EDITED 'EDIT COMMAND': in a fresh repository under $T.
scenario() {
  local name=$1 tracked=$2 edited=$3 edit=$4 who v1 v2
  who="$name as $(id -un)"
  rm -rf "$T/$name" && mkdir -p "$T/$name" && cd "$T/$name" || return
  git init -q . && git config user.email t@t && git config user.name t
  "$PLINTH" init >/dev/null
  if [ -n "${PLINTH_EDIT_LINK:-}" ]; then
    sed -i "s/link: .*/link: $PLINTH_EDIT_LINK/" .plinth/config.yaml
  fi
  mkdir -p dir
  printf 'id,value\n1,10\n2,20\n3,30\n' > data.csv
  printf 'id,value\n7,70\n' > dir/a.csv && printf 'id,value\n8,80\n' > dir/b.csv
  expect '"$PLINTH" add -q "$tracked" 2>/dev/null' "$who: add v1"
  git add -A && git commit -qm v1
  v1=$(snap "$tracked") && cp "$edited" "$T/$name.v1"
  eval "$edit"
  expect '! cmp -s "$edited" "$T/$name.v1"' "$who: the edit changed the file"
  expect '"$PLINTH" add -q "$tracked" 2>/dev/null' "$who: add v2"
  git add -A && git commit -qm v2
  v2=$(snap "$tracked")
  git checkout -q HEAD~1 -- .
  expect '"$PLINTH" checkout -q' "$who: checkout v1 succeeds"
  expect '[ "$(snap "$tracked")" = "$v1" ]' "$who: v1 byte-identical"
  git checkout -q HEAD -- .
  expect '"$PLINTH" checkout -q' "$who: checkout v2 succeeds"
  expect '[ "$(snap "$tracked")" = "$v2" ]' "$who: v2 byte-identical"
  git checkout -q HEAD~1 -- . && "$PLINTH" checkout -q 2>/dev/null
  expect '[ "$(snap "$tracked")" = "$v1" ]' "$who: v1 again, after v2"
  cd "$T" || return
}

all_scenarios() {
  scenario append data.csv data.csv 'echo "4,40" >> data.csv'
  scenario pandas data.csv data.csv \
    '/usr/bin/python3 -c "import pandas as pd; d = pd.read_csv(\"data.csv\"); d[\"value\"] *= 2; d.to_csv(\"data.csv\", index=False)"'
  scenario sed data.csv data.csv 'sed -i "s/20/21/" data.csv'
  scenario in-dir dir dir/b.csv 'echo "9,90" >> dir/b.csv'
}

all_scenarios
if [ "${2:-}" != --as-user ] && [ "$(id -u)" = 0 ]; then
  # Again as an unprivileged user, with copies of the binary and the scripts in
  # a directory it owns.
  id -u "$USER_NAME" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin "$USER_NAME"
  U=$(mktemp -d /tmp/plinth-e2e-user-XXXXXX)
  cp "$PLINTH" "$SELF" "$(dirname "$SELF")/lib.sh" "$U/" && chown -R "$USER_NAME" "$U"
  out=$(cd "$U" && runuser -u "$USER_NAME" -- env HOME="$U" TMPDIR="$U" \
    ${PLINTH_EDIT_LINK:+PLINTH_EDIT_LINK="$PLINTH_EDIT_LINK"} \
    bash "$U/$(basename "$SELF")" "$U/$(basename "$PLINTH")" --as-user 2>&1)
  rm -rf "$U"
  echo "$out" | grep -v '^[0-9]* passed, [0-9]* failed$'
  p=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
  f=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
  expect '[ "${p:-0}" -gt 0 ] && [ "$(runuser -u "$USER_NAME" -- id -u)" != 0 ]' "the unprivileged run ran, as $USER_NAME"
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-1}))
fi
finish
