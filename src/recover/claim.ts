// When is a killed claim recovered (SPEC §3)? A claim of the same namespace/name with a new uid is
// Bound, and every workload that used it is whole (with a new Ready consumer pod if the round
// restarted consumers). A killed volume's claims are judged the same way (volume.ts). Pure:
// reads the view's caches.
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from "@kubernetes/client-node";
import type { WorkloadLookup } from "../kube/objects.js";
import type { Progress, Victim } from "./types.js";
import { isPodReady, workloadWhole } from "./readiness.js";

export interface VolumeView {
  claim(namespace: string, name: string): V1PersistentVolumeClaim | undefined;
  volume(name: string): V1PersistentVolume | undefined;
  consumers(namespace: string, name: string): V1Pod[];
  readonly workload: WorkloadLookup;
}

/** Every consumer workload still exists (same uid) and is whole; `gone` if one was deleted. */
function consumersWhole(v: Victim, view: VolumeView): { whole: boolean; gone: boolean } {
  let whole = true;
  for (const o of v.consumerOwners ?? []) {
    const w = view.workload(o.kind, o.namespace, o.name);
    if (!w || w.metadata?.uid !== o.uid) return { whole: false, gone: true };
    if (!workloadWhole(o.kind, w)) whole = false;
  }
  return { whole, gone: false };
}

/** A consumer pod created after the kill mounts the claim and is Ready. */
function newConsumerReady(
  v: Victim,
  view: VolumeView,
  claim: { namespace: string; name: string },
): boolean {
  return view
    .consumers(claim.namespace, claim.name)
    .some((p) => !v.knownUids.has(p.metadata?.uid ?? "") && isPodReady(p));
}

/** The claim side is back (`p`); recovered once the consumers are too. */
export function withConsumers(
  v: Victim,
  view: VolumeView,
  p: { replaced: boolean; ready: boolean },
): Progress {
  const c = consumersWhole(v, view);
  if (c.gone) return { replaced: p.replaced, ready: p.ready, recovered: false, gone: true };
  const consumersBack =
    !v.restartedConsumers || (v.claims ?? []).every((claim) => newConsumerReady(v, view, claim));
  return { ...p, recovered: p.ready && c.whole && consumersBack, gone: false };
}

export function claimProgress(v: Victim, view: VolumeView): Progress {
  const claim = view.claim(v.namespace, v.name);
  const replaced = claim !== undefined && claim.metadata?.uid !== v.uid;
  const ready = replaced && claim.status?.phase === "Bound";
  return withConsumers(v, view, { replaced, ready });
}
