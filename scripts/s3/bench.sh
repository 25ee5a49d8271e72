#!/usr/bin/env bash
# The object-store benchmark: 8 MiB PUT and GET with 1 and 4 streams, through proxyfs's s3:// backend and through a
# raw AWS SDK client, on radosgw (and s3rver with BENCH_SERVERS="radosgw s3rver"), started and stopped here.
# Prints MB/s and the ratio backend/raw per cell; exits 3 when a ratio is under 0.9.
#   BENCH_ROUNDS (3), BENCH_MIB_PER_MEASUREMENT (256), BENCH_SERVERS (radosgw), ARTIFACTS (out/bench-objectstore)
set -euo pipefail
cd "$(dirname "$0")/../.."

servers=${BENCH_SERVERS:-radosgw}
artifacts=${ARTIFACTS:-out/bench-objectstore}
bash scripts/s3/install.sh
dotnet build tests/ProxyFs.ObjectStore.Tests -c Release --artifacts-path "$artifacts" -nologo -clp:ErrorsOnly >/dev/null
dll=$(find "$artifacts/bin/ProxyFs.ObjectStore.Tests" -name ProxyFs.ObjectStore.Tests.dll -path '*release*' | head -1)
[ -n "$dll" ] || { echo "bench.sh: the build left no ProxyFs.ObjectStore.Tests.dll under $artifacts" >&2; exit 1; }

status=0
dirs=()
cleanup() {
  for d in "${dirs[@]}"; do bash "scripts/s3/${d%%:*}.sh" stop "${d#*:}" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
for server in $servers; do
  dir=$(mktemp -d "/tmp/proxyfs-bench-$server-XXXXXX")
  rmdir "$dir"
  dirs+=("$server:$dir")
  eval "$(bash "scripts/s3/$server.sh" start "$dir")"
  echo "== $server ($S3_ENDPOINT)"
  dotnet "$dll" bench "$S3_URI" || status=$?
  bash "scripts/s3/$server.sh" stop "$dir" >/dev/null
done
exit "$status"
