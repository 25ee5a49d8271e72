#!/usr/bin/env bash
# Tries the .deb as a new user would: installs it, checks what it ships (binary, mount helpers, unit, sample
# configuration, manual pages), adds an fstab line, `mount -a`, uses the volume, reads `proxyfs status`, unmounts
# with umount(8), remounts to see the files are still there, and checks that the usual mistakes (a wrong URI, a
# busy mount point, a bad configuration key or variable, a credentials file others can read, an unknown volume
# name, a store without a volume, s3:// without credentials, and on a local radosgw a missing bucket, refused
# credentials and an endpoint nothing answers on) each give one actionable line and a non-zero exit.
# Removes the package, the fstab line and every mount at the end, whatever happened.
#
# Usage (as root): scripts/package-smoke.sh [path/to/proxyfs_*.deb]   (default: builds it with `make package`)
# Ends with "package-smoke: N passed, N failed"; exits non-zero when a check failed.
set -uo pipefail
cd "$(dirname "$0")/.."

WORK=$(mktemp -d /tmp/proxyfs-smoke.XXXXXX)
# The volume the fstab line mounts (PACKAGE_SMOKE_URI overrides it, e.g. memory://). A file:// or s3:// URI is
# formatted with `proxyfs format` before the fstab mount.
VOLUME_URI=${PACKAGE_SMOKE_URI:-file://$WORK/volume}
trap 'rm -rf "$WORK"' EXIT   # until the full cleanup below takes over

STEP_TIMEOUT=60
passed=0
failed=0
ok() { echo "  ok    $1"; passed=$((passed + 1)); }
bad() { echo "  FAIL  $1" >&2; failed=$((failed + 1)); }
finish() {
  echo "package-smoke: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

if [ "$(id -u)" -ne 0 ]; then
  echo "package-smoke: run as root (it installs a package and edits /etc/fstab)" >&2
  exit 1
fi
if dpkg-query -W -f='${Status}' proxyfs 2>/dev/null | grep -q 'ok installed'; then
  echo "package-smoke: a proxyfs package is already installed; remove it first (dpkg --purge proxyfs)" >&2
  exit 1
fi

DEB=${1:-}
if [ -z "$DEB" ]; then
  DEB=$(make --no-print-directory package) || { echo "package-smoke: make package failed (its errors are above)" >&2; bad "make package"; finish; }
fi
[ -f "$DEB" ] || { echo "package-smoke: no package at '$DEB'" >&2; bad "package exists"; finish; }

MNT="$WORK/mnt"          # the fstab mount
OTHER="$WORK/other"      # for the mistakes
mkdir -p "$MNT" "$OTHER"
FSTAB_BACKUP="$WORK/fstab.orig"
cp -p /etc/fstab "$FSTAB_BACKUP" 2>/dev/null || : > "$FSTAB_BACKUP"

cleanup() {
  for m in "$MNT" "$OTHER"; do
    if mountpoint -q "$m" 2>/dev/null; then
      timeout 30 umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    fi
  done
  cp -p "$FSTAB_BACKUP" /etc/fstab
  if [ -n "${RGW_STARTED:-}" ]; then
    bash scripts/s3/radosgw.sh stop "$WORK/rgw" >/dev/null 2>&1 || echo "package-smoke: could not stop radosgw in $WORK/rgw" >&2
  fi
  if dpkg-query -W -f='${Status}' proxyfs 2>/dev/null | grep -q 'installed'; then
    dpkg --purge proxyfs >/dev/null 2>&1 || echo "package-smoke: could not remove the package" >&2
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# expect_one_line NAME EXPECTED-SUBSTRING COMMAND...: the command fails, saying one line that contains the substring.
expect_one_line() {
  local name=$1 expected=$2
  shift 2
  local out rc lines
  out=$(timeout "$STEP_TIMEOUT" "$@" 2>&1 </dev/null)
  rc=$?
  lines=$(printf '%s\n' "$out" | grep -c .)
  if [ "$rc" -ne 0 ] && [ "$lines" -eq 1 ] && grep -qF -- "$expected" <<<"$out"; then
    ok "$name (exit $rc): $out"
  else
    bad "$name: expected one line containing '$expected' and a non-zero exit; got exit $rc and $lines line(s):"
    printf '%s\n' "$out" | sed 's/^/        /' >&2
  fi
}

wait_for_daemon_exit() {
  for _ in $(seq 1 100); do
    pgrep -f "proxyfs mount .*$MNT" >/dev/null || break
    sleep 0.1
  done
  pgrep -f "proxyfs mount .*$MNT" >/dev/null && bad "the daemon is still running after umount" || ok "the daemon exited after umount"
}

echo "package-smoke: installing $DEB"
if timeout 300 dpkg -i "$DEB" >/dev/null 2>&1 || timeout 300 apt-get install -f -y -qq >/dev/null 2>&1; then
  ok "dpkg -i $(basename "$DEB")"
else
  bad "dpkg -i $(basename "$DEB")"
  finish
fi

echo "package-smoke: what the package ships"
version=$(timeout "$STEP_TIMEOUT" proxyfs version 2>&1) && [[ "$version" == "proxyfs "* ]] && ok "proxyfs version: $version" || bad "proxyfs version: $version"
for helper in /sbin/mount.proxyfs /sbin/mount.fuse.proxyfs; do
  [ -x "$helper" ] && ok "$helper" || bad "$helper is missing"
done
# The NativeAOT executable `make build` leaves at bin/proxyfs: alone in /usr/lib/proxyfs (no proxyfs.dll, no .NET
# runtime beside it), and every library it links comes from a package the .deb depends on.
shipped=$(ls /usr/lib/proxyfs)
[ "$shipped" = proxyfs ] && ok "/usr/lib/proxyfs holds the one native executable" || bad "/usr/lib/proxyfs holds more than the NativeAOT executable: $(echo $shipped | head -c 200)"
# (bin/proxyfs is the NativeAOT build unless `make build AOT=0` made it the ReadyToRun one.)
if [ "$(readlink -f bin/proxyfs 2>/dev/null)" = "$(readlink -f out/publish-aot/proxyfs)" ]; then
  cmp -s bin/proxyfs /usr/lib/proxyfs/proxyfs && ok "the installed executable is bin/proxyfs" \
    || bad "the installed executable differs from bin/proxyfs ($(readlink -f bin/proxyfs))"
fi
depends=$(dpkg-query -W -f='${Depends}' proxyfs)
linked_ok=1
while read -r lib; do
  owner=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)
  [ -z "$owner" ] && owner=$(dpkg -S "/usr$lib" 2>/dev/null | head -1 | cut -d: -f1)
  if [ -z "$owner" ] || ! grep -qE "(^|[ ,|])$owner([ ,|(]|$)" <<<"$depends"; then
    bad "proxyfs links $lib (package '${owner:-none}'), which Depends ($depends) does not cover"
    linked_ok=0
  fi
done < <(ldd /usr/lib/proxyfs/proxyfs | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
ldd /usr/lib/proxyfs/proxyfs | grep -q 'not found' && { bad "proxyfs needs libraries that are missing: $(ldd /usr/lib/proxyfs/proxyfs | grep 'not found')"; linked_ok=0; }
[ "$linked_ok" -eq 1 ] && ok "every library proxyfs links is in Depends ($depends)"
for page in /usr/share/man/man1/proxyfs.1.gz /usr/share/man/man5/proxyfs.yaml.5.gz; do
  if [ -s "$page" ] && zcat "$page" | groff -man -Tutf8 -ww -z 2>/dev/null; then ok "$page"; else bad "$page is missing or does not format"; fi
done
dpkg-query -W -f='${Conffiles}\n' proxyfs | grep -q '/etc/proxyfs/proxyfs.yaml' && ok "/etc/proxyfs/proxyfs.yaml is a conffile" || bad "/etc/proxyfs/proxyfs.yaml is not a conffile"
if command -v systemd-analyze >/dev/null 2>&1; then
  man_check=--man=no
  command -v man >/dev/null 2>&1 && man_check=--man=yes
  verify=$(timeout "$STEP_TIMEOUT" systemd-analyze verify "$man_check" /lib/systemd/system/proxyfs@.service 2>&1)
  [ $? -eq 0 ] && ! grep -q 'proxyfs@' <<<"$verify" && ok "systemd-analyze verify proxyfs@.service" || { bad "systemd-analyze verify proxyfs@.service"; echo "$verify" >&2; }
else
  bad "systemd-analyze is missing (scripts/install-deps.sh installs systemd)"
fi

echo "package-smoke: an fstab line for $VOLUME_URI, mount -a, use it, umount"
case "$VOLUME_URI" in
  file://* | s3://*)
    out=$(timeout "$STEP_TIMEOUT" proxyfs format "$VOLUME_URI" 2>&1) && ok "proxyfs format $VOLUME_URI" || bad "proxyfs format $VOLUME_URI: $out"
    ;;
esac
printf '# proxyfs package smoke test\n%s %s fuse.proxyfs defaults,noatime,_netdev,nofail 0 0\n' "$VOLUME_URI" "$MNT" >>/etc/fstab
out=$(timeout "$STEP_TIMEOUT" mount -a -t fuse.proxyfs 2>&1)
if [ $? -eq 0 ] && mountpoint -q "$MNT"; then ok "mount -a: $(findmnt -n -o SOURCE,FSTYPE "$MNT")"; else bad "mount -a: $out"; fi

if mountpoint -q "$MNT"; then
  if cp -r /usr/share/doc/proxyfs "$MNT/doc" && diff -r /usr/share/doc/proxyfs "$MNT/doc" >/dev/null && ls -l "$MNT/doc" >/dev/null && df "$MNT" >/dev/null; then
    ok "cp -r, diff -r, ls -l, df on the mount"
  else
    bad "using the mount"
  fi
  status=$(timeout "$STEP_TIMEOUT" proxyfs status "$MNT" 2>&1)
  grep -q 'requests' <<<"$status" && grep -q "$VOLUME_URI" <<<"$status" && ok "proxyfs status" || bad "proxyfs status: $status"
  json=$(timeout "$STEP_TIMEOUT" proxyfs status --json "$MNT" 2>&1)
  grep -q '"opcodes":{' <<<"$json" && ok "proxyfs status --json" || bad "proxyfs status --json: $json"

  echo "package-smoke: mistakes give one line and a non-zero exit"
  expect_one_line "busy mount point" "already" mount -t fuse.proxyfs memory:// "$MNT"
  expect_one_line "wrong URI" "unknown scheme 'ftp'" mount -t fuse.proxyfs ftp://example/volume "$OTHER"
  printf 'log_levle: debug\n' >"$WORK/bad.yaml"
  expect_one_line "bad config key (mount -t)" "unknown key 'log_levle' (did you mean 'log_level'?)" \
    mount -t fuse.proxyfs memory:// "$OTHER" -o "config=$WORK/bad.yaml"
  expect_one_line "bad config key (PROXYFS_CONFIG)" "did you mean 'log_level'?" \
    env PROXYFS_CONFIG="$WORK/bad.yaml" proxyfs mount memory:// "$OTHER"
  expect_one_line "bad environment override" "did you mean PROXYFS_READ_CACHE_SIZE?" \
    env PROXYFS_READ_CACHE_SIZ=1GiB proxyfs mount memory:// "$OTHER"
  printf 'AWS_ACCESS_KEY_ID=AKIDEXAMPLE\nAWS_SECRET_ACCESS_KEY=not-a-real-secret\n' >"$WORK/credentials"
  chmod 0644 "$WORK/credentials"
  printf 'credentials_file: %s\n' "$WORK/credentials" >"$WORK/creds.yaml"
  expect_one_line "credentials file others can read" "chmod 600" proxyfs mount memory:// "$OTHER" --config "$WORK/creds.yaml"
  expect_one_line "unknown volume name" "names no volume" mount -t fuse.proxyfs nosuchvolume "$OTHER"
  mkdir -p "$WORK/empty"
  expect_one_line "a store without a volume" "create one with: proxyfs format file://$WORK/empty" \
    mount -t fuse.proxyfs "file://$WORK/empty" "$OTHER"
  # No credentials anywhere (and a loopback endpoint, so nothing could leave the machine): refused before connecting.
  expect_one_line "s3:// without credentials" "no credentials" \
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE="$WORK/none" \
    mount -t fuse.proxyfs "s3://smoke-bucket/volume?endpoint=http://127.0.0.1:9&path_style=true" "$OTHER"
  # A real S3 server (radosgw on loopback): a bucket that does not exist, credentials it refuses, an endpoint
  # nothing answers on.
  if command -v radosgw >/dev/null 2>&1 && rgw_env=$(timeout 120 bash scripts/s3/radosgw.sh start "$WORK/rgw" 2>"$WORK/rgw.log"); then
    RGW_STARTED=1
    eval "$rgw_env"
    rgw_query="endpoint=$S3_ENDPOINT&region=$AWS_REGION&path_style=true"
    expect_one_line "s3:// bucket that does not exist" "the bucket does not exist" \
      mount -t fuse.proxyfs "s3://no-such-bucket/volume?$rgw_query" "$OTHER"
    expect_one_line "s3:// credentials the store refuses" "the store refused the credentials" \
      env AWS_SECRET_ACCESS_KEY=not-the-secret mount -t fuse.proxyfs "s3://$S3_BUCKET/volume?$rgw_query" "$OTHER"
    expect_one_line "proxyfs format with credentials the store refuses" "the store refused the credentials" \
      env AWS_SECRET_ACCESS_KEY=not-the-secret proxyfs format "s3://$S3_BUCKET/volume?$rgw_query"
    expect_one_line "s3:// endpoint nothing answers on" "check the endpoint" \
      mount -t fuse.proxyfs "s3://$S3_BUCKET/volume?endpoint=http://127.0.0.1:9&region=$AWS_REGION&path_style=true" "$OTHER"
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  else
    bad "radosgw did not start (scripts/s3/install.sh installs it): $(tail -3 "$WORK/rgw.log" 2>/dev/null)"
  fi
  mountpoint -q "$OTHER" && bad "a failed mount left $OTHER mounted" || ok "no failed mount left anything mounted"

  out=$(timeout "$STEP_TIMEOUT" umount "$MNT" 2>&1) && ok "umount" || bad "umount: $out"
  wait_for_daemon_exit
  case "$VOLUME_URI" in
    file://* | s3://*)
      # What was written is still there after a remount from the same fstab line.
      out=$(timeout "$STEP_TIMEOUT" mount "$MNT" 2>&1)
      if [ $? -eq 0 ] && diff -r /usr/share/doc/proxyfs "$MNT/doc" >/dev/null; then ok "remount: the files are still there"; else bad "remount: $out"; fi
      out=$(timeout "$STEP_TIMEOUT" umount "$MNT" 2>&1) && ok "umount again" || bad "umount again: $out"
      wait_for_daemon_exit
      ;;
  esac
fi

finish
