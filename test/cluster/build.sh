#!/usr/bin/env bash
# Builds the integration-test control plane and the Pulumi engine from the Go
# module proxy, one wrapper module per upstream (see README.md beside this file).
#
#   bash test/cluster/build.sh [--print-bin] [component...]
#
# Components: etcd kubernetes kwok pulumi pulumi-kubernetes (default: all).
# Each is built once into
#   ${INFERKIT_CACHE:-$HOME/.cache/inferkit}/<component>-<version>-<key>/
# where <key> hashes the wrapper's go.mod, go.sum and .go files plus this
# script's recipe for that component, so any change rebuilds and old builds
# stay usable by other checkouts. A finished build is never touched again.
#
# Progress goes to stderr. The last line on stdout is the bin directory: a
# folder of symlinks to every built binary of this checkout's versions (and
# kwok-stages/, the KWOK Stage YAMLs), e.g. BIN=$(bash test/cluster/build.sh).
# --print-bin prints that directory without building anything.
#
# Environment:
#   INFERKIT_CACHE   cache root (default $HOME/.cache/inferkit)
#   BUILD_NICE       e.g. 15: run the go commands under `nice -n 15`
#   BUILD_PARALLEL   e.g. 1: passed as `go build -p N` (default: Go's own, = cores)
#   BUILD_PRUNE      if set: delete other versions' builds and bin dirs in the cache
#   GOMODCACHE, GOCACHE, GOPROXY are honoured as usual.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${INFERKIT_CACHE:-$HOME/.cache/inferkit}

ETCD_VERSION=3.6.14
K8S_VERSION=1.36.3
K8S_BUILD_DATE=2026-07-22T18:07:38Z # the v1.36.3 tag's commit time (proxy .info)
KWOK_VERSION=0.8.0
PULUMI_VERSION=3.248.0
# The provider is built from provider/v4 commit f47bc2d6f199 (pinned in
# pulumi-kubernetes/go.mod) and stamped with the npm @pulumi/kubernetes version
# it is paired with; see README.md.
PULUMI_K8S_VERSION=4.24.1

ALL=(etcd kubernetes kwok pulumi pulumi-kubernetes)

# Toolchain settings, the same for every component.
export GOTOOLCHAIN=local CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"

log() { printf '[cluster-build] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

go_cmd() {
  if [[ -n "${BUILD_NICE:-}" ]]; then
    nice -n "$BUILD_NICE" go "$@"
  else
    go "$@"
  fi
}

# Directory of a required module in the module cache (downloads it if needed).
mod_dir() {
  (cd "$HERE/$1" && go_cmd mod download -json "$2") | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'
}

build_flags() {
  local -a f=(-trimpath)
  if [[ -n "${BUILD_PARALLEL:-}" ]]; then f+=(-p "$BUILD_PARALLEL"); fi
  printf '%s\n' "${f[@]}"
}

version_of() {
  case "$1" in
    etcd) echo "$ETCD_VERSION" ;;
    kubernetes) echo "$K8S_VERSION" ;;
    kwok) echo "$KWOK_VERSION" ;;
    pulumi) echo "$PULUMI_VERSION" ;;
    pulumi-kubernetes) echo "$PULUMI_K8S_VERSION" ;;
    *) die "unknown component '$1' (known: ${ALL[*]})" ;;
  esac
}

# Recipe revision per component: bump when the build commands below change in
# a way that changes the output.
recipe_of() {
  case "$1" in
    etcd) echo "etcd r1" ;;
    kubernetes) echo "kubernetes r1 $K8S_BUILD_DATE" ;;
    kwok) echo "kwok r2" ;;
    pulumi) echo "pulumi r1" ;;
    pulumi-kubernetes) echo "pulumi-kubernetes r1" ;;
  esac
}

key_of() {
  local c=$1
  {
    recipe_of "$c"
    go version
    (cd "$HERE/$c" && find . -maxdepth 2 -type f \( -name go.mod -o -name go.sum -o -name '*.go' -o -name '*.patch' \) |
      LC_ALL=C sort | xargs sha256sum)
  } | sha256sum | cut -c1-12
}

dir_of() { echo "$CACHE/$1-$(version_of "$1")-$(key_of "$1")"; }

# ---- recipes: each builds into $1 (an empty temp dir) ----------------------

build_etcd() {
  local out=$1
  (cd "$HERE/etcd" && go_cmd build $(build_flags) -ldflags "-s -w" \
    -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

build_kubernetes() {
  local out=$1 v="v$K8S_VERSION" ld="-s -w" pkg
  local major=${K8S_VERSION%%.*} rest=${K8S_VERSION#*.}
  local minor=${rest%%.*}
  # As hack/lib/version.sh does; gitCommit is left empty because the module
  # proxy does not tell the tag's commit.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X '$pkg.gitVersion=$v' -X '$pkg.gitMajor=$major' -X '$pkg.gitMinor=$minor'"
    ld+=" -X '$pkg.gitTreeState=clean' -X '$pkg.gitCommit=' -X '$pkg.buildDate=$K8S_BUILD_DATE'"
  done
  (cd "$HERE/kubernetes" && go_cmd build $(build_flags) -ldflags "$ld" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler)
}

build_kwok() {
  local out=$1 src work p
  src=$(mod_dir kwok sigs.k8s.io/kwok)
  # Built from a scratch copy of the module with the patches of kwok/patches/ (why each: its header), through a
  # replace in a scratch copy of the wrapper, so neither the module cache nor the repository changes.
  work="$out/.src"
  mkdir -p "$work/kwok"
  cp -R "$src/." "$work/kwok/"
  chmod -R u+w "$work"
  for p in "$HERE"/kwok/patches/*.patch; do
    patch -s -d "$work/kwok" -p1 < "$p" || die "patch $p does not apply to kwok $KWOK_VERSION"
  done
  cp "$HERE/kwok/go.mod" "$HERE/kwok/go.sum" "$work/"
  (cd "$work" && go_cmd mod edit -replace sigs.k8s.io/kwok=./kwok &&
    go_cmd build $(build_flags) -ldflags "-s -w" -o "$out/kwok" sigs.k8s.io/kwok/cmd/kwok)
  # kwok has no built-in stages; these are the ones kwokctl uses by default
  # (node-fast + node-heartbeat-with-lease + pod-fast), from the same module.
  mkdir -p "$out/stages"
  cp "$src/kustomize/stage/node/fast/node-initialize.yaml" \
    "$src/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
    "$src/kustomize/stage/pod/fast/pod-ready.yaml" \
    "$src/kustomize/stage/pod/fast/pod-complete.yaml" \
    "$src/kustomize/stage/pod/fast/pod-delete.yaml" \
    "$out/stages/"
  chmod 0644 "$out/stages/"*.yaml
  rm -rf "$work"
}

build_pulumi() {
  local out=$1
  # As upstream's goreleaser build: CGO off, tags osusergo,grpcnotrace.
  (cd "$HERE/pulumi" && go_cmd build $(build_flags) -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    -o "$out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

build_pulumi-kubernetes() {
  local out=$1 src work
  src=$(mod_dir pulumi-kubernetes github.com/pulumi/pulumi-kubernetes/provider/v4)
  # Build in a scratch copy of the wrapper so the generated embed files never
  # land in the repository.
  work="$out/.src"
  mkdir -p "$work"
  cp -R "$HERE/pulumi-kubernetes/." "$work/"
  rm -f "$work/schema-embed.json" "$work/terraform-mapping-embed.json"
  (cd "$work" && go_cmd run $(build_flags) ./gen "$src/cmd/pulumi-resource-kubernetes" . "$PULUMI_K8S_VERSION")
  (cd "$work" && go_cmd build $(build_flags) \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_K8S_VERSION" \
    -o "$out/pulumi-resource-kubernetes" .)
  rm -rf "$work"
}

# ---- driver -----------------------------------------------------------------

bin_dir() {
  local c keys=""
  for c in "${ALL[@]}"; do keys+="$(dir_of "$c") "; done
  echo "$CACHE/bin-$(printf '%s' "$keys" | sha256sum | cut -c1-12)"
}

link_bin() {
  local bin=$1 c d f
  mkdir -p "$bin"
  for c in "${ALL[@]}"; do
    d=$(dir_of "$c")
    [[ -f "$d/.built" ]] || continue
    for f in "$d"/*; do
      [[ -f "$f" && -x "$f" ]] && ln -sfn "$f" "$bin/$(basename "$f")"
    done
    if [[ -d "$d/stages" ]]; then ln -sfn "$d/stages" "$bin/kwok-stages"; fi
  done
}

# Removes every other build of the components this checkout uses, and every
# other bin dir (only when BUILD_PRUNE is set: other checkouts may use them).
prune() {
  local keep=$1 c d
  for c in "${ALL[@]}"; do
    for d in "$CACHE/$c"-[0-9]*; do
      [[ -d "$d" && "$d" != "$(dir_of "$c")" ]] || continue
      # Names of other components may start with $c- (pulumi-kubernetes).
      [[ "${d#"$CACHE/$c"-}" =~ ^[0-9][^/]*-[0-9a-f]{12}$ ]] || continue
      log "prune $d"
      rm -rf "$d"
    done
  done
  for d in "$CACHE"/bin-*; do
    [[ -d "$d" && "$d" != "$keep" ]] || continue
    log "prune $d"
    rm -rf "$d"
  done
}

main() {
  local print_only=0 c
  local -a comps=()
  for c in "$@"; do
    case "$c" in
      --print-bin) print_only=1 ;;
      -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
      -*) die "unknown option $c" ;;
      *) version_of "$c" >/dev/null; comps+=("$c") ;;
    esac
  done
  [[ ${#comps[@]} -gt 0 ]] || comps=("${ALL[@]}")
  if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
    PATH="/usr/local/go/bin:$PATH" # where the machine image puts Go; not on a bare PATH
  fi
  command -v go >/dev/null || die "go is not on PATH"

  if [[ $print_only == 1 ]]; then bin_dir; return; fi

  mkdir -p "$CACHE"
  TMP_BUILD=
  trap '[[ -z "$TMP_BUILD" ]] || rm -rf "$TMP_BUILD"' EXIT
  # One build at a time per cache (CI and a jest global setup may race).
  exec 9>"$CACHE/.build.lock"
  flock 9

  local d tmp start secs total_start=$SECONDS
  for c in "${comps[@]}"; do
    d=$(dir_of "$c")
    if [[ -f "$d/.built" ]]; then
      log "$c $(version_of "$c"): cached in $d"
      continue
    fi
    # We hold the lock, so any temp dir left here is from a killed build.
    rm -rf "$d".tmp.*
    tmp="$d.tmp.$$"
    TMP_BUILD=$tmp
    mkdir -p "$tmp"
    log "$c $(version_of "$c"): building into $d ($(go version | cut -d' ' -f3)${BUILD_NICE:+, nice $BUILD_NICE}${BUILD_PARALLEL:+, -p $BUILD_PARALLEL})"
    start=$SECONDS
    if ! "build_$c" "$tmp"; then
      rm -rf "$tmp"
      die "$c: build failed"
    fi
    secs=$((SECONDS - start))
    printf 'component=%s\nversion=%s\nkey=%s\nbuild_seconds=%s\nbuilt_at=%s\n%s\n' \
      "$c" "$(version_of "$c")" "$(key_of "$c")" "$secs" "$(date -u +%FT%TZ)" "$(go version)" >"$tmp/.built"
    rm -rf "$d"
    mv "$tmp" "$d"
    TMP_BUILD=
    log "$c $(version_of "$c"): built in $((secs / 60))m$((secs % 60))s ($(du -sh "$d" | cut -f1))"
  done

  local bin
  bin=$(bin_dir)
  link_bin "$bin"
  if [[ -n "${BUILD_PRUNE:-}" ]]; then prune "$bin"; fi
  log "done in $(((SECONDS - total_start) / 60))m$(((SECONDS - total_start) % 60))s; bin directory:"
  echo "$bin"
}

main "$@"
