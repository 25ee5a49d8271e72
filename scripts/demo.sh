#!/usr/bin/env bash
# Mounts a demo volume and says how to use it. Usage: scripts/demo.sh <uri> <mountpoint>
# A file:// volume is formatted on first use; memory:// needs no formatting (and keeps nothing).
set -euo pipefail
uri="${1:?usage: demo.sh <uri> <mountpoint>}"
mnt="${2:?usage: demo.sh <uri> <mountpoint>}"
here="$(cd "$(dirname "$0")/.." && pwd)"
proxyfs="$here/bin/proxyfs"

mkdir -p "$mnt"
if mountpoint -q "$mnt"; then
    echo "already mounted at $mnt; unmount it with: make demo-stop" >&2
    exit 1
fi
if [[ "$uri" == file://* ]]; then
    dir="${uri#file://}"
    mkdir -p "$dir"
    if [[ ! -e "$dir/objects/volume" ]]; then  # the descriptor object (docs/OBJECTSTORE.md: keys live under objects/)
        "$proxyfs" format "$uri" --label demo
    fi
fi
"$proxyfs" mount "$uri" "$mnt"
cat <<MSG

proxyfs is serving $uri at $mnt
  try:      cp -r /etc/ssl "$mnt"/ && ls -lR "$mnt" | head && df -h "$mnt"
  status:   $proxyfs status "$mnt"   (when built with status)
  unmount:  make demo-stop   (or: $proxyfs unmount "$mnt")
What a clean unmount leaves is the whole volume: mount it again with make demo.
MSG
