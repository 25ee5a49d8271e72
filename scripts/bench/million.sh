#!/usr/bin/env bash
# `make bench-million`: a volume of BENCH_MILLION_FILES (default 1,000,000) empty files in directories of 1,000 on
# file:// (store on tmpfs). Measures how long `proxyfs mount` takes on it, the daemon's RSS after mounting and after
# `ls -lR` of all of it (issue budget: the tree's page cache plus 150 MiB), and the `ls -lR` time, with the same
# tree on tmpfs and through bindfs in the same run as baselines. Creating the volume takes minutes (it goes through
# the mount like any user's files).
set -euo pipefail
cd "$(dirname "$0")/../.."

FILES=${BENCH_MILLION_FILES:-1000000}
PER_DIR=1000
PAGE_CACHE_MIB=${BENCH_PAGE_CACHE_MIB:-64}   # VolumeOptions.PageCacheBytes, the tree's page cache
PROXYFS=${PROXYFS:-bin/proxyfs}

[ "$(id -u)" -eq 0 ] || { echo "bench-million: run as root (mounts tmpfs)" >&2; exit 1; }
for tool in bindfs gcc; do command -v $tool >/dev/null || { echo "bench-million: $tool is missing (make deps)" >&2; exit 1; }; done
[ -x "$PROXYFS" ] || { echo "bench-million: $PROXYFS is missing (make build)" >&2; exit 1; }

work=$(mktemp -d /tmp/pfs-million-XXXXXX)
cleanup() {
  set +e
  mountpoint -q "$work/mnt" && { timeout 120 "$PROXYFS" unmount "$work/mnt" >/dev/null 2>&1 || umount -l "$work/mnt"; }
  mountpoint -q "$work/bindfs" && { fusermount3 -u "$work/bindfs" 2>/dev/null || umount -l "$work/bindfs"; }
  mountpoint -q "$work/tmpfs" && umount -l "$work/tmpfs"
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work"/{tmpfs,bindfs,mnt}
mount -t tmpfs -o size=8g tmpfs "$work/tmpfs"
mkdir -p "$work/tmpfs/tree" "$work/tmpfs/store"
gcc -O2 -o "$work/mkfiles" scripts/bench/mkfiles.c

ms() { echo $(( $(date +%s%N) / 1000000 )); }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
lslr_ms() { local t0; t0=$(ms); ls -lR "$1" >/dev/null; echo $(( $(ms) - t0 )); }

echo "bench-million: $FILES files, $PER_DIR per directory"
read -r _ _ _ tmpfs_rate < <("$work/mkfiles" "$work/tmpfs/tree" "$FILES" "$PER_DIR")
tmpfs_ls=$(lslr_ms "$work/tmpfs/tree")
bindfs "$work/tmpfs/tree" "$work/bindfs"
bindfs_ls=$(lslr_ms "$work/bindfs")
fusermount3 -u "$work/bindfs"

uri="file://$work/tmpfs/store"
"$PROXYFS" format "$uri" >/dev/null
"$PROXYFS" mount "$uri" "$work/mnt" >/dev/null
read -r _ _ _ proxyfs_rate < <("$work/mkfiles" "$work/mnt" "$FILES" "$PER_DIR")
t0=$(ms); "$PROXYFS" unmount "$work/mnt" >/dev/null; unmount_ms=$(( $(ms) - t0 ))

t0=$(ms); "$PROXYFS" mount "$uri" "$work/mnt" >/dev/null; mount_ms=$(( $(ms) - t0 ))
pid=$(pgrep -f "proxyfs mount $uri" | head -1)
rss_mounted=$(rss_kib "$pid")
proxyfs_ls=$(lslr_ms "$work/mnt")
rss_listed=$(rss_kib "$pid")
budget_kib=$(( (PAGE_CACHE_MIB + 150) * 1024 ))

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'; }
printf '%-34s %12s\n' "create (files/s), tmpfs" "$tmpfs_rate"
printf '%-34s %12s  %s of tmpfs\n' "create (files/s), proxyfs file://" "$proxyfs_rate" "$(ratio "$proxyfs_rate" "$tmpfs_rate")"
printf '%-34s %12s\n' "ls -lR (ms), tmpfs" "$tmpfs_ls"
printf '%-34s %12s\n' "ls -lR (ms), bindfs" "$bindfs_ls"
printf '%-34s %12s  speed %s of bindfs, %s of tmpfs\n' "ls -lR (ms), proxyfs file://" "$proxyfs_ls" \
  "$(ratio "$bindfs_ls" "$proxyfs_ls")" "$(ratio "$tmpfs_ls" "$proxyfs_ls")"
printf '%-34s %12s\n' "unmount after creating (ms)" "$unmount_ms"
printf '%-34s %12s  (target < 2000)\n' "mount (ms)" "$mount_ms"
printf '%-34s %12s\n' "RSS after mount (KiB)" "$rss_mounted"
printf '%-34s %12s  (target < %s: page cache %s MiB + 150 MiB)\n' "RSS after ls -lR (KiB)" "$rss_listed" "$budget_kib" "$PAGE_CACHE_MIB"
