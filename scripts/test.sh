#!/usr/bin/env bash
# Runs every test project and ends with one line: "N passed, N failed, N skipped".
# Exits non-zero when any test fails or a test run does not complete.
set -uo pipefail
cd "$(dirname "$0")/.."

CONFIG=${CONFIG:-Release}
# The integration tests run the executable that ships, bin/proxyfs (`make test` builds it first; NativeAOT unless
# AOT=0), not `dotnet proxyfs.dll` from the build output: a NativeAOT build fails on its own (reflection it did not
# keep, argv[0]) and only a test of that executable sees it. PROXYFS_BINARY= (empty) runs the build output instead.
if [ -z "${PROXYFS_BINARY+set}" ] && [ -x bin/proxyfs ]; then
  export PROXYFS_BINARY=$PWD/bin/proxyfs
fi
log_dir=${TEST_LOG_DIR:-out/test-logs}
mkdir -p "$log_dir"

projects=(tests/*.Tests/*.Tests.csproj)
passed=0; failed=0; skipped=0; broken=0

cleanup_mounts() {
  # A test that crashes must not leave a mount behind for the next run.
  grep -E ' fuse(\.[a-z0-9]+)? ' /proc/mounts | awk '{print $2}' | grep -E '/proxyfs-test|/pfs-' | while read -r m; do
    m=$(printf '%b' "$m")
    echo "test.sh: removing leftover mount $m" >&2
    fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}
trap cleanup_mounts EXIT

for p in "${projects[@]}"; do
  name=$(basename "$p" .csproj)
  echo "== $name"
  log="$log_dir/$name.log"
  # --blame-hang-timeout kills a test host that stops making progress, so a stuck mount cannot hang the run.
  dotnet test "$p" -c "$CONFIG" --no-build --nologo \
    --blame-hang-timeout 10m --blame-hang-dump-type none \
    --logger "console;verbosity=normal" 2>&1 | tee "$log" | grep -E '^\s*(Failed|Skipped) |Error Message|^\s+at |^Total tests|error (CS|MSB|NU)' | head -200
  # The summary of `dotnet test` at normal verbosity: "Total tests: N", then "Passed: N", "Failed: N", "Skipped: N".
  if ! grep -qE '^Total tests: [0-9]+' "$log"; then
    echo "test.sh: $name did not report results (see $log)" >&2
    broken=$((broken + 1))
    continue
  fi
  count() { grep -E "^ +$1: +[0-9]+" "$log" | tail -1 | awk '{print $2}'; }
  ps=$(count Passed); f=$(count Failed); s=$(count Skipped)
  ps=${ps:-0}; f=${f:-0}; s=${s:-0}
  if grep -qE '^Test Run (Failed|Aborted)' "$log" && [ "$f" -eq 0 ]; then
    echo "test.sh: $name: the test run failed or was aborted (see $log)" >&2
    broken=$((broken + 1))
  fi
  passed=$((passed + ps)); failed=$((failed + f)); skipped=$((skipped + s))
done

cleanup_mounts
if [ "$broken" -gt 0 ]; then
  failed=$((failed + broken))
  echo "test.sh: $broken test project(s) did not complete" >&2
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
