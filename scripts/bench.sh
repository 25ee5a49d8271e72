#!/usr/bin/env bash
# `make bench`: the same workloads on every target in one invocation, with ratios, because these machines are
# noisy and only same-run comparisons mean anything. Higher is better for every figure printed.
#
# Targets: tmpfs (the ceiling), bindfs over tmpfs (a C FUSE filesystem, libfuse), proxyfs on memory:// (the
# FUSE layer and filesystem without storage), proxyfs-file (a file:// volume whose store is on tmpfs) and
# proxyfs-s3 (a volume on the local radosgw, started here). Every proxyfs target is compared with tmpfs and bindfs;
# proxyfs-s3's sequential write also with the server's raw PUT throughput, measured in the same run.
#
# Environment: BENCH_SEQ_MB (default 1024), BENCH_FILES (10000), BENCH_RAND_SECONDS (15), BENCH_ONLY (a
# space-separated subset of: seqwrite seqread smallfiles tar randwrite randread), BENCH_TARGETS (subset of targets),
# BENCH_WARMUP (1: before measuring, every target — baselines too — runs a small round of creates, a 64 MiB write and
# its read, so that a freshly started daemon is measured in its steady state, as a long-running one is used; 0: none).
set -euo pipefail
cd "$(dirname "$0")/.."

SEQ_MB=${BENCH_SEQ_MB:-1024}
FILES=${BENCH_FILES:-10000}
RAND_SECONDS=${BENCH_RAND_SECONDS:-15}
WARMUP=${BENCH_WARMUP:-1}
ONLY=${BENCH_ONLY:-"seqwrite seqread smallfiles tar randwrite randread"}
TARGETS=${BENCH_TARGETS:-"tmpfs bindfs proxyfs proxyfs-file proxyfs-s3"}
PROXYFS=${PROXYFS:-bin/proxyfs}

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (mounts tmpfs and drops caches)" >&2; exit 1; }
for tool in fio bindfs gcc tar curl; do command -v $tool >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 1; }; done
[ -x "$PROXYFS" ] || { echo "bench: $PROXYFS is missing (make build)" >&2; exit 1; }

work=$(mktemp -d /tmp/pfs-bench-XXXXXX)
declare -A DIR
cleanup() {
  set +e
  for m in "$work/bindfs" "$work/proxyfs-memory" "$work/proxyfs-file" "$work/proxyfs-s3"; do
    if mountpoint -q "$m"; then
      case "$m" in *proxyfs*) timeout 60 "$PROXYFS" unmount "$m" >/dev/null 2>&1 || umount -l "$m";; *) fusermount -u "$m" 2>/dev/null || umount -l "$m";; esac
    fi
  done
  [ -d "$work/rgw" ] && bash scripts/s3/radosgw.sh stop "$work/rgw" >/dev/null 2>&1
  for m in "$work/tmpfs" "$work/bindfs-src" "$work/data"; do mountpoint -q "$m" && umount -l "$m"; done
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work"/{tmpfs,bindfs-src,bindfs,proxyfs-memory,proxyfs-file,proxyfs-s3,data}
mount -t tmpfs -o size=12g tmpfs "$work/data"

setup_target() {
  case "$1" in
    tmpfs)
      mount -t tmpfs -o size=4g tmpfs "$work/tmpfs"; DIR[tmpfs]=$work/tmpfs ;;
    bindfs)
      mount -t tmpfs -o size=4g tmpfs "$work/bindfs-src"
      bindfs -o big_writes "$work/bindfs-src" "$work/bindfs"; DIR[bindfs]=$work/bindfs ;;
    proxyfs)
      "$PROXYFS" mount memory:// "$work/proxyfs-memory" >/dev/null; DIR[proxyfs]=$work/proxyfs-memory ;;
    proxyfs-file)
      "$PROXYFS" format "file://$work/data/store" >/dev/null
      "$PROXYFS" mount "file://$work/data/store" "$work/proxyfs-file" >/dev/null; DIR[proxyfs-file]=$work/proxyfs-file ;;
    proxyfs-s3)
      eval "$(bash scripts/s3/radosgw.sh start "$work/rgw")"
      local uri="s3://$S3_BUCKET/bench?endpoint=$S3_ENDPOINT&region=$AWS_REGION"
      "$PROXYFS" format "$uri" >/dev/null
      "$PROXYFS" mount "$uri" "$work/proxyfs-s3" >/dev/null; DIR[proxyfs-s3]=$work/proxyfs-s3 ;;
    *) echo "bench: unknown target $1" >&2; exit 1 ;;
  esac
}

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# The smallfiles workload and the tar tree are built once.
gcc -O2 -o "$work/smallfiles" scripts/bench/smallfiles.c
make_tree() {
  local root=$work/data/tree
  mkdir -p "$root"
  # 10,000+ files in nested directories, sizes 0..16 KiB, deterministic.
  awk -v files="$FILES" -v root="$root" 'BEGIN {
    srand(42);
    for (i = 0; i < files; i++) {
      d = sprintf("%s/a%02d/b%02d", root, i % 37, i % 11);
      if (!(d in made)) { system("mkdir -p " d); made[d] = 1 }
      printf "%s/f%05d %d\n", d, i, int(rand() * 16384);
    }
  }' | while read -r f size; do head -c "$size" /dev/urandom > "$f"; done
  tar cf "$work/data/tree.tar" -C "$work/data" tree
  rm -rf "$root"
}

declare -A RESULT
record() { RESULT["$1|$2"]=$3; }

# The S3 server's own PUT throughput, measured just before proxyfs-s3's sequential write in the same run: curl
# putting 10 MiB objects (the size of a full log segment) over 4 connections (the segment writer's uploads in
# flight), as many bytes as the write. proxyfs on s3:// cannot write faster than this.
RAW_PUT=""
raw_put() {
  local mb=$1 objects i
  objects=$(( (mb + 9) / 10 ))
  head -c $((10 << 20)) /dev/urandom > "$work/data/object"
  s3put() {
    curl -sS -f --aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
      -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$work/data/object" "$S3_ENDPOINT/$S3_BUCKET/raw-put/$1" -o /dev/null
  }
  export -f s3put; export work AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY S3_ENDPOINT S3_BUCKET
  local start end
  start=$(date +%s.%N)
  seq 1 "$objects" | xargs -P 4 -I{} bash -c 's3put {}'
  end=$(date +%s.%N)
  RAW_PUT=$(awk -v s="$start" -v e="$end" -v n="$objects" 'BEGIN{printf "%.0f", n*10/(e-s)}')
  seq 1 "$objects" | xargs -P 4 -I{} curl -sS --aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X DELETE "$S3_ENDPOINT/$S3_BUCKET/raw-put/{}" -o /dev/null
  rm -f "$work/data/object"
}

fio_run() { # target dir name rw bs size extra...
  local dir=$1 rw=$2 bs=$3 size=$4; shift 4
  fio --name=bench --directory="$dir" --rw="$rw" --bs="$bs" --size="$size" --ioengine=psync --minimal "$@" 2>/dev/null
}

run_workloads() {
  local t=$1 dir=${DIR[$1]}
  for w in $ONLY; do
    case $w in
      seqwrite)
        [ "$t" = proxyfs-s3 ] && raw_put "$SEQ_MB"
        line=$(fio_run "$dir" write 1M "${SEQ_MB}M" --end_fsync=1)
        record "$t" "seq write MiB/s" "$(awk -F';' '{printf "%.0f", $48/1024}' <<<"$line")" ;;
      seqread)
        [ -f "$dir/bench.0.0" ] || fio_run "$dir" write 1M "${SEQ_MB}M" --end_fsync=1 >/dev/null
        drop_caches
        line=$(fio_run "$dir" read 1M "${SEQ_MB}M")
        record "$t" "seq read MiB/s" "$(awk -F';' '{printf "%.0f", $7/1024}' <<<"$line")"
        rm -f "$dir"/bench.* ;;
      smallfiles)
        mkdir -p "$dir/sf"
        out=$("$work/smallfiles" "$dir/sf" "$FILES" 100 4096)
        rmdir "$dir/sf"
        record "$t" "create files/s" "$(awk '$1=="create"{print $4}' <<<"$out")"
        record "$t" "stat files/s" "$(awk '$1=="stat"{print $4}' <<<"$out")"
        record "$t" "remove files/s" "$(awk '$1=="remove"{print $4}' <<<"$out")" ;;
      tar)
        [ -f "$work/data/tree.tar" ] || make_tree
        drop_caches
        mkdir -p "$dir/untar"
        start=$(date +%s.%N)
        tar xf "$work/data/tree.tar" -C "$dir/untar"
        sync -f "$dir/untar"
        end=$(date +%s.%N)
        record "$t" "tar xf files/s" "$(awk -v s="$start" -v e="$end" -v n="$FILES" 'BEGIN{printf "%.0f", n/(e-s)}')"
        rm -rf "$dir/untar" ;;
      randwrite)
        line=$(fio_run "$dir" randwrite 4k 256M --runtime="$RAND_SECONDS" --time_based)
        record "$t" "rand write 4k IOPS" "$(awk -F';' '{printf "%.0f", $49}' <<<"$line")" ;;
      randread)
        [ -f "$dir/bench.0.0" ] || fio_run "$dir" write 1M 256M >/dev/null
        drop_caches
        line=$(fio_run "$dir" randread 4k 256M --runtime="$RAND_SECONDS" --time_based)
        record "$t" "rand read 4k IOPS" "$(awk -F';' '{printf "%.0f", $8}' <<<"$line")"
        rm -f "$dir"/bench.* ;;
      *) echo "bench: unknown workload $w" >&2; exit 1 ;;
    esac
  done
}

# The same small round on every target before its measured workloads (see BENCH_WARMUP above).
warm_up() {
  local dir=${DIR[$1]}
  mkdir -p "$dir/warmup"
  "$work/smallfiles" "$dir/warmup" 2000 20 4096 >/dev/null
  fio_run "$dir/warmup" write 1M 64M --end_fsync=1 >/dev/null
  fio_run "$dir/warmup" read 1M 64M >/dev/null
  rm -rf "$dir/warmup"
}

for t in $TARGETS; do
  setup_target "$t"
  if [ "$WARMUP" = 1 ]; then
    echo "bench: warming up $t" >&2
    warm_up "$t"
  fi
  echo "bench: running on $t (${DIR[$t]})" >&2
  run_workloads "$t"
done

metrics=("seq write MiB/s" "seq read MiB/s" "create files/s" "stat files/s" "remove files/s" "tar xf files/s" "rand write 4k IOPS" "rand read 4k IOPS")
is_proxyfs() { [[ "$1" == proxyfs* ]]; }
baselines=(); for t in $TARGETS; do is_proxyfs "$t" || baselines+=("$t"); done
printf '\n%-22s' "workload"; for t in $TARGETS; do printf '%14s' "$t"; done
for p in $TARGETS; do is_proxyfs "$p" || continue; for b in "${baselines[@]}"; do printf '%22s' "$p/$b"; done; done
printf '\n'
for m in "${metrics[@]}"; do
  [ -n "${RESULT["$(awk '{print $1}' <<<"$TARGETS")|$m"]:-}" ] || continue
  printf '%-22s' "$m"
  for t in $TARGETS; do printf '%14s' "${RESULT["$t|$m"]:--}"; done
  for p in $TARGETS; do
    is_proxyfs "$p" || continue
    for b in "${baselines[@]}"; do
      a=${RESULT["$p|$m"]:-0}; c=${RESULT["$b|$m"]:-0}
      printf '%22s' "$(awk -v a="$a" -v b="$c" 'BEGIN{ if (b > 0) printf "%.2fx", a/b; else print "-" }')"
    done
  done
  printf '\n'
done
if [ -n "$RAW_PUT" ] && [ -n "${RESULT["proxyfs-s3|seq write MiB/s"]:-}" ]; then
  printf '\ns3 server raw PUT (curl, 10 MiB objects, 4 at a time): %s MiB/s; proxyfs-s3 seq write / raw PUT: %s\n' "$RAW_PUT" \
    "$(awk -v a="${RESULT["proxyfs-s3|seq write MiB/s"]}" -v b="$RAW_PUT" 'BEGIN{ if (b > 0) printf "%.2fx", a/b; else print "-" }')"
fi
