#!/usr/bin/env bash
# Runs every test: builds the solution, runs all test projects, then the packaging test (scripts/pack-test.sh).
# Storage tests need PostgreSQL and Redis: scripts/servers.sh starts throwaway ones when present.
set -euo pipefail
cd "$(dirname "$0")/.."

results="$(mktemp -d)"
cleanup() {
  if [ -x scripts/servers.sh ]; then scripts/servers.sh stop || true; fi
  rm -rf "$results"
}
trap cleanup EXIT

if [ -x scripts/servers.sh ]; then
  # shellcheck disable=SC1090
  servers_env="$(scripts/servers.sh start)"   # a server that cannot start stops the run here
  eval "$servers_env"
fi

# The speech tests run the real espeak-ng (offline text to speech), the file storage's durability test runs strace
# (which lists the system calls of a save); install them when missing.
scripts/debian-deps.sh espeak-ng strace || echo "test.sh: espeak-ng or strace is not available; the tests that use them will fail"

# Warnings are errors through Directory.Build.props (NU1603 excepted: a near version of a transitive package).
dotnet build Voxon.slnx -c Release
status=0
dotnet test Voxon.slnx -c Release --no-build --logger "trx" --results-directory "$results" -- RunConfiguration.TreatNoTestsAsError=true || status=$?

# The packages, the voxon tool and the samples built against the packages count as one more test.
pack=0
scripts/pack-test.sh || pack=$?

# One plain closing line, whatever the runner printed.
passed=0; failed=0
if [ "$pack" -eq 0 ]; then passed=1; else failed=1; status=1; fi
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then status=1; echo "no test ran"; fi
echo "tests: $passed passed, $failed failed"
exit "$status"
