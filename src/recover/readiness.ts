// When a pod is Ready and a workload is whole: the readiness rules recovery is measured by, and
// which selection's "only kill from a healthy workload" rule reads too.
import type { V1DaemonSet, V1Deployment, V1Pod } from "@kubernetes/client-node";
import type { Workload, WorkloadLookup } from "../kube/objects.js";
import type { WorkloadRef } from "../kube/objects.js";

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

/** Desired and ready counts as the workload's controller reports them. */
export function readiness(kind: string, w: Workload): { desired: number; ready: number } {
  if (kind === "DaemonSet") {
    const s = (w as V1DaemonSet).status;
    return { desired: s?.desiredNumberScheduled ?? 0, ready: s?.numberReady ?? 0 };
  }
  const spec = (w as V1Deployment).spec;
  const status = (w as V1Deployment).status;
  return { desired: spec?.replicas ?? 1, ready: status?.readyReplicas ?? 0 };
}

/** The workload is whole: its controller has seen the latest spec and all desired replicas are ready. */
export function workloadWhole(kind: string, w: Workload): boolean {
  const observed = w.status?.observedGeneration ?? 0;
  if (observed < (w.metadata?.generation ?? 0)) return false;
  const { desired, ready } = readiness(kind, w);
  return ready >= desired;
}

/** Is the workload whole right now? Unknown owner kinds count as not healthy (fail safe). */
export function ownerWhole(workload: WorkloadLookup, owner: WorkloadRef): boolean {
  const w = workload(owner.kind, owner.namespace, owner.name);
  return w !== undefined && w.metadata?.uid === owner.uid && workloadWhole(owner.kind, w);
}
