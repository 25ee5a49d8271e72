#!/usr/bin/env bash
# `make bench-fsync`: latency of write(4 KiB) + fsync, repeated, on each target in one invocation (these machines are
# noisy: only same-run comparisons mean anything). Lower is better. An fsync on proxyfs returns once the data
# segment is in the store and the replay log is committed on local disk (docs/SEMANTICS.md).
#
# Targets: disk (ext4 or whatever /var/tmp is, the local baseline), tmpfs (no durability at all), proxyfs-file (a
# file:// volume whose store is on the same disk as /var/tmp) and proxyfs-s3 (a volume on a local radosgw started
# here, scripts/s3/radosgw.sh). Replay logs live in replay_log.directory's default, /var/lib/proxyfs (local disk).
#
# Environment: FSYNC_N (fsyncs per target, default 2000), FSYNC_TARGETS (subset of: disk tmpfs proxyfs-file proxyfs-s3).
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${FSYNC_N:-2000}
TARGETS=${FSYNC_TARGETS:-"disk tmpfs proxyfs-file proxyfs-s3"}
PROXYFS=${PROXYFS:-bin/proxyfs}
[ "$(id -u)" -eq 0 ] || { echo "bench-fsync: run as root (mounts)" >&2; exit 1; }
[ -x "$PROXYFS" ] || { echo "bench-fsync: $PROXYFS is missing (make build)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/pfs-fsync-XXXXXX)
cleanup() {
  set +e
  for m in "$work/proxyfs-file" "$work/proxyfs-s3"; do
    mountpoint -q "$m" && { timeout 60 "$PROXYFS" unmount "$m" >/dev/null 2>&1 || umount -l "$m"; }
  done
  [ -d "$work/rgw" ] && bash scripts/s3/radosgw.sh stop "$work/rgw" >/dev/null 2>&1
  mountpoint -q "$work/tmpfs" && umount -l "$work/tmpfs"
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work"/{disk,tmpfs,proxyfs-file,proxyfs-s3}
gcc -O2 -o "$work/fsync" scripts/bench/fsync.c

declare -A LINE
for t in $TARGETS; do
  case $t in
    disk) dir=$work/disk ;;
    tmpfs) mount -t tmpfs -o size=1g tmpfs "$work/tmpfs"; dir=$work/tmpfs ;;
    proxyfs-file)
      "$PROXYFS" format "file://$work/store" >/dev/null
      "$PROXYFS" mount "file://$work/store" "$work/proxyfs-file" >/dev/null; dir=$work/proxyfs-file ;;
    proxyfs-s3)
      eval "$(bash scripts/s3/radosgw.sh start "$work/rgw")"
      uri="s3://$S3_BUCKET/fsync?endpoint=$S3_ENDPOINT&region=$AWS_REGION"
      "$PROXYFS" format "$uri" >/dev/null
      "$PROXYFS" mount "$uri" "$work/proxyfs-s3" >/dev/null; dir=$work/proxyfs-s3 ;;
    *) echo "bench-fsync: unknown target $t" >&2; exit 1 ;;
  esac
  "$work/fsync" "$dir" 50 >/dev/null # warm up
  LINE[$t]=$("$work/fsync" "$dir" "$N")
done

printf '%-14s %10s %10s %10s %10s %10s %12s\n' target p50_us p90_us p99_us max_us mean_us "p50 vs disk"
base=$(sed -n 's/.*p50_us=\([0-9]*\).*/\1/p' <<<"${LINE[disk]:-}")
for t in $TARGETS; do
  l=${LINE[$t]}
  get() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$l"; }
  ratio=$([ -n "$base" ] && [ "$base" -gt 0 ] && awk -v a="$(get p50_us)" -v b="$base" 'BEGIN{printf "%.2fx", a/b}' || echo n/a)
  printf '%-14s %10s %10s %10s %10s %10s %12s\n' "$t" "$(get p50_us)" "$(get p90_us)" "$(get p99_us)" "$(get max_us)" "$(get mean_us)" "$ratio"
done
