// When is a killed pod's workload whole again (SPEC §3)? A replacement pod exists, it is Ready,
// and the workload's controller reports all desired replicas ready. Pure: reads cache contents.
import type { V1Pod } from "@kubernetes/client-node";
import { topOwner } from "../kube/objects.js";
import type { Workload, WorkloadLookup } from "../kube/objects.js";
import type { Progress, Victim } from "./types.js";
import { isPodReady, workloadWhole } from "./readiness.js";

export function podProgress(
  victim: Victim,
  pods: readonly V1Pod[],
  lookup: WorkloadLookup,
): Progress {
  const owner = victim.owner;
  if (!owner) return { replaced: false, ready: false, recovered: false, gone: false };
  const workload: Workload | undefined = lookup(owner.kind, owner.namespace, owner.name);
  if (!workload || workload.metadata?.uid !== owner.uid)
    return { replaced: false, ready: false, recovered: false, gone: true };
  const replacements = pods.filter(
    (p) =>
      !victim.knownUids.has(p.metadata?.uid ?? "") &&
      !p.metadata?.deletionTimestamp &&
      topOwner(p, lookup)?.uid === owner.uid,
  );
  const ready = replacements.some(isPodReady);
  return {
    replaced: replacements.length > 0,
    ready,
    recovered: ready && workloadWhole(owner.kind, workload),
    gone: false,
  };
}
