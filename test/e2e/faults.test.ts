// Fault tests on the real control plane (issue 7): the API server dies for 20 s in the middle of
// a recovery while etcd is compacted under it, every connection through a proxy is cut several
// times, the config file turns invalid in five ways, and SIGTERM lands while a round's kill hangs
// on a partitioned API server. The monkey must survive, come back without a burst of requests,
// never kill twice, measure (or time out) honestly, and stop within its grace period.
import { readFileSync, writeFileSync } from "node:fs";
import type * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ApiServer } from "../support/apiserver.js";
import type { AuditEvent } from "../support/audit.js";
import {
  evictionsBy,
  isStreamingList,
  listKey,
  receivedMs,
  requestsBy,
  watchStartsBy,
} from "../support/audit.js";
import { deploymentReady, watchUntil } from "../support/kube.js";
import type { LogLine, Running } from "../support/monkey.js";
import {
  chaosConfig,
  httpStatus,
  metricSum,
  monkeyIdentity,
  scrape,
  startRun,
  viaServer,
} from "../support/monkey.js";
import { deployment } from "../support/objects.js";
import { TcpProxy } from "../support/proxy.js";
import { e2eSuite } from "../support/suite.js";
import { DeploymentWatcher } from "../support/watcher.js";
import { LOG } from "../../src/observe/messages.js";

// Each test runs the monkey as an identity of its own in t.selfNs, to count its requests apart.
const t = e2eSuite("e2e-faults");
let apiserver: ApiServer;

beforeAll(() => {
  apiserver = new ApiServer(t.kube.kc);
});

// Registered after the suite's, so it runs before the suite deletes the namespaces: the files
// after this one need a healthy cluster, whatever happened here.
afterAll(async () => {
  if (apiserver.stopped) await apiserver.start();
  else apiserver.heal();
});

const REJECTED = LOG.CONFIG_RELOAD_REJECTED;

/** The shipped Deployment's terminationGracePeriodSeconds: the kubelet SIGKILLs after that. */
function graceSeconds(): number {
  const manifest = readFileSync(
    new URL("../../kustomize/base/deployment.yaml", import.meta.url),
    "utf8",
  );
  return Number(/terminationGracePeriodSeconds: (\d+)/.exec(manifest)?.[1] ?? 30);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const podTarget = (app: string, extra: Record<string, unknown> = {}) => ({
  name: app,
  kind: "Pod",
  schedule: "@every 2s",
  selector: { namespaces: [t.ns], labelSelector: `app=${app}` },
  ...extra,
});

async function workload(
  app: string,
  replicas: number,
  annotations?: Record<string, string>,
): Promise<void> {
  await t.kube.apps.createNamespacedDeployment({
    namespace: t.ns,
    body: deployment(t.ns, app, { replicas, ...(annotations ? { annotations } : {}) }),
  });
  await deploymentReady(t.kube, t.ns, app, replicas);
}

/** Still running, and nothing on stderr: no unhandled rejection, uncaught exception or warning. */
function expectAlive(m: Running): void {
  expect(m.proc.exitCode, `exited; stderr: ${m.stderr.join("\n")}`).toBeNull();
  expect(m.stderr).toEqual([]);
}

async function stop(m: Running): Promise<void> {
  m.proc.kill("SIGTERM");
  expect(await m.exited).toBe(0);
  expect(m.stderr).toEqual([]);
}

const logged = (m: Running, msg: string, pred: (l: LogLine) => boolean = () => true) =>
  m.logs.filter((l) => l.msg === msg && pred(l));

/** A user's LISTs and WATCHes (one per request), from the API server's audit log. */
/**
 * A user's reads as the API server recorded them: LISTs, every watch, and among the watches the
 * streaming lists (a cache filling or refilling: sendInitialEvents=true) with when each began.
 */
function readsOf(username: string): {
  lists: AuditEvent[];
  watches: AuditEvent[];
  streams: AuditEvent[];
  startedMs: (e: AuditEvent) => number;
} {
  const all = requestsBy(inject("auditLog"), username);
  const starts = watchStartsBy(inject("auditLog"), username);
  const watches = all.filter((e) => e.verb === "watch");
  return {
    lists: all.filter((e) => e.verb === "list"),
    watches,
    streams: watches.filter(isStreamingList),
    startedMs: (e) => starts.get(e.auditID) ?? NaN,
  };
}

/**
 * No pod was evicted twice, and the audit log's evictions by this user are exactly the monkey's
 * accepted kills, plus any kill it counted failed because the connection broke after sending.
 */
function expectOneEvictionPerKill(m: Running, username: string): void {
  const kills = logged(m, LOG.KILL_ACCEPTED);
  expect(new Set(kills.map((l) => l.round)).size, "no round kills twice").toBe(kills.length);
  const evicted = evictionsBy(inject("auditLog"), username);
  expect(new Set(evicted).size, `evicted twice: ${evicted.join(", ")}`).toBe(evicted.length);
  const accepted = kills.map((l) => String(l.victim));
  const failed = new Set(logged(m, LOG.KILL_FAILED).map((l) => String(l.victim)));
  expect(evicted.filter((v) => !failed.has(v)).sort()).toEqual(accepted.sort());
}

describe("faults", () => {
  it("survives the API server stopped for 20 s mid-recovery with etcd compacted: relists once per cache, measures the recovery, kills once", async () => {
    // Replacements become Ready 8 s after kwok sees them: the recovery is open across the outage.
    await workload("outage", 1, { "kwok.chaos-monkey.io/ready-delay": "8s" });
    const id = await monkeyIdentity(t.kube, t.selfNs, "outage-monkey");
    const watcher = new DeploymentWatcher(t.kube, t.ns, "outage");
    await watcher.start();
    // The setup implies `recovered`, not `timeout`: 3 min is far more than the outage (~22 s)
    // plus what follows it: kube-controller-manager, restarted, waits out its old Lease (15 s)
    // before it updates the Deployment's status; the monkey's caches are back within their 30 s
    // backoff cap; the replacement needs 8 s. (Measured: ~39 s in all.)
    const config = chaosConfig([podTarget("outage", { recovery: { timeout: "3m" } })]);
    const m = await startRun(config, id, t.selfNs);
    try {
      const kill = await m.waitForLog((l) => l.msg === LOG.KILL_ACCEPTED, 30_000);
      const victim = String(kill.victim);
      const killedAt = Date.parse(String(kill.time));
      // Mid-recovery: the monkey has seen the replacement, the Deployment is down a replica.
      await m.waitForLog(
        (l) => l.msg === LOG.RECOVERY_PHASE && l.victim === victim && l.phase === "replaced",
        10_000,
      );
      await watchUntil<k8s.V1Deployment>(t.kube, {
        path: `/apis/apps/v1/namespaces/${t.ns}/deployments`,
        query: { fieldSelector: "metadata.name=outage" },
        until: (_t, d) => (d.status?.readyReplicas ?? 0) === 0,
        timeoutMs: 10_000,
      });
      await sleep(300); // the monkey's watch delivers the same status
      const downAt = Date.now();
      await apiserver.stop();
      const revision = await apiserver.compactEtcd();
      const readyz: number[] = [];
      while (Date.now() < downAt + 20_000) {
        readyz.push(await httpStatus(m.port, "/readyz"));
        expectAlive(m);
        await sleep(500);
      }
      const upAt = await apiserver.start();
      // The watcher's watches died with the API server; it resumes with new ones (which begin
      // with the objects as they are: nothing changed while no API server could write).
      await watcher.start();
      console.info(
        `API server down ${((upAt - downAt) / 1000).toFixed(1)} s (etcd compacted at revision ${revision})`,
      );
      // Without caches the monkey is not ready (it must not kill from a stale picture).
      expect(readyz).toContain(503);

      // Ready again once every cache has listed anew (the backoff of its last failed attempt
      // decides when: up to 30 s).
      let readyAgainS = NaN;
      for (let i = 0; i < 240 && Number.isNaN(readyAgainS); i++) {
        if ((await httpStatus(m.port, "/readyz")) === 200) readyAgainS = (Date.now() - upAt) / 1000;
        else await sleep(250);
      }
      expect(readyAgainS, "/readyz 200 within 60 s of the API server").not.toBeNaN();
      const ended = await m.waitForLog(
        (l) => l.msg === LOG.RECOVERY_ENDED && l.victim === victim,
        180_000,
      );
      expectAlive(m);
      const metrics = await scrape(m.port);
      await stop(m);
      await sleep(500); // let the audit backend flush

      // After the restart every watch cache got 410 Gone (its resourceVersion is older than
      // anything the new API server can serve) and listed again, by streaming as at start-up
      // (no LIST at all): once per cache, no burst.
      const { lists, watches, streams, startedMs } = readsOf(id.username);
      const caches = new Set(streams.filter((e) => receivedMs(e) < downAt).map(listKey));
      expect(caches.size).toBeGreaterThan(0);
      expect(lists.filter((e) => receivedMs(e) > downAt)).toEqual([]);
      const relists = streams.filter((e) => receivedMs(e) > downAt);
      const rewatches = watches.filter((e) => receivedMs(e) > downAt);
      const watchErrors = metricSum(metrics, "chaos_monkey_errors_total", { operation: "watch" });
      expect(new Set(relists.map(listKey))).toEqual(caches);
      expect(relists.length).toBeLessThanOrEqual(2 * caches.size);
      // One watch that meets the 410, one that follows the relist; a third for slack.
      expect(rewatches.length).toBeLessThanOrEqual(3 * caches.size);
      // Each failed attempt is counted; about seven each in 20 s of exponential backoff.
      expect(watchErrors).toBeGreaterThanOrEqual(caches.size);
      expect(watchErrors).toBeLessThanOrEqual(10 * caches.size);

      // The recovery spans the outage: it ends recovered, its time including the outage, and it
      // agrees with the independent watcher, except that the monkey cannot see a change before
      // its own cache of that resource is back: its measure is the later of the two.
      const phases = ended.phases as Record<string, number>;
      const ours = phases.recovered ?? NaN;
      const theirs = watcher.recoverySeconds(victim.split("/")[1] ?? "") ?? NaN;
      // When the cache of `resource` could first see the world again: its streaming relist began
      // to answer (the few objects of this namespace follow within milliseconds).
      const relisted = (resource: string) =>
        (startedMs(
          relists.find(
            (e) => e.objectRef?.resource === resource && e.responseStatus?.code === 200,
          ) as AuditEvent,
        ) -
          killedAt) /
        1000;
      const expected = Math.max(theirs, relisted("pods"), relisted("deployments"));
      console.info(
        `outage recovery of ${victim}: monkey ${ours.toFixed(3)} s, independent watcher ${theirs.toFixed(3)} s, ` +
          `monkey's pods and deployments relisted at ${relisted("pods").toFixed(3)} s and ${relisted("deployments").toFixed(3)} s; ` +
          `caches ${caches.size}: streaming relists after the restart ${relists.length} (LISTs 0), WATCHes ${rewatches.length}, watch errors counted ${watchErrors}; ` +
          `/readyz 200 again ${readyAgainS.toFixed(1)} s after the API server`,
      );
      expect(ended.outcome).toBe("recovered");
      expect(ours).toBeGreaterThanOrEqual((upAt - killedAt) / 1000);
      expect(
        Math.abs(ours - expected),
        `monkey ${ours} s, expected ${expected} s`,
      ).toBeLessThanOrEqual(0.25);

      // One kill for the round of the outage, and one eviction per kill in the API's own record.
      expect(logged(m, LOG.KILL_ACCEPTED, (l) => l.round === kill.round)).toHaveLength(1);
      expect(
        metricSum(metrics, "chaos_monkey_kills_total", { target: "outage", result: "killed" }),
      ).toBe(logged(m, LOG.KILL_ACCEPTED).length);
      expectOneEvictionPerKill(m, id.username);
    } finally {
      watcher.stop();
      if (m.proc.exitCode === null) m.proc.kill("SIGTERM");
      await m.exited;
    }
  }, 300_000);

  it("keeps running rounds when every connection to the API server drops, resuming its watches without a relist", async () => {
    await workload("flaky", 3);
    const proxy = await TcpProxy.start(t.kube.kc.getCurrentCluster()?.server ?? "");
    const id = viaServer(await monkeyIdentity(t.kube, t.selfNs, "proxied-monkey"), proxy.url);
    const config = chaosConfig([podTarget("flaky", { recovery: { timeout: "30s" } })]);
    const m = await startRun(config, id, t.selfNs);
    // Uneven gaps against the 2 s rounds: the cuts land in different phases of a round.
    const gaps = [2300, 3100, 2700, 3500];
    const drops = gaps.length;
    try {
      await m.waitForLog((l) => l.msg === LOG.CONFIG_LOADED, 30_000);
      const syncedAt = Date.now(); // every cache has listed and is watching
      await m.waitForLog((l) => l.msg === LOG.KILL_ACCEPTED, 30_000);
      const cut: number[] = [];
      for (const gap of gaps) {
        await sleep(gap);
        cut.push(proxy.dropAll());
        expectAlive(m);
      }
      // Rounds go on after the last drop: a new kill, recovered like every other.
      const lastDrop = m.logs.length;
      const after = await m.waitForLog(
        (l) => l.msg === LOG.KILL_ACCEPTED && m.logs.indexOf(l) >= lastDrop,
        30_000,
      );
      await m.waitForLog((l) => l.msg === LOG.RECOVERY_ENDED && l.victim === after.victim, 30_000);
      expectAlive(m);
      const metrics = await scrape(m.port);
      await stop(m);
      await sleep(500); // let the audit backend flush

      // Every kill's recovery ended (none lost track of when a connection dropped under it).
      const killed = logged(m, LOG.KILL_ACCEPTED).map((l) => l.victim);
      const ended = logged(m, LOG.RECOVERY_ENDED);
      expect(ended.map((l) => l.victim).sort()).toEqual(killed.sort());
      expect(ended.map((l) => l.outcome)).not.toContain("timeout");
      expect(
        metricSum(metrics, "chaos_monkey_rounds_total", { target: "flaky", outcome: "failed" }),
      ).toBe(0);

      // Requests stay bounded: a dropped watch resumes from its resourceVersion (no LIST, no
      // streaming relist), so after the start-up streaming lists there is one new watch per
      // cache per drop, and nothing more.
      const { lists, watches, streams } = readsOf(id.username);
      const caches = new Set(streams.filter((e) => receivedMs(e) < syncedAt).map(listKey));
      expect(caches.size).toBeGreaterThan(0);
      const listsAfter = lists.filter((e) => receivedMs(e) > syncedAt);
      const watchesAfter = watches.filter((e) => receivedMs(e) > syncedAt);
      expect(watchesAfter.filter(isStreamingList)).toEqual([]);
      console.info(
        `${drops} drops cut ${cut.join(", ")} connections (${proxy.connections} accepted in all); ` +
          `caches ${caches.size}: LISTs after start-up ${listsAfter.length}, WATCHes after start-up ${watchesAfter.length}; ` +
          `kills ${killed.length}, watch errors counted ${metricSum(metrics, "chaos_monkey_errors_total", { operation: "watch" })}`,
      );
      expect(cut.every((n) => n > 0)).toBe(true);
      expect(listsAfter).toEqual([]);
      // Each cut broke every watch (they share the connections) and each came back once.
      expect(watchesAfter).toHaveLength(caches.size * drops);
      expectOneEvictionPerKill(m, id.username);
    } finally {
      if (m.proc.exitCode === null) m.proc.kill("SIGTERM");
      await m.exited;
      await proxy.close();
    }
  }, 180_000);

  it("rejects each kind of invalid config at reload, logged and counted, keeps the last good config running, then picks up a fixed file", async () => {
    await workload("steady", 2);
    const id = await monkeyIdentity(t.kube, t.selfNs, "reload-monkey");
    const path = chaosConfig([podTarget("steady", { schedule: "@every 1s" })], { dryRun: true });
    const good = readFileSync(path, "utf8");
    const m = await startRun(path, id, t.selfNs);
    const roundOf = (target: string, after: number) =>
      m.waitForLog(
        (l) => l.msg === LOG.WOULD_KILL && l.target === target && m.logs.indexOf(l) > after,
        10_000,
      );
    try {
      await roundOf("steady", -1);
      const invalid: [what: string, text: string, error: string][] = [
        ["truncated YAML", good.slice(0, good.indexOf("@every") + 3), 'Missing closing "quote'],
        [
          "a bad cron",
          good.replace('"@every 1s"', '"*/5 * * * * * *"'),
          'targets[0].schedule: "*/5 * * * * * *" is not a valid cron expression',
        ],
        [
          "a wrong type",
          good.replace(/namespaces:\n\s+- (\S+)/, "namespaces: $1"),
          `targets[0].selector.namespaces: must be array, not string "${t.ns}"`,
        ],
        [
          "an unknown key",
          good.replace("labelSelector:", "labelSelectr:"),
          "targets[0].selector.labelSelectr: is not a known key",
        ],
        ["an empty file", "", "the config is empty"],
      ];
      for (const [what, text, error] of invalid) {
        const from = m.logs.length;
        writeFileSync(path, text);
        const rejected = await m.waitForLog(
          (l) => l.msg === REJECTED && m.logs.indexOf(l) >= from,
          15_000,
        );
        expect(rejected.level, what).toBe(50); // error
        expect(JSON.stringify(rejected.errors), what).toContain(JSON.stringify(error).slice(1, -1));
        // The last good config is still in force: its target's rounds go on.
        await roundOf("steady", m.logs.indexOf(rejected));
      }
      const from = m.logs.length;
      writeFileSync(path, good.replace("name: steady", "name: fixed"));
      await m.waitForLog(
        (l) =>
          l.msg === LOG.CONFIG_LOADED &&
          JSON.stringify(l.targets) === '["fixed"]' &&
          m.logs.indexOf(l) >= from,
        15_000,
      );
      await roundOf("fixed", from);
      expectAlive(m);
      const metrics = await scrape(m.port);
      const reloads = (result: string) =>
        metricSum(metrics, "chaos_monkey_config_reloads_total", { result });
      expect(reloads("failure")).toBe(invalid.length);
      expect(reloads("success")).toBe(2); // the start and the fixed file
      expect(logged(m, LOG.CONFIG_LOADED)).toHaveLength(2);
    } finally {
      await stop(m);
    }
  }, 120_000);

  it("on SIGTERM in the middle of a round whose kill hangs on an unanswering API server, ends open recoveries aborted and exits 0 within the grace period", async () => {
    // lifecycle.test.ts stops the monkey between rounds; here the signal lands while a round's
    // eviction is on the wire and nothing answers (a partition: connections open, no bytes move).
    await workload("hung", 3);
    const proxy = await TcpProxy.start(t.kube.kc.getCurrentCluster()?.server ?? "");
    const id = viaServer(await monkeyIdentity(t.kube, t.selfNs, "hung-monkey"), proxy.url);
    const config = chaosConfig(
      [podTarget("hung", { concurrency: "Allow", recovery: { timeout: "1m" } })],
      { safety: { requireHealthy: false } },
    );
    const m = await startRun(config, id, t.selfNs);
    try {
      const first = await m.waitForLog((l) => l.msg === LOG.KILL_ACCEPTED, 30_000);
      proxy.freeze();
      const from = m.logs.length;
      // The round's first call after its choice is the fresh read of its victim (SPEC §7: the
      // decision is re-checked right before the kill): that is what hangs now.
      const hung = await m.waitForLog(
        (l) => l.msg === LOG.VICTIMS_SELECTED && m.logs.indexOf(l) >= from,
        10_000,
      );
      await sleep(500);
      const signalled = Date.now();
      m.proc.kill("SIGTERM");
      const grace = graceSeconds();
      const code = await Promise.race([m.exited, sleep(grace * 1000).then(() => "still running")]);
      const exitS = (Date.now() - signalled) / 1000;
      console.info(`SIGTERM with a kill hanging: exit ${String(code)} after ${exitS.toFixed(1)} s`);
      expect(code, `not stopped within the ${grace} s grace period`).toBe(0);
      expect(m.stderr).toEqual([]);
      // The open recovery ends aborted; the hung round is named, and its kill never claimed.
      const ended = logged(m, LOG.RECOVERY_ENDED).map((l) => [l.victim, l.outcome]);
      expect(ended).toEqual([[first.victim, "aborted"]]);
      const unanswered = logged(
        m,
        "stopping without rounds whose API calls are unanswered; their kills may or may not have happened",
      );
      expect(unanswered.map((l) => l.rounds)).toEqual([[hung.round]]);
      expect(logged(m, LOG.KILL_ACCEPTED).map((l) => l.victim)).toEqual([first.victim]);
      expect(logged(m, LOG.STOPPED)).toHaveLength(1);
    } finally {
      proxy.thaw();
      if (m.proc.exitCode === null) m.proc.kill("SIGKILL");
      await m.exited;
      await proxy.close();
    }
  }, 120_000);
});
