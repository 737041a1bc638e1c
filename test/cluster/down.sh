#!/usr/bin/env bash
# Stops the local control plane and removes every process and file it started.
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/env.sh"

if [ -d "$CLUSTER_DIR" ]; then
  kwokctl=$(ls "$KCM_CACHE/kwok-$KWOK_VERSION/kwokctl" 2>/dev/null || true)
  if [ -n "$kwokctl" ]; then
    log "deleting cluster $CLUSTER_NAME"
    "$kwokctl" delete cluster --name "$CLUSTER_NAME" >&2 || true
  fi
fi
# kwokctl signals the components and returns; give them 10 s to exit, then make sure: a crash
# can also orphan a component, and nothing of the cluster may outlive cluster:down.
for _ in $(seq 50); do
  [ -z "$(pgrep -f -- "$CLUSTER_DIR" || true)" ] && break
  sleep 0.2
done
pids=$(pgrep -f -- "$CLUSTER_DIR" || true)
if [ -n "$pids" ]; then
  log "stopping leftover processes: $(echo "$pids" | tr '\n' ' ')"
  kill $pids 2>/dev/null || true
  sleep 2
  kill -9 $(pgrep -f -- "$CLUSTER_DIR" || true) 2>/dev/null || true
fi
rm -rf "$CLUSTER_DIR"
log "cluster $CLUSTER_NAME is down"
