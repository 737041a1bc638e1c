#!/usr/bin/env bash
# Starts the local control plane (kube-apiserver, etcd, kube-controller-manager, kube-scheduler and
# kwok simulating 3 nodes, or $KCM_NODES), or reuses the one already running. The last line
# printed is the path of its kubeconfig. KCM_CLUSTER_NAME picks another cluster (the benchmark's).
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/env.sh"

bindir=$(bash "$here/build-binaries.sh" | tail -n 1)
export PATH="$bindir:$PATH" # kwokctl takes kubectl from PATH: use the one built with the cluster

healthy() { [ -f "$KUBECONFIG_PATH" ] && kubectl --kubeconfig "$KUBECONFIG_PATH" get --raw /readyz >/dev/null 2>&1; }

create() {
  log "creating cluster $CLUSTER_NAME (Kubernetes $K8S_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION)"
  kwokctl create cluster --name "$CLUSTER_NAME" --runtime binary --kubeconfig '' \
    --kube-apiserver-binary "$bindir/kube-apiserver" \
    --kube-controller-manager-binary "$bindir/kube-controller-manager" \
    --kube-scheduler-binary "$bindir/kube-scheduler" \
    --kwok-controller-binary "$bindir/kwok" \
    --etcd-binary "$bindir/etcd" \
    --kube-authorization --kube-admission --disable-qps-limits \
    --kube-audit-policy "$here/audit-policy.yaml" \
    --config "$here/kwok-stages.yaml" --wait 120s >&2
}

started=$(date +%s%N)
# A cluster made with another audit policy is stale: the tests read what the policy records.
if [ -f "$CLUSTER_DIR/audit.yaml" ] && ! cmp -s "$here/audit-policy.yaml" "$CLUSTER_DIR/audit.yaml"; then
  log "audit policy changed: recreating $CLUSTER_NAME"
  bash "$here/down.sh"
fi
if healthy; then
  log "reusing running cluster $CLUSTER_NAME"
elif [ -d "$CLUSTER_DIR" ]; then
  log "cluster $CLUSTER_NAME exists but is not answering: starting it"
  if ! kwokctl start cluster --name "$CLUSTER_NAME" --wait 120s >&2 || ! healthy; then
    log "restart failed: recreating"
    kwokctl delete cluster --name "$CLUSTER_NAME" >&2 || true
    create
  fi
else
  create
fi

# Each fake node takes 2000 pods; the benchmark asks for more nodes with KCM_NODES.
want=${KCM_NODES:-3}
nodes=$(kubectl --kubeconfig "$KUBECONFIG_PATH" get nodes -o name 2>/dev/null | wc -l)
if [ "$nodes" -lt "$want" ]; then
  log "adding fake nodes ($want in all)"
  kwokctl scale node --name "$CLUSTER_NAME" --replicas "$want" >&2
fi
kubectl --kubeconfig "$KUBECONFIG_PATH" wait --for=condition=Ready node --all --timeout=120s >/dev/null
log "ready in $(( ($(date +%s%N) - started) / 1000000 )) ms"
echo "$KUBECONFIG_PATH"
