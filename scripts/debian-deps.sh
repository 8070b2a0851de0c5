#!/usr/bin/env bash
# Installs the Debian packages named (each also the name of its command) that are missing: espeak-ng, Voxon's offline
# speech output (test.sh, demo.sh); strace, which the file storage's durability test runs (test.sh).
# Exits 0 when every command is there afterwards, 1 when one could not be installed (callers then skip or warn).
set -uo pipefail
log() { echo "debian-deps.sh: $*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi; }

missing=()
for package in "$@"; do
  command -v "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
command -v apt-get >/dev/null 2>&1 || { log "${missing[*]} missing and apt-get is not available"; exit 1; }
log "installing ${missing[*]}"
if ! DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >&2; then
  as_root apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >&2 || true
fi
status=0
for package in "${missing[@]}"; do
  command -v "$package" >/dev/null 2>&1 || { log "$package could not be installed"; status=1; }
done
exit "$status"
