#!/usr/bin/env bash
# Installs the two S3 servers the object-store tests and benchmarks run on 127.0.0.1:
#   - Ceph radosgw from Debian (ceph-mon, ceph-osd, radosgw, ceph-common), run as a one-node memstore cluster
#     by scripts/s3/radosgw.sh;
#   - s3rver from npm (pinned), run by scripts/s3/s3rver.sh.
# Idempotent: does nothing when both are present. Run as root (or with sudo available).
set -euo pipefail

S3RVER_VERSION=${S3RVER_VERSION:-3.7.1}
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

start_ms=$(( $(date +%s%N) / 1000000 ))
did=0

need_apt=()
for pair in ceph-mon:ceph-mon ceph-osd:ceph-osd radosgw:radosgw ceph-common:radosgw-admin; do
  pkg=${pair%%:*}; cmd=${pair#*:}
  if ! command -v "$cmd" >/dev/null 2>&1; then need_apt+=("$pkg"); fi
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "s3/install: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # --no-install-recommends keeps the set small; ceph's daemons are not started by the packages (no systemd here)
  # and scripts/s3/radosgw.sh runs them by hand.
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  did=1
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "s3/install: apt-get install nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  did=1
fi

s3rver_dir="$(npm root -g 2>/dev/null)/s3rver"
installed=""
if [ -f "$s3rver_dir/package.json" ]; then
  installed=$(node -p "require('$s3rver_dir/package.json').version" 2>/dev/null || true)
fi
if [ "$installed" != "$S3RVER_VERSION" ]; then
  echo "s3/install: npm install -g s3rver@$S3RVER_VERSION"
  $SUDO npm install -g --no-audit --no-fund --loglevel=error "s3rver@$S3RVER_VERSION" >/dev/null
  did=1
fi

if [ "$did" -eq 1 ]; then
  echo "s3/install: done in $(( $(date +%s%N) / 1000000 - start_ms )) ms"
fi
