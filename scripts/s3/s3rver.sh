#!/usr/bin/env bash
# s3rver (npm) on 127.0.0.1, for fast tests of the s3:// backend. It is not a faithful S3: see
# docs/OBJECTSTORE.md ("s3rver quirks") for what it gets wrong; the conformance suite skips those tests on it.
#
#   s3rver.sh start [DIR]   start a server with its data in DIR (default /tmp/proxyfs-s3rver), print its env
#   s3rver.sh env   [DIR]   print the env of a running server (shell `export` lines)
#   s3rver.sh stop  [DIR]   stop it by PID and remove DIR (logs are kept when KEEP_LOGS=1)
#
# The env lines are those of radosgw.sh: S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
# S3_BUCKET, S3_URI. s3rver's only credentials are S3RVER/S3RVER.
set -euo pipefail

cmd=${1:-}
dir=${2:-${S3RVER_DIR:-/tmp/proxyfs-s3rver}}
timeout_s=${S3RVER_START_TIMEOUT:-30}
bucket=${S3_BUCKET:-proxyfs}

log() { echo "s3rver.sh: $*" >&2; }
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

stop_server() {
  local pid i
  [ -f "$dir/s3rver.pid" ] || return 0
  pid=$(cat "$dir/s3rver.pid")
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
  kill -9 "$pid" 2>/dev/null || true
}

print_env() {
  [ -f "$dir/env" ] || die "no server in $dir (no $dir/env)"
  cat "$dir/env"
}

start() {
  command -v node >/dev/null || die "node not installed: run scripts/s3/install.sh"
  local js; js="$(npm root -g 2>/dev/null)/s3rver/bin/s3rver.js"
  [ -f "$js" ] || die "s3rver not installed ($js missing): run scripts/s3/install.sh"
  [ -e "$dir/env" ] && die "$dir already holds a server; stop it first (s3rver.sh stop $dir)"
  local t0 port deadline; t0=$(now_ms)
  rm -rf "$dir"; mkdir -p "$dir/data"
  port=$(free_port) || die "no free port"
  local silent=(--silent)
  [ "${S3RVER_VERBOSE:-0}" = 1 ] && silent=()
  # --openssl-legacy-provider: s3rver encrypts list continuation tokens with a cipher that OpenSSL 3 only
  # offers through the legacy provider; without it every truncated ListObjectsV2 page answers 500.
  setsid node --openssl-legacy-provider "$js" -d "$dir/data" -a 127.0.0.1 -p "$port" --no-vhost-buckets \
    "${silent[@]}" --configure-bucket "$bucket" >"$dir/s3rver.log" 2>&1 </dev/null &
  echo $! >"$dir/s3rver.pid"
  deadline=$(( $(date +%s) + timeout_s ))
  until curl -sf -o /dev/null "http://127.0.0.1:$port/$bucket"; do
    if ! kill -0 "$(cat "$dir/s3rver.pid")" 2>/dev/null; then
      log "s3rver exited; its log:"; cat "$dir/s3rver.log" >&2; exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "s3rver did not answer on 127.0.0.1:$port within ${timeout_s}s; its log:"; cat "$dir/s3rver.log" >&2
      stop_server; exit 1
    fi
    sleep 0.05
  done
  cat >"$dir/env" <<ENV
export S3_ENDPOINT=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID=S3RVER
export AWS_SECRET_ACCESS_KEY=S3RVER
export AWS_REGION=us-east-1
export S3_BUCKET=$bucket
export S3_URI='s3://$bucket/?endpoint=http://127.0.0.1:$port&region=us-east-1&path_style=true&chunked_upload=false'
ENV
  log "up in $(( $(now_ms) - t0 )) ms at http://127.0.0.1:$port (dir $dir)"
  print_env
}

case "$cmd" in
  start) start ;;
  env) print_env ;;
  stop)
    [ -d "$dir" ] || exit 0
    stop_server
    if [ "${KEEP_LOGS:-0}" = 1 ]; then
      rm -rf "$dir/data" "$dir/env"; log "stopped; log kept in $dir/s3rver.log"
    else
      rm -rf "$dir"; log "stopped"
    fi ;;
  *) echo "usage: $0 start|env|stop [DIR]" >&2; exit 2 ;;
esac
