// What a kill's recovery is measured against, snapshotted right before the kill: the pods the
// workload had (anything else that appears is a replacement), and for a claim or volume the
// claims to be bound again and the pods that mounted them.
import type { V1Pod } from "@kubernetes/client-node";
import type { Target } from "../config/types.js";
import { topOwner } from "../kube/objects.js";
import type { ClusterView } from "../kube/view.js";
import type { Candidate } from "../select/candidate.js";
import type { WorkloadRef } from "../kube/objects.js";

/** What the snapshot reads of the caches. */
export type BaselineView = Pick<ClusterView, "volume" | "workloadPods" | "consumers" | "workload">;

/** What recovery compares against: the pods there were, and for a volume its claims and consumers. */
export interface Baseline {
  readonly knownUids: Set<string>;
  readonly consumers: readonly V1Pod[];
  readonly claims: readonly { namespace: string; name: string }[];
}

/** The claims a killed claim or volume leaves behind to be bound again. */
function claimsOf(victim: Candidate, view: BaselineView): { namespace: string; name: string }[] {
  if (victim.kind === "PersistentVolumeClaim")
    return [{ namespace: victim.namespace, name: victim.name }];
  const ref = view.volume(victim.name)?.spec?.claimRef;
  return ref?.namespace && ref.name ? [{ namespace: ref.namespace, name: ref.name }] : [];
}

export function baselineOf(victim: Candidate, target: Target, view: BaselineView): Baseline {
  if (victim.kind === "Pod") {
    // Pods of the same workload before the kill: anything else that appears is a replacement.
    const owner = victim.owner;
    const pods = owner ? view.workloadPods(target.name, owner) : [];
    return {
      knownUids: new Set([victim.uid, ...pods.map((p) => p.metadata?.uid ?? "")]),
      consumers: [],
      claims: [],
    };
  }
  const claims = claimsOf(victim, view);
  const consumers = claims.flatMap((c) => view.consumers(c.namespace, c.name));
  return { knownUids: new Set(consumers.map((p) => p.metadata?.uid ?? "")), consumers, claims };
}

export function ownersOf(pods: readonly V1Pod[], view: BaselineView): WorkloadRef[] {
  const out = new Map<string, WorkloadRef>();
  for (const p of pods) {
    const o = topOwner(p, view.workload);
    if (o) out.set(o.uid, o);
  }
  return [...out.values()];
}
