import { readFileSync } from "node:fs";
import type {
  KubernetesObject,
  V1Namespace,
  V1OwnerReference,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
} from "@kubernetes/client-node";
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../test/support/fake-clock.js";
import { loadConfig } from "../config/load.js";
import type { Config, Target } from "../config/types.js";
import type { KillOutcome, KillRequest, Recheck } from "../kill/types.js";
import { consumersOf } from "../kube/consumers.js";
import type { ChaosEvent } from "../kube/events.js";
import { NotAllowed } from "../kube/journal.js";
import type { JournalEntry } from "../kube/journal.js";
import { topOwner } from "../kube/objects.js";
import type { Workload, WorkloadRef } from "../kube/objects.js";
import { createLogger } from "../observe/logger.js";
import { LOG } from "../observe/messages.js";
import { createMetrics } from "../observe/metrics.js";
import type { CheckRound } from "../probe/loop.js";
import type { Victim } from "../recover/types.js";
import type { Candidate } from "../select/candidate.js";
import { decide, gate, roundId, runRound } from "./round.js";
import type { GateState } from "./round.js";
import type { RoundDeps, RoundRequest, RoundView } from "./round-types.js";

function config(patch: (text: string) => string = (t) => t): Config {
  const text = patch(readFileSync(new URL("../../config/example.yaml", import.meta.url), "utf8"));
  const r = loadConfig(text);
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.config;
}

const fine: GateState = { leader: true, inFlight: 0, synced: true };
// Example config: blackout on Sat/Sun, 18:00-09:00 and Dec 24 / 2026-12-31; web runs in Europe/Prague.
const WEDNESDAY_NOON_PRAGUE = Date.parse("2026-11-18T11:00:00Z");
const SATURDAY_NOON_PRAGUE = Date.parse("2026-11-21T11:00:00Z");
const WEDNESDAY_8_59_PRAGUE = Date.parse("2026-11-18T07:59:59Z");

describe("gate", () => {
  const base = config();
  const web = base.targets[0];
  if (!web) throw new Error("example has targets");
  it.each<
    [
      string,
      { cfg?: Config; tickMs?: number; state?: Partial<GateState>; force?: boolean },
      string | undefined,
    ]
  >([
    ["a normal tick runs", {}, undefined],
    ["paused", { cfg: config((t) => t.replace("paused: false", "paused: true")) }, "paused"],
    ["a weekend blackout", { tickMs: SATURDAY_NOON_PRAGUE }, "blackout"],
    ["a time-of-day blackout, to the second", { tickMs: WEDNESDAY_8_59_PRAGUE }, "blackout"],
    [
      "--force ignores paused and blackout",
      {
        cfg: config((t) => t.replace("paused: false", "paused: true")),
        tickMs: SATURDAY_NOON_PRAGUE,
        force: true,
      },
      undefined,
    ],
    ["not the leader", { state: { leader: false } }, "not_leader"],
    [
      "--force does not override leadership",
      { state: { leader: false }, force: true },
      "not_leader",
    ],
    ["recoveries in flight with concurrency Forbid", { state: { inFlight: 1 } }, "concurrency"],
    [
      "recoveries in flight with concurrency Allow",
      {
        cfg: config((t) => t.replace("concurrency: Forbid", "concurrency: Allow")),
        state: { inFlight: 3 },
      },
      undefined,
    ],
    ["a cache not synced", { state: { synced: false } }, "cache_unsynced"],
  ])("%s", (_what, x, expected) => {
    const cfg = x.cfg ?? base;
    const target = cfg.targets[0] ?? web;
    const req = {
      config: cfg,
      target,
      tickMs: x.tickMs ?? WEDNESDAY_NOON_PRAGUE,
      force: x.force ?? false,
    };
    expect(gate(req, { ...fine, ...x.state })).toBe(expected);
  });
});

describe("roundId", () => {
  it("names a round by its target and tick, to the second, the same on every replica", () => {
    expect(roundId("web", Date.parse("2026-11-21T04:52:56.789Z"))).toBe("web-20261121T045256Z");
  });
});

// --- runRound, with recording fakes of its narrow dependencies -----------------------------------

const TICK = Date.parse("2026-11-18T11:00:00Z"); // a Wednesday
const SATURDAY_TICK = Date.parse("2026-11-21T11:00:00Z");
const ROUND = "web-20261118T110000Z";
const NS = "shop";
const DEPLOY_UID = "uid-deploy-web";
const STS_UID = "uid-sts-db";

/**
 * A live config through the real loader: target web kills pods of Deployment web (every one of
 * them unless `web` says otherwise), target db deletes claims and restarts their pods.
 */
function liveConfig(o: { top?: string; web?: string; dryRun?: boolean } = {}): Config {
  const r = loadConfig(`apiVersion: chaos-monkey.io/v1
kind: ChaosMonkeyConfig
dryRun: ${o.dryRun ?? false}
${o.top ?? ""}safety:
  maxPerOwner: 3
  blackout: { weekdays: [Sat] }
targets:
  - name: web
    kind: Pod
    schedule: "*/10 * * * *"
    selector: { namespaces: [shop], labelSelector: app=web }
${o.web ?? "    mode: all\n"}  - name: db
    kind: PersistentVolumeClaim
    schedule: "@daily"
    selector: { namespaces: [shop] }
    action: { stripFinalizers: true, restartConsumers: true }
`);
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.config;
}

function targetOf(cfg: Config, name: string): Target {
  const t = cfg.targets.find((x) => x.name === name);
  if (!t) throw new Error(`no target ${name}`);
  return t;
}

const ref = (kind: string, name: string, uid: string): V1OwnerReference => ({
  apiVersion: "apps/v1",
  kind,
  name,
  uid,
  controller: true,
});

const runningPod = (name: string, owner: V1OwnerReference, claim?: string): V1Pod => ({
  metadata: {
    name,
    namespace: NS,
    uid: `uid-${name}`,
    resourceVersion: "1",
    labels: { app: claim ? "db" : "web" },
    creationTimestamp: new Date(TICK - 3_600_000),
    ownerReferences: [owner],
  },
  spec: {
    containers: [],
    ...(claim ? { volumes: [{ name: "data", persistentVolumeClaim: { claimName: claim } }] } : {}),
  },
  status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
});

/** The caches a round reads: Deployment web's three pods, and StatefulSet db's claim and pod. */
class FakeRoundView implements RoundView {
  synced = true;
  pods: V1Pod[] = ["web-a", "web-b", "web-c"].map((n) =>
    runningPod(n, ref("ReplicaSet", "web-7d9f", "uid-rs-web")),
  );
  readonly claims: V1PersistentVolumeClaim[] = [
    {
      metadata: {
        name: "data-db-0",
        namespace: NS,
        uid: "uid-data-db-0",
        resourceVersion: "1",
        creationTimestamp: new Date(TICK - 3_600_000),
      },
      spec: { volumeName: "pv-1" },
      status: { phase: "Bound" },
    },
  ];
  readonly consumerPods = [runningPod("db-0", ref("StatefulSet", "db", STS_UID), "data-db-0")];
  readyReplicas = 3;

  readonly workload = (kind: string, namespace: string, name: string): Workload | undefined => {
    if (namespace !== NS) return undefined;
    if (kind === "Deployment" && name === "web")
      return {
        metadata: { name, namespace, uid: DEPLOY_UID, generation: 1 },
        spec: { replicas: 3, selector: {}, template: {} },
        status: { observedGeneration: 1, readyReplicas: this.readyReplicas },
      };
    if (kind === "ReplicaSet" && name === "web-7d9f")
      return {
        metadata: {
          name,
          namespace,
          uid: "uid-rs-web",
          ownerReferences: [ref("Deployment", "web", DEPLOY_UID)],
        },
      };
    if (kind === "StatefulSet" && name === "db")
      return {
        metadata: { name, namespace, uid: STS_UID, generation: 1 },
        spec: { replicas: 1, selector: {}, template: {}, serviceName: "db" },
        status: { observedGeneration: 1, readyReplicas: 1, replicas: 1 },
      };
    return undefined;
  };

  objectsOf(target: Target): KubernetesObject[] {
    return target.kind === "Pod" ? this.pods : this.claims;
  }
  namespaceObjects(): V1Namespace[] {
    return [{ metadata: { name: NS } }];
  }
  consumers(namespace: string, name: string): V1Pod[] {
    return consumersOf(this.consumerPods, namespace, name);
  }
  claim(namespace: string, name: string): V1PersistentVolumeClaim | undefined {
    return this.claims.find((c) => c.metadata?.namespace === namespace && c.metadata.name === name);
  }
  volume(): V1PersistentVolume | undefined {
    return undefined;
  }
  workloadPods(_target: string, owner: WorkloadRef): V1Pod[] {
    return [...this.pods, ...this.consumerPods].filter(
      (p) => topOwner(p, this.workload)?.uid === owner.uid,
    );
  }
}

/** runRound's dependencies as recording fakes; `calls` is the order of everything they saw. */
function roundHarness() {
  const calls: string[] = [];
  const clock = new FakeClock(TICK + 250); // the round starts 250 ms after its tick
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: "info",
    format: "json",
    destination: { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) },
  });
  const metrics = createMetrics({ version: "test" });
  const view = new FakeRoundView();
  const kills: KillRequest[] = [];
  const recorded: { target: string; tickMs: number; entries: readonly JournalEntry[] }[] = [];
  const tracked: Victim[] = [];
  const events: ChaosEvent[] = [];
  const state = {
    leader: true,
    inFlight: new Map<string, number>(),
    gateOpen: true,
    /** Write gates handed out and not yet done. */
    writing: 0,
    record: (): Promise<boolean> => Promise.resolve(true),
    emit: (): Promise<void> => Promise.resolve(),
    steady: undefined as CheckRound | undefined,
    /** Per victim name, the answers of successive kills and re-checks (then: killed / fresh). */
    outcomes: new Map<string, KillOutcome[]>(),
    rechecks: new Map<string, (Recheck | Error | "fresh")[]>(),
  };
  const fresh = (c: Candidate): Recheck => ({
    ok: true,
    ref: { namespace: c.namespace, name: c.name, uid: c.uid, resourceVersion: `fresh-${c.name}` },
    consumers: c.consumers.map((p) => ({ ...p, resourceVersion: `fresh-${p.name}` })),
  });
  const deps: RoundDeps = {
    view,
    tracker: {
      inFlight: (t) => state.inFlight.get(t) ?? 0,
      track: (v) => {
        calls.push(`track ${v.name}`);
        tracked.push(v);
        return Promise.resolve({
          victim: v,
          outcome: "recovered",
          phases: { replaced: 1, ready: 2, recovered: 3 },
          endedAtMs: v.killedAtMs + 3000,
          objectiveMissed: false,
        });
      },
    },
    kill: (k) => {
      calls.push(`kill ${k.victim.name}`);
      kills.push(k);
      return Promise.resolve(state.outcomes.get(k.victim.name)?.shift() ?? { result: "killed" });
    },
    emit: (e) => {
      events.push(e);
      return state.emit();
    },
    metrics,
    log,
    clock,
    rng: seedrandom("round-test"),
    self: { namespace: "chaos", podName: "chaos-monkey-0" },
    isLeader: () => state.leader,
    gate: () => {
      if (!state.gateOpen) return undefined;
      state.writing++;
      return () => state.writing--;
    },
    journal: {
      record: (target, tickMs, entries) => {
        calls.push(`record ${entries.map((e) => e.name).join(",")}`);
        recorded.push({ target, tickMs, entries });
        return state.record();
      },
      settled: (uid, how) => calls.push(`settled ${uid} ${how}`),
    },
    steadyBefore: () => (state.steady ? Promise.resolve(state.steady) : undefined),
    recheck: (victim) => {
      calls.push(`recheck ${victim.name}`);
      const next = state.rechecks.get(victim.name)?.shift() ?? "fresh";
      if (next instanceof Error) return Promise.reject(next);
      return Promise.resolve(next === "fresh" ? fresh(victim) : next);
    },
  };
  const count = async (name: string, labels: Record<string, string>): Promise<number> => {
    const m = metrics.registry.getSingleMetric(`chaos_monkey_${name}`);
    if (!m) throw new Error(`no metric ${name}`);
    const { values } = await m.get();
    return values
      .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
      .reduce((n, v) => n + v.value, 0);
  };
  const run = (cfg: Config, over: Partial<RoundRequest> = {}) =>
    runRound(
      { config: cfg, target: targetOf(cfg, "web"), tickMs: TICK, seed: "seed-1", ...over },
      deps,
    );
  const logged = (msg: string) => lines.filter((l) => l.msg === msg);
  return { calls, clock, view, kills, recorded, tracked, events, state, deps, count, run, logged };
}

/** The order the pure decision puts web's victims in, for seed-1 (what the kills must follow). */
function decidedOrder(cfg: Config, view: RoundView): string[] {
  return decide({
    target: targetOf(cfg, "web"),
    config: cfg,
    view,
    self: { namespace: "chaos", podName: "chaos-monkey-0" },
    seed: "seed-1",
    nowMs: TICK,
  }).victims.map((v) => v.name);
}

const ONE = { web: "    mode: one\n" };

describe("runRound: a round that kills", () => {
  it("re-checks every victim, journals them before the first kill, then kills and tracks each in order", async () => {
    const h = roundHarness();
    const cfg = liveConfig();
    const order = decidedOrder(cfg, h.view);
    expect([...order].sort()).toEqual(["web-a", "web-b", "web-c"]);
    const report = await h.run(cfg);

    expect(h.calls).toEqual([
      ...order.map((n) => `recheck ${n}`),
      `record ${order.join(",")}`,
      ...order.flatMap((n) => [`kill ${n}`, `track ${n}`, `settled uid-${n} tracked`]),
    ]);
    // Each kill names the victim at the version the re-check read, in this round.
    expect(h.kills.map((k) => [k.victim.name, k.victim.uid, k.ref, k.round, k.consumers])).toEqual(
      order.map((n) => [
        n,
        `uid-${n}`,
        { namespace: NS, name: n, uid: `uid-${n}`, resourceVersion: `fresh-${n}` },
        ROUND,
        [],
      ]),
    );
    for (const k of h.kills) expect(k.target).toBe(targetOf(cfg, "web"));
    expect(h.recorded).toEqual([
      {
        target: "web",
        tickMs: TICK,
        entries: order.map((n) => ({
          uid: `uid-${n}`,
          kind: "Pod",
          namespace: NS,
          name: n,
          round: ROUND,
          target: "web",
          strip: [],
          atMs: TICK + 250,
        })),
      },
    ]);
    // Recovery compares against every pod the workload had before the kill.
    expect(h.tracked.map((v) => v.name)).toEqual(order);
    for (const v of h.tracked)
      expect(v).toMatchObject({
        kind: "Pod",
        round: ROUND,
        seed: "seed-1",
        owner: { kind: "Deployment", name: "web", uid: DEPLOY_UID },
        killedAtMs: TICK + 250,
        knownUids: new Set(["uid-web-a", "uid-web-b", "uid-web-c"]),
        restartedConsumers: false,
      });
    expect(report).toMatchObject({
      round: ROUND,
      target: "web",
      seed: "seed-1",
      skipped: undefined,
      eligible: 3,
      failed: false,
      victims: order.map((name) => ({ kind: "Pod", namespace: NS, name, result: "killed" })),
    });
    expect(await h.count("rounds_total", { target: "web", outcome: "ran" })).toBe(1);
    expect(await h.count("rounds_total", { target: "web" })).toBe(1);
    expect(await h.count("kills_total", { target: "web", result: "killed", kind: "Pod" })).toBe(3);
    expect(await h.count("eligible_objects", { target: "web" })).toBe(3);
    expect(await h.count("last_round_timestamp_seconds", { target: "web" })).toBe(TICK / 1000);
    // From the tick to each kill request (the benchmark's tick-to-kill).
    expect(h.logged(LOG.KILLING).map((l) => [l.victim, l.tickToKillMs])).toEqual(
      order.map((n) => [`${NS}/${n}`, 250]),
    );
    // A ChaosKill Event per victim on its workload, then a ChaosRecovered one as each recovers.
    const results = await report.recoveries;
    expect(results.map((r) => r.outcome)).toEqual(["recovered", "recovered", "recovered"]);
    const seen = (reason: string) =>
      h.events.filter((e) => e.reason === reason).map((e) => [e.type, e.regarding.uid]);
    expect(seen("ChaosKill")).toEqual(order.map(() => ["Warning", DEPLOY_UID]));
    expect(seen("ChaosRecovered")).toEqual(order.map(() => ["Normal", DEPLOY_UID]));
    expect(h.events[0]?.note).toBe(
      `target=web round=${ROUND} seed=seed-1: evicted pod ${NS}/${order[0] ?? ""}`,
    );
    expect(h.state.writing).toBe(0); // every write gate taken was given back
  });

  it("a claim: its consumers from the re-check go with the kill; the strip is journalled", async () => {
    const h = roundHarness();
    const cfg = liveConfig();
    h.state.outcomes.set("data-db-0", [
      {
        result: "killed",
        stripped: ["kubernetes.io/pvc-protection"],
        restarted: 1,
        consumers: [{ namespace: NS, name: "db-0", result: "evicted" }],
      },
    ]);
    const report = await h.run(cfg, { target: targetOf(cfg, "db") });
    const consumer = {
      namespace: NS,
      name: "db-0",
      uid: "uid-db-0",
      resourceVersion: "fresh-db-0",
    };
    expect(h.kills).toMatchObject([{ round: "db-20261118T110000Z", consumers: [consumer] }]);
    expect(h.recorded[0]?.entries).toMatchObject([
      { kind: "PersistentVolumeClaim", name: "data-db-0", strip: ["kubernetes.io/pvc-protection"] },
    ]);
    expect(h.tracked).toMatchObject([
      {
        kind: "PersistentVolumeClaim",
        name: "data-db-0",
        owner: { kind: "StatefulSet", uid: STS_UID },
        knownUids: new Set(["uid-db-0"]),
        consumerOwners: [{ kind: "StatefulSet", name: "db", uid: STS_UID }],
        claims: [{ namespace: NS, name: "data-db-0" }],
        restartedConsumers: true,
      },
    ]);
    expect(report.victims).toEqual([
      {
        kind: "PersistentVolumeClaim",
        namespace: NS,
        name: "data-db-0",
        result: "killed",
        consumers: [{ namespace: NS, name: "db-0", result: "evicted" }],
      },
    ]);
    expect(h.events[0]?.note).toMatch(
      /deleted persistentvolumeclaim shop\/data-db-0 and stripped kubernetes.io\/pvc-protection$/,
    );
    expect(h.events[0]?.regarding).toMatchObject({ kind: "StatefulSet", uid: STS_UID });
  });

  it("dry run: reports the victims and writes, re-reads and kills nothing", async () => {
    const h = roundHarness();
    const report = await h.run(liveConfig({ dryRun: true }));
    expect(h.calls).toEqual([]);
    expect(h.events).toEqual([]);
    expect(report.victims.map((v) => v.result)).toEqual(["dry_run", "dry_run", "dry_run"]);
    expect(await h.count("kills_total", { target: "web", result: "dry_run" })).toBe(3);
    expect(await h.count("kills_total", { target: "web", result: "killed" })).toBe(0);
  });

  it.each<[string, { req?: string; config?: string }, string | RegExp]>([
    ["the request's seed first", { req: "from-cli", config: "from-config" }, "from-cli"],
    ["else the config's", { config: "from-config" }, "from-config"],
    ["else a new one from the process's generator", {}, /^[0-9a-f]{16}$/],
  ])("the seed: %s", async (_what, x, expected) => {
    const h = roundHarness();
    const cfg = liveConfig({ top: x.config ? `seed: ${x.config}\n` : "" });
    const report = await h.run(cfg, { seed: x.req });
    if (typeof expected === "string") expect(report.seed).toBe(expected);
    else expect(report.seed).toMatch(expected);
    expect(h.tracked[0]?.seed).toBe(report.seed);
  });
});

describe("runRound: skipped before anything is read", () => {
  it.each<[string, (h: ReturnType<typeof roundHarness>) => Partial<RoundRequest>, string]>([
    ["paused", () => ({ config: liveConfig({ top: "paused: true\n" }) }), "paused"],
    ["in a blackout window", () => ({ tickMs: SATURDAY_TICK }), "blackout"],
    [
      "not the leader",
      (h) => {
        h.state.leader = false;
        return {};
      },
      "not_leader",
    ],
    [
      "this target's recoveries in flight, concurrency Forbid",
      (h) => {
        h.state.inFlight.set("web", 1);
        return {};
      },
      "concurrency",
    ],
    [
      "a cache not synced",
      (h) => {
        h.view.synced = false;
        return {};
      },
      "cache_unsynced",
    ],
  ])("%s", async (_what, arrange, reason) => {
    const h = roundHarness();
    const over = arrange(h);
    const cfg = over.config ?? liveConfig();
    const report = await h.run(cfg, { ...over, config: cfg, target: targetOf(cfg, "web") });
    expect(report).toMatchObject({ skipped: reason, victims: [], eligible: 0, failed: false });
    expect(await report.recoveries).toEqual([]);
    expect(h.calls).toEqual([]); // no re-check, no journal, no kill, no tracking
    expect(h.events).toEqual([]);
    expect(await h.count("rounds_total", { target: "web", outcome: "skipped" })).toBe(1);
    expect(await h.count("rounds_total", { target: "web", outcome: "ran" })).toBe(0);
    expect(await h.count("skips_total", { target: "web", reason })).toBe(1);
    expect(h.logged(LOG.ROUND_SKIPPED)).toMatchObject([
      { reason, round: roundId("web", over.tickMs ?? TICK), target: "web" },
    ]);
  });

  it.each<[string, (h: ReturnType<typeof roundHarness>) => Partial<RoundRequest>]>([
    [
      "another target's recoveries in flight",
      (h) => {
        h.state.inFlight.set("db", 2);
        return {};
      },
    ],
    [
      "recoveries in flight with concurrency Allow",
      (h) => {
        h.state.inFlight.set("web", 2);
        const cfg = liveConfig({ web: "    mode: one\n    concurrency: Allow\n" });
        return { config: cfg, target: targetOf(cfg, "web") };
      },
    ],
    [
      "--force, paused and in a blackout window",
      () => {
        const cfg = liveConfig({ top: "paused: true\n", ...ONE });
        return { config: cfg, target: targetOf(cfg, "web"), tickMs: SATURDAY_TICK, force: true };
      },
    ],
  ])("runs anyway: %s", async (_what, arrange) => {
    const h = roundHarness();
    const cfg = liveConfig(ONE);
    const report = await h.run(cfg, arrange(h));
    expect(report.skipped).toBeUndefined();
    expect(h.kills).toHaveLength(1);
  });
});

describe("runRound: skipped after selection, with no kill", () => {
  const failing: CheckRound = {
    atMs: TICK,
    checks: [
      { probe: "web", outcome: { result: "fail", reason: "status 503" } },
      { probe: "errors", outcome: { result: "pass" } },
    ],
  };
  const probes = `    mode: all
    steadyState:
      probes:
        - { name: web, http: { url: "http://web.shop/healthz" } }
        - { name: errors, http: { url: "http://web.shop/errors" } }
`;
  it.each<[string, (h: ReturnType<typeof roundHarness>) => Config, string, number]>([
    [
      "no candidates",
      (h) => {
        h.view.pods = [];
        return liveConfig();
      },
      "no_candidates",
      0,
    ],
    [
      "the workload not whole (requireHealthy)",
      (h) => {
        h.view.readyReplicas = 2;
        return liveConfig(ONE);
      },
      "unhealthy",
      3,
    ],
    [
      "the steady-state probes failing before the kill",
      (h) => {
        h.state.steady = failing;
        return liveConfig({ web: probes });
      },
      "not_steady",
      3,
    ],
  ])("%s", async (_what, arrange, reason, eligible) => {
    const h = roundHarness();
    const report = await h.run(arrange(h));
    expect(report).toMatchObject({ skipped: reason, victims: [], eligible });
    expect(h.calls).toEqual([]);
    expect(await h.count("skips_total", { target: "web", reason })).toBe(1);
    expect(await h.count("rounds_total", { target: "web", outcome: "skipped" })).toBe(1);
  });

  it("probes that pass let the round go on", async () => {
    const h = roundHarness();
    h.state.steady = { atMs: TICK, checks: [{ probe: "web", outcome: { result: "pass" } }] };
    const report = await h.run(liveConfig({ web: probes }));
    expect(report.skipped).toBeUndefined();
    expect(h.kills).toHaveLength(3);
  });
});

describe("runRound: the re-check before the kill", () => {
  it.each<[string, Recheck, { result: string; message?: string }]>([
    ["gone since it was cached", { ok: false, result: "gone" }, { result: "gone" }],
    [
      "opted out since it was cached",
      { ok: false, result: "excluded", reason: "opted_out" },
      { result: "excluded", message: "opted_out" },
    ],
  ])("a victim %s is neither journalled nor killed", async (_what, answer, expected) => {
    const h = roundHarness();
    const cfg = liveConfig();
    const [first, ...rest] = decidedOrder(cfg, h.view);
    if (!first) throw new Error("victims");
    h.state.rechecks.set(first, [answer]);
    const report = await h.run(cfg);
    expect(h.recorded[0]?.entries.map((e) => e.name)).toEqual(rest);
    expect(h.kills.map((k) => k.victim.name)).toEqual(rest);
    expect(h.calls).not.toContain(`settled uid-${first} done`);
    expect(report.victims).toEqual([
      { kind: "Pod", namespace: NS, name: first, ...expected },
      ...rest.map((name) => ({ kind: "Pod", namespace: NS, name, result: "killed" })),
    ]);
  });

  it("every victim ruled out: no journal write, no kill", async () => {
    const h = roundHarness();
    const cfg = liveConfig();
    for (const n of ["web-a", "web-b", "web-c"])
      h.state.rechecks.set(n, [{ ok: false, result: "gone" }]);
    const report = await h.run(cfg);
    expect(h.calls.filter((c) => !c.startsWith("recheck"))).toEqual([]);
    expect(report.victims.map((v) => v.result)).toEqual(["gone", "gone", "gone"]);
    expect(await h.count("kills_total", {})).toBe(0);
  });

  it("a re-check that fails fails the round before anything is written", async () => {
    const h = roundHarness();
    const cfg = liveConfig(ONE);
    const [victim] = decidedOrder(cfg, h.view);
    h.state.rechecks.set(victim ?? "", [new Error("apiserver 500")]);
    const report = await h.run(cfg);
    expect(report).toMatchObject({ failed: true, skipped: undefined, victims: [] });
    expect(h.calls).toEqual([`recheck ${victim ?? ""}`]);
    expect(await h.count("rounds_total", { target: "web", outcome: "failed" })).toBe(1);
    expect(await h.count("errors_total", { operation: "round" })).toBe(1);
  });
});

describe("runRound: what the killer answers", () => {
  const only = (h: ReturnType<typeof roundHarness>, cfg: Config): string => {
    const [v] = decidedOrder(cfg, h.view);
    if (!v) throw new Error("a victim");
    return v;
  };
  it.each<
    [
      string,
      KillOutcome[],
      {
        report: Record<string, unknown>;
        settled: string;
        kills: number;
        round: "ran" | "skipped";
        killed: number;
        failed: number;
        event?: string;
      },
    ]
  >([
    [
      "refused by a PodDisruptionBudget: the round is skipped for pdb",
      [{ result: "pdb", message: "Cannot evict pod" }],
      {
        report: { result: "pdb", message: "Cannot evict pod" },
        settled: "done",
        kills: 1,
        round: "skipped",
        killed: 0,
        failed: 0,
      },
    ],
    [
      "failed: counted, nothing to recover",
      [{ result: "failed", message: "forbidden", code: 403 }],
      {
        report: { result: "failed", message: "forbidden" },
        settled: "done",
        kills: 1,
        round: "ran",
        killed: 0,
        failed: 1,
      },
    ],
    [
      "deleted but held Terminating: a Warning, no kill claimed",
      [{ result: "terminating", message: "finalizer example.com/hold" }],
      {
        report: { result: "terminating", message: "finalizer example.com/hold" },
        settled: "done",
        kills: 1,
        round: "ran",
        killed: 0,
        failed: 0,
        event: "stays Terminating: finalizer example.com/hold",
      },
    ],
    [
      "gone when the kill reached it",
      [{ result: "gone" }],
      { report: { result: "gone" }, settled: "done", kills: 1, round: "ran", killed: 0, failed: 0 },
    ],
    [
      "changed since the re-check, killed after a second look",
      [{ result: "changed" }, { result: "killed" }],
      {
        report: { result: "killed" },
        settled: "tracked",
        kills: 2,
        round: "ran",
        killed: 1,
        failed: 0,
        event: "evicted pod",
      },
    ],
    [
      "changed twice: given up",
      [{ result: "changed" }, { result: "changed" }],
      {
        report: { result: "changed" },
        settled: "done",
        kills: 2,
        round: "ran",
        killed: 0,
        failed: 0,
      },
    ],
  ])("%s", async (_what, outcomes, x) => {
    const h = roundHarness();
    const cfg = liveConfig(ONE);
    const v = only(h, cfg);
    h.state.outcomes.set(v, [...outcomes]);
    const report = await h.run(cfg);
    expect(report.victims).toEqual([{ kind: "Pod", namespace: NS, name: v, ...x.report }]);
    expect(h.kills).toHaveLength(x.kills);
    expect(h.calls.filter((c) => c.startsWith("settled"))).toEqual([
      `settled uid-${v} ${x.settled}`,
    ]);
    expect(h.tracked).toHaveLength(x.settled === "tracked" ? 1 : 0);
    expect(report.skipped).toBe(x.round === "skipped" ? "pdb" : undefined);
    expect(await h.count("rounds_total", { target: "web", outcome: x.round })).toBe(1);
    expect(await h.count("kills_total", { target: "web", result: "killed" })).toBe(x.killed);
    expect(await h.count("kills_total", { target: "web", result: "failed" })).toBe(x.failed);
    expect(await h.count("errors_total", { operation: "kill" })).toBe(x.failed);
    await report.recoveries;
    const kill = h.events.filter((e) => e.reason === "ChaosKill");
    expect(kill.map((e) => e.type)).toEqual(x.event ? ["Warning"] : []);
    if (x.event) expect(kill[0]?.note).toContain(x.event);
  });

  it("a look that throws after the journal: the round fails, and no journalled victim stays unsettled", async () => {
    const h = roundHarness();
    const cfg = liveConfig();
    const [first, second, third] = decidedOrder(cfg, h.view) as [string, string, string];
    h.state.outcomes.set(second, [{ result: "changed" }]);
    h.state.rechecks.set(second, ["fresh", new Error("connect ECONNREFUSED")]);
    const report = await h.run(cfg);
    expect(report).toMatchObject({ failed: true, skipped: undefined });
    // The first was killed and tracked; the second was not killed (its kill said "changed" and
    // the second look failed), the third never reached: both go to the finisher, which judges
    // them from the API server. (Unsettled, they stayed busy for the process's life.)
    expect(h.kills.map((k) => k.victim.name)).toEqual([first, second]);
    expect(h.calls.filter((c) => c.startsWith("settled"))).toEqual([
      `settled uid-${first} tracked`,
      `settled uid-${second} finish`,
      `settled uid-${third} finish`,
    ]);
  });

  it("changed, then gone at the second look: one kill, reported gone", async () => {
    const h = roundHarness();
    const cfg = liveConfig(ONE);
    const v = only(h, cfg);
    h.state.outcomes.set(v, [{ result: "changed" }]);
    h.state.rechecks.set(v, ["fresh", { ok: false, result: "gone" }]);
    const report = await h.run(cfg);
    expect(h.calls).toEqual([
      `recheck ${v}`,
      `record ${v}`,
      `kill ${v}`,
      `recheck ${v}`,
      `settled uid-${v} done`,
    ]);
    expect(report.victims).toMatchObject([{ name: v, result: "gone" }]);
  });

  it("changed: the second kill carries the version the second look read", async () => {
    const h = roundHarness();
    const cfg = liveConfig(ONE);
    const v = only(h, cfg);
    h.state.outcomes.set(v, [{ result: "changed" }]);
    const again = { namespace: NS, name: v, uid: `uid-${v}`, resourceVersion: "2" };
    h.state.rechecks.set(v, ["fresh", { ok: true, ref: again, consumers: [] }]);
    await h.run(cfg);
    expect(h.kills.map((k) => k.ref.resourceVersion)).toEqual([`fresh-${v}`, "2"]);
  });

  it("a held claim with a strip to do is left to the finisher", async () => {
    const h = roundHarness();
    const cfg = liveConfig();
    h.state.outcomes.set("data-db-0", [{ result: "terminating", message: "held" }]);
    await h.run(cfg, { target: targetOf(cfg, "db") });
    expect(h.calls.filter((c) => c.startsWith("settled"))).toEqual([
      "settled uid-data-db-0 finish",
    ]);
  });
});

describe("runRound: the journal and the write gate", () => {
  it.each<[string, () => Promise<boolean>, { skipped?: string; failed: boolean; outcome: string }]>(
    [
      [
        "the tick already ran (here or at another replica)",
        () => Promise.resolve(false),
        { skipped: "not_leader", failed: false, outcome: "skipped" },
      ],
      [
        "the lease lost before the write",
        () => Promise.reject(new NotAllowed()),
        { skipped: "not_leader", failed: false, outcome: "skipped" },
      ],
      [
        "the API refusing the write",
        () => Promise.reject(new Error("etcd timeout")),
        { failed: true, outcome: "failed" },
      ],
    ],
  )("%s: no kill", async (_what, record, x) => {
    const h = roundHarness();
    h.state.record = record;
    const report = await h.run(liveConfig());
    expect(h.kills).toEqual([]);
    expect(h.calls.filter((c) => !c.startsWith("recheck") && !c.startsWith("record"))).toEqual([]);
    expect(report).toMatchObject({ skipped: x.skipped, failed: x.failed, victims: [] });
    expect(await h.count("rounds_total", { target: "web", outcome: x.outcome })).toBe(1);
    expect(await h.count("rounds_total", { target: "web" })).toBe(1);
  });

  it("a closed write gate: no Event is sent", async () => {
    const h = roundHarness();
    h.state.gateOpen = false;
    const report = await h.run(liveConfig(ONE));
    await report.recoveries;
    expect(h.events).toEqual([]);
    expect(h.logged("event not recorded: not leading, or dry-run now")).toHaveLength(2); // kill, recovered
  });

  it("an Event the API refuses is counted; the round still reports its kill", async () => {
    const h = roundHarness();
    h.state.emit = () => Promise.reject(new Error("events forbidden"));
    const report = await h.run(liveConfig(ONE));
    await report.recoveries;
    expect(report.victims.map((v) => v.result)).toEqual(["killed"]);
    expect(await h.count("errors_total", { operation: "event" })).toBe(2);
    expect(h.state.writing).toBe(0);
  });
});
