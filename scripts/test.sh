#!/usr/bin/env bash
# Runs every test project and ends with one line: "N passed, N failed, N skipped".
# Exits non-zero when any test fails or a test run does not complete.
set -uo pipefail
cd "$(dirname "$0")/.."

CONFIG=${CONFIG:-Release}
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
    --logger "console;verbosity=normal" 2>&1 | tee "$log" | grep -E '^\s*(Failed|Skipped) |Error Message|^\s+at |Passed!|Failed!|error' | head -200
  line=$(grep -E '(Passed|Failed)! +- Failed: ' "$log" | tail -1)
  if [ -z "$line" ]; then
    echo "test.sh: $name did not report results (see $log)" >&2
    broken=$((broken + 1))
    continue
  fi
  f=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$line")
  ps=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$line")
  s=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + ps)); failed=$((failed + f)); skipped=$((skipped + s))
done

cleanup_mounts
if [ "$broken" -gt 0 ]; then
  failed=$((failed + broken))
  echo "test.sh: $broken test project(s) did not complete" >&2
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
