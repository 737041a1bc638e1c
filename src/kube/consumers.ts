// Who consumes a claim: the live pods whose spec mounts it. Pure functions over the API's JSON.
import type { V1Pod } from "@kubernetes/client-node";

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
