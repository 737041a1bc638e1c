// The long-running process on the real control plane: graceful SIGTERM in the middle of a
// recovery, and two replicas sharing one Lease.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { deploymentReady } from "../support/kube.js";
import type { LogLine, Running } from "../support/monkey.js";
import {
  asIdentity,
  chaosConfig,
  freePort,
  metricSum,
  scrape,
  startMonkey,
} from "../support/monkey.js";
import { deployment } from "../support/objects.js";
import { e2eSuite } from "../support/suite.js";
import { LOG } from "../../src/observe/messages.js";

const t = e2eSuite("e2e-life");

const rolledOut = (name: string, replicas: number) => deploymentReady(t.kube, t.ns, name, replicas);

const podTarget = (app: string, schedule: string) => ({
  name: app,
  kind: "Pod",
  schedule,
  selector: { namespaces: [t.ns], labelSelector: `app=${app}` },
  recovery: { timeout: "1m" },
});

/**
 * Runs `body`, then SIGTERMs every monkey in `ms` whatever happened. The body's own failure is the
 * one reported; only a body that passed goes on to require exit 0 from each (an `expect` in a
 * `finally` would replace the first error with its own).
 */
async function thenStop<T>(ms: readonly Running[], body: () => Promise<T>): Promise<T> {
  const stop = () => {
    for (const m of ms) if (m.proc.exitCode === null) m.proc.kill("SIGTERM");
    return Promise.all(ms.map((m) => m.exited));
  };
  let result: T;
  try {
    result = await body();
  } catch (err) {
    await stop();
    throw err;
  }
  const codes = await stop();
  expect(codes, ms.map((m) => m.stderr.slice(-3).join("\n")).join("\n---\n")).toEqual(
    ms.map(() => 0),
  );
  return result;
}

const runArgs = async (config: string) => [
  "run",
  "--config",
  config,
  ...asIdentity(t.id, t.selfNs),
  "--listen",
  `127.0.0.1:${await freePort()}`,
];

describe("run", () => {
  it("on SIGTERM mid-recovery counts the recovery aborted and exits 0 promptly", async () => {
    // Replacements take 20 s to become Ready: the kill's recovery is certainly open at SIGTERM.
    await t.kube.apps.createNamespacedDeployment({
      namespace: t.ns,
      body: deployment(t.ns, "sluggish", {
        replicas: 1,
        annotations: { "kwok.chaos-monkey.io/ready-delay": "20s" },
      }),
    });
    await rolledOut("sluggish", 1);
    const args = await runArgs(chaosConfig([podTarget("sluggish", "@every 2s")]));
    const port = args[args.length - 1]?.split(":")[1];
    const m = startMonkey(args);
    await m.waitForLog((l) => l.msg === LOG.KILL_ACCEPTED, 30_000);
    // Only /metrics, /healthz and /readyz are served.
    const get = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
    expect(await get("/healthz")).toBe(200);
    expect(await get("/readyz")).toBe(200);
    expect(await get("/metrics")).toBe(200);
    expect(await get("/debug/pprof")).toBe(404);
    // concurrency: Forbid (the default) skips the next rounds while the recovery is open.
    await m.waitForLog((l) => l.msg === LOG.ROUND_SKIPPED && l.reason === "concurrency", 10_000);
    const t0 = Date.now();
    m.proc.kill("SIGTERM");
    expect(await m.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
    const ended = m.logs.filter((l) => l.msg === LOG.RECOVERY_ENDED);
    expect(ended.map((l) => l.outcome)).toEqual(["aborted"]);
    expect(m.logs.some((l) => l.msg === LOG.STOPPED)).toBe(true);
  }, 120_000);

  it("with two replicas: exactly one leads, no tick kills twice, and a stopped leader hands over", async () => {
    await t.kube.apps.createNamespacedDeployment({
      namespace: t.ns,
      body: deployment(t.ns, "pair", { replicas: 3 }),
    });
    await rolledOut("pair", 3);
    const config = chaosConfig([podTarget("pair", "@every 3s")]);
    const a = startMonkey(await runArgs(config));
    const b = startMonkey(await runArgs(config));
    try {
      const first = await Promise.race(
        [a, b].map(
          async (m) => (await m.waitForLog((l) => l.msg === LOG.BECAME_LEADER, 30_000), m),
        ),
      );
      const other = first === a ? b : a;
      // Both run every tick; only the leader kills. Wait for a few rounds.
      await first.waitForLog(
        (l) =>
          l.msg === LOG.RECOVERY_ENDED &&
          first.logs.filter((x) => x.msg === LOG.RECOVERY_ENDED).length >= 3,
        60_000,
      );
      expect(other.logs.some((l) => l.msg === LOG.BECAME_LEADER)).toBe(false);
      expect(
        other.logs.filter((l) => l.msg === LOG.ROUND_SKIPPED && l.reason === "not_leader").length,
      ).toBeGreaterThan(0);
      expect(other.logs.some((l) => l.msg === LOG.KILL_ACCEPTED)).toBe(false);
      const stoppedAt = Date.now();
      first.proc.kill("SIGTERM");
      expect(await first.exited).toBe(0);
      // The cause of the handover: the stopping leader gave the Lease up (it logs this only once
      // the API server took the write). An unreleased Lease would expire 13-17 s after SIGTERM,
      // which the 15 s bound alone could not tell from a slow release.
      expect(first.logs.some((l) => l.msg === LOG.LEASE_RELEASED)).toBe(true);
      await other.waitForLog((l) => l.msg === LOG.BECAME_LEADER, 15_000);
      expect(Date.now() - stoppedAt).toBeLessThan(15_000);
      await other.waitForLog((l) => l.msg === LOG.KILL_ACCEPTED, 30_000);
      const kills = [...a.logs, ...b.logs]
        .filter((l: LogLine) => l.msg === LOG.KILL_ACCEPTED)
        .map((l) => String(l.round));
      expect(new Set(kills).size).toBe(kills.length);
    } finally {
      for (const m of [a, b]) if (m.proc.exitCode === null) m.proc.kill("SIGTERM");
      await Promise.all([a.exited, b.exited]);
    }
  }, 180_000);

  it("hot-reloads a valid config, rejects an invalid one and keeps the last good config running", async () => {
    await t.kube.apps.createNamespacedDeployment({
      namespace: t.ns,
      body: deployment(t.ns, "reload", { replicas: 2 }),
    });
    await rolledOut("reload", 2);
    const config = chaosConfig([podTarget("reload", "@every 2s")]);
    const args = await runArgs(config);
    const m = startMonkey(args);
    await thenStop([m], async () => {
      await m.waitForLog((l) => l.msg === LOG.KILL_ACCEPTED && l.target === "reload", 30_000);
      // A valid change: the target is renamed and runs dry.
      const renamed = readFileSync(config, "utf8")
        .replace("name: reload", "name: renamed")
        .replace("dryRun: false", "dryRun: true");
      writeFileSync(config, renamed);
      await m.waitForLog(
        (l) => l.msg === LOG.CONFIG_LOADED && JSON.stringify(l.targets) === '["renamed"]',
        15_000,
      );
      await m.waitForLog((l) => l.msg === LOG.WOULD_KILL && l.target === "renamed", 15_000);
      // An invalid change is rejected with its errors; rounds go on with the last good config.
      writeFileSync(config, renamed.replace('schedule: "@every 2s"', 'schedule: "*/61 * * * *"'));
      const rejected = await m.waitForLog((l) => l.msg === LOG.CONFIG_RELOAD_REJECTED, 15_000);
      expect(JSON.stringify(rejected.errors)).toContain("is not a valid cron expression");
      const at = m.logs.length;
      await m.waitForLog(
        (l) => l.msg === LOG.WOULD_KILL && l.target === "renamed" && m.logs.indexOf(l) > at,
        15_000,
      );
      // No round of the old target starts after the reload (its open recovery may still end).
      const loadedAt = m.logs.findIndex(
        (l) => l.msg === LOG.CONFIG_LOADED && JSON.stringify(l.targets) === '["renamed"]',
      );
      const roundStarts = (target: string) =>
        m.logs.flatMap((l, i) =>
          l.target === target && (l.msg === LOG.VICTIMS_SELECTED || l.msg === LOG.ROUND_SKIPPED)
            ? [i]
            : [],
        );
      expect(roundStarts("reload").every((i) => i < loadedAt)).toBe(true);
      expect(roundStarts("renamed").every((i) => i > loadedAt)).toBe(true);
      // Nothing in flight was lost: every kill of the old config ended with an outcome.
      const killed = m.logs.filter((l) => l.msg === LOG.KILL_ACCEPTED).map((l) => l.victim);
      await Promise.all(
        killed.map((v) =>
          m.waitForLog((l) => l.msg === LOG.RECOVERY_ENDED && l.victim === v, 15_000),
        ),
      );
      const metrics = await scrape(Number(args[args.length - 1]?.split(":")[1]));
      expect(metricSum(metrics, "chaos_monkey_config_reloads_total", { result: "success" })).toBe(
        2,
      ); // start + reload
      expect(metricSum(metrics, "chaos_monkey_config_reloads_total", { result: "failure" })).toBe(
        1,
      );
    });
  }, 120_000);

  it("two replicas started in dry-run and reloaded live: one takes the Lease, no tick kills twice", async () => {
    await t.kube.apps.createNamespacedDeployment({
      namespace: t.ns,
      body: deployment(t.ns, "flip", { replicas: 3 }),
    });
    await rolledOut("flip", 3);
    const config = chaosConfig([podTarget("flip", "@every 2s")]);
    const dry = readFileSync(config, "utf8").replace("dryRun: false", "dryRun: true");
    writeFileSync(config, dry);
    const a = startMonkey(await runArgs(config));
    const b = startMonkey(await runArgs(config));
    await thenStop([a, b], async () => {
      // Dry-run: both act (writing nothing), neither holds a Lease.
      for (const m of [a, b]) await m.waitForLog((l) => l.msg === LOG.WOULD_KILL, 30_000);
      expect([...a.logs, ...b.logs].some((l) => l.msg === LOG.BECAME_LEADER)).toBe(false);
      writeFileSync(config, dry.replace("dryRun: true", "dryRun: false"));
      const leader = await Promise.race(
        [a, b].map(
          async (m) => (await m.waitForLog((l) => l.msg === LOG.BECAME_LEADER, 30_000), m),
        ),
      );
      await leader.waitForLog((l) => l.msg === LOG.KILL_ACCEPTED, 30_000);
      const other = leader === a ? b : a;
      // Not a pause but the other replica's own ticks: it loaded the live config and then ran
      // (and skipped, not leading) three rounds of it, any of which would have killed.
      const live = other.logs.length;
      await other.waitForLog(
        (l) =>
          l.msg === LOG.ROUND_SKIPPED &&
          l.reason === "not_leader" &&
          other.logs.indexOf(l) >= live &&
          other.logs
            .slice(live)
            .filter((x) => x.msg === LOG.ROUND_SKIPPED && x.reason === "not_leader").length >= 3,
        30_000,
      );
      expect(other.logs.some((l) => l.msg === LOG.KILL_ACCEPTED)).toBe(false);
      const kills = [...a.logs, ...b.logs]
        .filter((l) => l.msg === LOG.KILL_ACCEPTED)
        .map((l) => String(l.round));
      expect(new Set(kills).size).toBe(kills.length);
    });
  }, 120_000);
});
