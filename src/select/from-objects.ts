// How API objects become selection candidates: a pod, claim or volume flattened to what the
// eligibility rules read, with what the caches know around it (its workload, a claim's
// consumers, a volume's claim). Pure functions over the API's JSON.
import type {
  V1Namespace,
  V1ObjectMeta,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
} from "@kubernetes/client-node";
import { topOwner } from "../kube/objects.js";
import type { WorkloadLookup, WorkloadRef } from "../kube/objects.js";
import type { Candidate, ConsumerRef, NamespaceInfo } from "./candidate.js";

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

/** The one workload behind a claim's consumers (the first found), for maxPerOwner and health. */
function consumerOwner(
  consumers: readonly V1Pod[],
  lookup: WorkloadLookup,
): WorkloadRef | undefined {
  for (const p of consumers) {
    const o = topOwner(p, lookup);
    if (o) return o;
  }
  return undefined;
}

const consumerRef = (p: V1Pod): ConsumerRef => ({
  namespace: p.metadata?.namespace ?? "",
  name: p.metadata?.name ?? "",
  uid: p.metadata?.uid ?? "",
  resourceVersion: p.metadata?.resourceVersion,
});

const annotationsOf = (p: V1Pod): Readonly<Record<string, string>> => p.metadata?.annotations ?? {};

/** `consumers`: the live pods mounting the claim (consumersOf). */
export function claimCandidate(
  pvc: V1PersistentVolumeClaim,
  consumers: readonly V1Pod[],
  lookup: WorkloadLookup,
): Candidate {
  const base = baseOf(pvc.metadata);
  return {
    ...base,
    kind: "PersistentVolumeClaim",
    phase: pvc.status?.phase,
    guardNamespaces: [base.namespace],
    // Deleting the claim takes its pods' data (and, restarted, the pods): their opt-out holds.
    guardAnnotations: consumers.map(annotationsOf),
    consumers: consumers.map(consumerRef),
    owner: consumerOwner(consumers, lookup),
    fields: { "metadata.name": base.name, "metadata.namespace": base.namespace },
  };
}

/**
 * The annotations guarding a volume: its bound claim's (undefined when no cache holds it, or the
 * claim cached under that name is another one, not the claim bound to it) and its pods'.
 */
function volumeGuards(
  ref: NonNullable<V1PersistentVolume["spec"]>["claimRef"],
  claim: V1PersistentVolumeClaim | undefined,
  consumers: readonly V1Pod[],
): Candidate["guardAnnotations"] {
  if (!ref?.namespace) return [];
  const bound = claim && (!ref.uid || claim.metadata?.uid === ref.uid) ? claim : undefined;
  return [bound ? (bound.metadata?.annotations ?? {}) : undefined, ...consumers.map(annotationsOf)];
}

/**
 * `claim`: the claim the volume's claimRef names, from the caches (undefined if they do not hold
 * it); `consumers`: the live pods mounting that claim.
 */
export function volumeCandidate(
  pv: V1PersistentVolume,
  claim: V1PersistentVolumeClaim | undefined,
  consumers: readonly V1Pod[],
  lookup: WorkloadLookup,
): Candidate {
  const base = baseOf(pv.metadata);
  const ref = pv.spec?.claimRef;
  return {
    ...base,
    kind: "PersistentVolume",
    namespace: "",
    phase: pv.status?.phase,
    // A volume is guarded by its claim's namespace: excluding or opting out a namespace
    // protects the volumes its claims use.
    guardNamespaces: ref?.namespace ? [ref.namespace] : [],
    // And by its claim and the claim's pods.
    guardAnnotations: volumeGuards(ref, claim, consumers),
    consumers: consumers.map(consumerRef),
    owner: consumerOwner(consumers, lookup),
    fields: { "metadata.name": base.name, "metadata.namespace": "" },
  };
}
