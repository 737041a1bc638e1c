// What selection knows about an object: a flat, API-free view built from the watch caches.
import type { WorkloadRef } from "../kube/objects.js";

/** A pod mounting a volume victim's claim, as the caches showed it when it was selected. */
export interface ConsumerRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** The version the eligibility decision read, for a delete precondition. */
  readonly resourceVersion: string | undefined;
}

export interface Candidate {
  readonly kind: "Pod" | "PersistentVolumeClaim" | "PersistentVolume";
  /** "" for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly createdAtMs: number;
  readonly deleting: boolean;
  /** Pods: status.phase. Volumes: their phase (Bound, Released, ...). */
  readonly phase: string | undefined;
  /**
   * Namespaces whose exclusion and opt-out protect this object: its own, or for a volume the
   * namespace of the claim bound to it. Empty for an unbound volume.
   */
  readonly guardNamespaces: readonly string[];
  /**
   * Annotations of the other objects whose opt-out protects this one: for a claim, the live pods
   * mounting it; for a volume, its bound claim and that claim's pods. Empty for pods. An
   * `undefined` entry is an object that should be there but no cache holds (a bound volume's
   * claim not seen yet): it cannot be shown not to opt out, so it protects (fail closed).
   */
  readonly guardAnnotations: readonly (Readonly<Record<string, string>> | undefined)[];
  /**
   * Live pods mounting the claim (a volume's: its bound claim's); empty for pods. They are
   * restarted with the victim when the target's action.restartConsumers is set.
   */
  readonly consumers: readonly ConsumerRef[];
  /** The top-level workload (a pod's ReplicaSet resolves to its Deployment); none for orphans. */
  readonly owner: WorkloadRef | undefined;
  /**
   * The values a field selector may name: one key per SELECTABLE_FIELDS entry of the kind
   * (labels.ts), e.g. "spec.nodeName"; undefined for an unset field (it reads as "").
   */
  readonly fields: Readonly<Record<string, string | undefined>>;
}

export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** Who the monkey is, so it never kills itself. */
export interface Self {
  readonly namespace: string;
  readonly podName: string | undefined;
}

export const candidateKey = (c: Pick<Candidate, "namespace" | "name">): string =>
  c.namespace ? `${c.namespace}/${c.name}` : c.name;
