// SPEC §2, §4, §5 promises through the real command line (issue 15): paused, blackouts and
// --force, per-target zones, requireHealthy, delete with a grace period, the list form of
// stripFinalizers, exit codes, --dry-run proven against a sentinel write, pretty logs,
// CHAOS_MONKEY_CONFIG, plan --from, metric values, and the own-pod rule.
import type * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../support/audit.js";
import { completedMs, evictionsBy, receivedMs, requestsBy, writesBy } from "../support/audit.js";
import {
  connect,
  createNamespace,
  deleteNamespace,
  deploymentReady,
  statusOf,
  watchUntil,
} from "../support/kube.js";
import type { Identity } from "../support/monkey.js";
import {
  asIdentity,
  chaosConfig,
  freePort,
  metricSum,
  runMonkey,
  runOnce,
  scrape,
  startMonkey,
  tokenIdentity,
} from "../support/monkey.js";
import { claim, deployment, pod, staticVolume } from "../support/objects.js";
import { e2eSuite } from "../support/suite.js";
import { LOG } from "../../src/observe/messages.js";

const t = e2eSuite("e2e-pcli");
const extraNamespaces: string[] = [];
const volumes: string[] = [];

beforeAll(async () => {
  await t.kube.core.createNamespacedServiceAccount({
    namespace: t.selfNs,
    body: { metadata: { name: "sentinel" } },
  });
});

afterAll(async () => {
  for (const n of extraNamespaces) await deleteNamespace(t.kube, n);
  for (const v of volumes)
    await t.kube.core.deletePersistentVolume({ name: v }).catch(() => undefined);
  await t.kube.rbac.deleteClusterRole({ name: NOEVICT_ROLE }).catch(() => undefined);
});

const common = () => asIdentity(t.id, t.selfNs);

const evictedIn = (namespace: string, as = t.id): string[] =>
  evictionsBy(t.auditLog, as.username).filter((k) => k.startsWith(`${namespace}/`));

/**
 * A write by a third identity, waited for in the audit log: everything the monkey sent before
 * it is in the log too, so "nothing logged" means "nothing written".
 */
async function auditSentinel(): Promise<void> {
  const sentinel = await tokenIdentity(t.kube, t.selfNs, "sentinel");
  const seen = () =>
    requestsBy(t.auditLog, sentinel.username).filter((e) => e.objectRef?.resource === "configmaps")
      .length;
  const before = seen();
  await connect(sentinel.kubeconfig)
    .core.createNamespacedConfigMap({
      namespace: t.selfNs,
      body: { metadata: { name: `sentinel-${Date.now()}` } },
    })
    .catch((err: unknown) => {
      if (statusOf(err) !== 403) throw err; // refused is logged all the same
    });
  await expect.poll(seen, { timeout: 10_000 }).toBeGreaterThan(before);
}

const podTarget = (name: string, app: string, more: Record<string, unknown> = {}) => ({
  name,
  kind: "Pod",
  schedule: "@hourly",
  selector: { namespaces: [t.ns], labelSelector: `app=${app}` },
  recovery: { timeout: "45s" },
  ...more,
});

async function workload(name: string, replicas: number, namespace = t.ns): Promise<void> {
  await t.kube.apps.createNamespacedDeployment({
    namespace,
    body: deployment(namespace, name, { replicas }),
  });
  await deploymentReady(t.kube, namespace, name, replicas);
}

/** The one pod matching `labelSelector` in `ns`: its name and UID. */
async function onlyPod(labelSelector: string): Promise<{ name: string; uid: string }> {
  const { items } = await t.kube.core.listNamespacedPod({ namespace: t.ns, labelSelector });
  expect(items).toHaveLength(1);
  return { name: items[0]?.metadata?.name ?? "", uid: items[0]?.metadata?.uid ?? "" };
}

const hhmm = (min: number) => {
  const m = ((min % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
};

/** Minutes since midnight of `ms` in `zone`. */
const minuteOfDay = (ms: number, zone: string): number => {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return get("hour") * 60 + get("minute");
};

describe("paused, blackouts and --force (SPEC §2 paused/blackout, §4 once)", () => {
  it("paused: once skips the round (exit 0, no eviction); with --force it kills", async () => {
    await workload("paused", 2);
    const config = chaosConfig([podTarget("paused", "paused")], { paused: true });
    const before = evictedIn(t.ns).length;
    const skipped = await t.once(config);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.rounds[0]?.skipped).toBe("paused");
    expect(skipped.rounds[0]?.victims).toEqual([]);
    await auditSentinel();
    expect(evictedIn(t.ns).slice(before)).toEqual([]);

    const forced = await t.once(config, "--force");
    expect(forced.code, forced.stderr).toBe(0);
    const v = forced.rounds[0]?.victims[0];
    expect(v?.outcome).toBe("recovered");
    await expect
      .poll(() => evictedIn(t.ns).slice(before), { timeout: 10_000 })
      .toEqual([`${t.ns}/${v?.name}`]);
  }, 180_000);

  it("a blackout that covers now in UTC but not in Europe/Prague: only the Prague target kills; --force overrides; plan marks it", async () => {
    await workload("tz-utc", 1);
    await workload("tz-prague", 1);
    const now = Date.now();
    const utcMin = minuteOfDay(now, "UTC");
    const pragueMin = minuteOfDay(now, "Europe/Prague");
    // [now − 10 min, now + 20 min) in UTC; Prague is 60 or 120 min ahead, outside it.
    const window = `${hhmm(utcMin - 10)}-${hhmm(utcMin + 20)}`;
    const offset = (pragueMin - utcMin + 1440) % 1440;
    expect(offset).toBeGreaterThanOrEqual(60);
    const every = { schedule: "* * * * *" };
    const config = chaosConfig(
      [
        podTarget("utc", "tz-utc", { timezone: "UTC", ...every }),
        podTarget("prague", "tz-prague", { timezone: "Europe/Prague", ...every }),
      ],
      { safety: { blackout: { timesOfDay: [window] } } },
    );
    const before = evictedIn(t.ns).length;
    const r = await t.once(config);
    expect(r.code, r.stderr).toBe(0);
    expect(r.rounds.find((x) => x.target === "utc")?.skipped).toBe("blackout");
    const prague = r.rounds.find((x) => x.target === "prague")?.victims[0];
    expect(prague?.outcome).toBe("recovered");
    await auditSentinel();
    expect(evictedIn(t.ns).slice(before)).toEqual([`${t.ns}/${prague?.name}`]);

    const forced = await t.once(config, "--force", "--target", "utc");
    expect(forced.code, forced.stderr).toBe(0);
    const utc = forced.rounds[0]?.victims[0];
    expect(utc?.name).toMatch(/^tz-utc-/);
    await expect
      .poll(() => evictedIn(t.ns).slice(before), { timeout: 10_000 })
      .toEqual([`${t.ns}/${prague?.name}`, `${t.ns}/${utc?.name}`]);

    // plan: the next minute is inside the window for utc (it lasts ≥ 19 more minutes), not prague.
    const plan = await runMonkey(["plan", "--config", config, ...common(), "--count", "2"]);
    expect(plan.code, plan.stderr).toBe(0);
    const section = (target: string) =>
      plan.stdout.split("\n\n").find((s) => s.startsWith(`target ${target}:`)) ?? "";
    expect(section("utc")).toMatch(/^ {4}\S+ \S+ UTC {2}BLACKOUT \(skipped\)$/m);
    expect(section("utc")).toContain("not active now (blackout)");
    expect(section("prague")).not.toContain("BLACKOUT");
    expect(section("prague")).toContain("  active now");
    expect(section("prague")).not.toContain("not active");
  }, 180_000);
});

describe("requireHealthy (SPEC §2 safety.requireHealthy)", () => {
  it("drops the victim of a degraded workload (a quota keeps it at 1 of 2); off, the same pod is killed", async () => {
    const quotaNs = await createNamespace(t.kube, "e2e-pcli-quota");
    extraNamespaces.push(quotaNs);
    await t.kube.core.createNamespacedResourceQuota({
      namespace: quotaNs,
      body: { metadata: { name: "one-pod" }, spec: { hard: { pods: "1" } } },
    });
    // Admission refuses pods until the quota controller has filled in the quota's status.
    await watchUntil<k8s.V1ResourceQuota>(t.kube, {
      path: `/api/v1/namespaces/${quotaNs}/resourcequotas`,
      until: (_t, q) => q.status?.hard?.pods === "1",
      timeoutMs: 30_000,
    });
    await t.kube.apps.createNamespacedDeployment({
      namespace: quotaNs,
      body: deployment(quotaNs, "deg", { replicas: 2 }),
    });
    await deploymentReady(t.kube, quotaNs, "deg", 1);
    const target = {
      ...podTarget("deg", "deg"),
      selector: { namespaces: [quotaNs], labelSelector: "app=deg" },
      recovery: { timeout: "3s" },
    };
    const guarded = await t.once(chaosConfig([target]));
    expect(guarded.code, guarded.stderr).toBe(0);
    expect(guarded.rounds[0]?.skipped).toBe("unhealthy");
    await auditSentinel();
    expect(evictedIn(quotaNs)).toEqual([]);

    // Without the guard the same pod dies, and the workload cannot get back to 2 (exit 3).
    const unguarded = await t.once(chaosConfig([target], { safety: { requireHealthy: false } }));
    expect(unguarded.code, unguarded.stderr).toBe(3);
    const v = unguarded.rounds[0]?.victims[0];
    expect(v?.outcome).toBe("timeout");
    await expect
      .poll(() => evictedIn(quotaNs), { timeout: 10_000 })
      .toEqual([`${quotaNs}/${v?.name}`]);
  }, 180_000);
});

describe("actions (SPEC §2 action)", () => {
  it("method delete with gracePeriodSeconds: a DELETE, no eviction, and the pod's deletionGracePeriodSeconds is the one asked", async () => {
    await workload("del", 1);
    const { name } = await onlyPod("app=del");
    // The first event showing the pod deleted carries the grace period of the delete that did it.
    const deleted = watchUntil<k8s.V1Pod>(t.kube, {
      path: `/api/v1/namespaces/${t.ns}/pods`,
      query: { fieldSelector: `metadata.name=${name}` },
      until: (_t, p) => p.metadata?.deletionTimestamp !== undefined,
      timeoutMs: 60_000,
    });
    const before = writesBy(t.auditLog, t.id.username).length;
    const config = chaosConfig([
      podTarget("del", "del", { action: { method: "delete", gracePeriodSeconds: 7 } }),
    ]);
    const r = await t.once(config);
    expect(r.code, r.stderr).toBe(0);
    expect(r.rounds[0]?.victims[0]).toMatchObject({ name, result: "killed", outcome: "recovered" });
    expect((await deleted).object.metadata?.deletionGracePeriodSeconds).toBe(7);
    await auditSentinel();
    const podWrites = writesBy(t.auditLog, t.id.username)
      .slice(before)
      .filter((e) => e.objectRef?.resource === "pods");
    expect(
      podWrites.map((e) => [e.verb, e.objectRef?.subresource ?? "", e.objectRef?.name]),
    ).toEqual([["delete", "", name]]);
  }, 120_000);

  it("stripFinalizers as a list: only the named finalizer is removed from the deleted claim", async () => {
    const pv = `e2e-pcli-${t.ns.slice(-6)}`;
    volumes.push(pv);
    await t.kube.core.createPersistentVolume({ body: staticVolume(pv, t.ns, "data") });
    const finalizers = ["e2e.chaos-monkey.io/strip-me", "e2e.chaos-monkey.io/keep-me"];
    await t.kube.core.createNamespacedPersistentVolumeClaim({
      namespace: t.ns,
      body: claim(t.ns, "data", pv, { finalizers }),
    });
    await watchUntil<k8s.V1PersistentVolumeClaim>(t.kube, {
      path: `/api/v1/namespaces/${t.ns}/persistentvolumeclaims`,
      until: (_t, c) => c.metadata?.name === "data" && c.status?.phase === "Bound",
      timeoutMs: 60_000,
    });
    const config = chaosConfig([
      {
        name: "data",
        kind: "PersistentVolumeClaim",
        schedule: "@hourly",
        selector: { namespaces: [t.ns], labelSelector: "app=data" },
        action: { stripFinalizers: ["e2e.chaos-monkey.io/strip-me"], restartConsumers: false },
        recovery: { timeout: "3s" },
      },
    ]);
    const r = await t.once(config);
    // Nothing recreates the claim: the recovery times out (exit 3), but the kill happened.
    expect(r.code, r.stderr).toBe(3);
    expect(r.rounds[0]?.victims[0]?.result).toBe("killed");
    const after = await t.kube.core.readNamespacedPersistentVolumeClaim({
      name: "data",
      namespace: t.ns,
    });
    expect(after.metadata?.deletionTimestamp).toBeDefined();
    // pvc-protection is the controller's to drop (nothing mounts the claim); ours: only the named one.
    expect(after.metadata?.finalizers?.filter((f) => f.startsWith("e2e."))).toEqual([
      "e2e.chaos-monkey.io/keep-me",
    ]);
    // Invariant 3 from the API server's side: the strip came after the delete was accepted.
    await auditSentinel();
    const onClaim = writesBy(t.auditLog, t.id.username).filter(
      (e) => e.objectRef?.resource === "persistentvolumeclaims" && e.objectRef.namespace === t.ns,
    );
    const del = onClaim.find((e) => e.verb === "delete" && (e.responseStatus?.code ?? 500) < 300);
    const patches = onClaim.filter((e) => e.verb === "patch");
    expect(del).toBeDefined();
    expect(patches.length).toBeGreaterThanOrEqual(1);
    for (const p of patches)
      expect(receivedMs(p)).toBeGreaterThanOrEqual(completedMs(del as AuditEvent));
    // Events for a volume victim with no workload: on the claim itself.
    for (const reason of ["ChaosKill", "ChaosNotRecovered"]) {
      const seen = await watchUntil<k8s.EventsV1Event>(t.kube, {
        path: `/apis/events.k8s.io/v1/namespaces/${t.ns}/events`,
        until: (_t, e) =>
          e.reason === reason && e.note?.includes(`round=${r.rounds[0]?.round}`) === true,
        timeoutMs: 15_000,
      });
      expect(seen.object.type, reason).toBe("Warning");
      expect(seen.object.regarding, reason).toMatchObject({
        kind: "PersistentVolumeClaim",
        name: "data",
      });
    }
    await t.kube.core.patchNamespacedPersistentVolumeClaim({
      name: "data",
      namespace: t.ns,
      body: [{ op: "remove", path: "/metadata/finalizers" }],
    });
  }, 120_000);
});

const NOEVICT_ROLE = "e2e-promises-noevict";

/** A ServiceAccount with the monkey's reads and its Lease, but neither eviction nor delete. */
async function noEvictIdentity(): Promise<Identity> {
  await t.kube.rbac.createClusterRole({
    body: {
      metadata: { name: NOEVICT_ROLE },
      rules: [
        {
          apiGroups: [""],
          resources: ["pods", "namespaces", "persistentvolumeclaims", "persistentvolumes"],
          verbs: ["get", "list", "watch"],
        },
        {
          apiGroups: ["apps"],
          resources: ["deployments", "replicasets", "statefulsets", "daemonsets"],
          verbs: ["list", "watch"],
        },
        { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create"] },
      ],
    },
  });
  const sa = "noevict";
  await t.kube.core.createNamespacedServiceAccount({
    namespace: t.selfNs,
    body: { metadata: { name: sa } },
  });
  const subjects = [{ kind: "ServiceAccount", name: sa, namespace: t.selfNs }];
  await t.kube.rbac.createClusterRoleBinding({
    body: {
      metadata: {
        name: `e2e-${t.selfNs}-${sa}`,
        labels: { "e2e.chaos-monkey.io/namespace": t.selfNs },
      },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: NOEVICT_ROLE },
      subjects,
    },
  });
  await t.kube.rbac.createNamespacedRoleBinding({
    namespace: t.selfNs,
    body: {
      metadata: { name: `e2e-own-${sa}` },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: "e2e-chaos-monkey-own",
      },
      subjects,
    },
  });
  return tokenIdentity(t.kube, t.selfNs, sa);
}

describe("exit codes and flags (SPEC §4)", () => {
  it("exit 1 when a kill fails: an identity RBAC refuses pods/eviction; the API server logged the 403 and the pod lives", async () => {
    await workload("refused", 1);
    const weak = await noEvictIdentity();
    const { name, uid } = await onlyPod("app=refused");
    const config = chaosConfig([podTarget("refused", "refused")]);
    const r = await runMonkey(["once", "--config", config, ...asIdentity(weak, t.selfNs)]);
    expect(r.code, r.stderr).toBe(1);
    await auditSentinel();
    const tries = requestsBy(t.auditLog, weak.username).filter(
      (e) => e.objectRef?.subresource === "eviction",
    );
    expect(tries.length).toBeGreaterThanOrEqual(1);
    for (const e of tries) {
      expect(e.objectRef?.name).toBe(name);
      expect(e.responseStatus?.code).toBe(403);
    }
    const still = await t.kube.core.readNamespacedPod({ name, namespace: t.ns });
    expect(still.metadata?.uid).toBe(uid);
    expect(still.metadata?.deletionTimestamp).toBeUndefined();
  }, 120_000);

  it("once --dry-run on a live config: reports the victim, and the API server saw no write before a later sentinel", async () => {
    await workload("dry", 2);
    const config = chaosConfig([podTarget("dry", "dry")]);
    const before = writesBy(t.auditLog, t.id.username).length;
    const r = await t.once(config, "--dry-run");
    expect(r.code, r.stderr).toBe(0);
    expect(r.rounds[0]?.victims).toHaveLength(1);
    expect(r.rounds[0]?.victims[0]?.result).toBe("dry_run");
    await auditSentinel();
    expect(writesBy(t.auditLog, t.id.username).slice(before)).toEqual([]);
  }, 120_000);

  it("run --dry-run: rounds happen, the metrics say what the test knows, no write before a later sentinel", async () => {
    await workload("dryrun", 3);
    const config = chaosConfig([podTarget("dryrun", "dryrun", { schedule: "@every 2s" })]);
    const before = writesBy(t.auditLog, t.id.username).length;
    const port = await freePort();
    const startedS = Date.now() / 1000;
    const m = startMonkey([
      "run",
      "--config",
      config,
      ...common(),
      "--listen",
      `127.0.0.1:${port}`,
      "--dry-run",
    ]);
    try {
      const dry = (l: { msg: string }) => l.msg === LOG.WOULD_KILL;
      await m.waitForLog(dry, 30_000);
      await m.waitForLog(() => m.logs.filter(dry).length >= 2, 30_000);
      const metrics = await scrape(port);
      const nowS = Date.now() / 1000;
      const labels = { target: "dryrun" };
      expect(metricSum(metrics, "chaos_monkey_eligible_objects", labels)).toBe(3);
      expect(metricSum(metrics, "chaos_monkey_dry_run")).toBe(1);
      const last = metricSum(metrics, "chaos_monkey_last_round_timestamp_seconds", labels);
      const next = metricSum(metrics, "chaos_monkey_next_round_timestamp_seconds", labels);
      expect(last).toBeGreaterThanOrEqual(startedS);
      expect(last).toBeLessThanOrEqual(nowS);
      // @every 2s: the next tick is after the last and at most one period later (+0.5 s slack
      // for the tick's own start on a busy 2-core machine).
      expect(next).toBeGreaterThan(last);
      expect(next - last).toBeLessThanOrEqual(2.5);
    } finally {
      m.proc.kill("SIGTERM");
      expect(await m.exited).toBe(0);
    }
    await auditSentinel();
    expect(writesBy(t.auditLog, t.id.username).slice(before)).toEqual([]);
  }, 120_000);

  it("a live run reports chaos_monkey_is_leader 1 once it holds the Lease", async () => {
    const config = chaosConfig([podTarget("leader", "nothing-here")], { paused: true });
    const port = await freePort();
    const m = startMonkey([
      "run",
      "--config",
      config,
      ...common(),
      "--listen",
      `127.0.0.1:${port}`,
    ]);
    try {
      await m.waitForLog((l) => l.msg === LOG.CONFIG_LOADED, 30_000);
      // Lease acquisition retries every 2 s; a previous holder's Lease in selfNs was released.
      await expect
        .poll(async () => metricSum(await scrape(port), "chaos_monkey_is_leader"), {
          timeout: 30_000,
        })
        .toBe(1);
      const lease = await t.kube.objects.read({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "chaos-monkey", namespace: t.selfNs },
      });
      expect((lease as k8s.V1Lease).spec?.holderIdentity).toBeTruthy();
    } finally {
      m.proc.kill("SIGTERM");
      expect(await m.exited).toBe(0);
    }
  }, 120_000);

  it("CHAOS_MONKEY_CONFIG instead of --config, and --log-format pretty: not JSON, still naming the round", async () => {
    await workload("pretty", 1);
    const config = chaosConfig([podTarget("pretty", "pretty")]);
    const before = evictedIn(t.ns).length;
    const r = await runOnce([...common(), "--log-format", "pretty"], {
      CHAOS_MONKEY_CONFIG: config,
    });
    expect(r.code, r.stderr).toBe(0);
    const [round] = r.rounds;
    expect(round?.target).toBe("pretty");
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    // pino-pretty puts fields on lines of their own (a quoted string there parses as JSON), so
    // the test is that no line is a JSON log record.
    const isRecord = (l: string) => {
      try {
        const v = JSON.parse(l) as unknown;
        return typeof v === "object" && v !== null && !Array.isArray(v);
      } catch {
        return false;
      }
    };
    expect(lines.filter(isRecord)).toEqual([]);
    expect(r.stderr).toContain(round?.round ?? "no round");
    await expect
      .poll(() => evictedIn(t.ns).slice(before), { timeout: 10_000 })
      .toEqual([`${t.ns}/${round?.victims[0]?.name}`]);
  }, 120_000);

  it("plan --from lists the Europe/Prague DST day (02:00 → 03:00) in the target's zone; a bad --from is exit 2 naming it", async () => {
    const config = chaosConfig(
      [podTarget("dst", "nothing-here", { schedule: "*/30 * * * *", timezone: "Europe/Prague" })],
      { dryRun: true },
    );
    const r = await runMonkey([
      "plan",
      "--config",
      config,
      ...common(),
      "--count",
      "4",
      "--from",
      "2026-03-29T00:30:00+01:00",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const fires = r.stdout
      .split("\n")
      .filter((l) => /^ {4}2026-/.test(l))
      .map((l) => l.trim());
    expect(fires).toEqual([
      "2026-03-29 01:00:00 GMT+1",
      "2026-03-29 01:30:00 GMT+1",
      "2026-03-29 03:00:00 GMT+2",
      "2026-03-29 03:30:00 GMT+2",
    ]);
    const bad = await runMonkey([
      "plan",
      "--config",
      config,
      ...common(),
      "--from",
      "next tuesday",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("next tuesday");
  }, 60_000);
});

describe("the own-pod rule (SPEC §2 eligibility, §7 invariant 1)", () => {
  // The own namespace is always excluded, so a kill can never separate the two rules; what
  // can be shown is that the self rule is checked first and names the monkey's own pod alone.
  it("names the pod POD_NAME as excluded for being itself, its neighbours for the namespace", async () => {
    for (const n of ["the-monkey", "neighbour"])
      await t.kube.core.createNamespacedPod({
        namespace: t.selfNs,
        body: pod(t.selfNs, n, { labels: { role: "m" } }),
      });
    await expect
      .poll(
        async () =>
          (
            await t.kube.core.listNamespacedPod({ namespace: t.selfNs, labelSelector: "role=m" })
          ).items.filter((p) => p.status?.phase === "Running").length,
        { timeout: 30_000 },
      )
      .toBe(2);
    const config = chaosConfig(
      [
        {
          name: "self",
          kind: "Pod",
          schedule: "@hourly",
          selector: { namespaces: [t.selfNs], labelSelector: "role=m", includeOrphans: true },
        },
      ],
      { dryRun: true },
    );
    const r = await runMonkey(["plan", "--config", config, ...common(), "--count", "1"], {
      POD_NAME: "the-monkey",
    });
    expect(r.code, r.stderr).toBe(0);
    const excluded = /eligible now: 0 \(excluded: ([^)]*)\)/.exec(r.stdout)?.[1]?.split(", ");
    expect(excluded).toContain("self 1");
    expect(excluded).toContain("excluded_namespace 1");
  }, 60_000);
});
