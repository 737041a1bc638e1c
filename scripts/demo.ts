// npm run demo [-- --rounds N]: the local control plane, the example workloads, and the monkey
// running against them on a short schedule, printing each kill and its measured recovery as it
// happens. Ctrl-C (or N finished rounds) stops it gracefully.
import { execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

const root = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  options: { rounds: { type: "string" }, config: { type: "string", default: "config/demo.yaml" } },
});
const rounds = values.rounds === undefined ? Infinity : Number(values.rounds);
if (!(rounds > 0)) throw new Error(`--rounds must be a positive number, not ${values.rounds}`);

const say = (s: string) => process.stdout.write(`${s}\n`);
const sh = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, input?: string) =>
  execFileSync(cmd, args, {
    cwd: root,
    encoding: "utf8",
    env,
    input,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "inherit"],
  });

say("== starting the local control plane (first run builds it from Go modules: see README)");
const bindir = sh("bash", ["test/cluster/build-binaries.sh"]).trim().split("\n").pop() ?? "";
const env = { ...process.env, PATH: `${bindir}:${process.env.PATH ?? ""}` };
const kubeconfig = sh("bash", ["test/cluster/up.sh"], env).trim().split("\n").pop() ?? "";
const kubectl = (...args: string[]) => sh("kubectl", ["--kubeconfig", kubeconfig, ...args], env);

say(
  "== applying kustomize/examples (namespace demo: Deployment web + PDB, StatefulSet db on static volumes)",
);
kubectl("apply", "--server-side", "-k", "kustomize/examples");
// The monkey's own namespace (its Lease lives there; it is never a target).
sh(
  "kubectl",
  ["--kubeconfig", kubeconfig, "apply", "-f", "-"],
  env,
  "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: chaos-monkey\n",
);
kubectl("-n", "demo", "rollout", "status", "deployment/web", "--timeout=120s");
kubectl("-n", "demo", "rollout", "status", "statefulset/db", "--timeout=120s");
say("== building the monkey");
sh("npx", ["tsc", "-p", "tsconfig.build.json"]);
say(
  `== running: chaos-monkey run --config ${values.config} (Ctrl-C to stop${rounds < Infinity ? `, or after ${rounds} rounds` : ""})\n`,
);

const monkey = spawn(
  process.execPath,
  [
    "bin/chaos-monkey.js",
    "run",
    "--config",
    values.config ?? "",
    "--kubeconfig",
    kubeconfig,
    "--namespace",
    "chaos-monkey",
    "--listen",
    "127.0.0.1:0",
  ],
  { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
);
const clock = (t: unknown) => String(t).slice(11, 23);
const secs = (s: unknown) => (typeof s === "number" ? `${s.toFixed(3)} s` : "-");
let finished = 0;
const open = new Set<string>();
type Line = Record<string, unknown>;
const str = (v: unknown) =>
  typeof v === "string" || typeof v === "number" ? String(v) : JSON.stringify(v);
const tagOf = (l: Line) => `${str(l.target)} ${str(l.round)}`;

// What the demo prints for each kind of log line (by its constant message).
const SHOW: Record<string, (l: Line) => string> = {
  "victims selected": (l) =>
    `${tagOf(l)}  seed ${str(l.seed)}: ${str(l.eligible)} eligible, victims ${JSON.stringify(l.victims)}`,
  "kill accepted": (l) => {
    open.add(str(l.round));
    return `${tagOf(l)}  killed ${str(l.victim)}`;
  },
  "round skipped": (l) => {
    const waiting = l.reason === "not_leader";
    if (!waiting) finished++;
    return `${tagOf(l)}  skipped: ${str(l.reason)}${waiting ? " (waiting for the Lease; a holder that died must expire first)" : ""}`;
  },
  "became leader": () => "leading (Lease chaos-monkey/chaos-monkey)",
  "recovery ended": (l) => {
    const p = (l.phases ?? {}) as Record<string, number>;
    open.delete(str(l.round));
    finished++;
    return `${tagOf(l)}  ${str(l.victim)} ${str(l.outcome)}: replaced ${secs(p.replaced)}, ready ${secs(p.ready)}, recovered ${secs(p.recovered)}`;
  },
};

createInterface(monkey.stdout).on("line", (line) => {
  let l: Line;
  try {
    l = JSON.parse(line) as Line;
  } catch {
    return say(line);
  }
  const show = SHOW[str(l.msg)];
  if (show) say(`${clock(l.time)}  ${show(l)}`);
  else if (Number(l.level) >= 40) say(`${clock(l.time)}  ${str(l.msg)} ${str(l.message ?? "")}`);
  if (finished >= rounds && open.size === 0) stop();
});
let stopping = false;
// One SIGTERM: the monkey shuts down gracefully (a second one would make it exit at once).
const stop = () => {
  if (stopping) return;
  stopping = true;
  monkey.kill("SIGTERM");
};
process.on("SIGINT", stop);
monkey.on("exit", (code) => {
  say(
    `\n== monkey stopped (exit ${code}). The cluster keeps running: npm run cluster:down stops it.`,
  );
  process.exit(code ?? 1);
});
