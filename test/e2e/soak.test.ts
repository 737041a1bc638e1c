// A 10-minute soak (issue 7): one round per second, live kills over ten Deployments, and pods of
// another Deployment deleted by the test every second so the caches churn with changes that are
// not the monkey's own. The process must neither crash nor leak: no unhandled rejection, no
// growing handle count or heap, and no missed tick.
//
// KCM_SOAK_SECONDS shortens it for a local run; `npm test` runs the full 600 s.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Kube } from "../support/kube.js";
import {
  connect,
  createNamespace,
  deleteNamespace,
  deploymentReady,
  statusOf,
} from "../support/kube.js";
import type { Identity } from "../support/monkey.js";
import {
  chaosConfig,
  deleteIdentityBindings,
  metricSum,
  monkeyIdentity,
  scrape,
  startRun,
} from "../support/monkey.js";
import { deployment } from "../support/objects.js";

const SECONDS = Number(process.env.KCM_SOAK_SECONDS ?? 600);
// /metrics every 2 s: the heap's floor is read from the samples right after a major collection,
// and the heap grows ~0.3 MiB/s between collections, so a sample lands within ~0.5 MiB of it.
const SAMPLE_MS = 2000;
const PRINT_EVERY = 30; // samples: a line a minute
const TARGETS = 10; // Deployments the monkey kills in
const LABEL = "e2e.chaos-monkey.io/soak";

let kube: Kube;
let ns: string;
let selfNs: string;
let id: Identity;

beforeAll(async () => {
  kube = connect(inject("kubeconfig"));
  ns = await createNamespace(kube, "e2e-soak");
  selfNs = await createNamespace(kube, "e2e-soak-self");
  id = await monkeyIdentity(kube, selfNs);
});

afterAll(async () => {
  await deleteNamespace(kube, ns);
  await deleteNamespace(kube, selfNs);
  await deleteIdentityBindings(kube, selfNs);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  readonly atS: number; // seconds since the soak began
  readonly rounds: number;
  readonly kills: number;
  readonly handles: number;
  readonly heapMiB: number;
  readonly rssMiB: number;
}

function sample(m: Map<string, number>, atS: number): Sample {
  const mib = (name: string) => metricSum(m, name) / 2 ** 20;
  return {
    atS,
    rounds: metricSum(m, "chaos_monkey_rounds_total"),
    kills: metricSum(m, "chaos_monkey_kills_total", { result: "killed" }),
    handles: metricSum(m, "nodejs_active_handles"),
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
      const pods = await kube.core.listNamespacedPod({ namespace: ns, labelSelector: "app=churn" });
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
        await kube.core.deleteNamespacedPod({ namespace: ns, name: victim });
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

const max = (xs: number[]) => Math.max(...xs);
const min = (xs: number[]) => Math.min(...xs);

describe("soak", () => {
  it(
    `runs a round every second for ${SECONDS} s with pods churning: no crash, no leak, no missed tick`,
    async () => {
      const names = Array.from({ length: TARGETS }, (_, i) => `soak-${i}`);
      for (const name of names)
        await kube.apps.createNamespacedDeployment({
          namespace: ns,
          body: deployment(ns, name, { replicas: 2, labels: { [LABEL]: "yes" } }),
        });
      // In the monkey's pod cache (same label) but opted out: churn it never kills.
      await kube.apps.createNamespacedDeployment({
        namespace: ns,
        body: deployment(ns, "churn", {
          replicas: 4,
          labels: { [LABEL]: "yes" },
          annotations: { "chaos-monkey.io/exclude": "true" },
        }),
      });
      for (const name of names) await deploymentReady(kube, ns, name, 2);
      await deploymentReady(kube, ns, "churn", 4);
      const config = chaosConfig([
        {
          name: "soak",
          kind: "Pod",
          schedule: "@every 1s",
          // Rounds kill while earlier recoveries are still open: one round every second, always.
          concurrency: "Allow",
          selector: { namespaces: [ns], labelSelector: `${LABEL}=yes` },
          recovery: { timeout: "30s" },
        },
      ]);
      const m = await startRun(config, id, selfNs);
      const churner = churn();
      const samples: Sample[] = [];
      try {
        await m.waitForLog((l) => l.msg === "kill accepted", 30_000);
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

        // No missed tick: one round per elapsed second, none late.
        const first = samples[0] as Sample;
        const last = samples[samples.length - 1] as Sample;
        const elapsed = last.atS - first.atS;
        const rounds = last.rounds - first.rounds;
        expect(Math.abs(rounds - elapsed), `${rounds} rounds in ${elapsed} s`).toBeLessThanOrEqual(
          2,
        );
        expect(m.logs.filter((l) => l.msg.startsWith("round ran late"))).toEqual([]);
        expect(metricSum(metrics, "chaos_monkey_rounds_total", { outcome: "failed" })).toBe(0);
        expect(metricSum(metrics, "chaos_monkey_recoveries_total", { outcome: "timeout" })).toBe(0);

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
        const recovered = metricSum(metrics, "chaos_monkey_recoveries_total", {
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
        // Every kill's recovery ended (recovered) but the last few still open at the end.
        const kills = metricSum(metrics, "chaos_monkey_kills_total", { result: "killed" });
        expect(kills - recovered).toBeLessThanOrEqual(5);
      } finally {
        await churner.stop().catch(() => 0);
        if (m.proc.exitCode === null) m.proc.kill("SIGTERM");
        await m.exited;
      }
    },
    (SECONDS + 240) * 1000,
  );
});
