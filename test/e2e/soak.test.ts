// A 10-minute soak (issue 7): one round per second, live kills over ten Deployments, and pods of
// another Deployment deleted by the test every second so the caches churn with changes that are
// not the monkey's own. The process must neither crash nor leak: no unhandled rejection, no
// growing handle count or heap, and no tick lost without the monkey saying so.
//
// KCM_SOAK_SECONDS shortens it for a local run; `npm test` runs the full 600 s.
import { describe, expect, it } from "vitest";
import { deploymentReady, statusOf } from "../support/kube.js";
import { chaosConfig, metricValue, scrape, startRun } from "../support/monkey.js";
import { deployment } from "../support/objects.js";
import { e2eSuite } from "../support/suite.js";
import { LOG } from "../../src/observe/messages.js";

const SECONDS = Number(process.env.KCM_SOAK_SECONDS ?? 600);
// /metrics every 2 s: the heap's floor is read from the samples right after a major collection,
// and the heap grows ~0.3 MiB/s between collections, so a sample lands within ~0.5 MiB of it.
const SAMPLE_MS = 2000;
const PRINT_EVERY = 30; // samples: a line a minute
const TARGETS = 10; // Deployments the monkey kills in
const LABEL = "e2e.chaos-monkey.io/soak";

const t = e2eSuite("e2e-soak");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  readonly atS: number; // seconds since the soak began
  readonly rounds: number;
  readonly kills: number;
  readonly handles: number;
  readonly heapMiB: number;
  readonly rssMiB: number;
}

// metricValue, not metricSum: a series missing from the scrape (renamed, never exported) must fail
// the soak, not read as 0 handles, 0 MiB of heap or 0 rounds and pass every check below.
function sample(m: Map<string, number>, atS: number): Sample {
  const mib = (name: string) => metricValue(m, name) / 2 ** 20;
  return {
    atS,
    rounds: metricValue(m, "chaos_monkey_rounds_total"),
    kills: metricValue(m, "chaos_monkey_kills_total", { result: "killed" }),
    handles: metricValue(m, "nodejs_active_handles"),
    heapMiB: mib("nodejs_heap_size_used_bytes"),
    rssMiB: mib("process_resident_memory_bytes"),
  };
}

/** Deletes one pod of the churn Deployment per second (not the monkey's doing), until stopped. */
function churn(): { stop: () => Promise<number> } {
  let stopped = false;
  let deleted = 0;
  const loop = (async () => {
    while (!stopped) {
      await sleep(1000);
      const pods = await t.kube.core.listNamespacedPod({
        namespace: t.ns,
        labelSelector: "app=churn",
      });
      // The oldest live pod: each one lives a few seconds, then goes.
      const victim = pods.items
        .filter((p) => !p.metadata?.deletionTimestamp)
        .sort(
          (a, b) =>
            (a.metadata?.creationTimestamp?.getTime() ?? 0) -
            (b.metadata?.creationTimestamp?.getTime() ?? 0),
        )[0]?.metadata?.name;
      if (!victim) continue;
      try {
        await t.kube.core.deleteNamespacedPod({ namespace: t.ns, name: victim });
        deleted++;
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return deleted;
    },
  };
}

/** Ticks a late round made the loop skip (SPEC: missed ticks are not caught up, but reported). */
function ticksLost(lateMs: number, intervalMs = 1000): number {
  // The round for tick F ended at F + lateMs; the loop goes on from the first tick after that.
  return Math.floor(lateMs / intervalMs);
}

// Share of ticks a busy machine may cost. A round's API calls wait on a control plane shared with
// other suites on 2 cores, so a few rounds end more than 1 s late and skip a tick (the monkey logs
// each one); a stalled event loop or a leak that slows every round loses far more than this.
const MAX_LOST_SHARE = 0.1;

const max = (xs: number[]) => Math.max(...xs);
const min = (xs: number[]) => Math.min(...xs);

describe("soak", () => {
  it(
    `runs a round every second for ${SECONDS} s with pods churning: no crash, no leak, no missed tick`,
    async () => {
      const names = Array.from({ length: TARGETS }, (_, i) => `soak-${i}`);
      for (const name of names)
        await t.kube.apps.createNamespacedDeployment({
          namespace: t.ns,
          body: deployment(t.ns, name, { replicas: 2, labels: { [LABEL]: "yes" } }),
        });
      // In the monkey's pod cache (same label) but opted out: churn it never kills.
      await t.kube.apps.createNamespacedDeployment({
        namespace: t.ns,
        body: deployment(t.ns, "churn", {
          replicas: 4,
          labels: { [LABEL]: "yes" },
          annotations: { "chaos-monkey.io/exclude": "true" },
        }),
      });
      for (const name of names) await deploymentReady(t.kube, t.ns, name, 2);
      await deploymentReady(t.kube, t.ns, "churn", 4);
      const config = chaosConfig([
        {
          name: "soak",
          kind: "Pod",
          schedule: "@every 1s",
          // Rounds kill while earlier recoveries are still open: one round every second, always.
          concurrency: "Allow",
          selector: { namespaces: [t.ns], labelSelector: `${LABEL}=yes` },
          recovery: { timeout: "30s" },
        },
      ]);
      const m = await startRun(config, t.id, t.selfNs);
      const churner = churn();
      const samples: Sample[] = [];
      try {
        await m.waitForLog((l) => l.msg === LOG.KILL_ACCEPTED, 30_000);
        const began = Date.now();
        for (;;) {
          const atS = (Date.now() - began) / 1000;
          expect(m.proc.exitCode, `exited; stderr: ${m.stderr.join("\n")}`).toBeNull();
          samples.push(sample(await scrape(m.port), atS));
          if (samples.length % PRINT_EVERY === 1) {
            const s = samples[samples.length - 1] as Sample;
            console.info(
              `soak ${s.atS.toFixed(0)} s: rounds ${s.rounds}, kills ${s.kills}, handles ${s.handles}, heap ${s.heapMiB.toFixed(1)} MiB, rss ${s.rssMiB.toFixed(1)} MiB`,
            );
          }
          if (atS >= SECONDS) break;
          await sleep(Math.min(SAMPLE_MS, began + SECONDS * 1000 - Date.now()));
        }
        const churned = await churner.stop();
        const metrics = await scrape(m.port);
        m.proc.kill("SIGTERM");
        expect(await m.exited).toBe(0);

        // No unhandled rejection, uncaught exception or warning: stderr stays empty.
        expect(m.stderr).toEqual([]);

        // No silent missed tick: every elapsed second is a round, or a tick that a round the
        // monkey reported late made it skip. A scheduler that drifts (50 ms a round is 6 rounds
        // in 120 s) or skips ticks without saying so breaks this sum, however busy the machine.
        const first = samples[0] as Sample;
        const last = samples[samples.length - 1] as Sample;
        const elapsed = last.atS - first.atS;
        const rounds = last.rounds - first.rounds;
        const from = began + first.atS * 1000;
        const to = began + last.atS * 1000;
        const late = m.logs.filter((l) => {
          const at = Date.parse(String(l.time));
          return l.msg.startsWith("round ran late") && at >= from && at <= to;
        });
        const lost = late.reduce((n, l) => n + ticksLost(Number(l.lateMs)), 0);
        const lateness = late.map((l) => Number(l.lateMs));
        console.info(
          `soak ticks: ${rounds} rounds + ${lost} ticks skipped by ${late.length} late rounds (max ${lateness.length ? max(lateness) : 0} ms late) in ${elapsed.toFixed(1)} s`,
        );
        for (const l of late)
          expect(Number.isFinite(Number(l.lateMs)), JSON.stringify(l)).toBe(true);
        expect(
          Math.abs(rounds + lost - elapsed),
          `${rounds} rounds + ${lost} skipped ticks in ${elapsed} s`,
        ).toBeLessThanOrEqual(2);
        expect(lost, `ticks lost to late rounds: ${JSON.stringify(late)}`).toBeLessThanOrEqual(
          Math.ceil(elapsed * MAX_LOST_SHARE),
        );
        expect(metricValue(metrics, "chaos_monkey_rounds_total", { outcome: "failed" })).toBe(0);
        expect(metricValue(metrics, "chaos_monkey_recoveries_total", { outcome: "timeout" })).toBe(
          0,
        );

        // No leak. Handles: the last minute's peak is the first minute's, give or take a few
        // requests in flight at a scrape (a leak of one handle per 100 rounds would exceed it).
        const window = (from: number, to: number) =>
          samples.filter((s) => s.atS >= from && s.atS <= to);
        const handles = {
          early: max(window(0, 60).map((s) => s.handles)),
          late: max(window(last.atS - 60, last.atS).map((s) => s.handles)),
        };
        // Heap: its floor (the lowest sample, just after a major collection) is the live set;
        // the peaks are garbage. Each half of the soak holds several major collections. Measured
        // with a forced full collection every 10 s instead, the live set grew 48.2 → 50.2 MiB in
        // 300 s, flattening out (warm-up, not a leak); 10 % leaves room for that and sampling.
        const half = last.atS / 2;
        const heap = {
          early: min(window(0, half).map((s) => s.heapMiB)),
          late: min(window(half, last.atS).map((s) => s.heapMiB)),
        };
        const recovered = metricValue(metrics, "chaos_monkey_recoveries_total", {
          outcome: "recovered",
        });
        console.info(
          `soak summary: ${elapsed.toFixed(0)} s, ${rounds} rounds, ${last.kills} kills, ${recovered} recovered, ${churned} pods churned; ` +
            `handles max ${handles.early} first minute → ${handles.late} last minute; ` +
            `heap floor ${heap.early.toFixed(1)} first half → ${heap.late.toFixed(1)} MiB second half; ` +
            `rss ${first.rssMiB.toFixed(1)} → ${last.rssMiB.toFixed(1)} MiB`,
        );
        expect(last.kills).toBeGreaterThan(elapsed / 2); // rounds really killed
        expect(handles.late).toBeLessThanOrEqual(handles.early + 5);
        expect(heap.late).toBeLessThanOrEqual(heap.early * 1.1); // 10 %: ~5 MiB of ~50
        // Every kill's recovery ended recovered or is still being watched at the end (none timed
        // out, above). Not "at most 5 open": how many are open depends on how fast a busy machine
        // makes replacements Ready, not on the monkey. ±2: the registry collects one metric after
        // another, asynchronously, so a round may land between two of them.
        const kills = metricValue(metrics, "chaos_monkey_kills_total", { result: "killed" });
        const open = metricValue(metrics, "chaos_monkey_recoveries_in_flight", { target: "soak" });
        expect(
          Math.abs(kills - recovered - open),
          `${kills} kills, ${recovered} recovered, ${open} in flight`,
        ).toBeLessThanOrEqual(2);
      } finally {
        await churner.stop().catch(() => 0);
        if (m.proc.exitCode === null) m.proc.kill("SIGTERM");
        await m.exited;
      }
    },
    (SECONDS + 240) * 1000,
  );
});
