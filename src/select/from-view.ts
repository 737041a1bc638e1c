// The candidates of a target, built from the watch caches: what a round selects from and what
// the re-check before a kill compares with.
import type { KubernetesObject, V1PersistentVolume } from "@kubernetes/client-node";
import type { Target } from "../config/types.js";
import type { ClusterView } from "../kube/view.js";
import type { Candidate, NamespaceInfo } from "./candidate.js";
import { claimCandidate, namespaceInfo, podCandidate, volumeCandidate } from "./from-objects.js";

/** What candidates are built from. */
export type CandidateView = Pick<
  ClusterView,
  "objectsOf" | "namespaceObjects" | "workload" | "consumers" | "claim"
>;

export function candidatesOf(view: CandidateView, target: Target): Candidate[] {
  return view.objectsOf(target).map((o) => candidateOf(view, target.kind, o));
}

/**
 * `obj` (from a cache, or read fresh right before a kill) as selection sees it, with what the
 * caches know around it: its workload, a claim's consumers, a volume's claim.
 */
export function candidateOf(
  view: CandidateView,
  kind: Candidate["kind"],
  obj: KubernetesObject,
): Candidate {
  if (kind === "Pod") return podCandidate(obj, view.workload);
  if (kind === "PersistentVolumeClaim")
    return claimCandidate(
      obj,
      view.consumers(obj.metadata?.namespace ?? "", obj.metadata?.name ?? ""),
      view.workload,
    );
  return volumeCandidateOf(view, obj);
}

function volumeCandidateOf(view: CandidateView, pv: V1PersistentVolume): Candidate {
  const ref = pv.spec?.claimRef;
  const bound = ref?.namespace && ref.name ? { ns: ref.namespace, name: ref.name } : undefined;
  return volumeCandidate(
    pv,
    bound && view.claim(bound.ns, bound.name),
    bound ? view.consumers(bound.ns, bound.name) : [],
    view.workload,
  );
}

export function namespacesOf(view: CandidateView): Map<string, NamespaceInfo> {
  const out = new Map<string, NamespaceInfo>();
  for (const ns of view.namespaceObjects()) out.set(ns.metadata?.name ?? "", namespaceInfo(ns));
  return out;
}
