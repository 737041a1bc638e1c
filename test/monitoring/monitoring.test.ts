// The monitoring the project ships, checked without a cluster or a network: the Prometheus rules
// by promtool (syntax and their unit tests), every PromQL expression of the rules and the Grafana
// dashboard against the metrics the app really exports, the app's /metrics text by
// `promtool check metrics`, and the kustomize overlay's copies against their single sources.
// promtool is Prometheus 3's, built from Go modules by test/cluster/build-prometheus.sh (cached;
// the first run on a machine builds it, minutes).
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import {
  PROMETHEUS_RULE_PATH,
  RULES_PATH,
  renderPrometheusRule,
} from "../../scripts/gen-monitoring.js";
import { QUANTILES, queries } from "../../scripts/render-charts.js";
import { createMetrics, RECOVERY_BUCKETS } from "../../src/observe/metrics.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BUILD_PROMETHEUS = join(ROOT, "test/cluster/build-prometheus.sh");
const RULES_TEST = join(ROOT, "config/prometheus/rules.test.yaml");
const OVERLAY = join(ROOT, "kustomize/overlays/monitoring");
const DASHBOARD = join(OVERLAY, "recovery-dashboard.json");
const DASHBOARD_LINK = join(ROOT, "config/grafana/recovery-dashboard.json");

// ---- promtool ----

/**
 * The directory of Prometheus 3's prometheus and promtool: build-prometheus.sh prints it as its
 * last line, at once from a warm cache (~/.cache/kube-chaos-monkey or $KCM_CACHE), else after
 * building them from Go modules.
 */
function prometheusBindir(): string {
  const run = spawnSync("bash", [BUILD_PROMETHEUS], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const dir = run.stdout.trim().split("\n").pop() ?? "";
  if (run.status !== 0 || !existsSync(join(dir, "promtool")))
    throw new Error(
      `test/cluster/build-prometheus.sh failed (exit ${String(run.status)}): these tests run ` +
        "Prometheus 3's promtool, which it builds from Go modules (Go >= 1.26 and the Go module " +
        "proxy needed once; .ci/run runs it first).",
    );
  return dir;
}

let PROMTOOL = "";
// A cold cache builds Prometheus first: minutes on 2 cores.
beforeAll(() => {
  PROMTOOL = join(prometheusBindir(), "promtool");
}, 1_800_000);

function promtool(args: readonly string[], input?: string): { status: number; output: string } {
  const run = spawnSync(PROMTOOL, args, { cwd: ROOT, input, encoding: "utf8", timeout: 60_000 });
  if (run.error) throw run.error;
  return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}`.trim() };
}

// ---- The rules and the dashboard, as data ----

interface RuleDef {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: RuleDef[] }[];
}
interface RulesTest {
  rule_files: string[];
  tests: {
    name: string;
    input_series: { series: string; values: string }[];
    alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
  }[];
}
interface Target {
  expr?: string;
  format?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
}
interface Dashboard {
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list: (Target & { name: string })[] };
}

const rules = parse(readFileSync(RULES_PATH, "utf8")) as RuleFile;
const rulesTest = parse(readFileSync(RULES_TEST, "utf8")) as RulesTest;
const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as Dashboard;

const allRules = rules.groups.flatMap((g) => g.rules);
const alerts = allRules.filter((r) => r.alert !== undefined);
const recorded = new Set(allRules.flatMap((r) => (r.record ? [r.record] : [])));
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

/** Every PromQL expression of the dashboard, with where it is. */
function dashboardExprs(): { where: string; expr: string }[] {
  const fromPanels = panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr ?? "" })),
  );
  const fromAnnotations = dashboard.annotations.list
    .filter((a) => a.expr !== undefined)
    .map((a) => ({ where: `annotation "${a.name}"`, expr: a.expr ?? "" }));
  return [...fromPanels, ...fromAnnotations];
}

/** A query variable's `label_values(metric, label)`, split. */
function labelValues(v: Variable): { metric: string; label: string } {
  const query = typeof v.query === "string" ? v.query : (v.query?.query ?? "");
  const m = /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*(\w+)\s*\)$/.exec(query);
  if (!m) throw new Error(`variable ${v.name}: not label_values(metric, label): ${query}`);
  return { metric: m[1] ?? "", label: m[2] ?? "" };
}

// ---- PromQL: which metric names an expression reads ----

const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "atan2",
  "inf",
  "nan",
]);

/**
 * The metric names a PromQL expression selects. Strings, label matchers, ranges and grouping
 * label lists are blanked first, so what stays an identifier is a function or aggregation (it
 * is followed by "("), a keyword, or a metric name. Grafana's $variables are blanked too.
 */
function metricNames(expr: string): string[] {
  const blanked = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{?\w+\}?/g, " ")
    .replace(/\{[^{}]*\}/g, "{}")
    .replace(/\[[^\]]*\]/g, "[]")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\b\d+(\.\d+)?(e[+-]?\d+)?(ms|s|m|h|d|w|y)?\b/gi, " ");
  const names: string[] = [];
  for (const m of blanked.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const word = m[0];
    const next = blanked.slice((m.index ?? 0) + word.length).trimStart()[0];
    if (next === "(" || KEYWORDS.has(word.toLowerCase())) continue;
    names.push(word);
  }
  return names;
}

/** What the app exports: createMetrics' registry, a histogram as its three series. */
async function exportedNames(): Promise<Set<string>> {
  const metrics = createMetrics({ version: "test", collectDefault: true });
  const names = (await metrics.registry.getMetricsAsJSON()).flatMap((m) => {
    const type = String(m.type);
    if (type === "histogram") return [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`];
    if (type === "summary") return [m.name, `${m.name}_sum`, `${m.name}_count`];
    return [m.name];
  });
  return new Set(names);
}

// ---- Grafana variables, to make the dashboard's expressions plain PromQL ----

const GRAFANA_BUILTINS: Record<string, string> = {
  __rate_interval: "2m",
  __interval: "1m",
  __range: "1h",
};

/** The dashboard expression with each variable replaced by a value it may take. */
function substitute(expr: string, variables: readonly Variable[]): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    if (name in GRAFANA_BUILTINS) return GRAFANA_BUILTINS[name] ?? whole;
    const v = variables.find((x) => x.name === name);
    if (!v) throw new Error(`${expr}: uses $${name}, which the dashboard does not define`);
    if (v.type === "query") return ".*";
    const first = typeof v.query === "string" ? v.query.split(",")[0] : undefined;
    if (!first) throw new Error(`variable ${name}: no value to substitute`);
    return first;
  });
}

/** `promtool check rules` on the expressions as recording rules: it parses each as PromQL. */
function expectPromQL(exprs: readonly string[]): void {
  const dir = mkdtempSync(join(tmpdir(), "promql-"));
  try {
    const file = join(dir, "exprs.rules.yaml");
    const rules = exprs.map((expr, i) => ({ record: `check:expr:${i}`, expr }));
    writeFileSync(file, JSON.stringify({ groups: [{ name: "check", rules }] }));
    const { status, output } = promtool(["check", "rules", file]);
    expect(status, output).toBe(0);
    expect(output).toContain(`SUCCESS: ${exprs.length} rules found`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- The app's /metrics, every metric in use ----

async function exerciseMetrics(): Promise<string> {
  const m = createMetrics({ version: "0.1.0", collectDefault: true });
  m.roundRan("web");
  m.roundSkipped("web", "blackout");
  m.roundFailed("db");
  m.skipped("web", "pdb", 2);
  m.kill("web", "Pod", "shop", "killed");
  m.kill("db", "PersistentVolumeClaim", "data", "dry_run");
  m.finalizerStripped("PersistentVolumeClaim", "kubernetes.io/pvc-protection");
  for (const phase of ["replaced", "ready", "recovered", "steady"] as const)
    m.recoveryPhase({ target: "web", kind: "Pod", namespace: "shop", phase, seconds: 3.5 });
  m.disruption("web", 2.5);
  m.probeCheck("web", "storefront", "fail");
  m.objectiveMiss("web");
  m.setObjective("web", 60);
  m.recoveryOutcome("web", "Pod", "recovered");
  m.recoveryOutcome("db", "PersistentVolumeClaim", "timeout");
  m.incInFlight("web");
  m.incInFlight("web");
  m.decInFlight("web");
  m.setInFlight("db", 0);
  m.setEligible("web", 12);
  m.setLastRound("web", 1_700_000_000);
  m.setNextRound("web", 1_700_000_600);
  m.error("kill");
  m.configReload("success");
  m.configReload("failure");
  m.setLeader(true);
  m.setDryRun(false);
  m.setActive("web", true);
  m.notification("team", "sent");
  return m.registry.metrics();
}

// ---- Tests ----

describe("promtool", () => {
  it("is Prometheus 3's, the Prometheus users run (test/cluster/build-prometheus.sh)", () => {
    const { status, output } = promtool(["--version"]);
    expect(status, output).toBe(0);
    expect(output).toMatch(/^promtool, version 3\.\d+\.\d+ /);
  });
});

describe("config/prometheus/rules.yaml", () => {
  it("passes `promtool check rules`", () => {
    const { status, output } = promtool(["check", "rules", RULES_PATH]);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    expect(status, output).toBe(0);
  });

  it("passes its unit tests: `promtool test rules config/prometheus/rules.test.yaml`", () => {
    const { status, output } = promtool(["test", "rules", RULES_TEST]);
    expect(output).toContain("SUCCESS");
    expect(status, output).toBe(0);
  });

  it("has the alerts of issues 6 and 12, each with a `for`, a severity, a summary and a description", () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        "ChaosMonkeyConfigReloadFailing",
        "ChaosMonkeyDown",
        "ChaosMonkeyLeaderless",
        "ChaosMonkeyNoRoundWhenDue",
        "ChaosMonkeyObjectiveMissed",
        "ChaosMonkeyRecoverySlow",
        "ChaosMonkeyRecoveryTimeouts",
        "ChaosMonkeyRoundsFailing",
      ].sort(),
    );
    for (const a of alerts) {
      expect(a.for, a.alert).toMatch(/^\d+[smh]$/);
      expect(["warning", "critical"], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description, a.alert).toBeTruthy();
    }
  });

  it("has recording rules for p50, p90 and p99 recovery and the per-target objective", () => {
    for (const name of [
      "chaos_monkey:recovery_seconds:p50_1h",
      "chaos_monkey:recovery_seconds:p90_1h",
      "chaos_monkey:recovery_seconds:p99_1h",
      "chaos_monkey:recovery_objective_seconds",
    ])
      expect(recorded, name).toContain(name);
  });

  it("reads only metrics the app exports, its own recording rules and `up`", async () => {
    const exported = await exportedNames();
    const unknown: string[] = [];
    for (const r of allRules) {
      const used = metricNames(r.expr);
      expect(used.length, r.expr).toBeGreaterThan(0);
      for (const name of used)
        if (!exported.has(name) && !recorded.has(name) && name !== "up")
          unknown.push(`${r.alert ?? r.record}: ${name}`);
    }
    expect([...new Set(unknown)], "neither exported nor recorded").toEqual([]);
  });

  it("takes the objective from chaos_monkey_recovery_objective_seconds, with a default", () => {
    const objective = allRules.find((r) => r.record === "chaos_monkey:recovery_objective_seconds");
    expect(metricNames(objective?.expr ?? "")).toContain("chaos_monkey_recovery_objective_seconds");
    const slow = alerts.find((a) => a.alert === "ChaosMonkeyRecoverySlow");
    expect(slow?.expr).toContain('p90_1h{phase="steady"}');
    expect(metricNames(slow?.expr ?? "")).toContain("chaos_monkey:recovery_objective_seconds");
  });
});

describe("config/prometheus/rules.test.yaml", () => {
  it("tests every alert firing and not firing", () => {
    const cases = rulesTest.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const a of alerts) {
      const mine = cases.filter((c) => c.alertname === a.alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${a.alert} is never tested firing`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${a.alert} is never tested quiet`,
      ).toBe(true);
    }
  });

  it("feeds histograms with exactly the app's buckets", () => {
    const expected = [...RECOVERY_BUCKETS.map(String), "+Inf"];
    const byHistogram = new Map<string, string[]>();
    for (const t of rulesTest.tests)
      for (const s of t.input_series) {
        if (!s.series.startsWith("chaos_monkey_recovery_seconds_bucket{")) continue;
        const le = /\ble="([^"]*)"/.exec(s.series)?.[1] ?? "(none)";
        const rest = `${t.name}: ${s.series.replace(/,?\s*\ble="[^"]*"/, "")}`;
        byHistogram.set(rest, [...(byHistogram.get(rest) ?? []), le]);
      }
    expect(byHistogram.size).toBeGreaterThan(0);
    for (const [series, les] of byHistogram) expect(les, series).toEqual(expected);
  });

  it("uses only metric names the rules read or the app exports", async () => {
    const exported = await exportedNames();
    const names = rulesTest.tests.flatMap((t) =>
      t.input_series.map((s) => /^[a-zA-Z_:][\w:]*/.exec(s.series)?.[0] ?? ""),
    );
    const unknown = [...new Set(names)].filter((name) => !exported.has(name) && name !== "up");
    expect(unknown, "input series the app does not export").toEqual([]);
  });
});

describe("the Grafana dashboard", () => {
  const variables = dashboard.templating.list;

  it("is one file: config/grafana/recovery-dashboard.json links to the overlay's", () => {
    expect(lstatSync(DASHBOARD_LINK).isSymbolicLink()).toBe(true);
    expect(realpathSync(DASHBOARD_LINK)).toBe(realpathSync(DASHBOARD));
  });

  it("has a Prometheus datasource variable that every query uses, and target and namespace", () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(variables.find((v) => v.name === "datasource")).toMatchObject({
      type: "datasource",
      query: "prometheus",
    });
    expect(labelValues(variables.find((v) => v.name === "target")!)).toEqual({
      metric: "chaos_monkey_kills_total",
      label: "target",
    });
    expect(labelValues(variables.find((v) => v.name === "namespace")!)).toEqual({
      metric: "chaos_monkey_kills_total",
      label: "namespace",
    });
    const users = [
      ...panels.filter((p) => p.type !== "row"),
      ...panels.flatMap((p) => p.targets ?? []),
      ...dashboard.annotations.list.filter((a) => a.expr !== undefined),
      ...variables.filter((v) => v.type === "query"),
    ] as { datasource?: { uid?: string } }[];
    for (const u of users) expect(u.datasource?.uid).toBe("${datasource}");
  });

  it("has unique panel ids and the issue's panels", () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => `${p.type} ${t.expr}`));
    const wanted = [
      /^timeseries histogram_quantile\(0\.5, .*chaos_monkey_recovery_seconds_bucket/,
      /^timeseries histogram_quantile\(0\.9, .*chaos_monkey_recovery_seconds_bucket/,
      /^timeseries histogram_quantile\(0\.99, .*chaos_monkey_recovery_seconds_bucket/,
      /^heatmap sum by \(le\) .*chaos_monkey_recovery_seconds_bucket/,
      /sum by \(result\) .*chaos_monkey_kills_total/,
      /sum by \(reason\) .*chaos_monkey_skips_total/,
      /sum by \(outcome\) .*chaos_monkey_recoveries_total/,
      /chaos_monkey_last_round_timestamp_seconds/,
      /chaos_monkey_next_round_timestamp_seconds/,
      /chaos_monkey_recoveries_in_flight/,
      /chaos_monkey_is_leader/,
      /chaos_monkey_dry_run/,
      /sum by \(operation\) .*chaos_monkey_errors_total/,
      /sum by \(result\) .*chaos_monkey_config_reloads_total/,
      // Issue 12: steady state, disruption, objectives, active.
      /^timeseries histogram_quantile\(0\.5, .*chaos_monkey_disruption_seconds_bucket/,
      /^timeseries histogram_quantile\(0\.9, .*chaos_monkey_disruption_seconds_bucket/,
      /^timeseries histogram_quantile\(0\.99, .*chaos_monkey_disruption_seconds_bucket/,
      /^timeseries sum by \(result\) .*chaos_monkey_probe_checks_total/,
      /^timeseries sum by \(target\) .*chaos_monkey_objective_misses_total/,
      /^state-timeline max by \(target\) \(chaos_monkey_active\{/,
    ];
    for (const re of wanted)
      expect(
        exprs.some((e) => re.test(e)),
        String(re),
      ).toBe(true);
    const heatmap = panels.find((p) => p.type === "heatmap");
    expect(heatmap?.targets?.[0]?.format).toBe("heatmap");
    const kills = dashboard.annotations.list.find((a) => a.name === "Kills");
    expect(kills?.expr).toMatch(/increase\(chaos_monkey_kills_total\{/);
  });

  it("draws disruption beside recovery, and objectives against recovery time", () => {
    const reading = (re: RegExp) =>
      panels.filter((p) => (p.targets ?? []).some((t) => re.test(t.expr ?? "")));
    const [recovery] = reading(/histogram_quantile\(0\.9, .*chaos_monkey_recovery_seconds_bucket/);
    const [disruption] = reading(/chaos_monkey_disruption_seconds_bucket/);
    expect(disruption?.gridPos?.y).toBe(recovery?.gridPos?.y);
    const objective = reading(/chaos_monkey_recovery_objective_seconds/);
    expect(objective.length).toBe(1);
    const exprs = (objective[0]?.targets ?? []).map((t) => t.expr ?? "");
    // The last phase: steady where the target has probes, else recovered (as the alert reads it).
    expect(exprs.some((e) => /phase="steady".* or on \(target\) .*phase="recovered"/.test(e))).toBe(
      true,
    );
    const phase = variables.find((v) => v.name === "phase");
    expect(phase?.query).toBe("replaced,ready,recovered,steady");
  });

  it("reads only metrics the app exports (no recording rules: it works without them)", async () => {
    const exported = await exportedNames();
    const all = [
      ...dashboardExprs(),
      ...variables
        .filter((v) => v.type === "query")
        .map((v) => ({ where: `variable ${v.name}`, expr: labelValues(v).metric })),
    ];
    expect(all.length).toBeGreaterThan(15);
    const unknown: string[] = [];
    for (const { where, expr } of all) {
      const used = metricNames(expr);
      expect(used.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of used) if (!exported.has(name)) unknown.push(`${where}: ${name}`);
    }
    expect([...new Set(unknown)], "not exported by the app").toEqual([]);
  });

  it("has expressions that parse as PromQL once the variables are filled in", () => {
    expectPromQL(dashboardExprs().map((e) => substitute(e.expr, variables)));
  });
});

describe("the README charts' queries (scripts/render-charts.ts)", () => {
  const q = queries({ window: "5m", phase: "recovered" });
  const exprs = [...QUANTILES.map(([, value]) => q.quantile(value)), q.kills, q.recoveries];

  it("parse as PromQL", () => expectPromQL(exprs));

  it("read only metrics the app exports", async () => {
    const exported = await exportedNames();
    for (const expr of exprs)
      for (const name of metricNames(expr)) expect(exported.has(name), name).toBe(true);
  });
});

describe("the monitoring overlay", () => {
  it("prometheusrule.yaml is what `npm run monitoring:generate` writes from rules.yaml", async () => {
    const committed = readFileSync(PROMETHEUS_RULE_PATH, "utf8");
    expect(committed).toBe(await renderPrometheusRule(readFileSync(RULES_PATH, "utf8")));
    const wrapped = parse(committed) as { kind: string; spec: RuleFile };
    expect(wrapped.kind).toBe("PrometheusRule");
    expect(wrapped.spec.groups).toEqual(rules.groups);
  });

  it("packages the dashboard as a ConfigMap for Grafana's sidecar", () => {
    type Generator = {
      name: string;
      files: string[];
      options?: { labels?: Record<string, string> };
    };
    const k = parse(readFileSync(join(OVERLAY, "kustomization.yaml"), "utf8")) as {
      configMapGenerator?: Generator[];
    };
    const gen = k.configMapGenerator?.find((g) => g.files.includes("recovery-dashboard.json"));
    expect(gen?.options?.labels?.grafana_dashboard).toBe("1");
  });
});

describe("the app's /metrics", () => {
  it("passes `promtool check metrics` with every metric in use", async () => {
    const text = await exerciseMetrics();
    const exported = (await createMetrics({ version: "x" }).registry.getMetricsAsJSON()).map(
      (m) => m.name,
    );
    // An empty input passes promtool too: make sure every metric of ours has a sample.
    for (const name of exported)
      expect(text, name).toMatch(new RegExp(`^${name}(_bucket|_sum|_count)?(\\{| )`, "m"));
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    const { status, output } = promtool(["check", "metrics"], text);
    expect(output).toBe("");
    expect(status).toBe(0);
  });
});

describe("metricNames", () => {
  it.each([
    ["up", ["up"]],
    ['sum by (target, le) (rate(a_bucket{phase="x", le=~"1|2"}[5m]))', ["a_bucket"]],
    ["a:b:c > on (target) group_left () c_d offset 1h", ["a:b:c", "c_d"]],
    ["(x unless x offset $__rate_interval) or increase(x[$__rate_interval])", ["x", "x", "x"]],
    ['histogram_quantile(0.9, sum(rate(h_bucket{a="sum(b)"}[1h])) by (le))', ["h_bucket"]],
    ["time() - max by (target) (t) > 300", ["t"]],
    ['absent(up{job=~".*m.*"}) and vector(1) == bool 1e3', ["up"]],
  ])("%s reads %j", (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});
