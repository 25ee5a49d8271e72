#!/usr/bin/env bash
# Space reclamation end to end: write GC_SIZE_MIB (default 1024) through a real mount of a file:// volume, fsync,
# delete it, let the kept checkpoint generations move on (periodic checkpoints), run `proxyfs gc` on the mount point, then fsck.
# Prints the store's size at each step and the share of the written bytes still stored (the target: under 5%).
# Usage: make gc-check [GC_SIZE_MIB=1024] [GC_DIR=/var/tmp]
set -euo pipefail
PROXYFS=${PROXYFS:-bin/proxyfs}
SIZE_MIB=${GC_SIZE_MIB:-1024}
[ -x "$PROXYFS" ] || { echo "gc-check: $PROXYFS is missing (make build)" >&2; exit 1; }
work=$(mktemp -d "${GC_DIR:-/var/tmp}/proxyfs-gc-check.XXXXXX")
mnt="$work/mnt"
store="$work/store"
mkdir -p "$mnt"
cleanup() {
  if mountpoint -q "$mnt"; then timeout 60 "$PROXYFS" unmount "$mnt" >/dev/null 2>&1 || umount -l "$mnt"; fi
  rm -rf "$work"
}
trap cleanup EXIT
stored() { du -sb "$store" | cut -f1; }

"$PROXYFS" format "file://$store" >/dev/null
# The daemon deletes at once when asked, and never on its own during the run.
# Checkpoints 5 times a second, so the kept generations move past the deleted file within seconds.
PROXYFS_GC_GRACE=0s PROXYFS_GC_INTERVAL=off "$PROXYFS" mount "file://$store" "$mnt" -o checkpoint_interval=0.2 >/dev/null
start=$(date +%s.%N)
dd if=/dev/urandom of="$mnt/big" bs=1M count="$SIZE_MIB" conv=fsync status=none
written=$(stored)
echo "gc-check: wrote $SIZE_MIB MiB in $(echo "$(date +%s.%N) - $start" | bc) s; store: $written bytes"
rm "$mnt/big"
"$PROXYFS" gc "$mnt" | sed 's/^/gc-check: before the kept generations moved on: /'
# Each change gets a periodic checkpoint of its own: a new generation; ten push the deletion past the 8 kept ones.
for i in $(seq 1 10); do echo x >"$mnt/tick$i"; sleep 0.4; done
"$PROXYFS" gc "$mnt" | sed 's/^/gc-check: after: /'
after=$(stored)
timeout 120 "$PROXYFS" unmount "$mnt" >/dev/null
"$PROXYFS" fsck "file://$store" | sed 's/^/gc-check: /'
total=$((SIZE_MIB * 1048576))
echo "gc-check: store after gc: $after bytes = $(echo "scale=3; 100 * $after / $total" | bc)% of the $total bytes written (target < 5%)"
[ $((after * 20)) -lt "$total" ] || { echo "gc-check: FAILED: more than 5% stays" >&2; exit 1; }
