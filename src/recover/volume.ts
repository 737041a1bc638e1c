// When is a killed volume recovered (SPEC §3)? Every claim that was bound to it is Bound again,
// to a volume that is not the victim, and its consumers are back as for a claim (claim.ts).
// Pure: reads the view's caches.
import type { Progress, Victim } from "./types.js";
import { withConsumers } from "./claim.js";
import type { VolumeView } from "./claim.js";

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
  return withConsumers(v, view, {
    replaced,
    ready: claims.length > 0 && claims.every((c) => c.bound),
  });
}
