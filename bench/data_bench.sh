#!/usr/bin/env bash
# Data versioning side by side with the tools that bound it, on the same data in
# the same run (hot page cache; medians of REPEAT runs):
#   one 2 GB file: plinth add (default link order: copies) vs cp (and cp + sync), openssl dgst
#     -sha256, md5sum (DVC's hash); and plinth add with opt-in hardlinks
#   100k small files: plinth add (copies) vs cp -r and vs hashing them one by
#     one on one core; and plinth add with opt-in hardlinks
#   plinth status after changing one of the 100k files
#   plinth push / pull of the 100k files to a directory remote vs cp -r
# Usage: bench/data_bench.sh PLINTH [REPEAT]
set -euo pipefail
PLINTH=$(realpath "$1")
REPEAT=${2:-3}
OUT=$(cd "$(dirname "$0")" && pwd)/out/data
mkdir -p "$OUT"
# The machines here run an ext4 without a journal, where creating files right
# after deleting many becomes slow for minutes (the kernel skips "recently
# deleted" inodes; seen: cp -r of 100k files 2.9 s, then 60 s). So, as root, the
# benchmark runs on a fresh, journaled ext4 (mkfs defaults, as on a workstation)
# in a loop-mounted image, the same for every tool measured.
if [ "$(id -u)" = 0 ] && [ -z "${PLINTH_BENCH_NO_LOOP:-}" ]; then
  IMG=$(dirname "$OUT")/data-fs.img
  MNT=$(dirname "$OUT")/data-fs
  mkdir -p "$MNT"
  if ! mountpoint -q "$MNT"; then
    rm -f "$IMG" && truncate -s 12G "$IMG" && mkfs.ext4 -q -F "$IMG"
    mount -o loop "$IMG" "$MNT"
  fi
  trap 'cd /; umount "$MNT"; rm -f "$IMG"' EXIT
  OUT=$MNT
fi
cd "$OUT"

t() {  # seconds of one run of "$@" (dirty pages written out first)
  local s e
  sync
  s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
  echo "$e - $s" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
fresh() { rm -rf proj && mkdir proj && (cd proj && "$PLINTH" init >/dev/null); }
fresh_hardlink() { fresh && sed -i 's/link: .*/link: [hardlink, copy]/' proj/.plinth/config.yaml; }

if [ ! -f big.bin ]; then
  echo "generating big.bin (2 GiB)..." >&2
  head -c 2147483648 /dev/urandom > big.bin
fi
if [ ! -d small ]; then
  echo "generating small/ (100,000 files)..." >&2
  /usr/bin/python3 - <<'PY'
import os, random
random.seed(42)
for d in range(100):
    os.makedirs(f"small/d{d:03d}", exist_ok=True)
    for f in range(1000):
        with open(f"small/d{d:03d}/f{f:04d}.bin", "wb") as fh:
            fh.write(os.urandom(random.randint(100, 4000)))
PY
fi
cat big.bin > /dev/null
find small -type f -print0 | xargs -0 cat > /dev/null

declare -A R
for i in $(seq "$REPEAT"); do
  R[openssl]+="$(t openssl dgst -sha256 big.bin) "
  R[md5sum]+="$(t md5sum big.bin) "
  R[cp]+="$(t cp big.bin big.copy) "; rm -f big.copy
  # plinth add syncs the filesystem before it writes the pointer: the same durability.
  R[cp_sync]+="$(t sh -c 'cp big.bin big.copy && sync -f big.copy') "; rm -f big.copy
  fresh; cp big.bin proj/big.bin
  R[add_big]+="$(cd proj && t "$PLINTH" add -q big.bin) "
  fresh_hardlink; cp big.bin proj/big.bin
  R[add_big_hardlink]+="$(cd proj && t "$PLINTH" add -q big.bin) "
  rm -rf proj
  R[hash_small_1core]+="$(t sh -c 'find small -type f -print0 | xargs -0 openssl dgst -sha256') "
  fresh_hardlink; cp -r small proj/small
  R[add_small_hardlink]+="$(cd proj && t "$PLINTH" add -q small) "
  fresh; cp -r small proj/small
  R[add_small]+="$(cd proj && t "$PLINTH" add -q small) "
  echo "changed $i" > proj/small/d050/f0500.bin.new && mv proj/small/d050/f0500.bin.new proj/small/d050/f0500.bin
  R[status_one_change]+="$(cd proj && t "$PLINTH" status) "
  R[cp_r]+="$(t cp -r small small.copy) "; rm -rf small.copy
  R[cp_r_sync]+="$(t sh -c 'cp -r small small.copy && sync -f small.copy') "; rm -rf small.copy
  (cd proj && "$PLINTH" add -q small && "$PLINTH" remote add r "$OUT/remote" >/dev/null)
  rm -rf remote
  R[push_small]+="$(cd proj && t "$PLINTH" push -q) "
  rm -rf clone && mkdir clone && cp -r proj/.plinth clone/ && rm -rf clone/.plinth/cache clone/.plinth/plinth.db && cp proj/small.plinth clone/
  R[pull_small]+="$(cd clone && t "$PLINTH" pull -q) "
  rm -rf clone remote proj
done

m() { echo "${R[$1]}" | tr ' ' '\n' | grep -v '^$' | median; }
ratio() { echo "scale=2; $(m "$1") / $(m "$2")" | bc; }
printf '| measurement | seconds | vs baseline |\n|---|---:|---|\n'
printf '| cp, 2 GiB | %.2f | baseline |\n' "$(m cp)"
printf '| **plinth add, 2 GiB file** (default: copy) | %.2f | **%sx cp** (target <= 1.2x) |\n' "$(m add_big)" "$(ratio add_big cp)"
printf '| cp + sync, 2 GiB (the durability plinth add gives) | %.2f | %sx cp |\n' "$(m cp_sync)" "$(ratio cp_sync cp)"
printf '| plinth add, 2 GiB file, against cp + sync | | %sx |\n' "$(ratio add_big cp_sync)"
printf '| plinth add, 2 GiB file, opt-in hardlinks | %.2f | %sx cp |\n' "$(m add_big_hardlink)" "$(ratio add_big_hardlink cp)"
printf '| openssl dgst -sha256, 2 GiB | %.2f | %sx cp |\n' "$(m openssl)" "$(ratio openssl cp)"
printf '| md5sum, 2 GiB (DVC hashes with MD5) | %.2f | %sx cp |\n' "$(m md5sum)" "$(ratio md5sum cp)"
printf '| cp -r, 100k files | %.2f | baseline |\n' "$(m cp_r)"
printf '| **plinth add, 100k files** (default: copy) | %.2f | **%sx cp -r** (target <= 1.5x) |\n' "$(m add_small)" "$(ratio add_small cp_r)"
printf '| cp -r + sync, 100k files | %.2f | %sx cp -r |\n' "$(m cp_r_sync)" "$(ratio cp_r_sync cp_r)"
printf '| plinth add, 100k files, against cp -r + sync | | %sx |\n' "$(ratio add_small cp_r_sync)"
printf '| plinth add, 100k files, opt-in hardlinks | %.2f | %sx cp -r |\n' "$(m add_small_hardlink)" "$(ratio add_small_hardlink cp_r)"
printf '| openssl dgst file by file, one core, 100k files | %.2f | %sx cp -r |\n' "$(m hash_small_1core)" "$(ratio hash_small_1core cp_r)"
printf '| **plinth status after one change, 100k files** | %.2f | target < 1 s |\n' "$(m status_one_change)"
printf '| **plinth push, 100k files** | %.2f | **%sx cp -r** (target <= 2x) |\n' "$(m push_small)" "$(ratio push_small cp_r)"
printf '| **plinth pull, 100k files** | %.2f | **%sx cp -r** (target <= 2x) |\n' "$(m pull_small)" "$(ratio pull_small cp_r)"
