#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd, kwok and kwokctl
# from Go modules (no release downloads exist on this network) into a cache keyed by version.
# A warm cache returns at once; prints the bin directory as its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${KCM_CACHE:-$HOME/.cache/kube-chaos-monkey}
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
log() { printf '[build-binaries] %s\n' "$*" >&2; }

have() { for b in "$@"; do [ -x "$b" ] || return 1; done; }

build_k8s() {
  local out=$cache/k8s-$K8S_VERSION minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  if have "$out"/kube-apiserver "$out"/kube-controller-manager "$out"/kube-scheduler "$out"/kubectl; then return; fi
  log "building Kubernetes $K8S_VERSION (cold: tens of minutes on 2 cores)"
  local mod=$cache/src/k8s-$K8S_VERSION staging=v0.${K8S_VERSION#v1.}
  mkdir -p "$mod" "$out.tmp"
  cd "$mod"
  printf 'module kcm.local/k8sbuild\n\ngo 1.26.0\n' > go.mod
  go mod edit -require="k8s.io/kubernetes@$K8S_VERSION"
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  # Every staging module the release pins at v0.0.0 is replaced by its published tag.
  grep -E '^\s+k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | awk '{print $1}' | while read -r m; do
    go mod edit -replace="$m=$m@$staging"
  done
  printf 'package tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n' > tools.go
  go mod tidy >&2
  local pkg=k8s.io/component-base/version
  # -mod=mod lets go add the sums of packages only the commands (not tools.go) import.
  go build -mod=mod -trimpath -o "$out.tmp/" -ldflags "-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl >&2
  rm -rf "$out" && mv "$out.tmp" "$out"
}

build_etcd() {
  local out=$cache/etcd-$ETCD_VERSION
  if have "$out"/etcd; then return; fi
  log "building etcd $ETCD_VERSION"
  local mod=$cache/src/etcd-$ETCD_VERSION
  mkdir -p "$mod" "$out.tmp"
  cd "$mod"
  printf 'module kcm.local/etcdbuild\n\ngo 1.26.0\n' > go.mod
  printf 'package tools\n\nimport _ "go.etcd.io/etcd/server/v3/etcdmain"\n' > tools.go
  go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go mod tidy >&2
  go build -mod=mod -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3 >&2
  rm -rf "$out" && mv "$out.tmp" "$out"
}

build_kwok() {
  local out=$cache/kwok-$KWOK_VERSION
  if have "$out"/kwok "$out"/kwokctl; then return; fi
  log "building kwok $KWOK_VERSION"
  mkdir -p "$out.tmp"
  GOBIN="$out.tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION" >&2
  rm -rf "$out" && mv "$out.tmp" "$out"
}

build_etcd
build_kwok
build_k8s
bindir=$cache/bin-$K8S_VERSION-$ETCD_VERSION-$KWOK_VERSION
mkdir -p "$bindir"
for b in "$cache/k8s-$K8S_VERSION"/* "$cache/etcd-$ETCD_VERSION"/etcd "$cache/kwok-$KWOK_VERSION"/*; do
  ln -sf "$b" "$bindir/$(basename "$b")"
done
echo "$bindir"
