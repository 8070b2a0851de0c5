#!/usr/bin/env bash
# Runs Voxon's walkthrough demo offline (embedded engine and embedding model; nothing is downloaded).
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run -c Release --project src/Voxon.Cli -- demo "$@"
