// Reading Kubernetes objects as the monkey needs them: pods as selection candidates, owners
// resolved to the top-level workload, and whether a workload is whole. Pure functions over the
// API's JSON.
import type {
  V1ObjectMeta,
  V1DaemonSet,
  V1Deployment,
  V1Namespace,
  V1OwnerReference,
  V1Pod,
  V1PodSpec,
  V1PodStatus,
  V1ReplicaSet,
  V1StatefulSet,
} from "@kubernetes/client-node";
import type { Candidate, NamespaceInfo, WorkloadRef } from "../select/candidate.js";

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

/** The metadata part of a candidate, the same for every kind. */
// eslint-disable-next-line complexity -- `??` defaults for absent fields, not branching logic
export function baseOf(m: V1ObjectMeta | undefined) {
  return {
    namespace: m?.namespace ?? "",
    name: m?.name ?? "",
    uid: m?.uid ?? "",
    labels: m?.labels ?? {},
    annotations: m?.annotations ?? {},
    createdAtMs: m?.creationTimestamp === undefined ? 0 : new Date(m.creationTimestamp).getTime(),
    deleting: m?.deletionTimestamp !== undefined && m.deletionTimestamp !== null,
  };
}

export function podCandidate(pod: V1Pod, lookup: WorkloadLookup): Candidate {
  const m = pod.metadata;
  const namespace = m?.namespace ?? "";
  return {
    ...baseOf(m),
    kind: "Pod",
    phase: pod.status?.phase,
    guardNamespaces: [namespace],
    guardAnnotations: [],
    consumers: [],
    owner: topOwner(pod, lookup),
    fields: podFields(pod),
  };
}

/** Every field a Pod field selector may name (SELECTABLE_FIELDS.Pod), read from the pod. */
function podFields(pod: V1Pod): Record<string, string | undefined> {
  const { spec, status, metadata: m } = pod;
  return {
    "metadata.name": m?.name,
    "metadata.namespace": m?.namespace ?? "",
    "spec.nodeName": spec?.nodeName,
    "spec.restartPolicy": spec?.restartPolicy,
    "spec.schedulerName": spec?.schedulerName,
    "spec.serviceAccountName": spec?.serviceAccountName,
    "status.nominatedNodeName": status?.nominatedNodeName,
    "status.phase": status?.phase,
    "status.podIP": status?.podIP,
  };
}

export function namespaceInfo(ns: V1Namespace): NamespaceInfo {
  return {
    name: ns.metadata?.name ?? "",
    labels: ns.metadata?.labels ?? {},
    annotations: ns.metadata?.annotations ?? {},
  };
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
