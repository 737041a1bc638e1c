// Running the real chaos-monkey binary against the local cluster, as a ServiceAccount (so RBAC
// and the audit log see the monkey as a distinct user), and reading what it says: JSON log
// lines, /metrics, exit codes.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import * as k8s from "@kubernetes/client-node";
import { parse, stringify } from "yaml";
import type { OnceResult } from "../../src/commands/once-result.js";
import type { HttpProxy } from "./http-proxy.js";
import type { Kube } from "./kube.js";
import { statusOf } from "./kube.js";

const BIN = new URL("../../bin/chaos-monkey.js", import.meta.url).pathname;

/**
 * The verbs the monkey uses across namespaces (SPEC §7; kustomize/base/rbac-pods.yaml and the
 * cluster overlay): pods and namespaces watched and read fresh before a kill, workloads only
 * watched, evictions and events created, claims and volumes for the volume targets. The Lease and
 * the journal are not here: OWN_RULES grants them in the monkey's own namespace only.
 */
const MONKEY_RULES: k8s.V1PolicyRule[] = [
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "delete"] },
  { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
  { apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list", "watch"] },
  {
    apiGroups: ["apps"],
    resources: ["deployments", "replicasets", "statefulsets", "daemonsets"],
    verbs: ["list", "watch"],
  },
  { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create"] },
  {
    apiGroups: [""],
    resources: ["persistentvolumeclaims"],
    verbs: ["get", "list", "watch", "delete", "patch"],
  },
  {
    apiGroups: [""],
    resources: ["persistentvolumes"],
    verbs: ["get", "list", "watch", "delete", "patch"],
  },
];

/** In the monkey's own namespace (a Role): its Lease and its journal, get and update by name. */
const OWN_RULES: k8s.V1PolicyRule[] = [
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
  {
    apiGroups: ["coordination.k8s.io"],
    resources: ["leases"],
    resourceNames: ["chaos-monkey"],
    verbs: ["get", "update"],
  },
  { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
  {
    apiGroups: [""],
    resources: ["configmaps"],
    resourceNames: ["chaos-monkey-journal"],
    verbs: ["get", "update"],
  },
];

/** The shared ClusterRole, and the Role in `namespace`, replaced when an older run left another. */
async function upsertClusterRole(kube: Kube, namespace: string): Promise<void> {
  const body = { metadata: { name: "e2e-chaos-monkey" }, rules: MONKEY_RULES };
  try {
    await kube.rbac.createClusterRole({ body });
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
    await kube.rbac.replaceClusterRole({ name: "e2e-chaos-monkey", body });
  }
  const role = { metadata: { name: "e2e-chaos-monkey-own", namespace }, rules: OWN_RULES };
  try {
    await kube.rbac.createNamespacedRole({ namespace, body: role });
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
    await kube.rbac.replaceNamespacedRole({ name: role.metadata.name, namespace, body: role });
  }
}

export interface Identity {
  readonly kubeconfig: string;
  readonly username: string;
}

/**
 * A ServiceAccount in `namespace` with the monkey's rights (MONKEY_RULES cluster-wide, OWN_RULES
 * in `namespace`, which must be the monkey's own: pass it as --namespace), and a kubeconfig for it.
 */
export async function monkeyIdentity(
  kube: Kube,
  namespace: string,
  name = "chaos-monkey",
): Promise<Identity> {
  await kube.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await upsertClusterRole(kube, namespace);
  // The Lease and the journal: in its own namespace only (it always runs with --namespace it).
  const binding = `e2e-chaos-monkey-own-${name}`;
  const own: k8s.V1RoleBinding = {
    metadata: { name: binding, namespace },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "e2e-chaos-monkey-own" },
    subjects: [{ kind: "ServiceAccount", name, namespace }],
  };
  try {
    await kube.rbac.createNamespacedRoleBinding({ namespace, body: own });
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
    await kube.rbac.replaceNamespacedRoleBinding({ name: binding, namespace, body: own });
  }
  await kube.rbac.createClusterRoleBinding({
    body: {
      metadata: {
        name: `e2e-${namespace}-${name}`,
        labels: { "e2e.chaos-monkey.io/namespace": namespace },
      },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "e2e-chaos-monkey",
      },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
  });
  return tokenIdentity(kube, namespace, name);
}

/** A kubeconfig file authenticating as ServiceAccount namespace/name (TokenRequest API). */
export async function tokenIdentity(
  kube: Kube,
  namespace: string,
  name: string,
): Promise<Identity> {
  const token = await kube.core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = kube.kc.getCurrentCluster();
  if (!cluster) throw new Error("no cluster");
  const dir = mkdtempSync(join(tmpdir(), "kcm-e2e-"));
  const kubeconfig = join(dir, "kubeconfig.yaml");
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "local",
          cluster: clusterEntry(cluster),
        },
      ],
      users: [{ name, user: { token: token.status?.token } }],
      contexts: [{ name: "local", context: { cluster: "local", user: name, namespace } }],
      "current-context": "local",
    }),
  );
  return { kubeconfig, username: `system:serviceaccount:${namespace}:${name}` };
}

/** The same identity reaching the API server at `server` (e.g. through a proxy). */
export function viaServer(id: Identity, server: string): Identity {
  const config = parse(readFileSync(id.kubeconfig, "utf8")) as {
    clusters: { cluster: { server: string } }[];
  };
  for (const c of config.clusters) c.cluster.server = server;
  const kubeconfig = join(mkdtempSync(join(tmpdir(), "kcm-e2e-")), "kubeconfig.yaml");
  writeFileSync(kubeconfig, stringify(config));
  return { ...id, kubeconfig };
}

/**
 * The same identity reaching the API server through an HttpProxy: its URL, and trust in the
 * proxy's own certificate instead of the API server's CA (the proxy verifies that one).
 */
export function viaHttpProxy(id: Identity, proxy: Pick<HttpProxy, "url" | "caData">): Identity {
  const config = parse(readFileSync(id.kubeconfig, "utf8")) as {
    clusters: { cluster: Record<string, unknown> }[];
  };
  for (const c of config.clusters)
    c.cluster = { server: proxy.url, "certificate-authority-data": proxy.caData };
  const kubeconfig = join(mkdtempSync(join(tmpdir(), "kcm-e2e-")), "kubeconfig.yaml");
  writeFileSync(kubeconfig, stringify(config));
  return { ...id, kubeconfig };
}

/** The admin kubeconfig's server and trust settings, for another user's kubeconfig. */
function clusterEntry(c: k8s.Cluster): Record<string, unknown> {
  return {
    server: c.server,
    ...(c.caData ? { "certificate-authority-data": c.caData } : {}),
    ...(c.caFile ? { "certificate-authority": c.caFile } : {}),
    ...(c.skipTLSVerify ? { "insecure-skip-tls-verify": true } : {}),
  };
}

export async function deleteIdentityBindings(kube: Kube, namespace: string): Promise<void> {
  const list = await kube.rbac.listClusterRoleBinding({
    labelSelector: `e2e.chaos-monkey.io/namespace=${namespace}`,
  });
  for (const b of list.items)
    await kube.rbac.deleteClusterRoleBinding({ name: b.metadata?.name ?? "" });
}

/** The command-line arguments that make chaos-monkey act as `id`, with `namespace` as its own. */
export const asIdentity = (id: Identity, namespace: string): string[] => [
  "--kubeconfig",
  id.kubeconfig,
  "--namespace",
  namespace,
];

/** A ChaosMonkeyConfig file that runs live (dryRun: false) unless `extra` says otherwise. */
export const chaosConfig = (targets: unknown[], extra: Record<string, unknown> = {}): string =>
  writeConfig({
    apiVersion: "chaos-monkey.io/v1",
    kind: "ChaosMonkeyConfig",
    dryRun: false,
    ...extra,
    targets,
  });

export function writeConfig(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "kcm-config-"));
  const path = join(dir, "config.yaml");
  writeFileSync(path, stringify(config));
  return path;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port")),
      );
    });
  });
}

export type LogLine = Record<string, unknown> & { msg: string };

export interface Running {
  readonly proc: ChildProcess;
  readonly logs: LogLine[];
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the first log line (already seen or future) matching `pred`. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  readonly exited: Promise<number | null>;
}

/** Starts `chaos-monkey ARGS`, collecting JSON log lines from stdout and stderr. */
export function startMonkey(
  args: string[],
  env: Record<string, string> = {},
  entry = BIN,
): Running {
  const proc = spawn(process.execPath, [entry, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogLine[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  const onLine = (sink: string[]) => (line: string) => {
    sink.push(line);
    if (!line.startsWith("{")) return;
    try {
      const l = JSON.parse(line) as LogLine;
      logs.push(l);
      for (const w of [...waiters]) {
        if (!w.pred(l)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    } catch {
      // not a log line
    }
  };
  if (proc.stdout) createInterface(proc.stdout).on("line", onLine(stdout));
  if (proc.stderr) createInterface(proc.stderr).on("line", onLine(stderr));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return {
    proc,
    logs,
    stdout,
    stderr,
    exited,
    waitForLog: (pred, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const hit = logs.find(pred);
        if (hit) return resolve(hit);
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `log line not seen in ${timeoutMs} ms; last: ${JSON.stringify(logs.slice(-3))}; stderr: ${stderr.slice(-5).join("\n")}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      }),
  };
}

/** `chaos-monkey run --config CONFIG` as `id` (its own namespace `namespace`) on a free port. */
export async function startRun(
  config: string,
  id: Identity,
  namespace: string,
): Promise<Running & { readonly port: number }> {
  const port = await freePort();
  const m = startMonkey([
    "run",
    "--config",
    config,
    ...asIdentity(id, namespace),
    "--listen",
    `127.0.0.1:${port}`,
  ]);
  return Object.assign(m, { port });
}

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly logs: LogLine[];
  readonly stderr: string;
}

/** Runs `chaos-monkey ARGS` to completion. */
export async function runMonkey(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const r = startMonkey(args, env);
  const code = await r.exited;
  return { code, stdout: r.stdout.join("\n"), logs: r.logs, stderr: r.stderr.join("\n") };
}

/** What `once --output json` printed, parsed; no rounds when it printed none (it failed first). */
export const onceResultOf = (stdout: string): OnceResult =>
  stdout.startsWith("[") ? (JSON.parse(stdout) as OnceResult) : [];

/** Runs `chaos-monkey once ARGS --output json` to completion, its result parsed. */
export async function runOnce(
  args: string[],
  env: Record<string, string> = {},
): Promise<Ran & { readonly rounds: OnceResult }> {
  const r = await runMonkey(["once", ...args, "--output", "json"], env);
  return { ...r, rounds: onceResultOf(r.stdout) };
}

/** The HTTP status of GET `path` on the monkey's port (0 when nothing answers). */
export async function httpStatus(port: number, path: string): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(2000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Parses Prometheus text into `name{labels}` → value. */
export async function scrape(port: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** The series of `name` whose labels include all of `labels`, as `name{labels}` → value. */
function matchingSeries(
  m: Map<string, number>,
  name: string,
  labels: Record<string, string>,
): [string, number][] {
  const out: [string, number][] = [];
  for (const [key, v] of m) {
    const brace = key.indexOf("{");
    const n = brace === -1 ? key : key.slice(0, brace);
    if (n !== name) continue;
    if (Object.entries(labels).every(([k, val]) => key.includes(`${k}="${val}"`)))
      out.push([key, v]);
  }
  return out;
}

/**
 * Sum of every series of `name` whose labels include all of `labels`; 0 when none matches. For
 * counts where an absent series honestly means "none yet"; where it must exist, use metricValue.
 */
export function metricSum(
  m: Map<string, number>,
  name: string,
  labels: Record<string, string> = {},
): number {
  return matchingSeries(m, name, labels).reduce((sum, [, v]) => sum + v, 0);
}

/**
 * Like metricSum, but throws when no series of `name` matches `labels` (a renamed metric, a
 * dropped label or a metric never exported must not read as 0), or when a value is not a number.
 */
export function metricValue(
  m: Map<string, number>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const series = matchingSeries(m, name, labels);
  if (series.length === 0) {
    const names = [...new Set([...m.keys()].map((k) => k.split("{")[0]))].filter((n) =>
      n?.startsWith(name.split("_").slice(0, 2).join("_")),
    );
    throw new Error(
      `no series ${name}${JSON.stringify(labels)} in the scrape (${m.size} series; similar names: ${names.join(", ") || "none"})`,
    );
  }
  for (const [key, v] of series)
    if (!Number.isFinite(v)) throw new Error(`series ${key} has no finite value: ${v}`);
  return series.reduce((sum, [, v]) => sum + v, 0);
}
