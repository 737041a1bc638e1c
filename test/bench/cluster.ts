// npm run bench [-- OPTIONS]: the monkey at scale on the local control plane (KWOK nodes).
//
// Sets up NAMESPACES namespaces with PODS pods in DEPLOYMENTS Deployments, one Pod target per
// namespace firing in turn so that the monkey runs one round per second, and runs the
// production bundle against it for DURATION seconds. Measures, from outside the process:
//   - start-up to ready (config loaded, caches synced): spawn → /readyz 200;
//   - tick-to-kill: scheduled fire time → eviction request sent (the monkey's "killing" line);
//   - recovery accuracy: the monkey's measured recovery vs an independent watcher's;
//   - memory: RSS from /proc, heap floor growth from the monkey's /metrics;
//   - API requests: the monkey's own, from the API server's audit log, cross-checked against
//     kube-apiserver's apiserver_request_total.
// Prints a table and writes test/bench/results/latest.json. The cluster (its own, named
// chaos-monkey-bench, so the tests' cluster is untouched) is left running for the next run;
// stop it with: KCM_CLUSTER_NAME=chaos-monkey-bench npm run cluster:down
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import * as k8s from "@kubernetes/client-node";
import { bundle } from "../../scripts/bundle.js";
import { requestsBy } from "../support/audit.js";
import { imageNodeOptions } from "../support/image.js";
import { connect, statusOf } from "../support/kube.js";
import {
  deleteIdentityBindings,
  freePort,
  metricSum,
  monkeyIdentity,
  scrape,
  startMonkey,
  tokenIdentity,
  writeConfig,
} from "../support/monkey.js";
import type { Identity, Running } from "../support/monkey.js";
import { deployment } from "../support/objects.js";
import { RecoveryWatcher } from "../support/watcher.js";
import {
  countByKind,
  countWhere,
  heapTrend,
  label,
  metricSeries,
  seriesDelta,
  summarize,
  WRITE_VERBS,
} from "./analysis.js";
import type { HeapSample, Summary } from "./analysis.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const APP_LABEL = "bench.chaos-monkey.io/app";

const { values: opt } = parseArgs({
  options: {
    pods: { type: "string", default: "10000" },
    deployments: { type: "string", default: "100" },
    namespaces: { type: "string", default: "20" },
    duration: { type: "string", default: "600" },
    "startup-runs": { type: "string", default: "3" },
    cluster: { type: "string", default: "chaos-monkey-bench" },
    prefix: { type: "string", default: "bench" },
    out: { type: "string", default: "test/bench/results/latest.json" },
    help: { type: "boolean", default: false },
  },
});
if (opt.help) {
  process.stdout.write(
    [
      "npm run bench [-- --pods N --deployments N --namespaces N --duration SECONDS]",
      "  defaults: 10000 pods in 100 Deployments in 20 namespaces (one target each), 600 s",
      "  --startup-runs N   extra dry-run starts timed before the measured run (default 3)",
      "  --cluster NAME     local cluster to use or create (default chaos-monkey-bench)",
      "  --prefix P         namespaces P-00, P-01, ... and P-monkey (default bench)",
      "  --out FILE         results file (default test/bench/results/latest.json)",
      "",
    ].join("\n"),
  );
  process.exit(0);
}
const int = (name: keyof typeof opt): number => {
  const v = Number(opt[name]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
};
const PODS = int("pods");
const DEPLOYMENTS = int("deployments");
const NAMESPACES = int("namespaces");
const DURATION_S = int("duration");
const STARTUP_RUNS = Number(opt["startup-runs"]);
if (DEPLOYMENTS % NAMESPACES !== 0 || PODS % DEPLOYMENTS !== 0)
  throw new Error("--deployments must divide by --namespaces, and --pods by --deployments");
if (60 % NAMESPACES !== 0)
  throw new Error("--namespaces must divide 60: each namespace's target fires every N seconds");
const REPLICAS = PODS / DEPLOYMENTS;
const PER_NS = DEPLOYMENTS / NAMESPACES;
const PREFIX = opt.prefix;
if (!/^[a-z][a-z0-9-]{0,40}$/.test(PREFIX)) throw new Error("--prefix must be a short DNS label");
const nsName = (i: number) => `${PREFIX}-${String(i).padStart(2, "0")}`;
const SELF_NS = `${PREFIX}-monkey`;

const say = (s: string) => process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sh = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(cmd, args, {
    cwd: ROOT,
    encoding: "utf8",
    env,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"],
  });
const lastLine = (s: string) => s.trim().split("\n").pop() ?? "";

// --- the cluster and the workloads -------------------------------------------------------------

say(`== local control plane "${opt.cluster}" (the first run builds it from Go modules)`);
const bindir = lastLine(sh("bash", ["test/cluster/build-binaries.sh"]));
const clusterEnv = {
  ...process.env,
  PATH: `${bindir}:${process.env.PATH ?? ""}`,
  KCM_CLUSTER_NAME: opt.cluster,
  // 2000 pods fit a fake node; leave room for the replacements.
  KCM_NODES: String(Math.max(3, Math.ceil((PODS * 1.2) / 2000))),
};
const kubeconfig = lastLine(sh("bash", ["test/cluster/up.sh"], clusterEnv));
const auditLog = kubeconfig.replace(/kubeconfig\.yaml$/, "logs/audit.log");
const kube = connect(kubeconfig);
const apiserverMetrics = () =>
  sh(`${bindir}/kubectl`, ["--kubeconfig", kubeconfig, "get", "--raw", "/metrics"]);

async function ignoreConflict(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
  }
}

async function setUpWorkloads(): Promise<void> {
  say(`== ${PODS} pods: ${DEPLOYMENTS} Deployments × ${REPLICAS} in ${NAMESPACES} namespaces`);
  for (let n = 0; n < NAMESPACES; n++) {
    const namespace = nsName(n);
    await ignoreConflict(() =>
      kube.core.createNamespace({ body: { metadata: { name: namespace } } }),
    );
    for (let d = 0; d < PER_NS; d++) {
      const name = `app-${d}`;
      const body = deployment(namespace, name, {
        replicas: REPLICAS,
        labels: { [APP_LABEL]: name },
      });
      try {
        await kube.apps.createNamespacedDeployment({ namespace, body });
      } catch (err) {
        if (statusOf(err) !== 409) throw err;
        await kube.apps.patchNamespacedDeploymentScale(
          { name, namespace, body: { spec: { replicas: REPLICAS } } },
          k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
        );
      }
    }
  }
  await removeLeftovers();
  const started = Date.now();
  for (;;) {
    const list = (await kube.apps.listDeploymentForAllNamespaces()).items.filter((d) =>
      isBenchNamespace(d.metadata?.namespace),
    );
    const ready = list.reduce((n, d) => n + (d.status?.readyReplicas ?? 0), 0);
    const want = list.reduce((n, d) => n + (d.spec?.replicas ?? 0), 0);
    // (Listing every pod is heavy: only once the Deployments say they are ready.)
    const pods = ready >= PODS ? await benchPods() : NaN;
    // Pods of an earlier, larger run would still be in the monkey's sight: wait until gone.
    const done = ready >= PODS && list.length === DEPLOYMENTS && want === PODS && pods === PODS;
    say(
      `   ${ready}/${PODS} pods ready, ${pods} exist (${Math.round((Date.now() - started) / 1000)} s)`,
    );
    if (done) return;
    if (Date.now() - started > 30 * 60_000) throw new Error("workloads not ready after 30 min");
    await sleep(5000);
  }
}

async function identity(): Promise<Identity> {
  await ignoreConflict(() => kube.core.createNamespace({ body: { metadata: { name: SELF_NS } } }));
  try {
    await kube.core.readNamespacedServiceAccount({ name: "chaos-monkey", namespace: SELF_NS });
    return await tokenIdentity(kube, SELF_NS, "chaos-monkey");
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
    await deleteIdentityBindings(kube, SELF_NS); // left by a namespace deleted before
    return monkeyIdentity(kube, SELF_NS);
  }
}

function benchConfig(paused = false): Record<string, unknown> {
  return {
    apiVersion: "chaos-monkey.io/v1",
    kind: "ChaosMonkeyConfig",
    dryRun: false,
    paused,
    timezone: "UTC",
    safety: { maxKillsPerRound: 1, maxPerOwner: 1, requireHealthy: true },
    recovery: { timeout: "2m" },
    targets: Array.from({ length: NAMESPACES }, (_, n) => {
      const seconds = Array.from({ length: 60 / NAMESPACES }, (_, k) => n + k * NAMESPACES);
      return {
        name: nsName(n),
        kind: "Pod",
        // The targets take turns: one round per second in all.
        schedule: `${seconds.join(",")} * * * * *`,
        selector: { namespaces: [nsName(n)], labelSelector: APP_LABEL },
      };
    }),
  };
}

const isBenchNamespace = (ns: string | undefined) => new RegExp(`^${PREFIX}-\\d+$`).test(ns ?? "");

/** An earlier run at another scale left namespaces or Deployments this run must not see. */
async function removeLeftovers(): Promise<void> {
  const wanted = new Set(Array.from({ length: NAMESPACES }, (_, n) => nsName(n)));
  const namespaces = (await kube.core.listNamespace()).items.map((n) => n.metadata?.name ?? "");
  for (const name of namespaces.filter((n) => isBenchNamespace(n) && !wanted.has(n))) {
    say(`   deleting namespace ${name} (left by a run at another scale)`);
    await kube.core.deleteNamespace({ name });
  }
  const extra = (await kube.apps.listDeploymentForAllNamespaces()).items
    .map((d) => ({ name: d.metadata?.name ?? "", namespace: d.metadata?.namespace ?? "" }))
    .filter((d) => wanted.has(d.namespace) && Number(d.name.replace("app-", "")) >= PER_NS);
  for (const d of extra) await kube.apps.deleteNamespacedDeployment(d);
}

/** Pods the benchmark's Deployments have now, terminating ones included. */
async function benchPods(): Promise<number> {
  const pods = await kube.core.listPodForAllNamespaces({ labelSelector: APP_LABEL });
  return pods.items.filter((p) => isBenchNamespace(p.metadata?.namespace)).length;
}

// --- running the monkey ------------------------------------------------------------------------

async function waitReady(port: number, m: Running, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (m.proc.exitCode !== null)
      throw new Error(`monkey exited: ${m.stderr.slice(-5).join("\n")}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(10);
  }
  throw new Error("monkey not ready in time");
}

/** The NODE_OPTIONS the image runs the bundle with: the benchmark measures what ships. */
const IMAGE_NODE_OPTIONS = imageNodeOptions();

async function launch(
  entry: string,
  args: string[],
): Promise<{ m: Running; port: number; readyMs: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const m = startMonkey(
    [...args, "--listen", `127.0.0.1:${port}`],
    { NODE_OPTIONS: IMAGE_NODE_OPTIONS },
    entry,
  );
  await waitReady(port, m);
  return { m, port, readyMs: performance.now() - t0 };
}

async function inFlight(port: number): Promise<number> {
  return metricSum(await scrape(port), "chaos_monkey_recoveries_in_flight");
}

async function stop(m: Running): Promise<void> {
  m.proc.kill("SIGTERM");
  const code = await m.exited;
  if (code !== 0) throw new Error(`monkey exited ${code}: ${m.stderr.slice(-5).join("\n")}`);
}

const rssBytes = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
};

interface Sample extends HeapSample {
  readonly rssBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly handles: number;
}

// --- the benchmark -----------------------------------------------------------------------------

await setUpWorkloads();
const id = await identity();
const config = writeConfig(benchConfig());
say("== bundling the production build (npm run bundle)");
const { path: entry } = await bundle();
const common = ["run", "--config", config, "--kubeconfig", id.kubeconfig, "--namespace", SELF_NS];

say(`== start-up to ready with ${PODS} pods in scope (${STARTUP_RUNS} dry-run starts)`);
const startupMs: number[] = [];
for (let i = 0; i < STARTUP_RUNS; i++) {
  const { m, readyMs } = await launch(entry, [...common, "--dry-run"]);
  startupMs.push(readyMs);
  say(`   ${readyMs.toFixed(0)} ms`);
  await stop(m);
}

say(`== measured run: ${DURATION_S} s at one round per second`);
const watcher = new RecoveryWatcher(kube, {
  podsPath: "/api/v1/pods",
  podSelector: APP_LABEL,
  deploymentsPath: "/apis/apps/v1/deployments",
});
await watcher.start();
// Let the watcher take in every pod first: its initial burst must not slow the monkey's start.
for (let i = 0; i < 600 && watcher.pods < PODS; i++) await sleep(100);
const auditFrom = Date.now();
const apiBefore = apiserverMetrics();
const run = await launch(entry, common);
startupMs.push(run.readyMs);
say(`   ready in ${run.readyMs.toFixed(0)} ms`);
const readyAt = Date.now();
const samples: Sample[] = [];
const runStart = performance.now();
while ((performance.now() - runStart) / 1000 < DURATION_S) {
  await sleep(5000);
  if (run.m.proc.exitCode !== null) throw new Error(`monkey exited: ${run.m.stderr.join("\n")}`);
  const metrics = await scrape(run.port);
  const t = (performance.now() - runStart) / 1000;
  samples.push({
    t,
    heapUsedBytes: metrics.get("nodejs_heap_size_used_bytes") ?? NaN,
    rssBytes: rssBytes(run.m.proc.pid ?? 0),
    heapTotalBytes: metrics.get("nodejs_heap_size_total_bytes") ?? NaN,
    externalBytes: metrics.get("nodejs_external_memory_bytes") ?? NaN,
    // Labelled by handle type: the sum of its series, NaN when it is absent.
    handles: [...metrics.keys()].some((k) => k.startsWith("nodejs_active_handles{"))
      ? metricSum(metrics, "nodejs_active_handles")
      : NaN,
  });
  if (samples.length % 6 === 0) {
    const kills = run.m.logs.filter((l) => l.msg === "kill accepted").length;
    const ended = run.m.logs.filter((l) => l.msg === "recovery ended").length;
    const last = samples.at(-1) as Sample;
    say(
      `   ${t.toFixed(0)} s: ${kills} kills, ${ended} recoveries ended, RSS ${mib(last.rssBytes)} MiB, heap ${mib(last.heapUsedBytes)} MiB`,
    );
  }
}
const runEnd = Date.now();
const apiAfter = apiserverMetrics();
// Pause it (a hot reload) and let the last recoveries end: their Events are writes of this run.
say("   pausing the monkey (config reload) and waiting for the last recoveries");
writeFileSync(config, stringify(benchConfig(true)));
const loaded = () => run.m.logs.filter((l) => l.msg === "config loaded").length;
for (let i = 0; i < 120 && (loaded() < 2 || (await inFlight(run.port)) > 0); i++) await sleep(500);
if (loaded() < 2 || (await inFlight(run.port)) > 0)
  throw new Error("the paused monkey still has recoveries in flight after 60 s");
const finalMetrics = await scrape(run.port);
await stop(run.m);
watcher.stop();
await sleep(1000); // the audit backend writes in batches
const audit = requestsBy(auditLog, id.username);

// --- results -----------------------------------------------------------------------------------

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

const logs = run.m.logs;
const tickToKill = summarize(
  logs.filter((l) => l.msg === "killing").map((l) => Number(l.tickToKillMs)),
);
const recoveries = logs.filter((l) => l.msg === "recovery ended");
const errorsMs: number[] = [];
const comparisons: { victim: string; monkeyS: number; watcherS: number }[] = [];
let unmatched = 0;
for (const l of recoveries) {
  const phases = l.phases as { recovered?: number } | undefined;
  if (l.outcome !== "recovered" || phases?.recovered === undefined) continue;
  const [namespace, name] = String(l.victim).split("/");
  const theirs = watcher.recoveryOf(namespace ?? "", name ?? "");
  if (theirs === undefined) unmatched++;
  else {
    errorsMs.push(Math.abs(phases.recovered - theirs) * 1000);
    comparisons.push({ victim: String(l.victim), monkeyS: phases.recovered, watcherS: theirs });
  }
}
const accuracy = summarize(errorsMs);
const outcomes = countBy(recoveries, (l) => String(l.outcome));
const victims = logs.filter((l) => l.msg === "kill accepted").length;
// Floors over 2-minute windows, the first after a minute's warm-up (shorter for short runs).
const trend = heapTrend(samples, Math.min(120, DURATION_S / 4), Math.min(60, DURATION_S / 6));
const peakRss = Math.max(...samples.map((s) => s.rssBytes));
const handles = samples.map((s) => s.handles);

// The monkey's requests, from the audit log: from its start, and after it was ready.
const all = countByKind(audit, auditFrom);
const steady = countByKind(audit, readyAt + 1000, runEnd);
const writes = (c: Map<string, number>, pred: (k: string) => boolean = () => true) =>
  countWhere(c, (k) => WRITE_VERBS.has(k.split(" ")[0] ?? "") && pred(k));
const leaseWrites = writes(all, (k) => k.endsWith(" leases"));
// The journal (SPEC §7) in the monkey's own namespace: a round's entry before its kill and the
// entry's removal when the recovery ends, reported apart from the writes on the cluster.
const journalWrites = writes(all, (k) => k.endsWith(" configmaps"));
const victimWrites = writes(all, (k) => !k.endsWith(" leases") && !k.endsWith(" configmaps"));
const steadyLists = countWhere(steady, (k) => k.startsWith("list "));
const steadyWatches = countWhere(steady, (k) => k.startsWith("watch "));
const startupLists = countWhere(countByKind(audit, auditFrom, readyAt + 1000), (k) =>
  k.startsWith("list "),
);

// The API server's own counters (all clients: it cannot tell them apart by user).
const apiDelta = seriesDelta(
  metricSeries(apiBefore, "apiserver_request_total"),
  metricSeries(apiAfter, "apiserver_request_total"),
);
const apiCount = (pred: (labels: string) => boolean) =>
  [...apiDelta].reduce((n, [k, v]) => (pred(k) ? n + v : n), 0);
const evictionsPosted = apiCount(
  (k) => label(k, "verb") === "POST" && label(k, "subresource") === "eviction",
);
const listsAllClients = apiCount((k) => label(k, "verb") === "LIST");

interface Goal {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly limit: number;
}
const goals: Goal[] = [
  { name: "tick-to-kill p99", value: tickToKill.p99, unit: "ms", limit: 50 },
  { name: "recovery error p99 vs watcher", value: accuracy.p99, unit: "ms", limit: 100 },
  { name: "peak RSS", value: peakRss / 1024 / 1024, unit: "MiB", limit: 150 },
  { name: "heap floor growth", value: trend.growthPct, unit: "%", limit: 5 },
  { name: "API writes per pod victim", value: victimWrites / victims, unit: "", limit: 3 },
  { name: "LISTs after start-up", value: steadyLists, unit: "", limit: 0 },
  { name: "start-up to ready (max)", value: Math.max(...startupMs), unit: "ms", limit: 3000 },
];

const result = {
  date: new Date().toISOString(),
  command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
  commit: sh("git", ["rev-parse", "--short", "HEAD"]).trim(),
  machine: {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    kernel: os.release(),
    node: process.version,
    nodeOptions: IMAGE_NODE_OPTIONS,
    controlPlane: readFileSync(`${ROOT}/test/cluster/versions.env`, "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("#")),
  },
  scale: {
    pods: PODS,
    deployments: DEPLOYMENTS,
    namespaces: NAMESPACES,
    targets: NAMESPACES,
    durationS: DURATION_S,
  },
  startupMs: startupMs.map(Math.round),
  tickToKillMs: tickToKill,
  recovery: {
    outcomes,
    compared: errorsMs.length,
    unmatched,
    errorMs: accuracy,
    // The largest disagreements, to look into.
    worst: comparisons
      .sort((a, b) => Math.abs(b.monkeyS - b.watcherS) - Math.abs(a.monkeyS - a.watcherS))
      .slice(0, 5),
  },
  memory: {
    peakRssMiB: Number(mib(peakRss)),
    heap: trend,
    activeHandles: { first: handles[0], last: handles.at(-1), max: Math.max(...handles) },
  },
  requests: {
    victims,
    victimWrites,
    journalWrites,
    leaseWrites,
    monkeyRequestsByKind: Object.fromEntries([...all].sort()),
    startupLists,
    steadyLists,
    steadyWatchReconnects: steadyWatches,
    apiserver: {
      evictionsPosted,
      listsAllClients,
      byVerb: Object.fromEntries([...countByKey(apiDelta, (k) => label(k, "verb") ?? "?")].sort()),
    },
  },
  monkey: {
    rounds: metricSum(finalMetrics, "chaos_monkey_rounds_total"),
    skips: metricSum(finalMetrics, "chaos_monkey_skips_total"),
    errors: metricSum(finalMetrics, "chaos_monkey_errors_total"),
    lateRounds: logs.filter((l) => l.msg === "round ran late; missed ticks are skipped").length,
  },
  goals: goals.map((g) => ({ ...g, value: round(g.value), met: g.value <= g.limit })),
  samples: samples.map((s) => ({
    t: Math.round(s.t),
    heapUsedMiB: Number(mib(s.heapUsedBytes)),
    heapTotalMiB: Number(mib(s.heapTotalBytes)),
    externalMiB: Number(mib(s.externalBytes)),
    rssMiB: Number(mib(s.rssBytes)),
    handles: s.handles,
  })),
};

const outPath = resolve(ROOT, opt.out);
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);

say("");
say(`kube-chaos-monkey benchmark — ${result.date}`);
say(`machine: ${result.machine.cpu}, ${result.machine.cores} cores, Node ${process.version}`);
say(`scale: ${PODS} pods, ${DEPLOYMENTS} Deployments, ${NAMESPACES} namespaces/targets`);
say(`run: ${DURATION_S} s, ${victims} victims, recoveries ${JSON.stringify(outcomes)}`);
say(row("tick-to-kill ms", tickToKill));
say(row("recovery error ms", accuracy) + `  (unmatched ${unmatched})`);
say(`start-up to ready ms: ${startupMs.map((v) => v.toFixed(0)).join(", ")}`);
say(
  `writes: ${victimWrites} for ${victims} victims + ${journalWrites} journal + ${leaseWrites} Lease; LISTs: ${startupLists} at start-up, ${steadyLists} while running; watches re-opened while running: ${steadyWatches}`,
);
say(
  `apiserver_request_total from start to the end of the measured run (all clients): ${evictionsPosted} eviction POSTs, ${listsAllClients} LISTs`,
);
say("");
say("goal                              value        limit   met");
for (const g of result.goals)
  say(
    `${g.name.padEnd(32)} ${String(g.value).padStart(9)} ${g.unit.padEnd(4)} ${String(g.limit).padStart(6)}   ${g.met ? "yes" : "NO"}`,
  );
say(`\nwritten to ${opt.out}`);

function row(name: string, s: Summary): string {
  return `${name.padEnd(20)} n=${s.n} p50=${round(s.p50)} p99=${round(s.p99)} max=${round(s.max)}`;
}
function round(v: number): number {
  return Math.round(v * 10) / 10;
}
function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}
function countByKey(m: Map<string, number>, key: (k: string) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of m) out.set(key(k), (out.get(key(k)) ?? 0) + v);
  return out;
}
