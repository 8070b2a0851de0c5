#!/usr/bin/env bash
# Runs Voxon's walkthrough demo offline (embedded engine and embedding model; nothing is downloaded), then speaks a
# streamed turn into a WAV file with espeak-ng (installed by scripts/debian-deps.sh when it can be).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project src/Voxon.Cli -- demo "$@"

echo
echo "== a spoken turn (streamed reply, spoken sentence by sentence with espeak-ng)"
if scripts/debian-deps.sh espeak-ng; then
  store="$(mktemp -d)"
  trap 'rm -rf "$store"' EXIT
  dotnet run -c Release --no-build --project src/Voxon.Cli -- voice --say "My name is Alice and I like quantum physics" \
    --out "$store/reply.wav" --user alice --store "$store/sessions"
else
  echo "espeak-ng is not installed and could not be installed: skipping the spoken turn (text turns above are unaffected)"
fi
