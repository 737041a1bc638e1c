// The monkey's picture of the cluster: watch caches scoped by the targets' namespaces and label
// selectors (no periodic LIST), shared where targets overlap. Selection reads candidates from
// it; recovery subscribes to its events.
import type {
  KubeConfig,
  KubernetesObject,
  V1Namespace,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
} from "@kubernetes/client-node";
import type { Clock } from "../clock.js";
import type { Config, Target } from "../config/types.js";
import { podWatchFieldSelector } from "../selectors/labels.js";
import { Informer } from "./informer.js";
import type { InformerEvent } from "./informer.js";
import { podEssentials, topOwner, WORKLOAD_RESOURCES } from "./objects.js";
import { ControllerIndex } from "./owners.js";
import { RetryNow } from "./retry.js";
import type { Workload, WorkloadKind } from "./objects.js";
import { consumersOf } from "./consumers.js";
import type { WorkloadRef } from "./objects.js";

export interface ViewOptions {
  readonly kc: KubeConfig;
  readonly config: Config;
  readonly clock: Clock;
  readonly rng: () => number;
  readonly onError?: (what: string, err: unknown) => void;
}

const nsPath = (namespace: string, resource: string, group = "/api/v1") =>
  namespace ? `${group}/namespaces/${namespace}/${resource}` : `${group}/${resource}`;

/** Namespace scopes a target watches: its listed namespaces, or "" for all of them. */
function scopes(target: Target): string[] {
  return target.selector.namespaces.length > 0 ? [...target.selector.namespaces] : [""];
}

export class ClusterView {
  private readonly informers = new Map<string, Informer<KubernetesObject>>();
  private readonly podInformersByTarget = new Map<string, Informer<V1Pod>[]>();
  private readonly workloads = new Map<WorkloadKind, Informer<Workload>[]>();
  private readonly namespaceInformers: Informer<V1Namespace>[] = [];
  private readonly claimInformersByTarget = new Map<string, Informer<V1PersistentVolumeClaim>[]>();
  private readonly volumeInformersByTarget = new Map<string, Informer<V1PersistentVolume>[]>();
  /** Unfiltered caches for volume targets: consumers of claims, claims and volumes by name. */
  private readonly consumerPods: Informer<V1Pod>[] = [];
  private readonly allClaims: Informer<V1PersistentVolumeClaim>[] = [];
  private readonly allVolumes: Informer<V1PersistentVolume>[] = [];
  /** A pod target's pods by controller uid, and ReplicaSets by Deployment uid (for recovery). */
  private readonly podsByController = new Map<string, ControllerIndex<V1Pod>>();
  private readonly replicaSetsByController: ControllerIndex<Workload>;
  /** One cache getting through after an outage wakes the others from their backoff. */
  private readonly retryNow = new RetryNow();

  constructor(private readonly opts: ViewOptions) {
    const podTargets = opts.config.targets.filter((t) => t.kind === "Pod");
    // The server narrows a target's pod watch by its label selector and by the template fields
    // of its field selector (the watch must still show the victim's replacement to recovery);
    // selection matches the whole selector again on every pod.
    for (const t of podTargets)
      this.podInformersByTarget.set(
        t.name,
        scopes(t).map((ns) =>
          this.informer<V1Pod>(
            nsPath(ns, "pods"),
            t.selector.labelSelector,
            podWatchFieldSelector(t.selector.fieldSelector),
          ),
        ),
      );
    const volumeTargets = opts.config.targets.filter((t) => t.kind !== "Pod");
    this.watchVolumes(volumeTargets);
    const workloadScopes = unionScopes([...podTargets, ...volumeTargets.map(volumeScopeTarget)]);
    for (const [kind, resource] of Object.entries(WORKLOAD_RESOURCES) as [WorkloadKind, string][])
      this.workloads.set(
        kind,
        workloadScopes.map((ns) => this.informer<Workload>(nsPath(ns, resource, "/apis/apps/v1"))),
      );
    for (const [target, infs] of this.podInformersByTarget)
      this.podsByController.set(target, new ControllerIndex(infs));
    this.replicaSetsByController = new ControllerIndex(this.workloads.get("ReplicaSet") ?? []);
    const nsScopes = unionScopes(opts.config.targets.map(volumeScopeTarget));
    for (const ns of nsScopes)
      this.namespaceInformers.push(
        this.informer<V1Namespace>(
          "/api/v1/namespaces",
          undefined,
          ns ? `metadata.name=${ns}` : undefined,
        ),
      );
  }

  private watchVolumes(targets: readonly Target[]): void {
    if (targets.length === 0) return;
    for (const t of targets) {
      if (t.kind === "PersistentVolumeClaim")
        this.claimInformersByTarget.set(
          t.name,
          scopes(t).map((ns) =>
            this.informer<V1PersistentVolumeClaim>(
              nsPath(ns, "persistentvolumeclaims"),
              t.selector.labelSelector,
            ),
          ),
        );
      else
        this.volumeInformersByTarget.set(t.name, [
          this.informer<V1PersistentVolume>("/api/v1/persistentvolumes", t.selector.labelSelector),
        ]);
    }
    // Consumers and claims in the claims' namespaces (everywhere, once a volume target exists).
    for (const ns of unionScopes(targets.map(volumeScopeTarget))) {
      this.consumerPods.push(this.informer<V1Pod>(nsPath(ns, "pods")));
      this.allClaims.push(
        this.informer<V1PersistentVolumeClaim>(nsPath(ns, "persistentvolumeclaims")),
      );
    }
    if (targets.some((t) => t.kind === "PersistentVolume"))
      this.allVolumes.push(this.informer<V1PersistentVolume>("/api/v1/persistentvolumes"));
  }

  private informer<T extends KubernetesObject>(
    path: string,
    labelSelector?: string,
    fieldSelector?: string,
  ): Informer<T> {
    const key = `${path}?${labelSelector ?? ""}&${fieldSelector ?? ""}`;
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new Informer<KubernetesObject>({
        kc: this.opts.kc,
        path,
        // 10,000 pods must fit a small container: pod caches keep only what the monkey reads.
        ...(path.endsWith("/pods") ? { transform: podEssentials } : {}),
        labelSelector,
        fieldSelector,
        retryNow: this.retryNow,
        clock: this.opts.clock,
        rng: this.opts.rng,
        onError: (err) => this.opts.onError?.(`watch ${path}`, err),
      });
      this.informers.set(key, inf);
    }
    return inf as unknown as Informer<T>;
  }

  start(): void {
    for (const inf of this.informers.values()) inf.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  get synced(): boolean {
    return [...this.informers.values()].every((i) => i.synced);
  }

  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
  }

  /** Watch reconnections across all caches. */
  get reconnects(): number {
    return [...this.informers.values()].reduce((n, i) => n + i.reconnects, 0);
  }

  readonly workload = (kind: string, namespace: string, name: string): Workload | undefined => {
    for (const inf of this.workloads.get(kind as WorkloadKind) ?? []) {
      const w = inf.get(namespace, name);
      if (w) return w;
    }
    return undefined;
  };

  /** The cached objects of the target's kind in its scope (a pod once, however many caches hold it). */
  objectsOf(target: Target): KubernetesObject[] {
    if (target.kind === "PersistentVolumeClaim")
      return [...this.each(this.claimInformersByTarget.get(target.name))];
    if (target.kind === "PersistentVolume")
      return [...this.each(this.volumeInformersByTarget.get(target.name))];
    const seen = new Map<string, V1Pod>();
    for (const inf of this.podInformersByTarget.get(target.name) ?? [])
      for (const pod of inf.list()) seen.set(pod.metadata?.uid ?? "", pod);
    return [...seen.values()];
  }

  /** Every cached namespace the targets' scopes cover. */
  namespaceObjects(): V1Namespace[] {
    return [...this.each(this.namespaceInformers)];
  }

  /** Pod events of every pod cache the target's recovery may need. */
  onPodEvent(target: string, handler: (e: InformerEvent<V1Pod>) => void): void {
    for (const inf of this.podInformersByTarget.get(target) ?? []) inf.on(handler);
  }

  onWorkloadEvent(handler: (kind: WorkloadKind, e: InformerEvent<Workload>) => void): void {
    for (const [kind, infs] of this.workloads)
      for (const inf of infs) inf.on((e) => handler(kind, e));
  }

  /** Live pods mounting claim `namespace/name`. */
  consumers(namespace: string, name: string): V1Pod[] {
    return consumersOf(this.each(this.consumerPods), namespace, name);
  }

  claim(namespace: string, name: string): V1PersistentVolumeClaim | undefined {
    for (const inf of this.allClaims) {
      const c = inf.get(namespace, name);
      if (c) return c;
    }
    return undefined;
  }

  volume(name: string): V1PersistentVolume | undefined {
    for (const inf of this.allVolumes) {
      const v = inf.get("", name);
      if (v) return v;
    }
    return undefined;
  }

  /** Claims and volumes under a chaos-monkey marker (for finishing a crashed round's strip). */
  *volumeObjects(): Generator<V1PersistentVolumeClaim | V1PersistentVolume> {
    yield* this.each(this.allClaims);
    yield* this.each(this.allVolumes);
  }

  /** Every event of every cache (volume recovery depends on claims, volumes and pods at once). */
  onAnyEvent(handler: (e: InformerEvent<KubernetesObject>) => void): void {
    for (const inf of this.informers.values()) inf.on(handler);
  }

  private *each<T extends KubernetesObject>(
    infs: readonly Informer<T>[] | undefined,
  ): Generator<T> {
    for (const inf of infs ?? []) yield* inf.list();
  }

  /**
   * Pods of one target's caches whose top-level controller is `owner` (for the recovery of a
   * victim of that target): read from the controller index, not by scanning every pod.
   */
  workloadPods(target: string, owner: WorkloadRef): V1Pod[] {
    const index = this.podsByController.get(target);
    if (!index) return [];
    const controllers =
      owner.kind === "Deployment"
        ? this.replicaSetsByController.owned(owner.uid).map((rs) => rs.metadata?.uid ?? "")
        : [owner.uid];
    return controllers
      .flatMap((uid) => index.owned(uid))
      .filter((p) => topOwner(p, this.workload)?.uid === owner.uid);
  }
}

/** A volume target's claims live in its namespaces; a PersistentVolume's anywhere. */
function volumeScopeTarget(t: Target): Target {
  return t.kind === "PersistentVolume" ? { ...t, selector: { ...t.selector, namespaces: [] } } : t;
}

function unionScopes(targets: readonly Target[]): string[] {
  const all = new Set(targets.flatMap(scopes));
  return all.has("") || all.size === 0 ? [""] : [...all];
}
