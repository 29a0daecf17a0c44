#!/usr/bin/env bash
# Regenerates imports/ with `cdk8s import` from CRD YAML shipped inside pinned Go modules.
# The modules come from the Go module proxy; nothing is fetched from a repository at build time.
set -euo pipefail
cd "$(dirname "$0")/.."

VOLCANO=volcano.sh/volcano@v1.15.0
# lws v0.10.0 is not served by the module proxy ("not available"); v0.9.0 is the newest that is.
LWS=sigs.k8s.io/lws@v0.9.0
GATEWAY=sigs.k8s.io/gateway-api@v1.4.0
GIE=sigs.k8s.io/gateway-api-inference-extension@v1.1.0
KEDA=github.com/kedacore/keda/v2@v2.18.0

export GOTOOLCHAIN=local GOFLAGS=-mod=mod
moddir() { go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'; }
volcano=$(moddir "$VOLCANO")
lws=$(moddir "$LWS")
gateway=$(moddir "$GATEWAY")
gie=$(moddir "$GIE")
keda=$(moddir "$KEDA")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$volcano/config/crd/volcano/bases/scheduling.volcano.sh_podgroups.yaml" "$work/"
cp "$volcano/config/crd/volcano/bases/topology.volcano.sh_hypernodes.yaml" "$work/"
cp "$lws/config/crd/bases/leaderworkerset.x-k8s.io_leaderworkersets.yaml" "$work/"
cp "$gateway/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml" "$work/"
cp "$gie/config/crd/bases/inference.networking.k8s.io_inferencepools.yaml" "$work/"
cp "$keda/config/crd/bases/keda.sh_scaledobjects.yaml" "$work/"

rm -rf imports && mkdir imports
repo=$(pwd)
# Run from the scratch folder: `cdk8s import` records what it imported in the cdk8s.yaml of its folder.
for crd in "$work"/*.yaml; do
  (cd "$work" && "$repo/node_modules/.bin/cdk8s" import --language typescript --output "$repo/imports" "$crd")
done
echo "imports/ regenerated from $VOLCANO, $LWS, $GATEWAY, $GIE and $KEDA"
