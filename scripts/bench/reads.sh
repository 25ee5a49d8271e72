#!/usr/bin/env bash
# `make bench-reads`: the read path's acceptance figures, each against a baseline measured in the same run (these
# machines are noisy; only same-run ratios mean anything). Higher is better for every figure.
#
#   cold seq read   a BENCH_READ_MB file on an s3:// volume (local radosgw) vs a raw 4-stream GET (curl, SigV4) of
#                   the volume's data segments — the same bytes — in the same run (goal ≥ 0.90). Two rows: a fresh
#                   daemon (its start-up included: code the runtime recompiles, new cache memory to back), and the
#                   same daemon reading a second file of the same size next (data it does not hold, lines recycled)
#   warm seq read   the same file again (kernel page cache dropped, proxyfs's read cache warm) vs bindfs on tmpfs
#   warm rand read  4 KiB random reads of a 256 MiB file, warm, vs bindfs on tmpfs (fio, BENCH_RAND_SECONDS)
#   weights 3:1     two volumes of one configuration, served by one daemon (mount --all), weighted 3:1 under the
#                   same read load (each reads twice its share): cache occupancy ratio (goal 3 ± 10%)
#   RSS             daemon peak RSS (VmHWM) while a BENCH_RSS_MB file on a file:// volume is read with a 256 MiB
#                   cache budget, vs budget + 150 MiB (goal under)
#
# Environment: BENCH_READ_MB (1024), BENCH_RSS_MB (10240), BENCH_RAND_SECONDS (10), BENCH_ROUNDS (2),
# BENCH_READS_ONLY (subset of: cold warm rand weights rss). Needs root, fio, bindfs, curl (SigV4), jq, Ceph.
set -euo pipefail
cd "$(dirname "$0")/../.."

READ_MB=${BENCH_READ_MB:-1024}
RSS_MB=${BENCH_RSS_MB:-10240}
RAND_SECONDS=${BENCH_RAND_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
ONLY=${BENCH_READS_ONLY:-"cold warm rand weights rss"}
PROXYFS=${PROXYFS:-$PWD/bin/proxyfs}

[ "$(id -u)" -eq 0 ] || { echo "bench-reads: run as root (mounts tmpfs and drops caches)" >&2; exit 1; }
for tool in fio bindfs curl jq; do command -v $tool >/dev/null || { echo "bench-reads: $tool is missing (make deps)" >&2; exit 1; }; done
[ -x "$PROXYFS" ] || { echo "bench-reads: $PROXYFS is missing (make build)" >&2; exit 1; }
wants() { [[ " $ONLY " == *" $1 "* ]]; }

work=$(mktemp -d /tmp/pfs-bench-reads-XXXXXX)
mounts=()
cleanup() {
  set +e
  for m in "${mounts[@]}"; do
    if mountpoint -q "$m"; then
      case "$m" in *bindfs*) fusermount -u "$m" 2>/dev/null || umount -l "$m";; *) timeout 60 "$PROXYFS" unmount "$m" >/dev/null 2>&1 || umount -l "$m";; esac
    fi
  done
  [ -d "$work/rgw" ] && bash scripts/s3/radosgw.sh stop "$work/rgw" >/dev/null 2>&1
  for m in "$work/tmpfs" "$work/data"; do mountpoint -q "$m" && umount -l "$m"; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work"/{tmpfs,bindfs,s3,v1,v2,rss,data,disk}
mount -t tmpfs -o size=3g tmpfs "$work/tmpfs"
mount -t tmpfs -o size=3g tmpfs "$work/data"
bindfs -o big_writes "$work/tmpfs" "$work/bindfs"; mounts+=("$work/bindfs")

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
mbps() { awk -v b="$1" -v s="$2" -v e="$3" 'BEGIN { printf "%.0f", b / (e - s) / 1048576 }'; }
now() { date +%s.%N; }
seq_read() { # file -> MiB/s
  local s e; drop_caches; s=$(now); dd if="$1" of=/dev/null bs=1M status=none; e=$(now); mbps "$(stat -c %s "$1")" "$s" "$e"
}
mean() { awk '{ for (i = 1; i <= NF; i++) s += $i; printf "%.0f", s / NF }' <<<"$*"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
declare -a ROWS
row() { ROWS+=("$(printf '%-34s %12s %12s %8s  %s' "$@")"); }

s3curl() { curl -sf -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$@"; }
s3list() { # prefix -> keys
  local after="" out keys
  while :; do
    out=$(s3curl "$S3_ENDPOINT/$S3_BUCKET?list-type=2&max-keys=1000&prefix=$(jq -rn --arg p "$1" '$p|@uri')${after:+&start-after=$(jq -rn --arg p "$after" '$p|@uri')}")
    keys=$(grep -o '<Key>[^<]*</Key>' <<<"$out" | sed 's/<[^>]*>//g' || true)
    [ -n "$keys" ] && echo "$keys"
    grep -q '<IsTruncated>true' <<<"$out" || break
    after=$(tail -1 <<<"$keys")
  done
}
raw_get() { # prefix -> MiB/s of a 4-stream GET of every object under it
  local s e bytes
  export -f s3curl; export AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY S3_ENDPOINT S3_BUCKET
  s3list "$1" > "$work/keys"
  s=$(now)
  bytes=$(xargs -P4 -I{} bash -c 's3curl -o /dev/null -w "%{size_download}\n" "$S3_ENDPOINT/$S3_BUCKET/{}"' < "$work/keys" | awk '{ b += $1 } END { print b }')
  e=$(now)
  mbps "$bytes" "$s" "$e"
}

if wants cold || wants warm || wants rand; then
  eval "$(bash scripts/s3/radosgw.sh start "$work/rgw")"
  uri="s3://$S3_BUCKET/reads?endpoint=$S3_ENDPOINT&region=$AWS_REGION"
  "$PROXYFS" format "$uri" >/dev/null
  "$PROXYFS" mount "$uri" "$work/s3" >/dev/null; mounts+=("$work/s3")
  head -c "${READ_MB}M" /dev/urandom > "$work/data/file"
  cp "$work/data/file" "$work/s3/file"; cp "$work/data/file" "$work/bindfs/file"
  if wants cold; then head -c "${READ_MB}M" /dev/urandom > "$work/s3/file2"; fi
  head -c 256M /dev/urandom > "$work/data/rand"
  cp "$work/data/rand" "$work/s3/rand"; cp "$work/data/rand" "$work/bindfs/rand"
  sync -f "$work/s3/file"; "$PROXYFS" unmount "$work/s3" >/dev/null
  rm -f "$work/data/file" "$work/data/rand"

  if wants cold; then
    ours=(); nexts=(); raws=()
    for r in $(seq 1 "$ROUNDS"); do
      raws+=("$(raw_get reads/segments/)")
      "$PROXYFS" mount "$uri" "$work/s3" >/dev/null   # a fresh daemon: its read cache is empty
      ours+=("$(seq_read "$work/s3/file")")
      nexts+=("$(seq_read "$work/s3/file2")")         # the same daemon, data it does not hold
      "$PROXYFS" unmount "$work/s3" >/dev/null
    done
    row "cold seq read ${READ_MB} MiB, s3:// (MiB/s)" "$(mean "${ours[@]}")" "$(mean "${raws[@]}")" "$(ratio "$(mean "${ours[@]}")" "$(mean "${raws[@]}")")" "fresh daemon vs raw 4-stream GET; rounds: proxyfs ${ours[*]}, raw ${raws[*]}"
    row "cold seq read ${READ_MB} MiB, next file" "$(mean "${nexts[@]}")" "$(mean "${raws[@]}")" "$(ratio "$(mean "${nexts[@]}")" "$(mean "${raws[@]}")")" "warm daemon, data not cached; rounds: proxyfs ${nexts[*]}"
  fi
  "$PROXYFS" mount "$uri" "$work/s3" -o "cache_size=$(( READ_MB + 512 ))MiB" >/dev/null
  cat "$work/s3/file" "$work/s3/rand" > /dev/null   # warms the read cache
  if wants warm; then
    ours=(); theirs=()
    for r in $(seq 1 $(( ROUNDS + 1 ))); do
      ours+=("$(seq_read "$work/s3/file")"); theirs+=("$(seq_read "$work/bindfs/file")")
    done
    row "warm seq read ${READ_MB} MiB (MiB/s)" "$(mean "${ours[@]}")" "$(mean "${theirs[@]}")" "$(ratio "$(mean "${ours[@]}")" "$(mean "${theirs[@]}")")" "vs bindfs on tmpfs; rounds: proxyfs ${ours[*]}, bindfs ${theirs[*]}"
  fi
  if wants rand; then
    randread() { drop_caches; fio --name=r --filename="$1" --rw=randread --bs=4k --size=256M --runtime="$RAND_SECONDS" --time_based --ioengine=psync --minimal 2>/dev/null | awk -F';' '{ print $8 }'; }
    ours=(); theirs=()
    for r in $(seq 1 "$ROUNDS"); do
      ours+=("$(randread "$work/s3/rand")"); theirs+=("$(randread "$work/bindfs/rand")")
    done
    row "warm rand read 4 KiB (IOPS)" "$(mean "${ours[@]}")" "$(mean "${theirs[@]}")" "$(ratio "$(mean "${ours[@]}")" "$(mean "${theirs[@]}")")" "vs bindfs on tmpfs; rounds: proxyfs ${ours[*]}, bindfs ${theirs[*]}"
  fi
  "$PROXYFS" status "$work/s3" | sed -n '/read cache/,/store/p' >&2
  "$PROXYFS" unmount "$work/s3" >/dev/null
fi

if wants weights; then
  # Two volumes of one configuration, weights 3:1, a 256 MiB budget; each reads a file of twice its share.
  for v in v1 v2; do "$PROXYFS" format "file://$work/data/$v" >/dev/null; done
  cat > "$work/proxyfs.yaml" <<EOF
read_cache:
  size: 256MiB
volumes:
  - name: heavy
    uri: file://$work/data/v1
    mount_point: $work/v1
    read_cache_weight: 3
  - name: light
    uri: file://$work/data/v2
    mount_point: $work/v2
    read_cache_weight: 1
EOF
  # One daemon serves both (mount --all) with one 256 MiB cache split by weight.
  "$PROXYFS" mount --all --config "$work/proxyfs.yaml" >/dev/null; mounts+=("$work/v1" "$work/v2")
  head -c 384M /dev/urandom > "$work/v1/file"; head -c 128M /dev/urandom > "$work/v2/file"
  sync -f "$work/v1/file"; sync -f "$work/v2/file"
  for r in 1 2; do drop_caches; cat "$work/v1/file" > /dev/null & cat "$work/v2/file" > /dev/null & wait; done
  used() { "$PROXYFS" status "$1" --json | jq '.cache.usedBytes'; }
  u1=$(used "$work/v1"); u2=$(used "$work/v2")
  row "cache occupancy heavy:light (3:1)" "$(( u1 >> 20 )) MiB" "$(( u2 >> 20 )) MiB" "$(ratio "$u1" "$u2")" "goal 3.00 ± 10%"
  "$PROXYFS" unmount "$work/v1" >/dev/null; "$PROXYFS" unmount "$work/v2" >/dev/null
fi

if wants rss; then
  # A file:// volume on disk (not tmpfs: the file is larger than memory should hold), 256 MiB of read cache.
  "$PROXYFS" format "file://$work/disk/store" >/dev/null
  "$PROXYFS" mount "file://$work/disk/store" "$work/rss" -o cache_size=256MiB >/dev/null; mounts+=("$work/rss")
  dd if=/dev/urandom of="$work/rss/big" bs=1M count="$RSS_MB" status=none
  sync -f "$work/rss/big"
  # A fresh daemon for the read workload alone (the write path's memory is not the read cache's).
  "$PROXYFS" unmount "$work/rss" >/dev/null
  "$PROXYFS" mount "file://$work/disk/store" "$work/rss" -o cache_size=256MiB >/dev/null
  pid=$("$PROXYFS" status "$work/rss" --json | jq '.pid')
  drop_caches
  s=$(now); dd if="$work/rss/big" of=/dev/null bs=1M status=none; e=$(now)
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status"); rss=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
  limit=$(( (256 + 150) * 1024 ))
  row "daemon RSS, ${RSS_MB} MiB read (MiB)" "$(( hwm / 1024 ))" "$(( limit / 1024 ))" "$(ratio "$hwm" "$limit")" "peak vs 256 MiB budget + 150 MiB (now $(( rss / 1024 )) MiB; read at $(mbps $(( RSS_MB << 20 )) "$s" "$e") MiB/s)"
  "$PROXYFS" unmount "$work/rss" >/dev/null
fi

printf '\n%-34s %12s %12s %8s  %s\n' "reads" "proxyfs" "baseline" "ratio" "baseline and rounds"
printf '%s\n' "${ROWS[@]}"
