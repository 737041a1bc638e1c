// Reading claims and volumes as the monkey needs them: who consumes a claim (from pod specs) and
// volume candidates for selection. Pure functions over the API's JSON.
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from "@kubernetes/client-node";
import type { Candidate, ConsumerRef, WorkloadRef } from "../select/candidate.js";
import { baseOf, topOwner } from "./objects.js";
import type { WorkloadLookup } from "./objects.js";

export const claimNamesOf = (pod: V1Pod): string[] =>
  (pod.spec?.volumes ?? []).flatMap((v) =>
    v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [],
  );

/** Live (not terminating) pods in `namespace` that mount claim `name`. */
export function consumersOf(pods: Iterable<V1Pod>, namespace: string, name: string): V1Pod[] {
  const out: V1Pod[] = [];
  for (const p of pods)
    if (
      p.metadata?.namespace === namespace &&
      !p.metadata.deletionTimestamp &&
      claimNamesOf(p).includes(name)
    )
      out.push(p);
  return out;
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
