#!/usr/bin/env bash
# Installs what proxyfs needs to build, test and benchmark on a fresh Debian machine. Idempotent: does nothing
# when everything is present. Run as root (or with sudo available).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_apt=()
want() { # package, command-or-file that proves it is installed
  if ! command -v "$2" >/dev/null 2>&1 && [ ! -e "$2" ]; then need_apt+=("$1"); fi
}
want fuse3 fusermount3
want bindfs bindfs
want fio fio
want attr getfattr
want psmisc fuser
want util-linux mountpoint
want systemd systemd-analyze   # `systemd-analyze verify` of proxyfs@.service (tests, package smoke); dpkg-deb (make package) is in dpkg
want groff-base groff          # the manual pages are checked by formatting them
want sqlite3 sqlite3             # the database crash test (tests/ProxyFs.Integration.Tests/DatabaseCrashTests.cs)
want build-essential gcc         # make build links the NativeAOT executable with it (clang when installed); the benchmarks' C tools

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-deps: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "install-deps: the .NET SDK (10.0) is required and is not on PATH" >&2
  exit 1
fi

# The S3 servers the tests and benchmarks use have their own installer.
if [ -x scripts/s3/install.sh ]; then
  bash scripts/s3/install.sh
fi

# /dev/fuse must exist for the mount tests.
if [ ! -c /dev/fuse ]; then
  $SUDO modprobe fuse 2>/dev/null || true
fi
[ -c /dev/fuse ] || { echo "install-deps: /dev/fuse is missing; FUSE mounts cannot work here" >&2; exit 1; }
