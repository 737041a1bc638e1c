import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Config } from "../config/types.js";
import {
  configuredStrip,
  EXTERNAL_PROVISIONER_FINALIZER,
  finishDecision,
  leakRisk,
  stripPlan,
} from "./strip.js";

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
    let stripping = 0;
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
          stripping++;
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
    // The checks of a real plan must have run, not only the "nothing to do" branch.
    expect(stripping).toBeGreaterThan(100);
  });
});

describe("finishDecision (what the finisher does with a journal entry, SPEC §7.3–7.4)", () => {
  const AT = Date.parse("2026-12-02T10:00:00Z");
  const entry = {
    uid: "u1",
    kind: "PersistentVolumeClaim",
    namespace: "demo",
    name: "data-db-0",
    round: "claims-20261202T100000Z",
    target: "claims",
    strip: [PVC],
    atMs: AT,
  } as const;
  const obj = (over: Record<string, unknown> = {}) => ({
    metadata: {
      uid: "u1",
      deletionTimestamp: "2026-12-02T10:00:00Z",
      deletionGracePeriodSeconds: 0,
      finalizers: [PVC, "example.com/keep"],
      ...over,
    },
  });
  const allowed = new Set([PVC]);
  it.each([
    [
      "our delete, our finalizer left",
      obj(),
      allowed,
      AT + 1000,
      { act: "strip", finalizers: [PVC] },
    ],
    [
      "only what the config allows now (a target that no longer strips)",
      obj(),
      new Set<string>(),
      AT + 1000,
      { act: "forget", why: "stripped" },
    ],
    [
      "never a finalizer the journal did not name, whatever the object carries",
      obj({ finalizers: ["example.com/keep"] }),
      new Set([PVC, "example.com/keep"]),
      AT + 1000,
      { act: "forget", why: "stripped" },
    ],
    [
      "another object under the name",
      obj({ uid: "u2" }),
      allowed,
      AT + 1000,
      { act: "forget", why: "gone" },
    ],
    ["no object", undefined, allowed, AT + 1000, { act: "forget", why: "gone" }],
    [
      "not Terminating yet, the delete may still land",
      obj({ deletionTimestamp: undefined }),
      allowed,
      AT + 10_000,
      { act: "wait" },
    ],
    [
      "not Terminating long after: the delete never happened",
      obj({ deletionTimestamp: undefined }),
      allowed,
      AT + 36_000,
      { act: "forget", why: "never deleted" },
    ],
    [
      "deleted a minute after the entry: a tenant's delete, not ours",
      obj({ deletionTimestamp: "2026-12-02T10:01:00Z" }),
      allowed,
      AT + 70_000,
      { act: "forget", why: "deleted by someone else" },
    ],
    [
      "a graceful delete counts from when it was asked",
      obj({ deletionTimestamp: "2026-12-02T10:00:30Z", deletionGracePeriodSeconds: 30 }),
      allowed,
      AT + 40_000,
      { act: "strip", finalizers: [PVC] },
    ],
  ])("%s", (...row) => {
    const [, o, allow, nowMs, expected] = row;
    expect(finishDecision(entry, o, { allowed: allow, nowMs, busy: false })).toEqual(expected);
  });
  it("waits for an object this process is still killing, however long it takes", () => {
    const o = obj({ deletionTimestamp: undefined });
    expect(finishDecision(entry, o, { allowed, nowMs: AT + 600_000, busy: true })).toEqual({
      act: "wait",
    });
  });
  it("strips what the journal and the config both name, whatever the object's annotations say", () => {
    const forged = obj({
      annotations: {
        "chaos-monkey.io/round": "x",
        "chaos-monkey.io/target": "claims",
        "chaos-monkey.io/strip-finalizers": "example.com/keep",
      },
    });
    expect(
      finishDecision(entry, forged, {
        allowed: new Set([PVC, "example.com/keep"]),
        nowMs: AT,
        busy: false,
      }),
    ).toEqual({
      act: "strip",
      finalizers: [PVC],
    });
  });
});

describe("configuredStrip", () => {
  it("is the union of what the config's targets of that kind strip", () => {
    const config = {
      targets: [
        { kind: "PersistentVolumeClaim", action: { stripFinalizers: [PVC] } },
        { kind: "PersistentVolumeClaim", action: { stripFinalizers: ["example.com/x"] } },
        { kind: "PersistentVolume", action: { stripFinalizers: [PV] } },
        { kind: "Pod", action: { stripFinalizers: [] } },
      ],
    } as unknown as Config;
    expect([...configuredStrip(config, "PersistentVolumeClaim")].sort()).toEqual([
      "example.com/x",
      PVC,
    ]);
    expect([...configuredStrip(config, "PersistentVolume")]).toEqual([PV]);
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
