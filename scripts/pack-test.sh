#!/usr/bin/env bash
# Packaging test (run by scripts/test.sh): packs every project under src/ into a temp folder, checks each package's
# metadata and symbols, installs the voxon tool from that folder into a temp tool path, runs `voxon --version` and
# `voxon demo` (without network where the machine allows), then builds the samples against the packed packages and
# runs the console ones.
#
# The packages get a version no earlier run used (VoxonVersion-packtest.<time>), so the NuGet cache can never hand a
# sample an older package of the same version; that version is removed from the cache at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "pack-test [${SECONDS}s]: $*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v unzip >/dev/null 2>&1; then
  log "installing unzip"
  if ! DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq unzip >&2; then
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq unzip >&2
  fi
fi

base=$(sed -n 's:.*<VoxonVersion>\(.*\)</VoxonVersion>.*:\1:p' Directory.Build.props)
[ -n "$base" ] || fail "no VoxonVersion in Directory.Build.props"
version="$base-packtest.$(date +%s)"
work="$(mktemp -d)"
cache="$(dotnet nuget locals global-packages --list | sed 's/^global-packages: *//')"
projects=()
for project in src/*/*.csproj; do
  # Every project under src/ packs unless it says otherwise.
  [ "$(dotnet msbuild "$project" -getProperty:IsPackable)" = true ] && projects+=("$project")
done
cleanup() {
  rm -rf "$work"
  for project in "${projects[@]}"; do
    id=$(basename "$project" .csproj)
    rm -rf "${cache%/}/${id,,}/$version"
    rmdir "${cache%/}/${id,,}" 2>/dev/null || true
  done
}
trap cleanup EXIT

# Build once as usual (up to date after scripts/test.sh), then pack that build under the test version.
log "packing ${#projects[@]} projects as $version"
for project in "${projects[@]}"; do
  dotnet build "$project" -c Release -v quiet -nologo >/dev/null || fail "build of $project"
done
log "built"
for project in "${projects[@]}"; do
  dotnet pack "$project" -c Release --no-build -nologo -v quiet -o "$work/packages" -p:VoxonVersion="$version" >/dev/null \
    || fail "pack of $project"
done

for project in "${projects[@]}"; do
  id=$(basename "$project" .csproj)
  package="$work/packages/$id.$version.nupkg"
  [ -f "$package" ] || fail "$id: no $id.$version.nupkg"
  [ -f "$work/packages/$id.$version.snupkg" ] || fail "$id: no symbol package"
  nuspec=$(unzip -p "$package" "$id.nuspec")
  for field in '<license type="expression">' '<readme>README.md</readme>' '<description>' '<tags>'; do
    grep -qF "$field" <<<"$nuspec" || fail "$id: nuspec lacks $field"
  done
  unzip -l "$package" README.md >/dev/null || fail "$id: README.md not in the package"
  unpinned=$(grep -o '<dependency id="Voxon[^"]*" version="[^"]*"' <<<"$nuspec" | grep -vF "version=\"[$version]\"" || true)
  [ -z "$unpinned" ] || fail "$id: a dependency on another Voxon package is not pinned to [$version]: $unpinned"
  if [ "$id" != Voxon.Cli ]; then
    unzip -l "$package" "lib/net10.0/$id.xml" >/dev/null || fail "$id: no XML documentation"
  fi
done
log "packages: ${projects[*]##*/}"

# The tool, from the packed folder only, into a tool path of its own.
dotnet tool install Voxon.Cli --tool-path "$work/tool" --add-source "$work/packages" --version "$version" >/dev/null \
  || fail "dotnet tool install Voxon.Cli"
reported=$("$work/tool/voxon" --version)
[[ "$reported" == "$base"* ]] || fail "voxon --version printed '$reported', expected $base"
log "tool installed; voxon --version: $reported"

# The demo needs no network: the model, the tokenizer data and the offline engine are inside the tool package.
offline=()
if unshare -n true 2>/dev/null; then offline=(unshare -n); else log "no network namespace here; the demo runs with network"; fi
mkdir -p "$work/run"
demo=$(cd "$work/run" && env -u VOXON_MODEL_ENDPOINT -u VOXON_MODEL -u VOXON_API_KEY "${offline[@]}" "$work/tool/voxon" demo) \
  || fail "voxon demo"
grep -q "User's name is Alice" <<<"$demo" || fail "voxon demo did not remember the name: $demo"
log "voxon demo: ok${offline:+ (offline)}"

# The samples restore Voxon from the packed folder (their NuGet.config names ../artifacts; here the temp folder).
for sample in samples/*/*.csproj; do
  dotnet build "$sample" -c Release -nologo -v quiet --artifacts-path "$work/samples" \
    --source "$work/packages" --source https://api.nuget.org/v3/index.json -p:VoxonVersion="$version" >/dev/null \
    || fail "build of $sample against the packages"
  grep -q "\"Voxon/$version\"" "$work/samples/obj/$(basename "$sample" .csproj)/project.assets.json" \
    || fail "$sample did not restore Voxon $version"
done
log "samples built: $(cd samples && echo */ | tr -d /)"

# The tutor remembers across runs; the agent remembers across agent sessions.
export TUTOR_SESSIONS="$work/tutor" AGENT_SESSIONS="$work/agent"
tutor="$work/samples/bin/Tutor/release/Tutor"
env -u VOXON_MODEL_ENDPOINT "$tutor" alice "My name is Alice" >/dev/null || fail "tutor, first run"
answer=$(env -u VOXON_MODEL_ENDPOINT "$tutor" alice "What's my name?") || fail "tutor, second run"
grep -q "Your name is Alice" <<<"$answer" || fail "the tutor forgot across runs: $answer"
answer=$(env -u VOXON_MODEL_ENDPOINT "$work/samples/bin/AgentMemory/release/AgentMemory") || fail "agent sample"
grep -q "Your name is Alice" <<<"$answer" || fail "the agent did not remember in its second session: $answer"
log "samples ran: the tutor and the agent remember"
echo "pack-test: passed"
