#!/usr/bin/env bash
# Data versioning driven like a user, in a temporary git repository:
# init -> add -> modify -> status -> commit -> checkout an old revision -> the
# data is byte-identical; nested directories, empty files, unicode names,
# symlinks (versioned as their target's content); and kill -9 at seeded random
# moments during add, after which a re-run finishes the job and every cache
# object still hashes to its name.
# Usage: data_test.sh PLINTH SOURCE_DIR
PLINTH=$1
source "$(dirname "$0")/lib.sh"
cleanup() { umount "$T/full" 2>/dev/null; rm -rf "$T"; }

same_files() {  # the same files with the same bytes (directories alone do not count)
  diff <(cd "$1" && find . -type f -exec sha256sum {} + | sort -k2) \
       <(cd "$2" && find . -type f -exec sha256sum {} + | sort -k2) >/dev/null
}

verify_cache() { verify_cache_dir "$1/.plinth/cache" "${@:2}"; }

# verify_cache_dir DIR [crashed]: DIR/sha256 exists and holds only objects
# (sha256/XX/62 hex digits) whose content hashes to their name. After a kill
# ("crashed") temporary files (.NAME.plinth-tmp-X of objects, .NAME.tmp.PID.N of
# manifests written atomically; gc removes both) may remain and the directory
# may not exist yet; otherwise either is a failure.
verify_cache_dir() {
  local dir=$1 mode=${2:-} wrong=0 name sum
  if [ ! -d "$dir/sha256" ]; then
    [ "$mode" = crashed ] && return 0
    echo "  no cache at $dir/sha256"
    return 1
  fi
  while IFS= read -r -d '' name; do
    name=${name#./}
    case "$name" in
      .*.plinth-tmp-* | */.*.plinth-tmp-* | .*.tmp.[0-9]*.[0-9]* | */.*.tmp.[0-9]*.[0-9]*)
        [ "$mode" = crashed ] || { wrong=$((wrong + 1)); echo "  temporary file left: $dir/sha256/$name"; }
        continue ;;
    esac
    [[ "$name" =~ ^[0-9a-f]{2}/[0-9a-f]{62}$ ]] || { wrong=$((wrong + 1)); echo "  not an object: $dir/sha256/$name"; }
  done < <(cd "$dir/sha256" && find . \( -type f -o -type l \) -print0)
  # One sha256sum for all objects (a process per file is slow on a busy machine).
  while read -r sum name; do
    name=${name#./}
    [ "$sum" = "${name/\//}" ] || { wrong=$((wrong + 1)); echo "  damaged: $dir/sha256/$name"; }
  done < <(cd "$dir/sha256" && find . -type f -regextype posix-extended \
             -regex '\./[0-9a-f]{2}/[0-9a-f]{62}' -print0 | xargs -0 -r sha256sum)
  [ "$wrong" -eq 0 ]
}

# fails CODE 'COMMAND' 'PATTERN' "what": COMMAND (eval'ed) exits with CODE and
# its output (stdout and stderr) matches the grep PATTERN.
fails() {
  local code=0
  eval "$2" >"$T/fails.out" 2>&1 || code=$?
  if [ "$code" = "$1" ] && grep -q -- "$3" "$T/fails.out"; then
    passed=$((passed + 1))
  else
    echo "FAIL $4 (exit $code, expected $1; output: $(head -c 400 "$T/fails.out"))"
    failed=$((failed + 1))
  fi
}

cd "$T" && git init -q repo && cd repo && git config user.email t@t && git config user.name t
expect '"$PLINTH" init >/dev/null' "init"
fails 2 '"$PLINTH" init' "already a Plinth project" "init twice fails"
mkdir -p data/images/cats data/images/empty-dir "data/ünïcödé"
for i in $(seq 1 50); do echo "cat picture $i" > "data/images/cats/cat$i.txt"; done
: > data/images/zero-bytes.bin
echo "ñ" > "data/ünïcödé/naïve file.txt"
head -c 1000000 /dev/urandom > data/raw.bin
expect '"$PLINTH" add -q data/raw.bin data/images "data/ünïcödé"' "add"
expect '[ -f data/raw.bin.plinth ] && [ -f data/images.plinth ]' "pointer files written"
expect 'grep -qx "/raw.bin" data/.gitignore && grep -qx "/images" data/.gitignore' ".gitignore updated"
expect 'grep -q "nfiles: 51" data/images.plinth' "nfiles counts regular files"
expect '"$PLINTH" status | grep -q "in sync"' "status clean after add"
git add -A && git commit -qm "v1"
cp data/raw.bin "$T/raw.v1"
tar -C data -cf "$T/images.v1.tar" images

# Modify: replace a file, change one in a directory, add and remove files.
rm data/raw.bin && head -c 500000 /dev/urandom > data/raw.bin
echo "changed" > data/images/cats/cat7.txt.new && mv data/images/cats/cat7.txt.new data/images/cats/cat7.txt
rm data/images/cats/cat8.txt
echo "new" > data/images/cats/cat51.txt
out=$("$PLINTH" status)
expect 'echo "$out" | grep -q "modified      data/raw.bin"' "status: file modified"
expect 'echo "$out" | grep -q "modified  cats/cat7.txt"' "status: file in dir modified"
expect 'echo "$out" | grep -q "removed   cats/cat8.txt"' "status: file in dir removed"
expect 'echo "$out" | grep -q "added     cats/cat51.txt"' "status: file in dir added"
expect '"$PLINTH" add -q data/raw.bin data/images' "add v2"
git add -A && git commit -qm "v2"
cp data/raw.bin "$T/raw.v2"

# Back to v1: byte-identical data.
git checkout -q HEAD~1
expect '"$PLINTH" checkout -q' "checkout v1"
expect 'cmp -s data/raw.bin "$T/raw.v1"' "raw.bin v1 byte-identical"
mkdir -p "$T/v1" && tar -C "$T/v1" -xf "$T/images.v1.tar"
expect 'diff -r data/images "$T/v1/images" >/dev/null' "images v1 identical (no extra files)"
expect '"$PLINTH" status | grep -q "in sync"' "status clean at v1"
git checkout -q -
expect '"$PLINTH" checkout -q && cmp -s data/raw.bin "$T/raw.v2"' "back to v2"
expect 'cat "data/ünïcödé/naïve file.txt" | grep -q ñ' "unicode names"

# Symlinks: a link to a file is versioned as its content; a link to a directory is refused.
mkdir -p linked && echo "target text" > target.txt && ln -s "$PWD/target.txt" linked/to-file.txt
expect '"$PLINTH" add -q linked' "add dir with a file symlink"
ln -s "$PWD/data" linked/to-dir
fails 2 '"$PLINTH" add linked' "linked/to-dir: a symlink to a directory" "directory symlink refused"
rm linked/to-dir
expect '[ "$(stat -c %h target.txt)" = 1 ] && [ -w target.txt ]' "a symlink's target is copied, never hardlinked or made read-only"

# Default link order [reflink, copy]: the workspace file is a private, writable
# copy, never the cache object; add warns about nothing.
inode_of_object() { local h; h=$(grep hash "$1" | cut -d" " -f2); stat -c %i ".plinth/cache/sha256/${h:0:2}/${h:2}"; }
expect '[ "$(stat -c %i data/raw.bin)" != "$(inode_of_object data/raw.bin.plinth)" ] && [ "$(stat -c %h data/raw.bin)" = 1 ] && [ -w data/raw.bin ]' "default: the workspace file is a private copy"
expect '[ -z "$("$PLINTH" add -q data/raw.bin 2>&1)" ]' "default: add prints no warning"

# Checkout refuses to discard what no cached version holds (exit 2, a one-line
# error naming the files, nothing changed); --force discards it.
mkdir -p unsaved/dir && echo v1 > unsaved/f.txt && echo a > unsaved/dir/a.txt && "$PLINTH" add -q unsaved/f.txt unsaved/dir
git add -A && git commit -qm "unsaved v1"
echo "unsaved edit" >> unsaved/f.txt && echo "a new file, never added" > unsaved/dir/new.txt
fails 2 '"$PLINTH" checkout' "^plinth: error: checkout would overwrite or delete 2 file(s) whose content is in no cached version: unsaved/dir/new.txt, unsaved/f.txt; save them with plinth add, or pass --force to discard them$" "checkout refuses to lose an edit and a new file"
expect '[ "$(wc -l < "$T/fails.out")" = 1 ]' "the refusal is one line"
expect '[ "$(cat unsaved/f.txt)" = "$(printf "v1\nunsaved edit")" ] && [ -f unsaved/dir/new.txt ]' "refused checkout changed nothing"
fails 2 '"$PLINTH" checkout unsaved/dir' "in no cached version: unsaved/dir/new.txt;" "checkout of one path refuses too"
# new.txt goes into the directory's next version; f.txt gets another edit.
mv unsaved/f.txt unsaved/dir/new.txt && echo v1 > unsaved/f.txt && "$PLINTH" add -q unsaved/dir
echo "another edit" >> unsaved/f.txt
git add -A && git commit -qm "unsaved v2" && git checkout -q HEAD~1 -- unsaved/dir.plinth
fails 2 '"$PLINTH" checkout' " 1 file(s) whose content is in no cached version: unsaved/f.txt;" "a new file equal to a cached version is not unsaved"
expect '"$PLINTH" checkout -q --force && [ "$(cat unsaved/f.txt)" = v1 ] && [ ! -e unsaved/dir/new.txt ]' "checkout --force discards the edit and the new file"
git checkout -q HEAD -- unsaved/dir.plinth && "$PLINTH" checkout -q
expect '[ -f unsaved/dir/new.txt ] && "$PLINTH" status | grep -q "in sync"' "and back: in sync"

# Hardlinks, opt-in: the workspace file is the read-only object; add warns once.
HL="$T/hl" && mkdir -p "$HL" && cd "$HL" && "$PLINTH" init >/dev/null
sed -i 's/link: .*/link: [hardlink, copy]/' .plinth/config.yaml
mkdir -p old/dir && echo "old a" > old/a.txt && echo x > old/dir/x.txt && echo y > old/dir/y.txt
mkdir -p inplace && echo "version one" > inplace/f.txt && echo "version two" > inplace/g.txt
err=$("$PLINTH" add -q old/a.txt old/dir inplace/f.txt inplace/g.txt 2>&1 >/dev/null)
expect '[ "$(echo "$err" | wc -l)" = 1 ] && echo "$err" | grep -q "^plinth: warning: cache.link in .plinth/config.yaml allows hardlinks"' "hardlink opt-in: add warns once, in one line"
expect '[ "$(stat -c %i inplace/f.txt)" = "$(inode_of_object inplace/f.txt.plinth)" ] && [ "$(stat -c %a inplace/f.txt)" = 444 ]' "hardlink opt-in: the workspace file is the read-only object"
# Root ignores read-only: an in-place write damages the object; status says so
# and checkout refuses the damaged object rather than checking it out.
echo "appended in place" >> inplace/f.txt
out=$("$PLINTH" status 2>&1)
expect 'echo "$out" | grep -q "inplace/f.txt was written in place"' "status reports an in-place write through a hardlink"
rm inplace/f.txt
fails 2 '"$PLINTH" checkout inplace/f.txt' "cache object is damaged" "checkout refuses the damaged object"
h=$(grep hash inplace/f.txt.plinth | cut -d" " -f2)
rm -rf inplace/f.txt* ".plinth/cache/sha256/${h:0:2}/${h:2}"
# unprotect first, and the same edit is harmless.
expect '"$PLINTH" unprotect inplace/g.txt | grep -q "1 files made private"' "unprotect"
expect '[ "$(stat -c %h inplace/g.txt)" = 1 ] && [ -w inplace/g.txt ]' "unprotected file is private and writable"
expect '"$PLINTH" status | grep -q "in sync"' "unprotect changes no data"
echo "appended in place" >> inplace/g.txt
out=$("$PLINTH" status 2>&1)
expect 'echo "$out" | grep -q "modified      inplace/g.txt" && ! echo "$out" | grep -q "in place"' "edit after unprotect: modified, no damage"
expect '"$PLINTH" checkout -q --force inplace/g.txt && [ "$(cat inplace/g.txt)" = "version two" ]' "checkout --force restores the original"
# The list plinth init wrote while hardlinks were the default reads as [reflink,
# copy]: add and checkout turn the files still hardlinked into private copies,
# hashing nothing again; an in-place write then leaves every version intact.
sed -i 's/link: .*/link: [reflink, hardlink, copy]/' .plinth/config.yaml
expect '[ "$(stat -c %h old/a.txt)" = 2 ] && [ "$(stat -c %h old/dir/x.txt)" = 2 ]' "legacy: files hardlinked before"
out=$("$PLINTH" add old/a.txt 2>&1)
expect 'echo "$out" | grep -q "^0 files hashed" && ! echo "$out" | grep -q warning' "legacy: add hashes nothing again, warns about nothing"
expect '[ "$(stat -c %h old/a.txt)" = 1 ] && [ -w old/a.txt ]' "legacy: add made the file private"
expect '"$PLINTH" checkout -q && [ "$(stat -c %h old/dir/x.txt)" = 1 ] && [ "$(stat -c %h old/dir/y.txt)" = 1 ]' "legacy: checkout made the directory's files private"
echo "in place" >> old/a.txt && echo "in place" >> old/dir/x.txt
expect '"$PLINTH" checkout -q --force && [ "$(cat old/a.txt)" = "old a" ] && [ "$(cat old/dir/x.txt)" = x ]' "legacy: in-place writes after that damage nothing"
expect 'verify_cache .' "legacy: cache objects intact"
cd "$T/repo"

# Errors: one line, exit 2.
fails 2 '"$PLINTH" add nope' "^plinth: error: nope: no such file or directory$" "missing path"
fails 2 '(cd / && "$PLINTH" status)' "not inside a Plinth project" "outside a project"
printf 'path: raw.bin\nhash: xyz\n' > bad.plinth
fails 2 '"$PLINTH" status' "bad.plinth:2: key .hash.: expected 64 lowercase hex" "bad pointer file names line and key"
rm bad.plinth
expect 'verify_cache .' "cache objects intact"

# diff against a revision: files inside directories, with sizes.
git add -A && git commit -qm "v3 with links"
rm data/raw.bin && head -c 1234 /dev/urandom > data/raw.bin
echo "another" > data/images/cats/cat52.txt && rm data/images/cats/cat1.txt
"$PLINTH" add -q data/raw.bin data/images
out=$("$PLINTH" diff)
expect 'echo "$out" | grep -q "modified  data/raw.bin  (500.0 KB -> 1.2 KB)"' "diff: modified file with sizes"
expect 'echo "$out" | grep -q "added     data/images/cats/cat52.txt"' "diff: added file in a directory"
expect 'echo "$out" | grep -q "removed   data/images/cats/cat1.txt"' "diff: removed file in a directory"
fails 2 '"$PLINTH" diff nonsense-rev' "unknown git revision" "diff: unknown revision"
git add -A && git commit -qm "v4"

# Remotes: push only what is missing, pull into a fresh clone, verified on arrival.
expect '"$PLINTH" remote add store "$T/remote" >/dev/null' "remote add"
fails 2 '"$PLINTH" remote add bad relative/dir' "expected an absolute directory" "remote add: relative path refused"
git add -A && git commit -qm "remote"
out=$("$PLINTH" push)
expect 'echo "$out" | grep -Eq "pushed [1-9][0-9]* objects"' "push copies objects"
expect '"$PLINTH" push | grep -q "pushed 0 objects"' "second push copies nothing"
expect 'verify_cache_dir "$T/remote"' "remote objects intact, no temp files left on the remote"
git clone -q "$T/repo" "$T/clone"
expect '(cd "$T/clone" && "$PLINTH" status | grep -q "missing")' "fresh clone: data missing before pull"
expect '(cd "$T/clone" && "$PLINTH" pull -q)' "pull into the clone"
expect 'same_files "$T/clone/data" data' "pulled data identical (empty directories are not versioned)"
expect '(cd "$T/clone" && "$PLINTH" status | grep -q "in sync")' "clone in sync after pull"
# A damaged object on the remote is refused, never placed in the cache.
H=$(grep hash data/raw.bin.plinth | cut -d" " -f2)
chmod u+w "$T/remote/sha256/${H:0:2}/${H:2}" && echo damaged > "$T/remote/sha256/${H:0:2}/${H:2}"
rm -rf "$T/clone/.plinth/cache/sha256/${H:0:2}/${H:2}"
fails 2 '(cd "$T/clone" && "$PLINTH" pull)' "not to its name" "pull refuses a damaged remote object"
expect '[ ! -e "$T/clone/.plinth/cache/sha256/${H:0:2}/${H:2}" ]' "damaged object not stored"

# gc: workspace only vs all commits (history pushed first, so nothing is lost).
expect '"$PLINTH" push -q --all-commits' "push --all-commits"
before=$(find .plinth/cache/sha256 -type f | wc -l)
expect '"$PLINTH" gc --all-commits --dry | grep -q "would remove 0 objects"' "gc --all-commits keeps history"
out=$("$PLINTH" gc)
expect 'echo "$out" | grep -Eq "removed [1-9]"' "gc removes objects only old commits use"
expect '"$PLINTH" status | grep -q "in sync"' "workspace intact after gc"
git checkout -q HEAD~3 -- data/raw.bin.plinth   # the v2 pointer; the config stays current
fails 2 '"$PLINTH" checkout' "not in the cache" "old revision needs pull after gc"
expect '"$PLINTH" pull -q' "pull brings the old revision back"
expect 'cmp -s data/raw.bin "$T/raw.v2"' "old revision byte-identical after pull"
git checkout -q HEAD -- data/raw.bin.plinth && "$PLINTH" checkout -q

# A permission error (as an unprivileged user, since root ignores permissions):
# the cache's object directories belong to root; nobody may write the rest.
PERM=$(mktemp -d /tmp/plinth-perm-XXXXXX) && chmod 755 "$PERM"
(cd "$PERM" && "$PLINTH" init >/dev/null && mkdir -p .plinth/cache/sha256 && echo data > a.txt &&
  chmod 777 . .plinth && chmod 666 .plinth/plinth.db && chown nobody a.txt)
fails 2 '(cd "$PERM" && runuser -u nobody -- "$PLINTH" add a.txt)' "$PERM/.plinth/cache/sha256/00: Permission denied" "permission error names the path"
expect '[ -z "$(find "$PERM/.plinth/cache" -type f)" ] && [ ! -e "$PERM/a.txt.plinth" ]' "permission error: no object, no pointer written"
rm -rf "$PERM"

# A full disk: a 3 MB tmpfs (CI runs as root). The error names the path; the
# cache keeps no partial object and no temporary file.
FULL="$T/full"
mkdir -p "$FULL" && mount -t tmpfs -o size=3m tmpfs "$FULL"
# Copies need space (hardlinks do not), so this project copies.
(cd "$FULL" && "$PLINTH" init >/dev/null && sed -i 's/link: .*/link: [copy]/' .plinth/config.yaml && head -c 1200000 /dev/urandom > a.bin && head -c 1500000 /dev/urandom > b.bin)
fails 3 '(cd "$FULL" && "$PLINTH" add a.bin b.bin)' "$FULL/.plinth/cache.*No space left on device (disk full)" "full disk: error names the path"
expect 'verify_cache "$FULL"' "full disk: cache consistent, no temp files"
umount "$FULL"

# Crash tests: kill -9 during add at random moments, then re-run.
mkdir -p "$T/crash" && cd "$T/crash"
for seed in 1 2 3 4 5; do
  rm -rf p && mkdir p && cd p && "$PLINTH" init >/dev/null
  mkdir many && for i in $(seq 1 400); do head -c $((RANDOM % 20000 + 1)) /dev/urandom > "many/f$i.bin"; done
  head -c 20000000 /dev/urandom > big.bin
  RANDOM=$seed
  delay=$(printf '0.%03d' $((RANDOM % 300)))
  "$PLINTH" add -q big.bin many >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  expect 'verify_cache . crashed' "seed $seed: cache intact after kill -9 at ${delay}s"
  expect '"$PLINTH" add -q big.bin many' "seed $seed: re-run add finishes"
  expect '"$PLINTH" status | grep -q "in sync"' "seed $seed: in sync after re-run"
  cp -r many "$T/many.copy" && rm -rf many big.bin.copy && cp big.bin "$T/big.copy" && rm big.bin
  expect '"$PLINTH" checkout -q && diff -r many "$T/many.copy" >/dev/null && cmp -s big.bin "$T/big.copy"' "seed $seed: checkout restores"
  expect 'verify_cache . crashed' "seed $seed: cache intact at the end"
  rm -rf "$T/many.copy" "$T/big.copy"
  cd ..
done

# Crash tests for push and pull: kill -9 mid-transfer, re-run, verify both sides.
cd "$T/crash" && rm -rf src && mkdir src && cd src && git init -q && git config user.email t@t && git config user.name t
"$PLINTH" init >/dev/null
mkdir many && for i in $(seq 1 600); do head -c $((RANDOM % 30000 + 1)) /dev/urandom > "many/f$i.bin"; done
head -c 30000000 /dev/urandom > big.bin
"$PLINTH" add -q many big.bin
git add -A && git commit -qm data
for seed in 1 2 3; do
  rm -rf "$T/crash/remote$seed"
  "$PLINTH" remote add "r$seed" "$T/crash/remote$seed" -d >/dev/null
  RANDOM=$seed
  delay=$(printf '0.%03d' $((RANDOM % 200)))
  "$PLINTH" push -q >/dev/null 2>&1 &
  pid=$!; sleep "$delay"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  expect 'verify_cache_dir "$T/crash/remote$seed" crashed' "push seed $seed: remote intact after kill -9 at ${delay}s"
  expect '"$PLINTH" push -q' "push seed $seed: re-run finishes"
  expect 'verify_cache_dir "$T/crash/remote$seed" crashed && [ "$(find "$T/crash/remote$seed/sha256" -type f ! -name ".*" | wc -l)" -eq 602 ]' "push seed $seed: every object there"
  git add -A && git commit -qm "remote $seed"
  rm -rf "$T/crash/clone$seed" && git clone -q . "$T/crash/clone$seed"
  (cd "$T/crash/clone$seed" && { "$PLINTH" pull -q >/dev/null 2>&1 & pid=$!; sleep "$delay"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; })
  expect 'verify_cache "$T/crash/clone$seed" crashed' "pull seed $seed: clone cache intact after kill -9"
  expect '(cd "$T/crash/clone$seed" && "$PLINTH" pull -q)' "pull seed $seed: re-run finishes"
  expect 'same_files "$T/crash/clone$seed/many" many && cmp -s "$T/crash/clone$seed/big.bin" big.bin' "pull seed $seed: data identical"
done

finish
