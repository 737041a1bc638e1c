#!/usr/bin/env bash
# Builds Prometheus 3 (prometheus and promtool) from Go modules (no release downloads exist on
# this network) into a cache keyed by version, for the monitoring tests: promtool checks and
# unit-tests the alert rules, the server scrapes the monkey and evaluates the dashboard's and the
# rules' expressions. A warm cache returns at once; prints the bin directory as its last line.
#
# github.com/prometheus/prometheus publishes Prometheus 3.Y.Z as the Go module v0.3YY.Z. Its go.mod
# has no replace directives, so `go install …@version` builds it with exactly the dependency
# versions upstream pins (as kwok in build-binaries.sh; a wrapper module would resolve the same).
# Without the `builtinassets` tag the web UI is read from ./web/ui/static under the working
# directory, which does not exist: the UI pages are missing, the HTTP API (/api/v1/…) is whole.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${KCM_CACHE:-$HOME/.cache/kube-chaos-monkey}
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
log() { printf '[build-prometheus] %s\n' "$*" >&2; }

out=$cache/prometheus-$PROMETHEUS_VERSION
if [ -x "$out/prometheus" ] && [ -x "$out/promtool" ]; then
  echo "$out"
  exit 0
fi
# v0.316.0 → 3.16.0: what `prometheus --version` prints, as in upstream's release builds.
minor=${PROMETHEUS_VERSION#v0.}
patch=${minor#*.}
minor=${minor%%.*}
version=${minor:0:1}.$((10#${minor:1})).$patch
log "building Prometheus $version ($PROMETHEUS_VERSION; cold: 7.6 CPU-minutes, 1.1 GB of modules)"
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
pkg=github.com/prometheus/common/version
# netgo and CGO_ENABLED=0: a static binary with Go's resolver, as upstream's release (.promu.yml).
# remove_all_sd (upstream's documented tag) leaves out the service discoveries but file, HTTP and
# static: the tests scrape static targets, and the cloud SDKs (AWS, Azure, GCE, Kubernetes, …)
# would double the cold build (measured: 15 min wall, 3.3 GB peak RSS, 188 MB of binaries, against
# 7-9 min, 0.95 GB and 102 MB). PromQL, rules, TSDB and the HTTP API are the release's own code.
CGO_ENABLED=0 GOBIN="$out.tmp" go install -trimpath -tags netgo,remove_all_sd \
  -ldflags "-s -w -X $pkg.Version=$version -X $pkg.BuildUser=kube-chaos-monkey -X $pkg.BuildDate=19700101-00:00:00" \
  "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION" \
  "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION" >&2
rm -rf "$out" && mv "$out.tmp" "$out"
echo "$out"
