// Cached objects indexed by the uid of their controlling owner, kept current from the caches'
// own events. Recovery re-evaluates open victims on every event; with this index it reads the
// few pods of one workload instead of scanning every pod a target can see.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { InformerEvent } from "./informer.js";
import { controllerOf } from "./objects.js";

/** What the index needs of a cache: its events and (for objects already there) its contents. */
export interface IndexSource<T> {
  on(handler: (e: InformerEvent<T>) => void): void;
  list(): Iterable<T>;
}

/**
 * Objects by controller uid. Keyed by object uid, so the sources must not hold the same object
 * twice (a target's pod caches cover disjoint namespaces; workload caches likewise).
 */
export class ControllerIndex<T extends KubernetesObject> {
  private readonly byController = new Map<string, Map<string, T>>();
  private readonly controllerOfUid = new Map<string, string>();

  constructor(sources: readonly IndexSource<T>[]) {
    for (const s of sources) {
      for (const obj of s.list()) this.put(obj);
      s.on((e) => (e.type === "delete" ? this.remove(uidOf(e.object)) : this.put(e.object)));
    }
  }

  /** Objects whose controller has this uid. */
  owned(controllerUid: string): T[] {
    return [...(this.byController.get(controllerUid)?.values() ?? [])];
  }

  get size(): number {
    return this.controllerOfUid.size;
  }

  private put(obj: T): void {
    const uid = uidOf(obj);
    this.remove(uid);
    const owner = controllerOf(obj.metadata?.ownerReferences)?.uid;
    if (!uid || !owner) return;
    let group = this.byController.get(owner);
    if (!group) this.byController.set(owner, (group = new Map<string, T>()));
    group.set(uid, obj);
    this.controllerOfUid.set(uid, owner);
  }

  private remove(uid: string): void {
    const owner = this.controllerOfUid.get(uid);
    if (owner === undefined) return;
    this.controllerOfUid.delete(uid);
    const group = this.byController.get(owner);
    group?.delete(uid);
    if (group?.size === 0) this.byController.delete(owner);
  }
}

const uidOf = (o: KubernetesObject): string => o.metadata?.uid ?? "";
