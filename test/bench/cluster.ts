// npm run bench [-- OPTIONS]: the monkey at scale on the local control plane (KWOK nodes), one
// point of the scaling curve per run.
//
// Sets up PODS pods (100 per Deployment, 5 Deployments per namespace unless told otherwise),
// Pod targets that take turns so that the monkey runs one round per second, and runs the
// production bundle against it for DURATION seconds. Measures, from outside the process:
//   - start-up to ready (config loaded, caches synced): spawn → /readyz 200;
//   - tick-to-kill: scheduled fire time → eviction request sent (the monkey's "killing" log line);
//   - recovery accuracy: the monkey's measured recovery vs an independent watcher's;
//   - memory: RSS from /proc (its high-water VmHWM, and samples), heap floor from /metrics;
//   - CPU: the monkey's, and kube-apiserver's and etcd's above an idle window measured in the
//     same run, per round;
//   - API requests: the monkey's own, from the API server's audit log, cross-checked against
//     kube-apiserver's apiserver_request_total.
// Prints a table, writes test/bench/results/pods-N.json (every sample, every victim, the
// machine, the commit) and the run's row of test/bench/results/curve.json, and prints the curve.
// The cluster (its own, named chaos-monkey-bench, so the tests' cluster is untouched) is left
// running for the next run; stop it with: KCM_CLUSTER_NAME=chaos-monkey-bench npm run cluster:down
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import * as k8s from "@kubernetes/client-node";
import { bundle } from "../../scripts/bundle.js";
import { apiUrl, getJson } from "../../src/kube/http.js";
import { completedMs, receivedMs, requestsBy } from "../support/audit.js";
import { LOG } from "../../src/observe/messages.js";
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
  aboveIdlePer,
  countByKind,
  countWhere,
  curveTable,
  heapTrend,
  label,
  machineJiffies,
  median,
  mergeCurve,
  metricSeries,
  perThousandPods,
  procCpuMs,
  requestKind,
  seriesDelta,
  summarize,
  WRITE_VERBS,
} from "./analysis.js";
import type { CurveRow, HeapSample, Summary } from "./analysis.js";
import { APP_LABEL, benchConfig, namespaceName, scaleOf } from "./scale.js";

const ROOT = new URL("../..", import.meta.url).pathname;

const { values: opt } = parseArgs({
  options: {
    pods: { type: "string", default: "10000" },
    deployments: { type: "string" },
    namespaces: { type: "string" },
    targets: { type: "string" },
    duration: { type: "string", default: "600" },
    "startup-runs": { type: "string", default: "3" },
    idle: { type: "string", default: "60" },
    cluster: { type: "string", default: "chaos-monkey-bench" },
    prefix: { type: "string", default: "bench" },
    bundle: { type: "string" },
    "node-options": { type: "string" },
    out: { type: "string" },
    curve: { type: "string", default: "test/bench/results/curve.json" },
    help: { type: "boolean", default: false },
  },
});
if (opt.help) {
  process.stdout.write(
    [
      "npm run bench [-- --pods N --duration SECONDS]",
      "  default: 10000 pods, 600 s. Deployments of 100 pods, 5 per namespace (so 1000 pods: 10",
      "  Deployments in 2 namespaces; 50000: 500 in 100); --deployments, --namespaces and",
      "  --targets (default: the largest divisor of 60 and of the namespaces) override the shape",
      "  --startup-runs N   extra dry-run starts timed before the measured run (default 3)",
      "  --idle SECONDS     idle window for the control plane's CPU baseline (default 60)",
      "  --cluster NAME     local cluster to use or create (default chaos-monkey-bench)",
      "  --prefix P         namespaces P-00, P-01, ... and P-monkey (default bench)",
      "  --bundle FILE      run this bundle instead of building dist/bundle/chaos-monkey.mjs",
      "  --node-options S   NODE_OPTIONS to run it with (default: the Dockerfile's, as the image)",
      "  --out FILE         results file (default test/bench/results/pods-N.json)",
      "  --curve FILE       the curve this run adds its row to (default test/bench/results/curve.json)",
      "",
    ].join("\n"),
  );
  process.exit(0);
}
const int = (name: keyof typeof opt): number | undefined => {
  if (opt[name] === undefined) return undefined;
  const v = Number(opt[name]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
};
const SCALE = scaleOf(int("pods") ?? 10000, {
  ...(int("deployments") ? { deployments: int("deployments") } : {}),
  ...(int("namespaces") ? { namespaces: int("namespaces") } : {}),
  ...(int("targets") ? { targets: int("targets") } : {}),
});
const { pods: PODS, deployments: DEPLOYMENTS, namespaces: NAMESPACES } = SCALE;
const DURATION_S = int("duration") ?? 600;
const STARTUP_RUNS = Number(opt["startup-runs"]);
const IDLE_S = int("idle") ?? 60;
const PREFIX = opt.prefix;
if (!/^[a-z][a-z0-9-]{0,40}$/.test(PREFIX)) throw new Error("--prefix must be a short DNS label");
const nsName = (i: number) => namespaceName(PREFIX, i);
const SELF_NS = `${PREFIX}-monkey`;
const OUT = opt.out ?? `test/bench/results/pods-${PODS}.json`;

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
const loadAverage = () => Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);

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
const clusterDir = dirname(kubeconfig);
const auditLog = `${clusterDir}/logs/audit.log`;
const kube = connect(kubeconfig);
const apiserverMetrics = () =>
  sh(`${bindir}/kubectl`, ["--kubeconfig", kubeconfig, "get", "--raw", "/metrics"]);

/** CPU ms a control plane component (kwokctl's pids/NAME.pid) has used so far. */
const componentCpuMs = (name: string): number => {
  const pid = Number(readFileSync(`${clusterDir}/pids/${name}.pid`, "utf8").trim());
  return procCpuMs(readFileSync(`/proc/${pid}/stat`, "utf8"));
};
/** Every process of the benchmark's cluster (to tell the machine's other load from ours). */
const clusterCpuMs = (): number =>
  ["kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok-controller"]
    .filter((n) => existsSync(`${clusterDir}/pids/${n}.pid`))
    .reduce((sum, n) => sum + componentCpuMs(n), 0);

async function ignoreConflict(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
  }
}

/** ", N exist" once the pods were counted (only when the Deployments say they are ready). */
const counted = (pods: number) => (Number.isNaN(pods) ? "" : `, ${pods} exist`);

/** Creates (or scales) the workloads; returns how long the pods took to exist and be ready. */
async function setUpWorkloads(): Promise<{ seconds: number; podsAtStart: number }> {
  say(
    `== ${PODS} pods: ${DEPLOYMENTS} Deployments × ${SCALE.replicas} in ${NAMESPACES} namespaces, ${SCALE.targets} targets`,
  );
  const podsAtStart = await benchPods();
  const started = Date.now();
  for (let n = 0; n < NAMESPACES; n++) {
    const namespace = nsName(n);
    await ignoreConflict(() =>
      kube.core.createNamespace({ body: { metadata: { name: namespace } } }),
    );
    for (let d = 0; d < SCALE.perNamespace; d++) {
      const name = `app-${d}`;
      const body = deployment(namespace, name, {
        replicas: SCALE.replicas,
        labels: { [APP_LABEL]: name },
      });
      try {
        await kube.apps.createNamespacedDeployment({ namespace, body });
      } catch (err) {
        if (statusOf(err) !== 409) throw err;
        await kube.apps.patchNamespacedDeploymentScale(
          { name, namespace, body: { spec: { replicas: SCALE.replicas } } },
          k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
        );
      }
    }
  }
  await removeLeftovers();
  for (;;) {
    const list = (await kube.apps.listDeploymentForAllNamespaces()).items.filter((d) =>
      isBenchNamespace(d.metadata?.namespace),
    );
    const ready = list.reduce((n, d) => n + (d.status?.readyReplicas ?? 0), 0);
    const want = list.reduce((n, d) => n + (d.spec?.replicas ?? 0), 0);
    // (Counting every pod is heavy: only once the Deployments say they are ready.)
    const pods = ready >= PODS ? await benchPods() : NaN;
    // Pods of an earlier, larger run would still be in the monkey's sight: wait until gone.
    const done = ready >= PODS && list.length === DEPLOYMENTS && want === PODS && pods === PODS;
    const seconds = Math.round((Date.now() - started) / 1000);
    say(`   ${ready}/${PODS} pods ready${counted(pods)} (${seconds} s, load ${loadAverage()})`);
    if (done) return { seconds: (Date.now() - started) / 1000, podsAtStart };
    if (Date.now() - started > 120 * 60_000) throw new Error("workloads not ready after 2 h");
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
    .filter(
      (d) => wanted.has(d.namespace) && Number(d.name.replace("app-", "")) >= SCALE.perNamespace,
    );
  for (const d of extra) await kube.apps.deleteNamespacedDeployment(d);
}

/** Pods the benchmark's Deployments have now, terminating ones included (counted page by page). */
async function benchPods(): Promise<number> {
  let n = 0;
  let cont: string | undefined;
  do {
    const url = apiUrl(kube.kc, "/api/v1/pods", {
      labelSelector: APP_LABEL,
      limit: "5000",
      continue: cont,
    });
    const page = (await getJson(kube.kc, url)) as {
      items: { metadata?: { namespace?: string } }[];
      metadata?: { continue?: string };
    };
    n += page.items.filter((p) => isBenchNamespace(p.metadata?.namespace)).length;
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return n;
}

// --- running the monkey ------------------------------------------------------------------------

async function waitReady(port: number, m: Running, timeoutMs = 120_000): Promise<void> {
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
const IMAGE_NODE_OPTIONS = opt["node-options"] ?? imageNodeOptions();

/** Monkeys started and not yet stopped: a benchmark that fails must not leave one running. */
const live = new Set<Running>();
process.on("exit", () => {
  for (const m of live) m.proc.kill("SIGKILL");
});

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
  live.add(m);
  void m.exited.then(() => live.delete(m));
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

/** A field of /proc/PID/status in bytes (VmRSS, VmHWM, RssAnon, RssFile). */
const procStatusBytes = (pid: number, field: string): number => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
};
const processCpuMs = (pid: number): number => procCpuMs(readFileSync(`/proc/${pid}/stat`, "utf8"));

interface Sample extends HeapSample {
  readonly rssBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly handles: number;
  readonly load: number;
}

// --- the benchmark -----------------------------------------------------------------------------

const setup = await setUpWorkloads();
say(`   workloads ready: ${setup.seconds.toFixed(0)} s (${setup.podsAtStart} pods existed before)`);
const id = await identity();
const config = writeConfig(benchConfig(SCALE, PREFIX));
say(opt.bundle ? `== bundle ${opt.bundle}` : "== bundling the production build (npm run bundle)");
const entry = opt.bundle ?? (await bundle()).path;
const common = ["run", "--config", config, "--kubeconfig", id.kubeconfig, "--namespace", SELF_NS];

say(`== start-up to ready with ${PODS} pods in scope (${STARTUP_RUNS} dry-run starts)`);
const startupMs: number[] = [];
const startupCpuMs: number[] = [];
for (let i = 0; i < STARTUP_RUNS; i++) {
  const { m, readyMs } = await launch(entry, [...common, "--dry-run"]);
  startupMs.push(readyMs);
  startupCpuMs.push(processCpuMs(m.proc.pid ?? 0));
  say(`   ${readyMs.toFixed(0)} ms (load ${loadAverage()})`);
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
for (let i = 0; i < 3000 && watcher.pods < PODS; i++) await sleep(100);
say(`   idle window: ${IDLE_S} s of the control plane with the watcher and no monkey`);
const idleApi0 = componentCpuMs("kube-apiserver");
const idleEtcd0 = componentCpuMs("etcd");
const idleT0 = performance.now();
await sleep(IDLE_S * 1000);
const idleS = (performance.now() - idleT0) / 1000;
const idleRate = {
  apiserver: (componentCpuMs("kube-apiserver") - idleApi0) / idleS,
  etcd: (componentCpuMs("etcd") - idleEtcd0) / idleS,
};
say(
  `   idle: kube-apiserver ${idleRate.apiserver.toFixed(0)} ms/s, etcd ${idleRate.etcd.toFixed(0)} ms/s`,
);
const auditFrom = Date.now();
const apiBefore = apiserverMetrics();
/** CPU so far of the monkey, the control plane and the machine, with the rounds run, at one moment. */
async function cpuNow(pid: number, port: number) {
  return {
    monkey: processCpuMs(pid),
    apiserver: componentCpuMs("kube-apiserver"),
    etcd: componentCpuMs("etcd"),
    cluster: clusterCpuMs(),
    machine: machineJiffies(readFileSync("/proc/stat", "utf8")),
    rounds: metricSum(await scrape(port), "chaos_monkey_rounds_total"),
    t: performance.now(),
  };
}

const run = await launch(entry, common);
const pid = run.m.proc.pid ?? 0;
startupMs.push(run.readyMs);
startupCpuMs.push(processCpuMs(pid));
say(`   ready in ${run.readyMs.toFixed(0)} ms`);
const readyAt = Date.now();
const at0 = await cpuNow(pid, run.port);
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
    rssBytes: procStatusBytes(pid, "VmRSS"),
    heapTotalBytes: metrics.get("nodejs_heap_size_total_bytes") ?? NaN,
    externalBytes: metrics.get("nodejs_external_memory_bytes") ?? NaN,
    // Labelled by handle type: the sum of its series, NaN when it is absent.
    handles: [...metrics.keys()].some((k) => k.startsWith("nodejs_active_handles{"))
      ? metricSum(metrics, "nodejs_active_handles")
      : NaN,
    load: loadAverage(),
  });
  if (samples.length % 6 === 0) {
    const kills = run.m.logs.filter((l) => l.msg === LOG.KILL_ACCEPTED).length;
    const ended = run.m.logs.filter((l) => l.msg === LOG.RECOVERY_ENDED).length;
    const last = samples.at(-1) as Sample;
    say(
      `   ${t.toFixed(0)} s: ${kills} kills, ${ended} recoveries ended, RSS ${mib(last.rssBytes)} MiB, heap ${mib(last.heapUsedBytes)} MiB, load ${last.load}`,
    );
  }
}
const runEnd = Date.now();
const at1 = await cpuNow(pid, run.port);
const rssHighWater = procStatusBytes(pid, "VmHWM");
const rssParts = { anon: procStatusBytes(pid, "RssAnon"), file: procStatusBytes(pid, "RssFile") };
const apiAfter = apiserverMetrics();
// Pause it (a hot reload) and let the last recoveries end: their Events are writes of this run.
say("   pausing the monkey (config reload) and waiting for the last recoveries");
writeFileSync(config, stringify(benchConfig(SCALE, PREFIX, { paused: true })));
const loaded = () => run.m.logs.filter((l) => l.msg === LOG.CONFIG_LOADED).length;
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
const killing = logs.filter((l) => l.msg === LOG.KILLING);
const tickToKill = summarize(killing.map((l) => Number(l.tickToKillMs)));
const recoveries = logs.filter((l) => l.msg === LOG.RECOVERY_ENDED);
const errorsMs: number[] = [];
const perVictim: {
  victim: string;
  target: string;
  tickToKillMs: number | null;
  monkeyS: number;
  watcherS: number | null;
  errorMs: number | null;
}[] = [];
let unmatched = 0;
for (const l of recoveries) {
  const phases = l.phases as { recovered?: number } | undefined;
  if (l.outcome !== "recovered" || phases?.recovered === undefined) continue;
  const victim = String(l.victim);
  const [namespace, name] = victim.split("/");
  const theirs = watcher.recoveryOf(namespace ?? "", name ?? "");
  const kill = killing.find((k) => String(k.victim) === victim);
  const errorMs = theirs === undefined ? null : Math.abs(phases.recovered - theirs) * 1000;
  if (errorMs === null) unmatched++;
  else errorsMs.push(errorMs);
  perVictim.push({
    victim,
    target: String(l.target),
    tickToKillMs: kill ? Number(kill.tickToKillMs) : null,
    monkeyS: phases.recovered,
    watcherS: theirs ?? null,
    errorMs,
  });
}
const accuracy = summarize(errorsMs);
const outcomes = countBy(recoveries, (l) => String(l.outcome));
const victims = logs.filter((l) => l.msg === LOG.KILL_ACCEPTED).length;
// Floors over 2-minute windows, the first after a minute's warm-up (shorter for short runs).
const trend = heapTrend(samples, Math.min(120, DURATION_S / 4), Math.min(60, DURATION_S / 6));
const peakRss = Math.max(rssHighWater, ...samples.map((s) => s.rssBytes));
const medianRss = median(samples.map((s) => s.rssBytes));
const handles = samples.map((s) => s.handles);

// CPU over the measured run, per round; the control plane's above its idle rate.
const runS = (at1.t - at0.t) / 1000;
const rounds = at1.rounds - at0.rounds;
const cpu = {
  runS,
  rounds,
  monkeyMsPerRound: (at1.monkey - at0.monkey) / rounds,
  monkeyStartupMs: startupCpuMs,
  idleWindowS: idleS,
  idleMsPerS: idleRate,
  apiserverAboveIdleMsPerRound: aboveIdlePer(
    at1.apiserver - at0.apiserver,
    runS,
    idleRate.apiserver,
    rounds,
  ),
  etcdAboveIdleMsPerRound: aboveIdlePer(at1.etcd - at0.etcd, runS, idleRate.etcd, rounds),
};
// How busy the machine was, and how much of that was this benchmark (its cluster and monkey).
const machineBusy = (at1.machine.busy - at0.machine.busy) / (at1.machine.total - at0.machine.total);
const oursMs = at1.cluster - at0.cluster + (at1.monkey - at0.monkey);
const machine = {
  busyPct: Math.round(machineBusy * 1000) / 10,
  benchmarkPct: Math.round((oursMs / (runS * 1000 * os.cpus().length)) * 1000) / 10,
  meanLoad: round(samples.reduce((n, s) => n + s.load, 0) / samples.length),
};

// The monkey's requests, from the audit log: from its start, and after it was ready.
const all = countByKind(audit, auditFrom);
const steady = countByKind(audit, readyAt + 1000, runEnd);
const writes = (c: Map<string, number>, pred: (k: string) => boolean = () => true) =>
  countWhere(c, (k) => WRITE_VERBS.has(k.split(" ")[0] ?? "") && pred(k));
const leaseWrites = writes(all, (k) => k.endsWith(" leases"));
const writesBy = {
  eviction: writes(all, (k) => k.endsWith(" pods/eviction")),
  events: writes(all, (k) => k.endsWith(" events")),
  journal: writes(all, (k) => k.endsWith(" configmaps")),
};
// The journal (SPEC §7) in the monkey's own namespace: a round's entry before its kill and the
// entry's removal when the recovery ends, reported apart from the writes on the cluster.
const journalWrites = writesBy.journal;
const victimWrites = writes(all, (k) => !k.endsWith(" leases") && !k.endsWith(" configmaps"));
const steadyLists = countWhere(steady, (k) => k.startsWith("list "));
const steadyWatches = countWhere(steady, (k) => k.startsWith("watch "));
const startup = countByKind(audit, auditFrom, readyAt + 1000);
const startupLists = countWhere(startup, (k) => k.startsWith("list "));
const startupWatches = countWhere(startup, (k) => k.startsWith("watch "));

// How long the API server took to answer the monkey's requests while it ran (from the audit
// log; watches excluded): the recheck GETs and the journal write come before each eviction.
const latencyMsByKind: Record<string, Summary> = {};
for (const [kind, events] of groupBy(
  audit.filter((e) => e.verb !== "watch" && receivedMs(e) >= readyAt && receivedMs(e) < runEnd),
  requestKind,
))
  latencyMsByKind[kind] = summarize(events.map((e) => completedMs(e) - receivedMs(e)));

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
/** The issue's goals: 10,000 pods and below, and 50,000 (ISSUE 14). */
const big = PODS > 10_000;
const goals: Goal[] = [
  { name: "tick-to-kill p99", value: tickToKill.p99, unit: "ms", limit: 50 },
  { name: "recovery error p99 vs watcher", value: accuracy.p99, unit: "ms", limit: 100 },
  { name: "peak RSS", value: peakRss / 1024 / 1024, unit: "MiB", limit: big ? 300 : 150 },
  { name: "heap floor growth", value: trend.growthPct, unit: "%", limit: 5 },
  // On the cluster (eviction, ChaosKill, ChaosRecovered); the journal's are reported apart.
  { name: "API writes per pod victim", value: victimWrites / victims, unit: "", limit: 3 },
  { name: "LISTs after start-up", value: steadyLists, unit: "", limit: 0 },
  {
    name: "start-up to ready (max)",
    value: Math.max(...startupMs),
    unit: "ms",
    limit: big ? 5000 : 1500,
  },
];

const commit = sh("git", ["rev-parse", "--short", "HEAD"]).trim();
const result = {
  date: new Date().toISOString(),
  command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
  commit,
  // Uncommitted changes were in the tree the bundle was built from.
  dirty: sh("git", ["status", "--porcelain", "--untracked-files=no"]).trim() !== "",
  machine: {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    kernel: os.release(),
    node: process.version,
    nodeOptions: IMAGE_NODE_OPTIONS,
    bundle: entry,
    controlPlane: readFileSync(`${ROOT}/test/cluster/versions.env`, "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("#")),
    // Other engineers' tests share the machine: how busy it was during the measured run.
    duringRun: machine,
  },
  scale: {
    pods: PODS,
    deployments: DEPLOYMENTS,
    namespaces: NAMESPACES,
    targets: SCALE.targets,
    durationS: DURATION_S,
  },
  setup: { seconds: Math.round(setup.seconds), podsBefore: setup.podsAtStart },
  startupMs: startupMs.map(Math.round),
  tickToKillMs: tickToKill,
  recovery: {
    outcomes,
    compared: errorsMs.length,
    unmatched,
    errorMs: accuracy,
    // The largest disagreements, to look into.
    worst: [...perVictim]
      .sort((a, b) => (b.errorMs ?? Infinity) - (a.errorMs ?? Infinity))
      .slice(0, 5),
  },
  memory: {
    peakRssMiB: Number(mib(peakRss)),
    rssHighWaterMiB: Number(mib(rssHighWater)),
    medianRssMiB: Number(mib(medianRss)),
    atEndMiB: { anon: Number(mib(rssParts.anon)), file: Number(mib(rssParts.file)) },
    heap: trend,
    activeHandles: { first: handles[0], last: handles.at(-1), max: Math.max(...handles) },
  },
  cpu,
  requests: {
    victims,
    victimWrites,
    journalWrites,
    writesPerVictim: {
      eviction: writesBy.eviction / victims,
      events: writesBy.events / victims,
      journal: writesBy.journal / victims,
    },
    leaseWrites,
    monkeyRequestsByKind: Object.fromEntries([...all].sort()),
    startupLists,
    startupWatches,
    steadyLists,
    steadyWatchReconnects: steadyWatches,
    serverLatencyMsByKind: latencyMsByKind,
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
    lateRounds: logs.filter((l) => l.msg === LOG.ROUND_LATE).length,
  },
  // What the monkey warned of while it ran (a failed watch and its retry, a slow round...).
  warnings: logs
    .filter((l) => Number(l.level) >= 40 || l.level === "warn" || l.level === "error")
    .map((l) => ({ time: l.time, msg: l.msg, what: l.what, err: l.err ?? l.error })),
  goals: goals.map((g) => ({ ...g, value: round(g.value), met: g.value <= g.limit })),
  victims: perVictim,
  samples: samples.map((s) => ({
    t: Math.round(s.t),
    heapUsedMiB: Number(mib(s.heapUsedBytes)),
    heapTotalMiB: Number(mib(s.heapTotalBytes)),
    externalMiB: Number(mib(s.externalBytes)),
    rssMiB: Number(mib(s.rssBytes)),
    handles: s.handles,
    load: s.load,
  })),
};

const outPath = resolve(ROOT, OUT);
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);

const row: CurveRow = {
  pods: PODS,
  deployments: DEPLOYMENTS,
  namespaces: NAMESPACES,
  date: result.date,
  commit,
  durationS: DURATION_S,
  victims,
  startupMs: result.startupMs,
  peakRssMiB: result.memory.peakRssMiB,
  medianRssMiB: result.memory.medianRssMiB,
  heapFloorMiB: Number(mib(trend.earlyFloorBytes)),
  heapGrowthPct: round(trend.growthPct),
  tickToKillMs: { p50: round(tickToKill.p50), p99: round(tickToKill.p99) },
  recoveryErrorP99Ms: round(accuracy.p99),
  monkeyCpuMsPerRound: round(cpu.monkeyMsPerRound),
  apiserverCpuMsPerRound: round(cpu.apiserverAboveIdleMsPerRound),
  etcdCpuMsPerRound: round(cpu.etcdAboveIdleMsPerRound),
  load: machine.meanLoad,
  nodeOptions: IMAGE_NODE_OPTIONS,
};
const curvePath = resolve(ROOT, opt.curve);
const curve = mergeCurve(
  existsSync(curvePath) ? (JSON.parse(readFileSync(curvePath, "utf8")) as CurveRow[]) : [],
  row,
);
writeFileSync(curvePath, `${JSON.stringify(curve, null, 2)}\n`);

say("");
say(`kube-chaos-monkey benchmark — ${result.date}`);
say(`machine: ${result.machine.cpu}, ${result.machine.cores} cores, Node ${process.version}`);
say(
  `during the run: machine ${machine.busyPct}% busy (this benchmark ${machine.benchmarkPct}%), mean load ${machine.meanLoad}`,
);
say(
  `scale: ${PODS} pods, ${DEPLOYMENTS} Deployments, ${NAMESPACES} namespaces, ${SCALE.targets} targets`,
);
say(
  `setup: ${result.setup.seconds} s to create and ready the workloads (${setup.podsAtStart} pods before)`,
);
say(`run: ${DURATION_S} s, ${victims} victims, recoveries ${JSON.stringify(outcomes)}`);
say(row2("tick-to-kill ms", tickToKill));
say(row2("recovery error ms", accuracy) + `  (unmatched ${unmatched})`);
say(`start-up to ready ms: ${startupMs.map((v) => v.toFixed(0)).join(", ")}`);
say(
  `memory: peak RSS ${mib(peakRss)} MiB (high-water), median ${mib(medianRss)} MiB; heap floor ${mib(trend.earlyFloorBytes)} → ${mib(trend.lateFloorBytes)} MiB`,
);
say(
  `CPU per round: monkey ${cpu.monkeyMsPerRound.toFixed(1)} ms; above idle: kube-apiserver ${cpu.apiserverAboveIdleMsPerRound.toFixed(1)} ms, etcd ${cpu.etcdAboveIdleMsPerRound.toFixed(1)} ms (${rounds} rounds in ${runS.toFixed(0)} s)`,
);
say(
  `writes per victim: eviction ${(writesBy.eviction / victims).toFixed(2)}, Events ${(writesBy.events / victims).toFixed(2)}, journal ${(writesBy.journal / victims).toFixed(2)}; + ${leaseWrites} Lease`,
);
say(
  `API server time per request while running (p50/p99 ms): ${Object.entries(latencyMsByKind)
    .map(([k, v]) => `${k} ${round(v.p50)}/${round(v.p99)}`)
    .join(", ")}`,
);
say(
  `start-up: ${startupWatches} watches, ${startupLists} LISTs; while running: ${steadyLists} LISTs, ${steadyWatches} watches re-opened`,
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
say(`\nwritten to ${OUT}; the curve (${opt.curve}):\n`);
say(curveTable(curve));
for (let i = 1; i < curve.length; i++) {
  const [a, b] = [curve[i - 1] as CurveRow, curve[i] as CurveRow];
  say(
    `${a.pods} → ${b.pods} pods, per 1,000 pods: peak RSS ${perThousandPods(a, b, (r) => r.peakRssMiB).toFixed(2)} MiB, median RSS ${perThousandPods(a, b, (r) => r.medianRssMiB).toFixed(2)} MiB, start-up ${perThousandPods(a, b, (r) => Math.max(...r.startupMs)).toFixed(0)} ms`,
  );
}

function row2(name: string, s: Summary): string {
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
function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const i of items) out.set(key(i), [...(out.get(key(i)) ?? []), i]);
  return out;
}
function countByKey(m: Map<string, number>, key: (k: string) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of m) out.set(key(k), (out.get(key(k)) ?? 0) + v);
  return out;
}
