// npx tsx test/bench/memory.ts [-- OPTIONS]: where the monkey's memory goes, on the benchmark's
// cluster (set up by `npm run bench` at the same --pods). Starts the production bundle in
// dry-run with the benchmark's config, samples /proc every 50 ms through start-up and every
// second after, and prints, per run: start-up to ready, the RSS high-water (VmHWM) and what RSS
// is made of at the end (/proc/PID/smaps grouped: the node binary's pages, other files, the
// brk heap, anonymous mappings), beside V8's own figures from /metrics. Options let the same
// measurement run with other NODE_OPTIONS, environment (e.g. MALLOC_ARENA_MAX) or bundles.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { bundle } from "../../scripts/bundle.js";
import { imageNodeOptions } from "../support/image.js";
import { connect } from "../support/kube.js";
import { freePort, scrape, startMonkey, tokenIdentity, writeConfig } from "../support/monkey.js";
import { benchConfig, scaleOf } from "./scale.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const { values: opt } = parseArgs({
  options: {
    pods: { type: "string", default: "10000" },
    cluster: { type: "string", default: "chaos-monkey-bench" },
    prefix: { type: "string", default: "bench" },
    /** Namespaces the targets name (default: --prefix's); another prefix measures an empty scope. */
    "scope-prefix": { type: "string" },
    bundle: { type: "string" },
    "node-options": { type: "string" },
    env: { type: "string", multiple: true, default: [] },
    seconds: { type: "string", default: "60" },
    runs: { type: "string", default: "1" },
    snapshot: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (kb: number) => Math.round((kb / 1024) * 10) / 10;

/** Fields of /proc/PID/status in kB. */
function status(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, "utf8").split("\n")) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1] as string] = Number(m[2]);
  }
  return out;
}

/** Rss (kB) of /proc/PID/smaps grouped by what is mapped. */
export function smapsGroups(text: string, nodeBinary: string): Record<string, number> {
  const groups: Record<string, number> = {};
  let group = "anonymous";
  for (const line of text.split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1] ?? "";
      group =
        name === ""
          ? "anonymous"
          : name === nodeBinary
            ? "node binary"
            : name.startsWith("[")
              ? name
              : "other files";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) groups[group] = (groups[group] ?? 0) + Number(rss[1]);
  }
  return groups;
}

const scale = scaleOf(Number(opt.pods));
const kubeconfig = execFileSync("bash", ["test/cluster/up.sh"], {
  cwd: ROOT,
  encoding: "utf8",
  env: { ...process.env, KCM_CLUSTER_NAME: opt.cluster },
  stdio: ["ignore", "pipe", "ignore"],
})
  .trim()
  .split("\n")
  .pop() as string;
const kube = connect(kubeconfig);
const selfNs = `${opt.prefix}-monkey`;
const id = await tokenIdentity(kube, selfNs, "chaos-monkey");
const config = writeConfig(benchConfig(scale, opt["scope-prefix"] ?? opt.prefix, { dryRun: true }));
const entry = opt.bundle ?? (await bundle()).path;
const nodeOptions = opt["node-options"] ?? imageNodeOptions();
const env = Object.fromEntries(
  opt.env.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
);

interface RunResult {
  readyMs: number;
  hwmMiB: number;
  peakAnonMiB: number;
  endRssMiB: number;
  endAnonMiB: number;
  endFileMiB: number;
  smapsMiB: Record<string, number>;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  heapSpacesMiB: Record<string, number>;
  threads: number;
}

function spawnMonkey(port: number) {
  return startMonkey(
    [
      ...["run", "--dry-run", "--config", config, "--kubeconfig", id.kubeconfig],
      ...["--namespace", selfNs, "--listen", `127.0.0.1:${port}`, "--log-level", "warn"],
    ],
    {
      NODE_OPTIONS: [
        nodeOptions,
        opt.snapshot ? "--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=/tmp" : "",
      ].join(" "),
      ...env,
    },
    entry,
  );
}

async function isReady(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
  } catch {
    return false; // not listening yet
  }
}

/** Samples RssAnon until the end of the run: every 50 ms until 5 s after ready, then every 1 s. */
async function sample(
  m: ReturnType<typeof startMonkey>,
  port: number,
): Promise<{ readyMs: number; peakAnonKb: number }> {
  const pid = m.proc.pid ?? 0;
  const t0 = performance.now();
  let readyMs = NaN;
  let peakAnonKb = 0;
  const until = t0 + Number(opt.seconds) * 1000;
  while (performance.now() < until) {
    if (m.proc.exitCode !== null) throw new Error(`monkey exited: ${m.stderr.join("\n")}`);
    peakAnonKb = Math.max(peakAnonKb, status(pid).RssAnon ?? 0);
    if (Number.isNaN(readyMs) && (await isReady(port))) readyMs = performance.now() - t0;
    await sleep(Number.isNaN(readyMs) || performance.now() - t0 < readyMs + 5000 ? 50 : 1000);
  }
  return { readyMs, peakAnonKb };
}

function heapSpaces(metrics: Map<string, number>): Record<string, number> {
  const spaces: Record<string, number> = {};
  for (const [k, v] of metrics) {
    const s = /^nodejs_heap_space_size_used_bytes\{space="(\w+)"/.exec(k);
    if (s) spaces[s[1] as string] = mib(v / 1024);
  }
  return spaces;
}

async function once(): Promise<RunResult> {
  const port = await freePort();
  const m = spawnMonkey(port);
  const pid = m.proc.pid ?? 0;
  const { readyMs, peakAnonKb } = await sample(m, port);
  const metrics = await scrape(port);
  const end = status(pid);
  const nodeBinary = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
  const smaps = smapsGroups(readFileSync(`/proc/${pid}/smaps`, "utf8"), nodeBinary);
  const threads = Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  if (opt.snapshot) {
    m.proc.kill("SIGUSR2");
    await sleep(5000);
  }
  m.proc.kill("SIGTERM");
  await m.exited;
  const bytes = (name: string) => mib((metrics.get(name) ?? 0) / 1024);
  return {
    readyMs: Math.round(readyMs),
    hwmMiB: mib(end.VmHWM ?? 0),
    peakAnonMiB: mib(peakAnonKb),
    endRssMiB: mib(end.VmRSS ?? 0),
    endAnonMiB: mib(end.RssAnon ?? 0),
    endFileMiB: mib(end.RssFile ?? 0),
    smapsMiB: Object.fromEntries(Object.entries(smaps).map(([k, v]) => [k, mib(v)])),
    heapUsedMiB: bytes("nodejs_heap_size_used_bytes"),
    heapTotalMiB: bytes("nodejs_heap_size_total_bytes"),
    externalMiB: bytes("nodejs_external_memory_bytes"),
    heapSpacesMiB: heapSpaces(metrics),
    threads,
  };
}

const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
process.stdout.write(
  `memory probe: ${scale.pods} pods, NODE_OPTIONS="${nodeOptions}" env=${JSON.stringify(env)} bundle=${entry} load ${load}\n`,
);
for (let i = 0; i < Number(opt.runs); i++) {
  const r = await once();
  process.stdout.write(opt.json ? `${JSON.stringify(r)}\n` : `${JSON.stringify(r, null, 1)}\n`);
}
