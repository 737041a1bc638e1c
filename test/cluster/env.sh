# Shared settings of the local control plane scripts (sourced, not run).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
KCM_CACHE=${KCM_CACHE:-$HOME/.cache/kube-chaos-monkey}
CLUSTER_NAME=${KCM_CLUSTER_NAME:-chaos-monkey}
export KWOK_WORKDIR=${KCM_KWOK_WORKDIR:-$KCM_CACHE/kwok-workdir}
export KWOK_KUBE_VERSION=$K8S_VERSION
CLUSTER_DIR=$KWOK_WORKDIR/clusters/$CLUSTER_NAME
KUBECONFIG_PATH=$CLUSTER_DIR/kubeconfig.yaml
log() { printf '[cluster] %s\n' "$*" >&2; }
AUDIT_LOG=$CLUSTER_DIR/logs/audit.log
