import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { markPatch } from "../kill/volume.js";
import { unfinished } from "../kill/finisher.js";
import {
  EXTERNAL_PROVISIONER_FINALIZER,
  leakRisk,
  MARK_ROUND,
  MARK_STRIP,
  MARK_TARGET,
  stripPlan,
} from "./volumes.js";

const PVC = "kubernetes.io/pvc-protection";
const PV = "kubernetes.io/pv-protection";
const VOCAB = [
  PVC,
  PV,
  EXTERNAL_PROVISIONER_FINALIZER,
  "kubernetes.io/pv-controller",
  "example.com/backup",
];

type Op = { op: "test" | "remove"; path: string; value?: string };

/** Applies the ops a strip plan may contain, as the API server would (all-or-nothing). */
function apply(obj: { uid: string; finalizers: string[] }, ops: Op[]): string[] | "rejected" {
  const finalizers = [...obj.finalizers];
  for (const o of ops) {
    if (o.path === "/metadata/uid") {
      if (o.op !== "test" || o.value !== obj.uid) return "rejected";
      continue;
    }
    const i = Number(o.path.replace("/metadata/finalizers/", ""));
    if (o.op === "test" && finalizers[i] !== o.value) return "rejected";
    if (o.op === "remove") {
      if (i >= finalizers.length) return "rejected";
      finalizers.splice(i, 1);
    }
  }
  return finalizers;
}

describe("stripPlan (SPEC §7.3)", () => {
  it("removes only named finalizers, only from the deleted object itself, only while it is Terminating", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...VOCAB), { maxLength: 6 }),
        fc.subarray(VOCAB),
        fc.boolean(),
        fc.boolean(),
        (finalizers, named, deleting, sameUid) => {
          const obj = {
            metadata: {
              uid: "u1",
              deletionTimestamp: deleting ? "2026-01-01T00:00:00Z" : undefined,
              finalizers,
            },
          };
          const plan = stripPlan(obj, { uid: sameUid ? "u1" : "u2", named });
          const expected = finalizers.filter((f) => !named.includes(f));
          if (!deleting || !sameUid || expected.length === finalizers.length) {
            expect(plan).toBeUndefined();
            return;
          }
          expect(plan).toBeDefined();
          // Every remove is guarded by a test of the same index against a named finalizer.
          const ops = plan?.patch ?? [];
          expect(ops[0]).toEqual({ op: "test", path: "/metadata/uid", value: "u1" });
          ops.forEach((o, i) => {
            if (o.op !== "remove") return;
            const t = ops[i - 1];
            expect(t?.op).toBe("test");
            expect(t?.path).toBe(o.path);
            expect(named).toContain(t?.value);
          });
          expect(apply({ uid: "u1", finalizers }, ops)).toEqual(expected);
          // Against an object that changed meanwhile (another uid, or finalizers moved) it is refused.
          expect(apply({ uid: "u9", finalizers }, ops)).toBe("rejected");
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("markPatch", () => {
  const victim = {
    kind: "PersistentVolumeClaim",
    namespace: "demo",
    name: "data-db-0",
    uid: "u1",
    labels: {},
    createdAtMs: 0,
    deleting: false,
    phase: "Bound",
    guardNamespaces: ["demo"],
    owner: undefined,
    fields: {},
  } as const;
  it("adds the marker keys one by one (escaping '/') when annotations exist, testing the uid first", () => {
    expect(
      markPatch(
        { ...victim, annotations: { a: "b" } },
        { target: "db", round: "db-1", strip: [PVC] },
      ),
    ).toEqual([
      { op: "test", path: "/metadata/uid", value: "u1" },
      { op: "add", path: "/metadata/annotations/chaos-monkey.io~1round", value: "db-1" },
      { op: "add", path: "/metadata/annotations/chaos-monkey.io~1target", value: "db" },
      { op: "add", path: "/metadata/annotations/chaos-monkey.io~1strip-finalizers", value: PVC },
    ]);
  });
  it("creates the annotations map when there is none", () => {
    expect(
      markPatch({ ...victim, annotations: {} }, { target: "db", round: "db-1", strip: [] })[1],
    ).toEqual({
      op: "add",
      path: "/metadata/annotations",
      value: { [MARK_ROUND]: "db-1", [MARK_TARGET]: "db", [MARK_STRIP]: "" },
    });
  });
});

describe("unfinished (the finisher's choice)", () => {
  const marked = (over: Record<string, unknown> = {}) => ({
    metadata: {
      name: "pv-1",
      uid: "u1",
      deletionTimestamp: new Date(),
      finalizers: [PV],
      annotations: { [MARK_ROUND]: "r", [MARK_TARGET]: "vol", [MARK_STRIP]: PV },
      ...over,
    },
  });
  it.each([
    ["a marked, Terminating volume with its named finalizer left", marked(), true],
    [
      "not Terminating (never strip before the delete)",
      marked({ deletionTimestamp: undefined }),
      false,
    ],
    ["not marked by us", marked({ annotations: {} }), false],
    [
      "marked with nothing to strip",
      marked({ annotations: { [MARK_ROUND]: "r", [MARK_STRIP]: "" } }),
      false,
    ],
    ["its named finalizer already gone", marked({ finalizers: ["example.com/backup"] }), false],
  ])("%s → %s", (_what, obj, expected) => {
    expect(unfinished(obj) !== undefined).toBe(expected);
  });
  it("names the kind by scope, the target from the marker, and only the marker's finalizers", () => {
    const c = unfinished({
      metadata: {
        ...marked().metadata,
        namespace: "demo",
        finalizers: [PVC, "x"],
        annotations: { [MARK_ROUND]: "r", [MARK_TARGET]: "claims", [MARK_STRIP]: PVC },
      },
    });
    expect(c).toMatchObject({ kind: "PersistentVolumeClaim", target: "claims", strip: [PVC] });
  });
});

describe("leakRisk", () => {
  it.each([
    [
      "Retain, in-tree",
      { spec: { persistentVolumeReclaimPolicy: "Retain" }, metadata: { finalizers: [PV] } },
      undefined,
    ],
    [
      "reclaim policy Delete",
      { spec: { persistentVolumeReclaimPolicy: "Delete" }, metadata: {} },
      "its reclaim policy is Delete",
    ],
    [
      "an external provisioner's finalizer",
      { spec: {}, metadata: { finalizers: [EXTERNAL_PROVISIONER_FINALIZER] } },
      expect.stringContaining("backend delete"),
    ],
  ])("%s", (_what, pv, expected) => {
    expect(leakRisk(pv)).toEqual(expected);
  });
});
