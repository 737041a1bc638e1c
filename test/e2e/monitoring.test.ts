// The dashboard and alert rules against a real Prometheus (issues 6 and 12): Prometheus 3 (built
// from Go modules by test/cluster/build-prometheus.sh) on loopback scrapes the monkey while it
// runs rounds on the local control plane, one target with a steady-state probe and a recovery
// objective; then every PromQL expression of the dashboard and the rules is evaluated through
// Prometheus's HTTP API.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deploymentReady } from "../support/kube.js";
import type { Running } from "../support/monkey.js";
import { chaosConfig, freePort, startRun } from "../support/monkey.js";
import { deployment, pdb } from "../support/objects.js";
import { e2eSuite } from "../support/suite.js";
import { LOG } from "../../src/observe/messages.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const DASHBOARD = JSON.parse(
  readFileSync(join(ROOT, "config/grafana/recovery-dashboard.json"), "utf8"),
) as Dashboard;
const RULES = parse(readFileSync(join(ROOT, "config/prometheus/rules.yaml"), "utf8")) as {
  groups: { rules: Rule[] }[];
};

interface Dashboard {
  panels: { title: string; targets?: { expr?: string }[] }[];
  annotations?: { list: { name: string; expr?: string }[] };
}
interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}

const t = e2eSuite("e2e-mon");
let monkey: Running;
let prometheus: ChildProcess;
let prom: string; // base URL
let probed: Server; // what web's and api's steady-state probes ask
let probes = 0;
/** api's service warms up: its probe fails for this long after each of its kills. */
const WARM_UP_MS = 4000;
let config: string;
let runStartedAt = 0;

const rolledOut = (name: string, replicas: number) => deploymentReady(t.kube, t.ns, name, replicas);

/** When the monkey last logged an accepted kill of `target`'s (ms since the epoch, 0 if never). */
function lastKillMs(target: string): number {
  const logs = monkey?.logs ?? [];
  for (let i = logs.length - 1; i >= 0; i--) {
    const l = logs[i];
    if (l?.msg === LOG.KILL_ACCEPTED && l.target === target) return Date.parse(String(l.time));
  }
  return 0;
}

interface PromResult {
  status: string;
  error?: string;
  data: { resultType: string; result: unknown[] };
}
async function query(q: string): Promise<PromResult> {
  const res = await fetch(`${prom}/api/v1/query?${new URLSearchParams({ query: q }).toString()}`);
  return (await res.json()) as PromResult;
}

/** Grafana's variables, as a user looking at every target would have them. */
const substitute = (expr: string) =>
  expr
    .replace(/\$phase/g, "recovered")
    .replace(/\$target/g, ".*")
    .replace(/\$namespace/g, ".*")
    .replace(/\$window/g, "15m")
    .replace(/\$__rate_interval/g, "1m")
    .replace(/\$__interval/g, "15s")
    .replace(/\$__range/g, "15m");

/**
 * Selectors that may rightly have no data in this run, each with why. Their metric must still
 * exist (so a typo in the name cannot hide here) and the label value is one SPEC §5 lists.
 * None today: the run below gives every selector of the rules data.
 */
const MAY_BE_EMPTY: Record<string, { why: string; exists: string }> = {};

/** Every series selector an expression reads: metric name plus its label matchers, if any. */
function selectors(expr: string): string[] {
  const out = new Set<string>();
  for (const m of expr.matchAll(/(?<![\w:])((?:chaos_monkey[\w:]*)|up)\s*(\{[^}]*\})?(?!\s*\()/g))
    out.add(`${m[1]}${m[2] ?? ""}`);
  return [...out];
}

beforeAll(async () => {
  await t.kube.apps.createNamespacedDeployment({
    namespace: t.ns,
    body: deployment(t.ns, "web", { replicas: 3 }),
  });
  // Replacements slower than the recovery timeout: timeouts for the alert and the outcome panel.
  await t.kube.apps.createNamespacedDeployment({
    namespace: t.ns,
    body: deployment(t.ns, "slow", {
      replicas: 1,
      annotations: { "kwok.chaos-monkey.io/ready-delay": "6s" },
    }),
  });
  // Two budgets over one pod: the Eviction API answers 500, a real failed kill for the errors panel.
  await t.kube.apps.createNamespacedDeployment({
    namespace: t.ns,
    body: deployment(t.ns, "twice", { replicas: 2 }),
  });
  await t.kube.policy.createNamespacedPodDisruptionBudget({
    namespace: t.ns,
    body: pdb(t.ns, "twice-a", "twice", 1),
  });
  await t.kube.policy.createNamespacedPodDisruptionBudget({
    namespace: t.ns,
    body: pdb(t.ns, "twice-b", "twice", 1),
  });
  // A service that warms up after every kill (its probe below): disruption for the README's chart.
  await t.kube.apps.createNamespacedDeployment({
    namespace: t.ns,
    body: deployment(t.ns, "api", { replicas: 2 }),
  });
  await rolledOut("web", 3);
  await rolledOut("slow", 1);
  await rolledOut("twice", 2);
  await rolledOut("api", 2);
  // The steady-state probes: a service on loopback; web's always answers 200, api's answers 503
  // for WARM_UP_MS after each kill of an api pod, longer than the 1-3 s the pods take to be Ready.
  probed = createServer((req, res) => {
    probes++;
    const warming = req.url === "/api/healthz" && Date.now() - lastKillMs("api") < WARM_UP_MS;
    res.writeHead(warming ? 503 : 200).end(warming ? "warming up" : "ok");
  });
  await new Promise<void>((resolve) => probed.listen(0, "127.0.0.1", resolve));
  const probePort = (probed.address() as { port: number }).port;
  const target = (name: string, schedule: string, recovery: Record<string, string>) => ({
    name,
    kind: "Pod",
    schedule,
    selector: { namespaces: [t.ns], labelSelector: `app=${name}` },
    recovery,
  });
  config = chaosConfig([
    {
      // A probe (the steady phase, disruption, probe checks) and an objective below the 1-3s
      // its pods take to be Ready: every recovery misses it.
      ...target("web", "@every 3s", { timeout: "30s", objective: "1s" }),
      steadyState: {
        interval: "1s",
        successThreshold: 1,
        probes: [{ name: "storefront", http: { url: `http://127.0.0.1:${probePort}/healthz` } }],
      },
    },
    target("slow", "@every 4s", { timeout: "2s" }),
    target("twice", "@every 5s", { timeout: "30s" }),
    {
      // Probes that stay failing for a few seconds after the pods are back: non-zero disruption.
      ...target("api", "@every 6s", { timeout: "30s" }),
      steadyState: {
        interval: "1s",
        successThreshold: 1,
        probes: [{ name: "warm", http: { url: `http://127.0.0.1:${probePort}/api/healthz` } }],
      },
    },
  ]);
  const started = await startRun(config, t.id, t.selfNs);
  monkey = started;
  const port = started.port;
  const promPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "kcm-prom-"));
  writeFileSync(
    join(dir, "prometheus.yml"),
    JSON.stringify({
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      rule_files: [join(ROOT, "config/prometheus/rules.yaml")],
      scrape_configs: [
        { job_name: "chaos-monkey", static_configs: [{ targets: [`127.0.0.1:${port}`] }] },
      ],
    }),
  );
  runStartedAt = Date.now();
  prometheus = spawn(
    join(inject("prometheusBindir"), "prometheus"),
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { stdio: "ignore" },
  );
  prom = `http://127.0.0.1:${promPort}`;
  // Rounds, recoveries, a timeout, a failed kill, then a rejected and an accepted reload.
  await monkey.waitForLog((l) => l.msg === LOG.RECOVERY_ENDED && l.outcome === "timeout", 60_000);
  await monkey.waitForLog((l) => l.msg === LOG.KILL_FAILED, 60_000);
  await monkey.waitForLog((l) => l.msg === LOG.RECOVERY_ENDED && l.outcome === "recovered", 60_000);
  const good = readFileSync(config, "utf8");
  writeFileSync(
    config,
    good.replace("kind: ChaosMonkeyConfig", "kind: ChaosMonkeyConfig\nbogus: 1"),
  );
  await monkey.waitForLog((l) => l.msg.startsWith("config reload rejected"), 15_000);
  writeFileSync(config, good.replace('"@every 3s"', '"@every 4s"'));
  await monkey.waitForLog(
    (l) =>
      l.msg === LOG.CONFIG_LOADED &&
      monkey.logs.filter((x) => x.msg === LOG.CONFIG_LOADED).length >= 2,
    15_000,
  );
  // Let Prometheus scrape the latest state and evaluate the rules a few times.
  await new Promise((r) => setTimeout(r, 5000));
}, 240_000);

afterAll(async () => {
  prometheus?.kill("SIGTERM");
  probed?.close();
  if (monkey && monkey.proc.exitCode === null) {
    monkey.proc.kill("SIGTERM");
    await monkey.exited;
  }
});

const panelQueries = (): [string, string][] => [
  ...DASHBOARD.panels.flatMap((p) =>
    (p.targets ?? []).flatMap((q) =>
      q.expr ? [[`panel "${p.title}"`, q.expr] as [string, string]] : [],
    ),
  ),
  ...(DASHBOARD.annotations?.list ?? []).flatMap((a) =>
    a.expr ? [[`annotation "${a.name}"`, a.expr] as [string, string]] : [],
  ),
];

describe("the Prometheus", () => {
  it("is Prometheus 3, what users run today", async () => {
    const res = await fetch(`${prom}/api/v1/status/buildinfo`);
    const info = (await res.json()) as { data: { version: string } };
    expect(info.data.version).toMatch(/^3\.\d+\.\d+$/);
  });

  it("scraped a monkey whose web target probed its service", () => {
    expect(probes).toBeGreaterThan(0);
  });
});

describe("the Grafana dashboard on real data", () => {
  it.each(panelQueries())("%s returns data", async (_what, expr) => {
    const r = await query(substitute(expr));
    expect(r.status, r.error).toBe("success");
    expect(r.data.result.length, substitute(expr)).toBeGreaterThan(0);
  });
});

describe("the alert and recording rules on real data", () => {
  const rules = RULES.groups.flatMap((g) => g.rules);

  it("load into Prometheus, and every rule evaluates without error", async () => {
    const res = (await (await fetch(`${prom}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const loaded = res.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual(rules.map((r) => r.alert ?? r.record).sort());
    for (const r of loaded) expect(r.health, `${r.name}: ${r.lastError ?? ""}`).toBe("ok");
  });

  it.each(rules.map((r) => [r.alert ?? r.record ?? "?", r.expr] as [string, string]))(
    "%s reads only series that exist",
    async (_name, expr) => {
      expect(selectors(expr).length).toBeGreaterThan(0);
      for (const s of selectors(expr)) {
        const allowed = MAY_BE_EMPTY[s.replace(/\s+/g, "")];
        const r = await query(allowed ? allowed.exists : s);
        expect(r.status, r.error).toBe("success");
        expect(r.data.result.length, `${s} has no data`).toBeGreaterThan(0);
      }
    },
  );

  it.each(rules.filter((r) => r.record).map((r) => [r.record ?? "", r.expr] as [string, string]))(
    "recording rule %s has data",
    async (name) => {
      const r = await query(name);
      expect(r.data.result.length).toBeGreaterThan(0);
    },
  );

  it("fires (or holds pending) the alerts this run provoked: timeouts, a failed reload, objective misses", async () => {
    const res = (await (await fetch(`${prom}/api/v1/alerts`)).json()) as {
      data: { alerts: { labels: { alertname: string }; state: string }[] };
    };
    const active = new Set(res.data.alerts.map((a) => a.labels.alertname));
    expect(active).toContain("ChaosMonkeyRecoveryTimeouts");
    expect(active).toContain("ChaosMonkeyConfigReloadFailing");
    expect(active).toContain("ChaosMonkeyObjectiveMissed");
    expect(active).not.toContain("ChaosMonkeyDown");
  });
});

describe("the README's recovery charts", () => {
  it("render to PNG from this same Prometheus data", async () => {
    // KCM_CHARTS_OUT=docs/charts KCM_CHARTS_SECONDS=150 renders the README's charts from a longer run.
    const extra = Number(process.env.KCM_CHARTS_SECONDS ?? 0);
    if (extra > 0) await new Promise((r) => setTimeout(r, extra * 1000));
    const out = process.env.KCM_CHARTS_OUT ?? mkdtempSync(join(tmpdir(), "kcm-charts-"));
    const script = join(ROOT, "scripts/render-charts.ts");
    const tsx = join(ROOT, "node_modules/.bin/tsx");
    const start = String(Math.floor(runStartedAt / 1000) - 5);
    // Windows short enough that even CI's brief run spans several of them.
    const seconds = (Date.now() - runStartedAt) / 1000;
    const window = `${Math.max(5, Math.min(30, Math.floor(seconds / 5)))}s`;
    const r = spawnSync(
      tsx,
      [script, "--prometheus", prom, "--out", out, "--start", start, "--window", window],
      { encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(0);
    for (const file of [
      "recovery-quantiles.png",
      "kills-and-recoveries.png",
      "disruption-and-recovery.png",
    ]) {
      const png = readFileSync(join(out, file));
      expect(png.subarray(1, 4).toString()).toBe("PNG");
      expect(png.length).toBeGreaterThan(10_000);
    }
  }, 600_000);
});
