// Reading claims and volumes as the monkey needs them: who consumes a claim (from pod specs),
// volume candidates for selection, and the marker a victim carries from before its delete until
// it is gone (crash safety, SPEC §7.4). Pure functions over the API's JSON.
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from "@kubernetes/client-node";
import type { Candidate, WorkloadRef } from "../select/candidate.js";
import { baseOf, topOwner } from "./objects.js";
import type { WorkloadLookup } from "./objects.js";

/** Annotations written on a volume victim before it is deleted. */
export const MARK_ROUND = "chaos-monkey.io/round";
export const MARK_TARGET = "chaos-monkey.io/target";
/** Comma-separated finalizers the round will remove once the object is Terminating. */
export const MARK_STRIP = "chaos-monkey.io/strip-finalizers";

export const EXTERNAL_PROVISIONER_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer";

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
    owner: consumerOwner(consumers, lookup),
    fields: {
      "metadata.name": base.name,
      "metadata.namespace": base.namespace,
      "status.phase": pvc.status?.phase,
    },
  };
}

export function volumeCandidate(
  pv: V1PersistentVolume,
  consumers: readonly V1Pod[],
  lookup: WorkloadLookup,
): Candidate {
  const base = baseOf(pv.metadata);
  const claim = pv.spec?.claimRef;
  return {
    ...base,
    kind: "PersistentVolume",
    namespace: "",
    phase: pv.status?.phase,
    // A volume is guarded by its claim's namespace: excluding or opting out a namespace
    // protects the volumes its claims use.
    guardNamespaces: claim?.namespace ? [claim.namespace] : [],
    owner: consumerOwner(consumers, lookup),
    fields: {
      "metadata.name": base.name,
      "status.phase": pv.status?.phase,
      "spec.storageClassName": pv.spec?.storageClassName,
    },
  };
}

export interface StripPlan {
  /** JSON Patch: for each finalizer, a test of its current value and a remove (highest index first). */
  readonly patch: { op: "test" | "remove"; path: string; value?: string }[];
  readonly finalizers: readonly string[];
}

/**
 * Which finalizers may be stripped from `obj` now (SPEC §7.3): only when it is being deleted, only
 * those `named`, only present ones, and only when it is the very object (uid) we deleted.
 * Undefined when there is nothing to do.
 */
export function stripPlan(
  obj: { metadata?: { uid?: string; deletionTimestamp?: unknown; finalizers?: string[] } },
  x: { uid: string; named: readonly string[] },
): StripPlan | undefined {
  const m = obj.metadata;
  if (!m || m.uid !== x.uid || !m.deletionTimestamp) return undefined;
  const present = (m.finalizers ?? [])
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => x.named.includes(f));
  if (present.length === 0) return undefined;
  const patch: StripPlan["patch"] = [{ op: "test", path: "/metadata/uid", value: x.uid }];
  for (const { f, i } of [...present].reverse())
    patch.push(
      { op: "test", path: `/metadata/finalizers/${i}`, value: f },
      { op: "remove", path: `/metadata/finalizers/${i}` },
    );
  return { patch, finalizers: present.map(({ f }) => f) };
}

/** The finalizers a marked object asks to have stripped, from its marker annotation. */
export const markedStrip = (annotations: Record<string, string> | undefined): string[] =>
  (annotations?.[MARK_STRIP] ?? "").split(",").filter(Boolean);

/** Why stripping this volume may leak the backing disk (logged as a warning), if it may. */
export function leakRisk(pv: V1PersistentVolume | undefined): string | undefined {
  if (!pv) return undefined;
  if (pv.metadata?.finalizers?.includes(EXTERNAL_PROVISIONER_FINALIZER))
    return "it carries the external provisioner's finalizer: stripping it skips the backend delete";
  if (pv.spec?.persistentVolumeReclaimPolicy === "Delete") return "its reclaim policy is Delete";
  return undefined;
}
