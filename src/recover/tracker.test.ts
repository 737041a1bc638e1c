// The recovery tracker on a fake clock and a hand-driven view: each change to the cluster arrives
// as a watch event at the clock's time, so every phase's seconds are exact.
import type {
  KubernetesObject,
  V1OwnerReference,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { FAKE_EPOCH_MS, FakeClock } from "../../test/support/fake-clock.js";
import type { Clock } from "../clock.js";
import { loadConfig } from "../config/load.js";
import type { Target } from "../config/types.js";
import { consumersOf } from "../kube/consumers.js";
import type { InformerEvent } from "../kube/informer.js";
import { topOwner, WORKLOAD_RESOURCES } from "../kube/objects.js";
import type { Workload, WorkloadKind, WorkloadRef } from "../kube/objects.js";
import { ProbeLoop } from "../probe/loop.js";
import type { ProbeFetch } from "../probe/run.js";
import { RecoveryTracker } from "./tracker.js";
import type { TrackerView } from "./tracker.js";
import type { Phase, RecoveryResult, Victim } from "./types.js";

const NS = "shop";
const T0 = FAKE_EPOCH_MS; // the kill
const sec = (s: number): number => T0 + s * 1000;

type Kind = "Pod" | WorkloadKind | "PersistentVolumeClaim" | "PersistentVolume";
const isWorkloadKind = (k: string): k is WorkloadKind => Object.hasOwn(WORKLOAD_RESOURCES, k);

/**
 * The caches the tracker reads, changed by hand: every put or remove is delivered to the
 * subscribers as the informer would, stamped with the clock's time.
 */
class FakeView implements TrackerView {
  private readonly store = new Map<Kind, Map<string, KubernetesObject>>();
  private readonly podHandlers: ((e: InformerEvent<V1Pod>) => void)[] = [];
  private readonly workloadHandlers: ((k: WorkloadKind, e: InformerEvent<Workload>) => void)[] = [];
  private readonly anyHandlers: ((e: InformerEvent<KubernetesObject>) => void)[] = [];

  constructor(private readonly clock: Clock) {}

  private of<T extends KubernetesObject>(kind: Kind): Map<string, T> {
    let m = this.store.get(kind);
    if (!m) this.store.set(kind, (m = new Map<string, KubernetesObject>()));
    return m as Map<string, T>;
  }

  private get<T extends KubernetesObject>(kind: Kind, namespace: string, name: string) {
    return this.of<T>(kind).get(`${namespace}/${name}`);
  }

  put(kind: Kind, obj: KubernetesObject): void {
    const key = `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
    const type = this.of(kind).has(key) ? "update" : "add";
    this.of(kind).set(key, obj);
    this.emit(kind, { type, object: obj, atMs: this.clock.now() });
  }

  remove(kind: Kind, obj: KubernetesObject): void {
    this.of(kind).delete(`${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`);
    this.emit(kind, { type: "delete", object: obj, atMs: this.clock.now() });
  }

  private emit(kind: Kind, e: InformerEvent<KubernetesObject>): void {
    for (const h of this.anyHandlers) h(e);
    if (kind === "Pod") for (const h of this.podHandlers) h(e);
    if (isWorkloadKind(kind)) for (const h of this.workloadHandlers) h(kind, e);
  }

  readonly workload = (kind: string, namespace: string, name: string): Workload | undefined =>
    isWorkloadKind(kind) ? this.get<Workload>(kind, namespace, name) : undefined;

  workloadPods(_target: string, owner: WorkloadRef): V1Pod[] {
    return [...this.of<V1Pod>("Pod").values()].filter(
      (p) => topOwner(p, this.workload)?.uid === owner.uid,
    );
  }

  consumers(namespace: string, name: string): V1Pod[] {
    return consumersOf(this.of<V1Pod>("Pod").values(), namespace, name);
  }

  claim(namespace: string, name: string): V1PersistentVolumeClaim | undefined {
    return this.get("PersistentVolumeClaim", namespace, name);
  }

  volume(name: string): V1PersistentVolume | undefined {
    return this.get("PersistentVolume", "", name);
  }

  onPodEvent(_target: string, handler: (e: InformerEvent<V1Pod>) => void): void {
    this.podHandlers.push(handler);
  }

  onWorkloadEvent(handler: (kind: WorkloadKind, e: InformerEvent<Workload>) => void): void {
    this.workloadHandlers.push(handler);
  }

  onAnyEvent(handler: (e: InformerEvent<KubernetesObject>) => void): void {
    this.anyHandlers.push(handler);
  }
}

// --- objects -----------------------------------------------------------------------------------

const DEPLOY: WorkloadRef = { kind: "Deployment", namespace: NS, name: "web", uid: "uid-deploy" };
const STS: WorkloadRef = { kind: "StatefulSet", namespace: NS, name: "db", uid: "uid-sts" };
const controller = (kind: string, name: string, uid: string): V1OwnerReference => ({
  apiVersion: "apps/v1",
  kind,
  name,
  uid,
  controller: true,
});

/** Deployment web (2 replicas), `ready` of them ready as its controller reports. */
const deployment = (ready: number, uid = DEPLOY.uid): Workload => ({
  metadata: { name: "web", namespace: NS, uid, generation: 1 },
  spec: { replicas: 2, selector: {}, template: {} },
  status: { observedGeneration: 1, readyReplicas: ready },
});
const replicaSet: Workload = {
  metadata: {
    name: "web-7d9f",
    namespace: NS,
    uid: "uid-rs",
    ownerReferences: [controller("Deployment", "web", DEPLOY.uid)],
  },
};
/** StatefulSet db (1 replica), whose pod mounts claim data-db-0. */
const statefulSet = (ready: number, uid = STS.uid): Workload => ({
  metadata: { name: "db", namespace: NS, uid, generation: 1 },
  spec: { replicas: 1, selector: {}, template: {}, serviceName: "db" },
  status: { observedGeneration: 1, readyReplicas: ready, replicas: 1 },
});

function pod(
  name: string,
  o: { uid?: string; ready?: boolean; deleting?: boolean; claim?: string } = {},
): V1Pod {
  const owner = o.claim
    ? controller("StatefulSet", "db", STS.uid)
    : controller("ReplicaSet", "web-7d9f", "uid-rs");
  return {
    metadata: {
      name,
      namespace: NS,
      uid: o.uid ?? `uid-${name}`,
      ownerReferences: [owner],
      ...(o.deleting ? { deletionTimestamp: new Date(T0) } : {}),
    },
    spec: {
      containers: [],
      ...(o.claim
        ? { volumes: [{ name: "data", persistentVolumeClaim: { claimName: o.claim } }] }
        : {}),
    },
    status: { conditions: [{ type: "Ready", status: o.ready ? "True" : "False" }] },
  };
}

const claim = (uid: string, phase: string, volumeName = "pv-1"): V1PersistentVolumeClaim => ({
  metadata: { name: "data-db-0", namespace: NS, uid },
  spec: { volumeName },
  status: { phase },
});
const volume = (name: string, uid: string): V1PersistentVolume => ({
  metadata: { name, uid },
  spec: { claimRef: { namespace: NS, name: "data-db-0" } },
  status: { phase: "Bound" },
});

// --- targets and victims -----------------------------------------------------------------------

/** A target through the real loader; `extra` is YAML under the target (recovery, steadyState). */
function target(name: string, kind: Target["kind"], extra = ""): Target {
  const r = loadConfig(
    `apiVersion: chaos-monkey.io/v1\nkind: ChaosMonkeyConfig\ntargets:\n  - name: ${name}\n    kind: ${kind}\n    schedule: "@hourly"\n${extra}`,
  );
  if (!r.ok) throw new Error(r.errors.join("\n"));
  const t = r.config.targets[0];
  if (!t) throw new Error("no target");
  return t;
}
const recovery = (timeout: string, objective?: string) =>
  `    recovery:\n      timeout: ${timeout}\n${objective ? `      objective: ${objective}\n` : ""}`;

const base = (t: Target) => ({ target: t, round: `${t.name}-20261202T010203Z`, seed: "s" });

/** Pod web-a of Deployment web, killed at T0; web-b is its sibling. */
const podVictim = (t: Target, over: Partial<Victim> = {}): Victim => ({
  ...base(t),
  kind: "Pod",
  namespace: NS,
  name: "web-a",
  uid: "uid-web-a",
  owner: DEPLOY,
  killedAtMs: T0,
  knownUids: new Set(["uid-web-a", "uid-web-b"]),
  ...over,
});

/** Claim data-db-0, mounted by db-0 of StatefulSet db, killed at T0. */
const claimVictim = (t: Target, restartedConsumers: boolean): Victim => ({
  ...base(t),
  kind: "PersistentVolumeClaim",
  namespace: NS,
  name: "data-db-0",
  uid: "uid-pvc-old",
  owner: STS,
  killedAtMs: T0,
  knownUids: new Set(["uid-db-0-old"]),
  consumerOwners: [STS],
  claims: [{ namespace: NS, name: "data-db-0" }],
  restartedConsumers,
});

/** Volume pv-1, bound to claim data-db-0, killed at T0. */
const volumeVictim = (t: Target): Victim => ({
  ...base(t),
  kind: "PersistentVolume",
  namespace: "",
  name: "pv-1",
  uid: "uid-pv-1",
  owner: STS,
  killedAtMs: T0,
  knownUids: new Set(["uid-db-0"]),
  consumerOwners: [STS],
  claims: [{ namespace: NS, name: "data-db-0" }],
  restartedConsumers: false,
});

// --- the harness -------------------------------------------------------------------------------

type Step = readonly [seconds: number, change: (view: FakeView) => void];

/** The cluster right after pod web-a's kill: web-b still Ready, the Deployment one short. */
function podCluster(view: FakeView): void {
  view.put("Deployment", deployment(1));
  view.put("ReplicaSet", replicaSet);
  view.put("Pod", pod("web-a", { ready: true, deleting: true }));
  view.put("Pod", pod("web-b", { ready: true }));
}

function harness(
  opts: { probes?: (clock: FakeClock) => (t: Target) => ProbeLoop | undefined } = {},
) {
  const clock = new FakeClock(T0);
  const view = new FakeView(clock);
  const phases: [string, Phase, number][] = [];
  const ended: RecoveryResult[] = [];
  const tracker = new RecoveryTracker(
    view,
    clock,
    {
      onPhase: (v, phase, seconds) => phases.push([v.name, phase, seconds]),
      onEnd: (r) => ended.push(r),
    },
    opts.probes?.(clock),
  );
  /** Tracks `victim` from `trackAt` s, applies each step at its second, runs to `until` s. */
  const run = async (x: {
    victim: Victim;
    steps: readonly Step[];
    trackAt?: number;
    until: number;
  }) => {
    await clock.advanceTo(sec(x.trackAt ?? 0));
    let result: RecoveryResult | undefined;
    void tracker.track(x.victim).then((r) => (result = r));
    for (const [s, change] of x.steps) {
      await clock.advanceTo(sec(s));
      change(view);
    }
    await clock.advanceTo(sec(x.until));
    return result;
  };
  return { clock, view, tracker, phases, ended, run };
}

// --- the tests ---------------------------------------------------------------------------------

describe("RecoveryTracker: a pod victim", () => {
  const web = target("web", "Pod", recovery("30s"));
  const put = (p: V1Pod) => (v: FakeView) => v.put("Pod", p);
  const whole = (v: FakeView) => v.put("Deployment", deployment(2));

  it.each<
    [
      string,
      { steps: Step[]; trackAt?: number; before?: Step[1] },
      Pick<RecoveryResult, "outcome" | "phases" | "endedAtMs">,
    ]
  >([
    [
      "replaced, ready, recovered, each stamped when its event arrives",
      {
        steps: [
          [1, put(pod("web-b", { ready: true }))], // a sibling known before the kill: no replacement
          [2, put(pod("web-c"))],
          [5, put(pod("web-c", { ready: true }))],
          [7, whole],
        ],
      },
      { outcome: "recovered", phases: { replaced: 2, ready: 5, recovered: 7 }, endedAtMs: sec(7) },
    ],
    [
      "a phase keeps the first time it held",
      {
        steps: [
          [2, put(pod("web-c", { ready: true }))],
          [3, put(pod("web-c", { ready: false }))],
          [4, put(pod("web-c", { ready: true }))],
          [6, whole],
        ],
      },
      { outcome: "recovered", phases: { replaced: 2, ready: 2, recovered: 6 }, endedAtMs: sec(6) },
    ],
    [
      "a pod already being deleted is no replacement",
      {
        steps: [
          [2, put(pod("web-d", { ready: true, deleting: true }))],
          [3, whole],
          [4, put(pod("web-c", { ready: true }))],
        ],
      },
      { outcome: "recovered", phases: { replaced: 4, ready: 4, recovered: 4 }, endedAtMs: sec(4) },
    ],
    [
      "already whole when tracking starts: every phase at the start, not at the kill",
      {
        steps: [],
        trackAt: 0.25,
        // The controllers were quicker than the tracker: web-c is there and Ready, web is whole.
        before: (v) => {
          v.put("Pod", pod("web-c", { ready: true }));
          whole(v);
        },
      },
      {
        outcome: "recovered",
        phases: { replaced: 0.25, ready: 0.25, recovered: 0.25 },
        endedAtMs: sec(0.25),
      },
    ],
    [
      "not whole within recovery.timeout: timeout, with the phases reached",
      { steps: [[2, put(pod("web-c"))]] },
      { outcome: "timeout", phases: { replaced: 2 }, endedAtMs: sec(30) },
    ],
    [
      "the timeout counts from the kill, not from when tracking began",
      { steps: [], trackAt: 5 },
      { outcome: "timeout", phases: {}, endedAtMs: sec(30) },
    ],
    [
      "the workload deleted: gone",
      {
        steps: [
          [2, put(pod("web-c"))],
          [3, (v) => v.remove("Deployment", deployment(1))],
        ],
      },
      { outcome: "gone", phases: { replaced: 2 }, endedAtMs: sec(3) },
    ],
    [
      "the workload replaced by another of the same name: gone",
      { steps: [[3, (v) => v.put("Deployment", deployment(2, "uid-deploy-2"))]] },
      { outcome: "gone", phases: {}, endedAtMs: sec(3) },
    ],
  ])("%s", async (_what, x, expected) => {
    const h = harness();
    podCluster(h.view);
    x.before?.(h.view);
    const r = await h.run({
      victim: podVictim(web),
      steps: x.steps,
      trackAt: x.trackAt,
      until: 40,
    });
    expect(r).toMatchObject({ ...expected, objectiveMissed: false });
    expect(r?.phases).toEqual(expected.phases);
    expect(r).not.toHaveProperty("disruptionSeconds");
    // Hooks: each phase once, in order, then the end once; nothing left running.
    expect(h.phases).toEqual(Object.entries(expected.phases).map(([p, s]) => ["web-a", p, s]));
    expect(h.ended).toEqual([r]);
    expect(h.tracker.inFlight("web")).toBe(0);
    expect(h.clock.pending).toBe(0);
  });

  const recoveredAt7: Step[] = [
    [2, put(pod("web-c", { ready: true }))],
    [7, whole],
  ];
  it.each<[string, { yaml: string; steps: Step[]; outcome: string; missed: boolean }]>([
    [
      "recovered after the objective",
      { yaml: recovery("30s", "5s"), steps: recoveredAt7, outcome: "recovered", missed: true },
    ],
    [
      "recovered within the objective",
      { yaml: recovery("30s", "10s"), steps: recoveredAt7, outcome: "recovered", missed: false },
    ],
    [
      "recovered, no objective set",
      { yaml: recovery("30s"), steps: recoveredAt7, outcome: "recovered", missed: false },
    ],
    [
      "a timeout misses any objective",
      { yaml: recovery("30s", "1m"), steps: [], outcome: "timeout", missed: true },
    ],
    [
      "a timeout without an objective",
      { yaml: recovery("30s"), steps: [], outcome: "timeout", missed: false },
    ],
    [
      "gone is no miss",
      {
        yaml: recovery("30s", "1s"),
        steps: [[3, (v) => v.remove("Deployment", deployment(1))]],
        outcome: "gone",
        missed: false,
      },
    ],
  ])("objectiveMissed: %s", async (_what, x) => {
    const h = harness();
    podCluster(h.view);
    const victim = podVictim(target("web", "Pod", x.yaml));
    const r = await h.run({ victim, steps: x.steps, until: 40 });
    expect(r).toMatchObject({ outcome: x.outcome, objectiveMissed: x.missed });
  });

  it("abortAll ends every open recovery as aborted, now, once", async () => {
    const h = harness();
    podCluster(h.view);
    const api = target("api", "Pod", recovery("30s"));
    const ends: RecoveryResult[] = [];
    await h.clock.advanceTo(sec(1));
    void h.tracker.track(podVictim(web, { killedAtMs: sec(1) })).then((r) => ends.push(r));
    void h.tracker.track(podVictim(api, { killedAtMs: sec(1) })).then((r) => ends.push(r));
    expect([h.tracker.inFlight("web"), h.tracker.inFlight("api"), h.tracker.size]).toEqual([
      1, 1, 2,
    ]);
    expect(h.tracker.tracks("uid-web-a")).toBe(true);
    await h.clock.advanceTo(sec(3));
    h.view.put("Pod", pod("web-c"));
    await h.clock.advanceTo(sec(4));
    h.tracker.abortAll();
    await h.clock.advance(0);
    expect(ends).toMatchObject([
      { outcome: "aborted", phases: { replaced: 2 }, endedAtMs: sec(4), objectiveMissed: false },
      { outcome: "aborted", phases: { replaced: 2 }, endedAtMs: sec(4) },
    ]);
    expect([h.tracker.inFlight("web"), h.tracker.size, h.tracker.tracks("uid-web-a")]).toEqual([
      0,
      0,
      false,
    ]);
    expect(h.clock.pending).toBe(0); // the timeouts were cancelled
    // What happens afterwards changes nothing: no second end, no late phase.
    h.view.put("Pod", pod("web-c", { ready: true }));
    h.view.put("Deployment", deployment(2));
    h.tracker.abortAll();
    await h.clock.advanceTo(sec(60));
    expect(h.ended).toHaveLength(2);
    expect(h.phases.map(([, p]) => p)).toEqual(["replaced", "replaced"]);
  });

  it("counts in flight per target until each recovery ends", async () => {
    const h = harness();
    podCluster(h.view);
    const other = podVictim(web, { name: "web-b", uid: "uid-web-b" });
    void h.tracker.track(podVictim(web));
    void h.tracker.track(other);
    expect(h.tracker.inFlight("web")).toBe(2);
    expect(h.tracker.inFlight("api")).toBe(0);
    await h.clock.advanceTo(sec(2));
    h.view.put("Pod", pod("web-c", { ready: true }));
    h.view.put("Deployment", deployment(2)); // both see web-c: both recover
    expect(h.tracker.inFlight("web")).toBe(0);
    expect(h.ended.map((r) => [r.victim.name, r.outcome, r.endedAtMs])).toEqual([
      ["web-a", "recovered", sec(2)],
      ["web-b", "recovered", sec(2)],
    ]);
  });
});

describe("RecoveryTracker: claim and volume victims", () => {
  const db = (kind: Target["kind"]) => target("db", kind, recovery("1m", "5s"));

  it.each<[string, boolean, Record<string, number>]>([
    [
      "consumers restarted: recovered once a new consumer pod is Ready too",
      true,
      { replaced: 1, ready: 3, recovered: 6 },
    ],
    [
      "consumers not restarted: recovered when the new claim is Bound and they are whole",
      false,
      { replaced: 1, ready: 3, recovered: 3 },
    ],
  ])("a claim: %s", async (_what, restarted, phases) => {
    const h = harness();
    h.view.put("StatefulSet", statefulSet(1));
    h.view.put("Pod", pod("db-0", { uid: "uid-db-0-old", ready: true, claim: "data-db-0" }));
    const r = await h.run({
      victim: claimVictim(db("PersistentVolumeClaim"), restarted),
      steps: [
        [1, (v) => v.put("PersistentVolumeClaim", claim("uid-pvc-new", "Pending"))],
        [3, (v) => v.put("PersistentVolumeClaim", claim("uid-pvc-new", "Bound"))],
        [4, (v) => v.put("Pod", pod("db-0", { uid: "uid-db-0-new", claim: "data-db-0" }))],
        [
          6,
          (v) =>
            v.put("Pod", pod("db-0", { uid: "uid-db-0-new", ready: true, claim: "data-db-0" })),
        ],
      ],
      until: 90,
    });
    expect(r).toMatchObject({
      outcome: "recovered",
      phases,
      endedAtMs: sec(phases.recovered ?? 0),
    });
    expect(r?.objectiveMissed).toBe((phases.recovered ?? 0) > 5);
  });

  it("a claim whose consumer workload is deleted: gone", async () => {
    const h = harness();
    h.view.put("StatefulSet", statefulSet(1));
    const r = await h.run({
      victim: claimVictim(db("PersistentVolumeClaim"), false),
      steps: [
        [1, (v) => v.put("PersistentVolumeClaim", claim("uid-pvc-new", "Pending"))],
        [2, (v) => v.remove("StatefulSet", statefulSet(1))],
      ],
      until: 90,
    });
    expect(r).toMatchObject({ outcome: "gone", phases: { replaced: 1 }, endedAtMs: sec(2) });
  });

  it("a claim not Bound again in time: timeout, objective missed", async () => {
    const h = harness();
    h.view.put("StatefulSet", statefulSet(1));
    const r = await h.run({
      victim: claimVictim(db("PersistentVolumeClaim"), false),
      steps: [[1, (v) => v.put("PersistentVolumeClaim", claim("uid-pvc-new", "Pending"))]],
      until: 90,
    });
    expect(r).toMatchObject({
      outcome: "timeout",
      phases: { replaced: 1 },
      endedAtMs: sec(60),
      objectiveMissed: true,
    });
  });

  it.each<[string, Step[]]>([
    [
      "its claim rebound to another volume",
      [
        [1, (v) => v.put("PersistentVolume", volume("pv-2", "uid-pv-2"))], // not yet the claim's
        [2, (v) => v.put("PersistentVolumeClaim", claim("uid-pvc", "Pending", "pv-2"))],
        [4, (v) => v.put("PersistentVolumeClaim", claim("uid-pvc", "Bound", "pv-2"))],
      ],
    ],
    [
      "a new volume of the same name",
      [
        [1, (v) => v.put("PersistentVolumeClaim", claim("uid-pvc", "Lost"))],
        [2, (v) => v.put("PersistentVolume", volume("pv-1", "uid-pv-1-new"))],
        [4, (v) => v.put("PersistentVolumeClaim", claim("uid-pvc", "Bound"))],
      ],
    ],
  ])("a volume: replaced, then recovered with %s", async (_what, steps) => {
    const h = harness();
    h.view.put("StatefulSet", statefulSet(1));
    h.view.put("PersistentVolumeClaim", claim("uid-pvc", "Bound"));
    h.view.put("PersistentVolume", volume("pv-1", "uid-pv-1")); // Terminating: still cached
    const r = await h.run({ victim: volumeVictim(db("PersistentVolume")), steps, until: 90 });
    expect(r).toMatchObject({
      outcome: "recovered",
      phases: { replaced: 2, ready: 4, recovered: 4 },
      endedAtMs: sec(4),
    });
  });
});

describe("RecoveryTracker: steady-state probes", () => {
  const steady = `    steadyState:\n      interval: 1s\n      successThreshold: 2\n      probes:\n        - name: web\n          http: { url: "http://web.shop/healthz" }\n`;
  const web = target("web", "Pod", recovery("10s", "3s") + steady);

  /** The target's probe loop, its one probe answering 200 from `healthyFrom` s (never: 503). */
  function withProbes(healthyFrom: number | undefined) {
    let calls = 0;
    const h = harness({
      probes: (clock) => {
        const fetch: ProbeFetch = () => {
          calls++;
          const up = healthyFrom !== undefined && clock.now() >= sec(healthyFrom);
          return Promise.resolve({ status: up ? 200 : 503, text: () => Promise.resolve("") });
        };
        const spec = web.steadyState;
        if (!spec) throw new Error("the target has probes");
        const loop = new ProbeLoop(spec, { clock, fetch });
        return (t) => (t === web ? loop : undefined);
      },
    });
    podCluster(h.view);
    return { ...h, calls: () => calls };
  }

  const recoversAt = (s: number): Step[] => [
    [1.5, (v) => v.put("Pod", pod("web-c", { ready: true }))],
    [s, (v) => v.put("Deployment", deployment(2))],
  ];

  it.each<[string, number | undefined, Partial<RecoveryResult>]>([
    [
      "steady once whole and the probes pass their streak; disruption from first failure to first pass",
      2.5,
      {
        outcome: "recovered",
        phases: { replaced: 1.5, ready: 1.5, recovered: 2.5, steady: 4 },
        endedAtMs: sec(4),
        disruptionSeconds: 3,
        objectiveMissed: true, // the last phase, steady, is past 3 s
      },
    ],
    [
      "probes passing all along: steady at the first check after the workload is whole",
      0,
      {
        outcome: "recovered",
        phases: { replaced: 1.5, ready: 1.5, recovered: 2.5, steady: 3 },
        endedAtMs: sec(3),
        disruptionSeconds: 0,
        objectiveMissed: false,
      },
    ],
    [
      "probes never passing: whole is not enough, a timeout naming them",
      undefined,
      {
        outcome: "timeout",
        phases: { replaced: 1.5, ready: 1.5, recovered: 2.5 },
        endedAtMs: sec(10),
        disruptionSeconds: 10,
        notSteady: ["web"],
        objectiveMissed: true,
      },
    ],
  ])("%s", async (_what, healthyFrom, expected) => {
    const h = withProbes(healthyFrom);
    const r = await h.run({ victim: podVictim(web), steps: recoversAt(2.5), until: 20 });
    expect(r).toEqual({ victim: podVictim(web), ...expected });
    if (expected.outcome === "recovered") expect(r).not.toHaveProperty("notSteady");
    // The victim stops following the probes when it ends: the loop stops with it.
    const calls = h.calls();
    await h.clock.advance(5000);
    expect(h.calls()).toBe(calls);
    expect(h.clock.pending).toBe(0);
  });

  it("aborted while not steady: the disruption so far and the probes short of their streak", async () => {
    const h = withProbes(undefined);
    let result: RecoveryResult | undefined;
    void h.tracker.track(podVictim(web)).then((r) => (result = r));
    await h.clock.advanceTo(sec(2.5));
    h.tracker.abortAll();
    await h.clock.advance(0);
    expect(result).toMatchObject({
      outcome: "aborted",
      endedAtMs: sec(2.5),
      disruptionSeconds: 2.5,
      notSteady: ["web"],
      objectiveMissed: false,
    });
    const calls = h.calls();
    await h.clock.advance(5000);
    expect(h.calls()).toBe(calls);
  });
});
