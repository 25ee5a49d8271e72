#!/usr/bin/env bash
# A one-node Ceph cluster with radosgw on 127.0.0.1, for tests and benchmarks. No systemd, no root needed
# beyond what the Ceph binaries need; everything (config, mon store, logs, pid files) lives in one directory.
#
#   radosgw.sh start [DIR]   create and start a cluster in DIR (default /tmp/proxyfs-radosgw), print its env
#   radosgw.sh env   [DIR]   print the env of a running cluster (shell `export` lines)
#   radosgw.sh stop  [DIR]   stop the daemons by PID and remove DIR (logs are kept when KEEP_LOGS=1)
#
# The env lines: S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, S3_BUCKET, S3_URI.
# Facts this depends on (verified on Debian 12's Ceph 16): memstore OSD and pools of size 1; cephx off inside
# the cluster (radosgw still checks SigV4); `ms mon client mode = crc` or radosgw hangs 300 s fetching the mon
# config; pools created in parallel before radosgw starts and `paxos propose interval = 0.05` (bring-up ~2 s).
set -euo pipefail

cmd=${1:-}
dir=${2:-${RADOSGW_DIR:-/tmp/proxyfs-radosgw}}
timeout_s=${RADOSGW_START_TIMEOUT:-60}
bucket=${S3_BUCKET:-proxyfs}
access_key=${RADOSGW_ACCESS_KEY:-proxyfs-test-access}
secret_key=${RADOSGW_SECRET_KEY:-proxyfs-test-secret-0123456789abcdef}

log() { echo "radosgw.sh: $*" >&2; }
T0=$(( $(date +%s%N) / 1000000 ))
step() { echo "radosgw.sh: +$(( $(date +%s%N) / 1000000 - T0 )) ms $*" >&2; }
die() { log "$*"; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 40000 ))
    if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
  done
  return 1
}

wait_for() { # seconds, description, command...
  local deadline=$(( $(date +%s) + $1 )) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then return 1; fi
    sleep 0.05
  done
  step "$what ready"
}

stop_daemons() {
  local f pid i
  for f in "$dir"/run/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for f in "$dir"/run/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [ -n "$pid" ] || continue
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

fail_start() {
  log "$1"
  log "logs kept in $dir/log:"
  for f in "$dir"/log/*.log; do
    [ -s "$f" ] || continue
    log "--- tail $f"; tail -n 20 "$f" >&2
  done
  stop_daemons
  exit 1
}

print_env() {
  [ -f "$dir/env" ] || die "no cluster in $dir (no $dir/env)"
  cat "$dir/env"
}

start() {
  command -v ceph-mon >/dev/null || die "ceph-mon not installed: run scripts/s3/install.sh"
  [ -e "$dir/env" ] && die "$dir already holds a cluster; stop it first (radosgw.sh stop $dir)"
  local t0; t0=$(now_ms)
  rm -rf "$dir"; mkdir -p "$dir"/{run,log,mon/a,osd/0,rgw}
  local fsid mon_port rgw_port conf="$dir/ceph.conf"
  fsid=$(uuidgen 2>/dev/null || cat /proc/sys/kernel/random/uuid)
  mon_port=$(free_port) || die "no free port"
  rgw_port=$(free_port) || die "no free port"
  while [ "$rgw_port" = "$mon_port" ]; do rgw_port=$(free_port); done

  cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
mon allow pool size one = true
mon allow pool delete = true
mon data avail crit = 0
mon warn on pool no redundancy = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
paxos propose interval = 0.05
run dir = $dir/run
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
keyring = $dir/keyring
err to stderr = false
log to stderr = false

[mon]
mon data = $dir/mon/\$id
mon cluster log file = $dir/log/cluster.log

[osd]
osd data = $dir/osd/\$id
osd objectstore = memstore
memstore device bytes = ${RADOSGW_MEMSTORE_BYTES:-8589934592}
osd max object size = 134217728

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
rgw dns name = 127.0.0.1
# Overwritten and deleted objects go to radosgw's garbage collector, which by default waits two hours: with memstore
# that memory would grow with every benchmark round. Collect after a few seconds instead.
rgw gc obj min wait = 5
rgw gc processor period = 5
CONF

  # A keyring is read even with cephx off; an empty one is enough.
  : >"$dir/keyring"
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >"$dir/log/mkfs-mon.out" 2>&1 \
    || fail_start "ceph-mon --mkfs failed: $(cat "$dir/log/mkfs-mon.out")"
  ceph-mon -c "$conf" -i a >"$dir/log/mon.out" 2>&1 || fail_start "ceph-mon did not start"

  local ceph=(ceph -c "$conf" --connect-timeout 10)
  wait_for "$timeout_s" "mon" "${ceph[@]}" mon stat || fail_start "the monitor did not answer within ${timeout_s}s"

  local osd_uuid; osd_uuid=$(uuidgen 2>/dev/null || cat /proc/sys/kernel/random/uuid)
  "${ceph[@]}" osd new "$osd_uuid" >/dev/null || fail_start "ceph osd new failed"
  step "osd new"

  # radosgw creates these pools itself, one at a time, each waiting for a new OSD map: creating them up front, in
  # one `ceph` session (one python start-up, not seven) while the OSD starts, is what makes bring-up fast.
  local p cmds=""
  for p in .rgw.root default.rgw.log default.rgw.control default.rgw.meta default.rgw.buckets.index \
           default.rgw.buckets.data default.rgw.buckets.non-ec; do
    cmds+="osd pool create $p 8 8"$'\n'
  done
  printf '%s' "$cmds" | "${ceph[@]}" >"$dir/log/pools.out" 2>&1 &
  local pools_pid=$!
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$dir/log/mkfs-osd.out" 2>&1 \
    || fail_start "ceph-osd --mkfs failed: $(cat "$dir/log/mkfs-osd.out")"
  step "osd mkfs"
  ceph-osd -c "$conf" -i 0 >"$dir/log/osd.out" 2>&1 || fail_start "ceph-osd did not start"
  step "osd started"
  wait "$pools_pid" || fail_start "creating the pools failed: $(cat "$dir/log/pools.out")"
  step "pools"

  osd_up() { "${ceph[@]}" osd stat 2>/dev/null | grep -q ' 1 up'; }
  wait_for "$timeout_s" "osd" osd_up \
    || fail_start "the OSD did not come up within ${timeout_s}s"

  radosgw -c "$conf" -n client.rgw >"$dir/log/rgw.out" 2>&1 || fail_start "radosgw did not start"
  radosgw-admin -c "$conf" user create --uid proxyfs --display-name proxyfs \
    --access-key "$access_key" --secret "$secret_key" >"$dir/log/user.out" 2>&1 \
    || fail_start "radosgw-admin user create failed: $(cat "$dir/log/user.out")"
  wait_for "$timeout_s" "radosgw" curl -sf -o /dev/null "http://127.0.0.1:$rgw_port/" \
    || fail_start "radosgw did not answer on 127.0.0.1:$rgw_port within ${timeout_s}s"

  # curl 7.88 does not send x-amz-content-sha256 by itself, and radosgw rejects SigV4 without it.
  local code
  code=$(curl -s -o "$dir/log/bucket.out" -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --user "$access_key:$secret_key" "http://127.0.0.1:$rgw_port/$bucket")
  [ "$code" = 200 ] || fail_start "creating bucket $bucket answered HTTP $code: $(cat "$dir/log/bucket.out")"

  cat >"$dir/env" <<ENV
export S3_ENDPOINT=http://127.0.0.1:$rgw_port
export AWS_ACCESS_KEY_ID=$access_key
export AWS_SECRET_ACCESS_KEY=$secret_key
export AWS_REGION=us-east-1
export S3_BUCKET=$bucket
export S3_URI='s3://$bucket/?endpoint=http://127.0.0.1:$rgw_port&region=us-east-1&path_style=true'
ENV
  log "up in $(( $(now_ms) - t0 )) ms at http://127.0.0.1:$rgw_port (dir $dir)"
  print_env
}

case "$cmd" in
  start)
    start ;;
  env)
    print_env ;;
  stop)
    [ -d "$dir" ] || exit 0
    stop_daemons
    if [ "${KEEP_LOGS:-0}" = 1 ]; then
      rm -rf "$dir"/mon "$dir"/osd "$dir"/env; log "stopped; logs kept in $dir/log"
    else
      rm -rf "$dir"; log "stopped"
    fi ;;
  *)
    echo "usage: $0 start|env|stop [DIR]" >&2; exit 2 ;;
esac
