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
createInterface(monkey.stdout).on("line", (line) => {
  let l: Record<string, unknown>;
  try {
    l = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return say(line);
  }
  const at = clock(l.time);
  const tag = `${String(l.target)} ${String(l.round)}`;
  switch (l.msg) {
    case "victims selected":
      say(
        `${at}  ${tag}  seed ${String(l.seed)}: ${String(l.eligible)} eligible, victims ${JSON.stringify(l.victims)}`,
      );
      break;
    case "kill accepted":
      open.add(String(l.round));
      say(`${at}  ${tag}  killed ${String(l.victim)}`);
      break;
    case "round skipped":
      say(
        `${at}  ${tag}  skipped: ${String(l.reason)}${l.reason === "not_leader" ? " (waiting for the Lease; a holder that died must expire first)" : ""}`,
      );
      if (l.reason !== "not_leader") finished++;
      break;
    case "became leader":
      say(`${at}  leading (Lease chaos-monkey/chaos-monkey)`);
      break;
    case "recovery ended": {
      const p = (l.phases ?? {}) as Record<string, number>;
      say(
        `${at}  ${tag}  ${String(l.victim)} ${String(l.outcome)}: replaced ${secs(p.replaced)}, ready ${secs(p.ready)}, recovered ${secs(p.recovered)}`,
      );
      open.delete(String(l.round));
      finished++;
      break;
    }
    default:
      if (Number(l.level) >= 40) say(`${at}  ${String(l.msg)} ${String(l.message ?? "")}`);
  }
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
