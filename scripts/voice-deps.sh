#!/usr/bin/env bash
# Installs espeak-ng (Debian), Voxon's offline speech output, when it is missing. Used by test.sh and demo.sh.
# Exits 0 when espeak-ng is there afterwards, 1 when it could not be installed (callers then skip speaking).
set -uo pipefail
log() { echo "voice-deps.sh: $*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi; }

command -v espeak-ng >/dev/null 2>&1 && exit 0
command -v apt-get >/dev/null 2>&1 || { log "espeak-ng is missing and apt-get is not available"; exit 1; }
log "installing espeak-ng"
if ! DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq espeak-ng >&2; then
  as_root apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq espeak-ng >&2 || true
fi
command -v espeak-ng >/dev/null 2>&1 || { log "espeak-ng could not be installed"; exit 1; }
