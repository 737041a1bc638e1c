// The benchmark script itself, run small on the e2e cluster, so the command the README gives
// keeps working: it sets up its workloads, runs the production bundle, and writes every figure.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { connect, deleteNamespace } from "../support/kube.js";
import { deleteIdentityBindings } from "../support/monkey.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const PREFIX = "benchsmoke";

interface Result {
  scale: { pods: number };
  startupMs: number[];
  tickToKillMs: { n: number; p99: number };
  recovery: { outcomes: Record<string, number>; compared: number; unmatched: number };
  memory: { peakRssMiB: number; activeHandles: { max: number | null } };
  requests: {
    victims: number;
    victimWrites: number;
    writesPerVictim: { eviction: number; events: number; journal: number };
    startupLists: number;
    startupWatches: number;
    steadyLists: number;
  };
  cpu: { monkeyMsPerRound: number; apiserverAboveIdleMsPerRound: number; rounds: number };
  victims: { victim: string; tickToKillMs: number | null; errorMs: number | null }[];
  monkey: { rounds: number; skips: number };
  goals: { name: string; value: number; limit: number; met: boolean }[];
}

afterAll(async () => {
  const kube = connect(inject("kubeconfig"));
  for (const ns of [`${PREFIX}-00`, `${PREFIX}-01`, `${PREFIX}-monkey`])
    await deleteNamespace(kube, ns);
  await deleteIdentityBindings(kube, `${PREFIX}-monkey`);
});

describe("npm run bench", () => {
  it("runs end to end at a small scale and reports every goal from what it measured", () => {
    const cluster = /clusters\/([^/]+)\/kubeconfig\.yaml$/.exec(inject("kubeconfig"))?.[1];
    const out = join(mkdtempSync(join(tmpdir(), "kcm-bench-")), "result.json");
    // (tsx from node_modules, as `npm run bench` runs it.)
    execFileSync(
      process.execPath,
      [
        join(ROOT, "node_modules/tsx/dist/cli.mjs"),
        "test/bench/cluster.ts",
        ...["--cluster", cluster ?? "", "--prefix", PREFIX, "--out", out],
        ...["--curve", join(dirname(out), "curve.json")],
        ...["--pods", "40", "--deployments", "4", "--namespaces", "2"],
        ...["--duration", "20", "--startup-runs", "1", "--idle", "5"],
      ],
      { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"], timeout: 240_000 },
    );
    const r = JSON.parse(readFileSync(out, "utf8")) as Result;
    expect(r.scale.pods).toBe(40);
    expect(r.startupMs).toHaveLength(2);
    // One round per second for 20 s; a round whose target still has a recovery in flight is
    // skipped (concurrency: Forbid), so fewer victims than rounds, each measured by both sides.
    expect(r.monkey.rounds).toBeGreaterThanOrEqual(18);
    expect(r.requests.victims + r.monkey.skips).toBe(r.monkey.rounds);
    expect(r.requests.victims).toBeGreaterThanOrEqual(5);
    expect(r.tickToKillMs.n).toBe(r.requests.victims);
    expect(r.recovery.outcomes.recovered).toBe(r.requests.victims);
    expect(r.recovery.compared).toBe(r.requests.victims);
    expect(r.recovery.unmatched).toBe(0);
    // Eviction, ChaosKill and ChaosRecovered on the cluster; the journal in the monkey's own
    // namespace (SPEC §7): the round's entry before the kill, its removal when the recovery
    // ends (removals of recoveries ending together may share one write).
    expect(r.requests.victimWrites).toBe(3 * r.requests.victims);
    expect(r.requests.writesPerVictim.eviction).toBe(1);
    expect(r.requests.writesPerVictim.events).toBe(2);
    expect(r.requests.writesPerVictim.journal).toBeGreaterThan(1);
    expect(r.requests.writesPerVictim.journal).toBeLessThanOrEqual(2 + 1 / r.requests.victims);
    // Caches fill from streaming watches: no LIST, at start-up or after.
    expect(r.requests.startupLists).toBe(0);
    expect(r.requests.startupWatches).toBeGreaterThan(0);
    expect(r.requests.steadyLists).toBe(0);
    expect(r.cpu.rounds).toBeGreaterThanOrEqual(18);
    expect(r.cpu.monkeyMsPerRound).toBeGreaterThan(0);
    expect(Number.isFinite(r.cpu.apiserverAboveIdleMsPerRound)).toBe(true);
    expect(r.victims).toHaveLength(r.requests.victims);
    expect(r.victims.every((v) => v.errorMs !== null && v.tickToKillMs !== null)).toBe(true);
    expect(r.memory.peakRssMiB).toBeGreaterThan(0);
    expect(r.memory.activeHandles.max).toBeGreaterThan(0); // (null when the metric was misread)
    expect(r.goals.map((g) => g.name)).toHaveLength(7);
    for (const g of r.goals) expect(Number.isFinite(g.value), g.name).toBe(true);
  }, 300_000);
});
