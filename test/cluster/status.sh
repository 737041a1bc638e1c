#!/usr/bin/env bash
# Exits 0 when the local control plane is running and answering, 1 otherwise.
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/env.sh"
kubectl=$KCM_CACHE/k8s-$K8S_VERSION/kubectl
[ -f "$KUBECONFIG_PATH" ] && [ -x "$kubectl" ] && "$kubectl" --kubeconfig "$KUBECONFIG_PATH" get --raw /readyz >/dev/null 2>&1
