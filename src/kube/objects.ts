// Kubernetes objects as the caches hold them: the workload kinds, owners resolved to the
// top-level workload, and the slimmed pod a cache keeps. Pure functions over the API's JSON.
import type {
  V1ObjectMeta,
  V1DaemonSet,
  V1Deployment,
  V1OwnerReference,
  V1Pod,
  V1PodSpec,
  V1PodStatus,
  V1ReplicaSet,
  V1StatefulSet,
} from "@kubernetes/client-node";

/** A workload as an owner reference names it. */
export interface WorkloadRef {
  readonly kind: string; // Deployment, StatefulSet, DaemonSet, ReplicaSet (bare), Job, ...
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export type Workload = V1Deployment | V1StatefulSet | V1DaemonSet | V1ReplicaSet;
export const WORKLOAD_RESOURCES = {
  Deployment: "deployments",
  ReplicaSet: "replicasets",
  StatefulSet: "statefulsets",
  DaemonSet: "daemonsets",
} as const;
export type WorkloadKind = keyof typeof WORKLOAD_RESOURCES;

/** Finds a workload by kind, namespace and name (the view's caches). */
export type WorkloadLookup = (
  kind: string,
  namespace: string,
  name: string,
) => Workload | undefined;

export const controllerOf = (refs: V1OwnerReference[] | undefined): V1OwnerReference | undefined =>
  refs?.find((r) => r.controller === true);

/** The pod's top-level controller: a ReplicaSet owned by a Deployment resolves to the Deployment. */
export function topOwner(pod: V1Pod, lookup: WorkloadLookup): WorkloadRef | undefined {
  const ref = controllerOf(pod.metadata?.ownerReferences);
  if (!ref) return undefined;
  const namespace = pod.metadata?.namespace ?? "";
  if (ref.kind === "ReplicaSet") {
    const rs = lookup("ReplicaSet", namespace, ref.name);
    const parent = controllerOf(rs?.metadata?.ownerReferences);
    if (parent?.kind === "Deployment")
      return { kind: "Deployment", namespace, name: parent.name, uid: parent.uid };
  }
  return { kind: ref.kind, namespace, name: ref.name, uid: ref.uid };
}

/**
 * The parts of a pod the monkey reads: selection (metadata, the fields a field selector may
 * name, phase), recovery (owners, Ready, deletion) and volume consumers (claim volumes). Caches
 * keep only these, which makes a cached pod several times smaller than the API's object.
 */
export function podEssentials(pod: V1Pod): V1Pod {
  const m: V1ObjectMeta = pod.metadata ?? {};
  const spec: Partial<V1PodSpec> = pod.spec ?? {};
  const status: V1PodStatus = pod.status ?? {};
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      labels: m.labels,
      annotations: m.annotations,
      creationTimestamp: m.creationTimestamp,
      deletionTimestamp: m.deletionTimestamp,
      ownerReferences: m.ownerReferences,
      finalizers: m.finalizers,
    },
    spec: {
      containers: [],
      nodeName: spec.nodeName,
      restartPolicy: spec.restartPolicy,
      schedulerName: spec.schedulerName,
      serviceAccountName: spec.serviceAccountName,
      volumes: spec.volumes
        ?.filter((v) => v.persistentVolumeClaim)
        .map((v) => ({ name: v.name, persistentVolumeClaim: v.persistentVolumeClaim })),
    },
    status: {
      phase: status.phase,
      podIP: status.podIP,
      nominatedNodeName: status.nominatedNodeName,
      conditions: status.conditions
        ?.filter((c) => c.type === "Ready")
        .map((c) => ({ type: c.type, status: c.status })),
    },
  };
}
