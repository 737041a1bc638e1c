// Pod chaos on the real control plane (issue 3 acceptance): kills and measured recoveries,
// decoys never touched, PodDisruptionBudgets respected, dry-run writing nothing, once's verdict.
import { randomBytes } from "node:crypto";
import type * as k8s from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { requestsBy, writesBy } from "../support/audit.js";
import {
  connect,
  createNamespace,
  deleteNamespace,
  deploymentReady,
  watchUntil,
} from "../support/kube.js";
import type { LogLine, Running } from "../support/monkey.js";
import {
  asIdentity,
  chaosConfig,
  deleteIdentityBindings,
  metricSum,
  monkeyIdentity,
  runMonkey,
  runOnce,
  scrape,
  startRun,
  tokenIdentity,
} from "../support/monkey.js";
import { deployment, pdb, pod } from "../support/objects.js";
import { e2eSuite } from "../support/suite.js";
import { DeploymentWatcher } from "../support/watcher.js";
import { LOG } from "../../src/observe/messages.js";

const t = e2eSuite("e2e-pods");
const extraNamespaces: string[] = [];
const extraSelves: string[] = []; // own namespaces of further monkey identities

afterAll(async () => {
  for (const n of extraNamespaces) await deleteNamespace(t.kube, n);
  for (const n of extraSelves) await deleteIdentityBindings(t.kube, n);
});

const common = () => asIdentity(t.id, t.selfNs);

const rolledOut = (name: string, replicas: number, namespace = t.ns) =>
  deploymentReady(t.kube, namespace, name, replicas);

async function uids(namespace: string): Promise<Set<string>> {
  const list = await t.kube.core.listNamespacedPod({ namespace });
  return new Set(
    list.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.uid ?? ""),
  );
}

/**
 * Runs `body` against the started monkey `m`, then stops it (SIGTERM) whatever happened. The
 * body's own failure is the one reported; only a body that passed goes on to require exit 0 (an
 * `expect` in a `finally` would replace the first error with its own).
 */
async function thenStop<T>(m: Running, body: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await body();
  } catch (err) {
    m.proc.kill("SIGTERM");
    await m.exited;
    throw err;
  }
  m.proc.kill("SIGTERM");
  expect(await m.exited, `exit code; stderr: ${m.stderr.slice(-5).join("\n")}`).toBe(0);
  return result;
}

/** Runs `run` until `until` holds for its metrics, then SIGTERMs it and checks exit 0. */
async function runFor(
  config: string,
  until: (m: Map<string, number>) => boolean,
): Promise<{ metrics: Map<string, number>; logs: LogLine[] }> {
  const m = await startRun(config, t.id, t.selfNs);
  const port = m.port;
  return thenStop(m, async () => {
    await m.waitForLog((l) => l.msg === LOG.CONFIG_LOADED, 30_000);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const metrics = await scrape(port);
      if (until(metrics)) return { metrics, logs: m.logs };
      if (Date.now() > deadline)
        throw new Error(`condition not reached; last lines: ${JSON.stringify(m.logs.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });
}

/**
 * A write by another ServiceAccount (`sentinel`, allowed to create ConfigMaps in `namespace`
 * only), sent now and awaited in the audit log: once it is there, every request that completed
 * before it was sent is there too, so "not in the log" means "not sent", not "not flushed yet".
 */
async function auditSentinel(namespace: string): Promise<void> {
  const audit = t.auditLog;
  const name = `sentinel-${randomBytes(3).toString("hex")}`;
  await t.kube.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await t.kube.rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["create"] }],
    },
  });
  await t.kube.rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
  });
  const sentinel = await tokenIdentity(t.kube, namespace, name);
  const asSentinel = connect(sentinel.kubeconfig);
  // RBAC caches settle quickly but not at once: retry a denied create for a little while.
  for (let i = 0; ; i++) {
    try {
      await asSentinel.core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name }, data: { sentinel: "true" } },
      });
      break;
    } catch (err) {
      if (i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const deadline = Date.now() + 30_000;
  const logged = () =>
    writesBy(audit, sentinel.username).some(
      (e) =>
        e.verb === "create" &&
        e.objectRef?.resource === "configmaps" &&
        e.objectRef.name === name &&
        e.responseStatus?.code === 201,
    );
  while (!logged()) {
    if (Date.now() > deadline)
      throw new Error(`the sentinel write ${namespace}/${name} never reached the audit log`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A ChaosKill and a ChaosRecovered Event on the Deployment, naming the round and its seed. */
async function expectEvents(round: string, seed: string): Promise<void> {
  const seen = await watchUntil<k8s.EventsV1Event>(t.kube, {
    path: `/apis/events.k8s.io/v1/namespaces/${t.ns}/events`,
    until: (_t, e) => e.reason === "ChaosRecovered" && e.note?.includes(`round=${round}`) === true,
    timeoutMs: 10_000,
  });
  expect(seen.object.regarding?.kind).toBe("Deployment");
  expect(seen.object.note).toContain(`seed=${seed}`);
  const kills = await t.kube.objects.list<k8s.EventsV1Event>("events.k8s.io/v1", "Event", t.ns);
  const kill = kills.items.find(
    (e) => e.reason === "ChaosKill" && e.note?.includes(`round=${round}`),
  );
  expect(kill?.type).toBe("Warning");
  expect(kill?.note).toContain(`seed=${seed}`);
}

/** Namespaces labelled for one decoy test, with one workload that may die and many that may not. */
async function decoyWorld(label: string) {
  const mark = (n: string, annotations?: Record<string, string>) =>
    t.kube.core.patchNamespace({
      name: n,
      body: [
        { op: "add", path: "/metadata/labels/e2e-decoys", value: label },
        ...(annotations ? [{ op: "add", path: "/metadata/annotations", value: annotations }] : []),
      ],
    });
  const excluded = await createNamespace(t.kube, "e2e-excluded");
  const optedOutNs = await createNamespace(t.kube, "e2e-optout");
  const victimsNs = await createNamespace(t.kube, "e2e-victims");
  extraNamespaces.push(excluded, optedOutNs, victimsNs);
  await mark(excluded);
  await mark(optedOutNs, { "chaos-monkey.io/exclude": "true" });
  await mark(victimsNs);
  await mark(t.selfNs);
  const workloads: [string, k8s.V1Deployment][] = [
    [victimsNs, deployment(victimsNs, "victim", { replicas: 2 })],
    [
      victimsNs,
      deployment(victimsNs, "opted-out", { annotations: { "chaos-monkey.io/exclude": "true" } }),
    ],
    [victimsNs, deployment(victimsNs, "unselected", { labels: { chaos: "no" } })],
    [excluded, deployment(excluded, "in-excluded")],
    [optedOutNs, deployment(optedOutNs, "in-opted-out")],
  ];
  for (const [n, d] of workloads)
    await t.kube.apps.createNamespacedDeployment({ namespace: n, body: d });
  await t.kube.core.createNamespacedPod({ namespace: victimsNs, body: pod(victimsNs, "orphan") });
  await t.kube.core.createNamespacedPod({ namespace: t.selfNs, body: pod(t.selfNs, "the-monkey") });
  for (const [n, d] of workloads) await rolledOut(d.metadata?.name ?? "", d.spec?.replicas ?? 1, n);
  const victimPods = (await t.kube.core.listNamespacedPod({ namespace: victimsNs })).items;
  const isVictim = (p: k8s.V1Pod) => p.metadata?.name?.startsWith("victim-") === true;
  const decoys = new Set(victimPods.filter((p) => !isVictim(p)).map((p) => p.metadata?.uid ?? ""));
  for (const n of [excluded, optedOutNs, t.selfNs]) for (const u of await uids(n)) decoys.add(u);
  return {
    excluded,
    victimsNs,
    namespaces: [excluded, optedOutNs, t.selfNs, victimsNs],
    decoys,
    victims: victimPods.filter(isVictim).map((p) => p.metadata?.uid ?? ""),
  };
}

describe("pod chaos", () => {
  it("kills one web pod per round and measures each recovery within 250 ms of an independent watcher", async () => {
    await t.kube.apps.createNamespacedDeployment({
      namespace: t.ns,
      body: deployment(t.ns, "web", { replicas: 3 }),
    });
    await rolledOut("web", 3);
    const watcher = new DeploymentWatcher(t.kube, t.ns, "web");
    await watcher.start();
    const config = chaosConfig([
      {
        name: "web",
        kind: "Pod",
        schedule: "@every 5s",
        selector: { namespaces: [t.ns], labelSelector: "app=web" },
        recovery: { timeout: "30s" },
      },
    ]);
    try {
      const { metrics, logs } = await runFor(
        config,
        (m) => metricSum(m, "chaos_monkey_recoveries_total", { target: "web" }) >= 3,
      );
      const kills = metricSum(metrics, "chaos_monkey_kills_total", {
        target: "web",
        result: "killed",
      });
      const inFlight = metricSum(metrics, "chaos_monkey_recoveries_in_flight", { target: "web" });
      const recovered = metricSum(metrics, "chaos_monkey_recovery_seconds_count", {
        target: "web",
        phase: "recovered",
      });
      // Every kill is either recovered (and measured) or still in flight when we looked.
      expect(recovered).toBe(kills - inFlight);
      expect(
        metricSum(metrics, "chaos_monkey_recoveries_total", {
          target: "web",
          outcome: "recovered",
        }),
      ).toBe(recovered);
      const ended = logs.filter((l) => l.msg === LOG.RECOVERY_ENDED);
      expect(ended.length).toBeGreaterThanOrEqual(3);
      for (const end of ended) {
        expect(end.outcome).toBe("recovered");
        const name = String(end.victim).split("/")[1] ?? "";
        const theirs = watcher.recoverySeconds(name);
        const ours = (end.phases as { recovered: number }).recovered;
        expect(theirs, `the watcher saw ${name} recover`).toBeDefined();
        console.info(
          `recovery of ${name}: monkey ${ours.toFixed(3)} s, independent watcher ${theirs?.toFixed(3)} s`,
        );
        await expectEvents(String(end.round), String(end.seed));
        expect(
          Math.abs(ours - (theirs ?? Infinity)),
          `${name}: ours ${ours}s, watcher ${theirs}s`,
        ).toBeLessThanOrEqual(0.25);
      }
    } finally {
      watcher.stop();
    }
  }, 120_000);

  it("never touches decoys: excluded and opted-out namespaces, opted-out and unselected pods, orphans, itself", async () => {
    const label = `e2e-decoys-${randomBytes(3).toString("hex")}`;
    const world = await decoyWorld(label);
    const config = chaosConfig(
      [
        {
          name: "everything",
          kind: "Pod",
          schedule: "@hourly",
          mode: "all",
          selector: { namespaceSelector: `e2e-decoys=${label}`, labelSelector: "chaos!=no" },
          recovery: { timeout: "30s" },
        },
      ],
      {
        safety: {
          excludedNamespaces: [world.excluded],
          maxPerOwner: 10,
          maxKillsPerRound: 50,
          requireHealthy: false,
        },
      },
    );
    for (let round = 0; round < 2; round++) {
      const r = await runOnce(["--config", config, ...common()], { POD_NAME: "the-monkey" });
      expect(r.code, r.stderr).toBe(0);
      const [summary] = r.rounds;
      const owners = summary?.victims.map(
        (v) => `${v.namespace}/${v.name.replace(/-[^-]+-[^-]+$/, "")}`,
      );
      expect(owners).toEqual([`${world.victimsNs}/victim`, `${world.victimsNs}/victim`]);
    }
    const after = new Set<string>();
    for (const n of world.namespaces) for (const u of await uids(n)) after.add(u);
    for (const d of world.decoys) expect(after.has(d), `decoy ${d} untouched`).toBe(true);
    // The victims did die: none of the original victim pods is left.
    expect(world.victims.length).toBe(2);
    for (const u of world.victims) expect(after.has(u)).toBe(false);
  }, 180_000);

  it("turns every round into a counted pdb skip when a PodDisruptionBudget allows no disruption", async () => {
    await t.kube.apps.createNamespacedDeployment({
      namespace: t.ns,
      body: deployment(t.ns, "guarded", { replicas: 2 }),
    });
    await t.kube.policy.createNamespacedPodDisruptionBudget({
      namespace: t.ns,
      body: pdb(t.ns, "guarded", "guarded", 0),
    });
    await rolledOut("guarded", 2);
    const before = await uids(t.ns);
    const config = chaosConfig([
      {
        name: "guarded",
        kind: "Pod",
        schedule: "@every 2s",
        selector: { namespaces: [t.ns], labelSelector: "app=guarded" },
      },
    ]);
    const { metrics } = await runFor(
      config,
      (m) =>
        metricSum(m, "chaos_monkey_rounds_total", { target: "guarded", outcome: "skipped" }) >= 3,
    );
    const skipped = metricSum(metrics, "chaos_monkey_rounds_total", {
      target: "guarded",
      outcome: "skipped",
    });
    expect(
      metricSum(metrics, "chaos_monkey_rounds_total", { target: "guarded", outcome: "ran" }),
    ).toBe(0);
    expect(
      metricSum(metrics, "chaos_monkey_skips_total", { target: "guarded", reason: "pdb" }),
    ).toBe(skipped);
    expect(metricSum(metrics, "chaos_monkey_kills_total", { target: "guarded" })).toBe(0);
    const after = await uids(t.ns);
    for (const u of before) expect(after.has(u)).toBe(true);
  }, 120_000);

  it("in dry-run logs and counts victims and sends the API server no write at all", async () => {
    const audit = t.auditLog;
    // Self-contained: its own workload namespace, its own monkey namespace and identity, so
    // nothing here rests on what earlier tests did or left.
    const dryNs = await createNamespace(t.kube, "e2e-pods-dry");
    const drySelf = await createNamespace(t.kube, "e2e-pods-dry-self");
    extraNamespaces.push(dryNs, drySelf);
    extraSelves.push(drySelf);
    await t.kube.apps.createNamespacedDeployment({
      namespace: dryNs,
      body: deployment(dryNs, "web", { replicas: 3 }),
    });
    await rolledOut("web", 3, dryNs);
    const podsBefore = await uids(dryNs);
    const dryId = await monkeyIdentity(t.kube, drySelf, "dry-monkey");
    const config = chaosConfig(
      [
        {
          name: "web",
          kind: "Pod",
          schedule: "@every 2s",
          selector: { namespaces: [dryNs], labelSelector: "app=web" },
        },
      ],
      { dryRun: true },
    );
    const m = await startRun(config, dryId, drySelf);
    const port = m.port;
    await thenStop(m, async () => {
      for (let i = 0; i < 3; i++)
        await m.waitForLog(
          (l) =>
            l.msg === LOG.WOULD_KILL && m.logs.filter((x) => x.msg === LOG.WOULD_KILL).length > i,
          30_000,
        );
      const metrics = await scrape(port);
      expect(
        metricSum(metrics, "chaos_monkey_kills_total", { target: "web", result: "dry_run" }),
      ).toBeGreaterThanOrEqual(3);
      expect(
        metricSum(metrics, "chaos_monkey_kills_total", { target: "web", result: "killed" }),
      ).toBe(0);
      expect(metricSum(metrics, "chaos_monkey_dry_run")).toBe(1);
    });
    // The monkey has exited: a write sent now by someone else, once logged, shows the log holds
    // everything the monkey ever sent.
    await auditSentinel(dryNs);
    const requests = requestsBy(audit, dryId.username);
    // The log does record this identity: its reads of the pods it chose from are there...
    expect(
      requests.some((e) => ["list", "watch"].includes(e.verb) && e.objectRef?.resource === "pods"),
      `the monkey's pod reads in the audit log (${requests.length} requests)`,
    ).toBe(true);
    // ...and not one write.
    expect(writesBy(audit, dryId.username)).toEqual([]);
    // From the cluster's side too: every pod that was there is still there.
    const podsAfter = await uids(dryNs);
    for (const u of podsBefore) expect(podsAfter.has(u), `pod ${u} untouched`).toBe(true);
  }, 120_000);

  it("once exits 0 when everything recovered and 3 when a replacement is slower than the timeout", async () => {
    const ok = chaosConfig([
      {
        name: "web",
        kind: "Pod",
        schedule: "@hourly",
        selector: { namespaces: [t.ns], labelSelector: "app=web" },
        recovery: { timeout: "30s" },
      },
    ]);
    const good = await runMonkey(["once", "--config", ok, ...common()]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/recovered\s*$/m);
    await t.kube.apps.createNamespacedDeployment({
      namespace: t.ns,
      body: deployment(t.ns, "slow", {
        replicas: 1,
        annotations: { "kwok.chaos-monkey.io/ready-delay": "8s" },
      }),
    });
    await rolledOut("slow", 1);
    const slow = chaosConfig([
      {
        name: "slow",
        kind: "Pod",
        schedule: "@hourly",
        selector: { namespaces: [t.ns], labelSelector: "app=slow" },
        recovery: { timeout: "3s" },
      },
    ]);
    const bad = await t.once(slow);
    expect(bad.code, bad.stderr).toBe(3);
    const [summary] = bad.rounds;
    expect(summary?.victims[0]?.outcome).toBe("timeout");
    expect(summary?.victims[0]?.phases.recovered).toBeUndefined();
  }, 120_000);

  it("reproduces a round from its seed: plan --seed names the victim that once --seed kills", async () => {
    await t.kube.apps.createNamespacedDeployment({
      namespace: t.ns,
      body: deployment(t.ns, "seeded", { replicas: 5 }),
    });
    await rolledOut("seeded", 5);
    const cfg = chaosConfig([
      {
        name: "seeded",
        kind: "Pod",
        schedule: "@hourly",
        selector: { namespaces: [t.ns], labelSelector: "app=seeded" },
        recovery: { timeout: "30s" },
      },
    ]);
    // Different seeds against one unchanged cluster state pick different victims.
    const planned = async (seed: string) => {
      const plan = await runMonkey([
        "plan",
        "--config",
        cfg,
        ...common(),
        "--seed",
        seed,
        "--count",
        "1",
      ]);
      expect(plan.code, plan.stderr).toBe(0);
      return new RegExp(`victims with seed "${seed}": (\\S+)`).exec(plan.stdout)?.[1];
    };
    const choices = await Promise.all(["s1", "s2", "s3", "s4", "s5", "s6"].map(planned));
    expect(new Set(choices).size).toBeGreaterThan(1);
    for (const seed of ["alpha", "bravo"]) {
      const victim = await planned(seed);
      expect(victim).toBeDefined();
      const once = await t.once(cfg, "--seed", seed);
      expect(once.code, once.stderr).toBe(0);
      const [round] = once.rounds;
      expect(round?.seed).toBe(seed);
      expect(round?.victims.map((v) => `${v.namespace}/${v.name}`)).toEqual([victim]);
      // The next seed plans against the cluster as it is now (the victim was replaced).
      await rolledOut("seeded", 5);
    }
  }, 180_000);
});
