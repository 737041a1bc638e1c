import type { KubernetesObject } from "@kubernetes/client-node";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { InformerEvent } from "./informer.js";
import { ControllerIndex } from "./owners.js";
import type { IndexSource } from "./owners.js";

/** A cache stand-in: a map of objects and the events a real Informer would emit for it. */
class Source implements IndexSource<KubernetesObject> {
  readonly objects = new Map<string, KubernetesObject>();
  private readonly handlers: ((e: InformerEvent<KubernetesObject>) => void)[] = [];
  on(h: (e: InformerEvent<KubernetesObject>) => void): void {
    this.handlers.push(h);
  }
  list(): Iterable<KubernetesObject> {
    return this.objects.values();
  }
  upsert(obj: KubernetesObject): void {
    const uid = obj.metadata?.uid ?? "";
    const type = this.objects.has(uid) ? "update" : "add";
    this.objects.set(uid, obj);
    for (const h of this.handlers) h({ type, object: obj, atMs: 0 });
  }
  delete(uid: string): void {
    const obj = this.objects.get(uid);
    if (!obj) return;
    this.objects.delete(uid);
    for (const h of this.handlers) h({ type: "delete", object: obj, atMs: 0 });
  }
}

const pod = (uid: string, owner?: string, controller = true): KubernetesObject => ({
  metadata: {
    uid,
    name: uid,
    ownerReferences: owner
      ? [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: owner, uid: owner, controller }]
      : [],
  },
});

const uids = (objs: KubernetesObject[]) => objs.map((o) => o.metadata?.uid).sort();

describe("ControllerIndex", () => {
  it("indexes objects already cached and follows adds, owner changes and deletes", () => {
    const s = new Source();
    s.upsert(pod("a", "rs1"));
    const idx = new ControllerIndex([s]);
    s.upsert(pod("b", "rs1"));
    s.upsert(pod("c", "rs2"));
    s.upsert(pod("d")); // no owner: not indexed
    s.upsert(pod("e", "rs1", false)); // an owner that is not the controller
    expect(uids(idx.owned("rs1"))).toEqual(["a", "b"]);
    s.upsert(pod("b", "rs2")); // adopted elsewhere
    expect(uids(idx.owned("rs1"))).toEqual(["a"]);
    expect(uids(idx.owned("rs2"))).toEqual(["b", "c"]);
    s.delete("a");
    expect(idx.owned("rs1")).toEqual([]);
    expect(idx.size).toBe(2);
  });

  it("always agrees with a scan of the caches (property)", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("upsert" as const),
        source: fc.integer({ min: 0, max: 1 }),
        uid: fc.integer({ min: 0, max: 9 }),
        owner: fc.option(fc.integer({ min: 0, max: 3 })),
      }),
      fc.record({
        kind: fc.constant("delete" as const),
        source: fc.integer({ min: 0, max: 1 }),
        uid: fc.integer({ min: 0, max: 9 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const sources = [new Source(), new Source()];
        const idx = new ControllerIndex(sources);
        for (const o of ops) {
          // Disjoint sources, as the index requires: uids of source 1 are prefixed.
          const uid = `${o.source}-${o.uid}`;
          const s = sources[o.source] as Source;
          if (o.kind === "delete") s.delete(uid);
          else s.upsert(pod(uid, o.owner === null ? undefined : `rs${o.owner}`));
        }
        for (const owner of ["rs0", "rs1", "rs2", "rs3"]) {
          const scan = sources.flatMap((s) =>
            [...s.objects.values()].filter((p) => p.metadata?.ownerReferences?.[0]?.uid === owner),
          );
          expect(uids(idx.owned(owner))).toEqual(uids(scan));
        }
      }),
      { numRuns: 500 },
    );
  });
});
