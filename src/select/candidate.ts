// What selection knows about an object: a flat, API-free view built from the watch caches.

export interface WorkloadRef {
  readonly kind: string; // Deployment, StatefulSet, DaemonSet, ReplicaSet (bare), Job, ...
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
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
  /** The top-level workload (a pod's ReplicaSet resolves to its Deployment); none for orphans. */
  readonly owner: WorkloadRef | undefined;
  /** Values a field selector may name, e.g. "spec.nodeName". */
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
