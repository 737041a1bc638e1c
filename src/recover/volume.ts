// When is a killed claim or volume recovered (SPEC §3)? Pure: reads the view's caches.
//   claim:  a claim of the same namespace/name with a new uid is Bound, and every workload that
//           used it is whole (with a new Ready consumer pod if the round restarted consumers);
//   volume: every claim that was bound to it is Bound again (to a volume that is not the victim),
//           and the same for its consumers.
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

function finish(v: Victim, view: VolumeView, p: { replaced: boolean; ready: boolean }): Progress {
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
  return finish(v, view, { replaced, ready });
}

/** A claim is bound again when it is Bound to an existing volume that is not the victim. */
function reboundClaim(
  v: Victim,
  view: VolumeView,
  ref: { namespace: string; name: string },
): { replaced: boolean; bound: boolean } {
  const claim = view.claim(ref.namespace, ref.name);
  const pvName = claim?.spec?.volumeName;
  const pv = pvName ? view.volume(pvName) : undefined;
  const replaced = pv !== undefined && pv.metadata?.uid !== v.uid;
  return { replaced, bound: replaced && claim?.status?.phase === "Bound" };
}

export function volumeProgress(v: Victim, view: VolumeView): Progress {
  const successor = view.volume(v.name);
  const claims = (v.claims ?? []).map((ref) => reboundClaim(v, view, ref));
  const replaced =
    (successor !== undefined && successor.metadata?.uid !== v.uid) ||
    claims.some((c) => c.replaced);
  return finish(v, view, { replaced, ready: claims.length > 0 && claims.every((c) => c.bound) });
}
