import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { loadConfig, requiredEnv } from "./load.js";

const EXAMPLE = readFileSync(new URL("../../config/example.yaml", import.meta.url), "utf8");

const base = (targets: string, top = "") => `apiVersion: chaos-monkey.io/v1
kind: ChaosMonkeyConfig
${top}targets:
${targets}`;

function errorsOf(text: string, env?: Record<string, string>): readonly string[] {
  const r = loadConfig(text, env);
  return r.ok ? [] : r.errors;
}

describe("loadConfig", () => {
  it("accepts the documented example and resolves every field", () => {
    const r = loadConfig(EXAMPLE);
    expect(r.ok ? [] : r.errors).toEqual([]);
    if (!r.ok) return;
    const [web, claims] = r.config.targets;
    expect(web).toMatchObject({
      name: "web",
      timezone: "Europe/Prague",
      jitterMs: 30_000,
      recoveryTimeoutMs: 600_000,
      action: {
        method: "evict",
        gracePeriodSeconds: 30,
        stripFinalizers: [],
        restartConsumers: false,
      },
    });
    expect(web?.selector.minAgeMs).toBe(60_000);
    expect(web?.selector.includeNames[0]?.test("web-1")).toBe(true);
    expect(claims).toMatchObject({
      kind: "PersistentVolumeClaim",
      timezone: "UTC",
      recoveryTimeoutMs: 300_000,
      action: {
        method: "evict", // how its consumers are restarted
        stripFinalizers: ["kubernetes.io/pvc-protection"],
        restartConsumers: true,
      },
    });
    expect(r.config.safety.blackout).toEqual({
      weekdays: [6, 0],
      timesOfDay: [{ startMinute: 18 * 60, endMinute: 9 * 60 }],
      dates: [
        { month: 12, day: 24 },
        { year: 2026, month: 12, day: 31 },
      ],
    });
    expect(Object.isFrozen(r.config.targets[0]?.selector)).toBe(true);
  });

  it("applies the defaults of SPEC §2 to a minimal file", () => {
    const r = loadConfig(base(`  - name: web\n    kind: Pod\n    schedule: "@hourly"\n`));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({
      dryRun: true,
      timezone: "UTC",
      seed: "",
      paused: false,
      recoveryTimeoutMs: 300_000,
      safety: {
        excludedNamespaces: ["kube-system", "kube-public", "kube-node-lease"],
        allowSystemNamespaces: false,
        optOutAnnotation: "chaos-monkey.io/exclude",
        maxKillsPerRound: 10,
        maxPerOwner: 1,
        requireHealthy: true,
      },
    });
    expect(r.config.targets[0]).toMatchObject({
      mode: "one",
      value: 1,
      concurrency: "Forbid",
      jitterMs: 0,
    });
  });

  it.each([
    [
      "a bad cron expression, with path and line",
      base(
        `  - name: web\n    kind: Pod\n    schedule: "@hourly"\n  - name: db\n    kind: Pod\n    schedule: "*/61 * * * *"\n`,
      ),
      ['targets[1].schedule: "*/61 * * * *" is not a valid cron expression (line 9)'],
    ],
    [
      "an unknown key",
      base(`  - name: web\n    kind: Pod\n    schedule: "@hourly"\n    shedule: x\n`),
      ["targets[0].shedule: is not a known key (line 7)"],
    ],
    [
      "a missing required field",
      base(`  - name: web\n    kind: Pod\n`),
      ["targets[0].schedule: is required (line 4)"],
    ],
    [
      "a wrong type",
      base(`  - name: web\n    kind: Pod\n    schedule: "@hourly"\n`, "dryRun: yes please\n"),
      ['dryRun: must be boolean, not string "yes please" (line 3)'],
    ],
    [
      "a bad enum value",
      base(`  - name: web\n    kind: Deployment\n    schedule: "@hourly"\n`),
      [
        'targets[0].kind: "Deployment" is not one of: Pod, PersistentVolumeClaim, PersistentVolume (line 5)',
      ],
    ],
    [
      "a bad duration and a bad zone",
      base(
        `  - name: web\n    kind: Pod\n    schedule: "@hourly"\n    jitter: 10\n    timezone: Mars/Base\n`,
      ),
      [
        'targets[0].timezone: "Mars/Base" is not an IANA time zone (e.g. UTC, Europe/Prague) (line 8)',
        "targets[0].jitter: must be string, not number 10 (line 7)",
      ],
    ],
    [
      "duplicate target names",
      base(
        `  - name: web\n    kind: Pod\n    schedule: "@hourly"\n  - name: web\n    kind: Pod\n    schedule: "@daily"\n`,
      ),
      ['targets[1].name: "web" is already the name of targets[0] (line 7)'],
    ],
    [
      "volume-only settings on a pod target",
      base(
        `  - name: web\n    kind: Pod\n    schedule: "@hourly"\n    action: {stripFinalizers: true}\n`,
      ),
      ["targets[0].action.stripFinalizers: applies to volume targets only (line 7)"],
    ],
    [
      "pod-only settings on a volume target (method is not one: it restarts the consumers)",
      base(
        `  - name: v\n    kind: PersistentVolume\n    schedule: "@hourly"\n    selector: {includeOrphans: true}\n    action: {method: evict}\n`,
      ),
      ["targets[0].selector.includeOrphans: applies to Pod targets only (line 7)"],
    ],
    [
      "a pod field selector on a field the API server cannot select pods by",
      base(
        `  - name: web\n    kind: Pod\n    schedule: "@hourly"\n    selector: {fieldSelector: "spec.nodeName=a,status.hostIP=10.0.0.1"}\n`,
      ),
      [
        'targets[0].selector.fieldSelector: "spec.nodeName=a,status.hostIP=10.0.0.1" names field "status.hostIP", which a Pod field selector cannot use (allowed: metadata.name, metadata.namespace, spec.nodeName, spec.restartPolicy, spec.schedulerName, spec.serviceAccountName, status.nominatedNodeName, status.phase, status.podIP) (line 7)',
      ],
    ],
    [
      "claim and volume field selectors on anything but metadata.name and metadata.namespace",
      base(
        `  - name: c\n    kind: PersistentVolumeClaim\n    schedule: "@hourly"\n    selector: {fieldSelector: "status.phase=Bound,constructor!=x"}\n  - name: v\n    kind: PersistentVolume\n    schedule: "@hourly"\n    selector: {fieldSelector: "spec.storageClassName=ssd"}\n`,
      ),
      [
        'targets[0].selector.fieldSelector: "status.phase=Bound,constructor!=x" names fields "status.phase", "constructor", which a PersistentVolumeClaim field selector cannot use (allowed: metadata.name, metadata.namespace) (line 7)',
        'targets[1].selector.fieldSelector: "spec.storageClassName=ssd" names field "spec.storageClassName", which a PersistentVolume field selector cannot use (allowed: metadata.name, metadata.namespace) (line 11)',
      ],
    ],
    [
      "name patterns RE2 cannot match in linear time",
      base(
        `  - name: web\n    kind: Pod\n    schedule: "@hourly"\n    selector:\n      includeNames: ["^web-(?!canary)"]\n      excludeNames: ["(a)\\\\1", "(x"]\n`,
      ),
      [
        'targets[0].selector.includeNames[0]: "^web-(?!canary)" is not supported (invalid or unsupported Perl syntax: `(?!`): names are matched in linear time (RE2 syntax), so backreferences and lookaround are not available (line 8)',
        'targets[0].selector.excludeNames[0]: "(a)\\\\1" is not supported (invalid escape sequence: `\\1`): names are matched in linear time (RE2 syntax), so backreferences and lookaround are not available (line 9)',
        'targets[0].selector.excludeNames[1]: "(x" is not a valid regular expression (line 9)',
      ],
    ],
    [
      "caps of 0 (paused is the way to stop kills)",
      base(
        `  - name: web\n    kind: Pod\n    schedule: "@hourly"\n`,
        `safety:\n  maxKillsPerRound: 0\n  maxPerOwner: 0\n`,
      ),
      [
        "safety.maxKillsPerRound: 0 must be at least 1 (to stop kills, set paused: true) (line 4)",
        "safety.maxPerOwner: 0 must be at least 1 (to stop kills, set paused: true) (line 5)",
      ],
    ],
    [
      "a percentage out of range",
      base(
        `  - name: web\n    kind: Pod\n    schedule: "@hourly"\n    mode: fixed-percent\n    value: 150\n`,
      ),
      ["targets[0].value: 150 must be a percentage in (0, 100] for mode fixed-percent (line 8)"],
    ],
    [
      "a bad blackout window and a bad label selector",
      base(
        `  - name: web\n    kind: Pod\n    schedule: "@hourly"\n    selector: {labelSelector: "app in (a"}\n`,
        `safety:\n  blackout:\n    timesOfDay: ["25:00-09:00"]\n    dates: ["2027-02-29"]\n`,
      ),
      [
        'safety.blackout.timesOfDay[0]: "25:00-09:00" is not a time range "HH:MM-HH:MM" (start and end differ; may wrap midnight) (line 5)',
        'safety.blackout.dates[0]: "2027-02-29" is not a date MM-DD or YYYY-MM-DD (line 6)',
        'targets[0].selector.labelSelector: "app in (a" is not a valid label selector (line 11)',
      ],
    ],
    ["an empty target list", base(" []\n"), ["targets: must list at least one target (line 3)"]],
    ["an empty file", "", ["the config is empty"]],
    [
      "truncated YAML",
      'apiVersion: chaos-monkey.io/v1\ntargets:\n  - name: "web\n',
      ['Missing closing "quote (line 4)'],
    ],
    ["a duplicate key", "kind: a\nkind: b\n", ["Map keys must be unique (line 2)"]],
  ])("rejects %s", (_what, text, expected) => {
    expect(errorsOf(text)).toEqual(expected);
  });
});

describe("loadConfig: safety", () => {
  const safetyOf = (top: string) => {
    const r = loadConfig(base(`  - name: web\n    kind: Pod\n    schedule: "@hourly"\n`, top));
    if (!r.ok) throw new Error(r.errors.join("\n"));
    return r.config.safety;
  };

  it("adds excludedNamespaces to the system namespaces instead of replacing them", () => {
    expect(safetyOf("safety:\n  excludedNamespaces: [monitoring]\n").excludedNamespaces).toEqual([
      "kube-system",
      "kube-public",
      "kube-node-lease",
      "monitoring",
    ]);
    expect(safetyOf("safety:\n  excludedNamespaces: []\n").excludedNamespaces).toEqual([
      "kube-system",
      "kube-public",
      "kube-node-lease",
    ]);
    expect(
      safetyOf("safety:\n  excludedNamespaces: [kube-system, monitoring, monitoring]\n")
        .excludedNamespaces,
    ).toEqual(["kube-system", "kube-public", "kube-node-lease", "monitoring"]);
  });

  it("allowSystemNamespaces lifts only the system namespaces", () => {
    const s = safetyOf(
      "safety:\n  allowSystemNamespaces: true\n  excludedNamespaces: [monitoring]\n",
    );
    expect(s.excludedNamespaces).toEqual(["monitoring"]);
    expect(s.allowSystemNamespaces).toBe(true);
    // A system namespace listed explicitly stays excluded.
    expect(
      safetyOf("safety:\n  allowSystemNamespaces: true\n  excludedNamespaces: [kube-system]\n")
        .excludedNamespaces,
    ).toEqual(["kube-system"]);
  });

  it("accepts caps of 1", () => {
    expect(safetyOf("safety:\n  maxKillsPerRound: 1\n  maxPerOwner: 1\n")).toMatchObject({
      maxKillsPerRound: 1,
      maxPerOwner: 1,
    });
  });
});

describe("loadConfig: targets", () => {
  const targetOf = (target: string) => {
    const r = loadConfig(base(target));
    if (!r.ok) throw new Error(r.errors.join("\n"));
    const [t] = r.config.targets;
    if (!t) throw new Error("no target");
    return t;
  };

  it("takes action.method on volume targets as how consumers are restarted (default evict)", () => {
    const claim = `  - name: c\n    kind: PersistentVolumeClaim\n    schedule: "@hourly"\n`;
    expect(targetOf(claim).action.method).toBe("evict");
    expect(targetOf(`${claim}    action: {method: delete}\n`).action.method).toBe("delete");
    const volume = `  - name: v\n    kind: PersistentVolume\n    schedule: "@hourly"\n`;
    expect(targetOf(`${volume}    action: {method: evict}\n`).action).toMatchObject({
      method: "evict",
      restartConsumers: true,
    });
  });

  it("accepts every field SPEC §2 lists for a kind's field selector", () => {
    const pod = targetOf(
      `  - name: web\n    kind: Pod\n    schedule: "@hourly"\n    selector:\n      fieldSelector: "metadata.name=a,metadata.namespace=b,spec.nodeName=c,spec.restartPolicy=Always,spec.schedulerName=d,spec.serviceAccountName=e,status.nominatedNodeName=,status.phase!=Failed,status.podIP=10.0.0.1"\n`,
    );
    expect(pod.selector.fieldSelector).toContain("status.podIP");
    const claim = targetOf(
      `  - name: c\n    kind: PersistentVolumeClaim\n    schedule: "@hourly"\n    selector: {fieldSelector: "metadata.name=data-0,metadata.namespace!=x"}\n`,
    );
    expect(claim.selector.fieldSelector).toBe("metadata.name=data-0,metadata.namespace!=x");
  });

  it("compiles name patterns for linear-time matching", () => {
    const t = targetOf(
      `  - name: web\n    kind: Pod\n    schedule: "@hourly"\n    selector: {includeNames: ["^(a+)+$", "(?i)^WEB-"]}\n`,
    );
    const [catastrophic, caseless] = t.selector.includeNames;
    // Would never return with RegExp; the bound is vitest's default 5 s test timeout.
    expect(catastrophic?.test(`${"a".repeat(58)}-x`)).toBe(false);
    expect(caseless?.test("web-1")).toBe(true);
    expect(caseless?.source).toBe("(?i)^WEB-");
  });
});

describe("loadConfig: notify", () => {
  const withSinks = (sinks: string) =>
    base(`  - name: web\n    kind: Pod\n    schedule: "@hourly"\n`, `notify:\n${sinks}`);
  const TEAM_AND_AUDIT = withSinks(
    `  - name: team\n    slack: {webhookUrl: "\${SLACK_WEBHOOK_URL}"}\n` +
      `  - name: audit\n    webhook:\n      url: "https://audit.example/\${AUDIT_PATH}"\n` +
      `      headers: {Authorization: "Bearer \${AUDIT_TOKEN}", X-Source: monkey}\n` +
      `    events: [kill, skipped, kill]\n`,
  );
  const ENV = {
    SLACK_WEBHOOK_URL: "https://hooks.slack.example/services/T0/B0/sl4ck-s3cret",
    AUDIT_PATH: "chaos",
    AUDIT_TOKEN: "aud1t-s3cret",
  };

  it("has no sinks by default", () => {
    const r = loadConfig(base(`  - name: web\n    kind: Pod\n    schedule: "@hourly"\n`), {});
    expect(r.ok && r.config.notify).toEqual([]);
  });

  it("expands ${NAME} from the given environment and applies the default events", () => {
    const r = loadConfig(TEAM_AND_AUDIT, ENV);
    if (!r.ok) throw new Error(r.errors.join("\n"));
    const [team, audit] = r.config.notify;
    expect(team).toMatchObject({
      name: "team",
      type: "slack",
      events: ["kill", "recovered", "not_recovered", "round_failed"],
      env: ["SLACK_WEBHOOK_URL"],
    });
    expect(team?.endpoint.reveal()).toEqual({
      url: ENV.SLACK_WEBHOOK_URL,
      headers: {},
      expanded: true,
    });
    expect(audit).toMatchObject({
      type: "webhook",
      events: ["kill", "skipped"],
      env: ["AUDIT_PATH", "AUDIT_TOKEN"],
    });
    expect(audit?.endpoint.reveal()).toEqual({
      url: "https://audit.example/chaos",
      headers: { Authorization: "Bearer aud1t-s3cret", "X-Source": "monkey" },
      expanded: true,
    });
    expect(Object.isFrozen(r.config.notify[0])).toBe(true);
    expect(Object.isFrozen(audit?.endpoint.reveal().headers)).toBe(true);
  });

  it("never shows an expanded value when the config is printed", () => {
    const r = loadConfig(TEAM_AND_AUDIT, ENV);
    const printed = [JSON.stringify(r), inspect(r, { depth: 20, showHidden: true })];
    for (const text of printed) {
      expect(text).not.toContain("s3cret");
      expect(text).not.toContain("hooks.slack.example");
    }
  });

  it("names each missing variable at its path and line, and never a value", () => {
    expect(errorsOf(TEAM_AND_AUDIT, { AUDIT_PATH: "chaos", AUDIT_TOKEN: "" })).toEqual([
      "notify[0].slack.webhookUrl: needs environment variable SLACK_WEBHOOK_URL, which is not set (line 5)",
      "notify[1].webhook.headers.Authorization: needs environment variable AUDIT_TOKEN, which is empty (line 9)",
    ]);
    const several = withSinks(`  - name: a\n    webhook: {url: "\${SCHEME}://\${HOST}/x"}\n`);
    expect(errorsOf(several, { HOST: "" })).toEqual([
      "notify[0].webhook.url: needs environment variable SCHEME, which is not set, and environment variable HOST, which is empty (line 5)",
    ]);
    const bad = errorsOf(TEAM_AND_AUDIT, {
      ...ENV,
      SLACK_WEBHOOK_URL: "ftp://hooks.slack.example/s3cret",
      AUDIT_TOKEN: "aud1t\r\nX-Evil: 1",
    });
    expect(bad).toEqual([
      "notify[0].slack.webhookUrl: is not an http(s) URL once ${SLACK_WEBHOOK_URL} is expanded (line 5)",
      "notify[1].webhook.headers.Authorization: may not contain a line break once ${AUDIT_TOKEN} is expanded (line 9)",
    ]);
  });

  it("without an environment (validate) checks the shape only, and lists what a run needs", () => {
    const r = loadConfig(TEAM_AND_AUDIT);
    if (!r.ok) throw new Error(r.errors.join("\n"));
    expect(r.config.notify[0]?.endpoint.reveal()).toEqual({
      url: "${SLACK_WEBHOOK_URL}",
      headers: {},
      expanded: false,
    });
    expect(requiredEnv(r.config)).toEqual(["AUDIT_PATH", "AUDIT_TOKEN", "SLACK_WEBHOOK_URL"]);
    expect(requiredEnv(TEAM_AND_AUDIT)).toEqual(["AUDIT_PATH", "AUDIT_TOKEN", "SLACK_WEBHOOK_URL"]);
    expect(requiredEnv(EXAMPLE)).toEqual(["AUDIT_TOKEN", "SLACK_WEBHOOK_URL", "STORE_TOKEN"]);
    expect(requiredEnv("not: a config")).toEqual([]);
    // A sink without references needs nothing and is ready to send to.
    const plain = loadConfig(
      withSinks(`  - name: a\n    webhook: {url: "http://127.0.0.1:1/x"}\n`),
    );
    expect(plain.ok && plain.config.notify[0]?.endpoint.reveal().expanded).toBe(true);
  });

  it.each([
    [
      "`on` instead of `events`",
      `  - name: team\n    slack: {webhookUrl: "http://127.0.0.1/x"}\n    on: [kill]\n`,
      [
        "notify[0].on: is not a known key; list a sink's events under `events` (YAML 1.1 reads `on` as true) (line 6)",
      ],
    ],
    [
      "`on` that a YAML 1.1 tool already turned into `true`",
      `  - name: team\n    slack: {webhookUrl: "http://127.0.0.1/x"}\n    true: [kill]\n`,
      [
        "notify[0].true: is not a known key; list a sink's events under `events` (YAML 1.1 reads `on` as true) (line 6)",
      ],
    ],
    [
      "both kinds, neither kind",
      `  - name: a\n    slack: {webhookUrl: "http://127.0.0.1/x"}\n    webhook: {url: "http://127.0.0.1/y"}\n  - name: b\n`,
      [
        "notify[0]: has both slack and webhook; use one (line 4)",
        "notify[1]: needs one of slack or webhook (line 7)",
      ],
    ],
    [
      "a duplicate name",
      `  - name: a\n    slack: {webhookUrl: "http://127.0.0.1/x"}\n  - name: a\n    slack: {webhookUrl: "http://127.0.0.1/y"}\n`,
      ['notify[1].name: "a" is already the name of notify[0] (line 6)'],
    ],
    [
      "URLs that are not http(s), without printing them",
      `  - name: a\n    slack: {webhookUrl: "hooks.slack.example/s3cret"}\n  - name: b\n    webhook: {url: "mailto:s3cret@example"}\n  - name: c\n    webhook: {url: "ftp\${X}"}\n`,
      [
        "notify[0].slack.webhookUrl: is not an http(s) URL (line 5)",
        "notify[1].webhook.url: is not an http(s) URL (line 7)",
        "notify[2].webhook.url: is not an http(s) URL (line 9)",
      ],
    ],
    [
      "a bad header name and a header value with a line break",
      `  - name: a\n    webhook: {url: "http://127.0.0.1/x", headers: {"a b": x, ok: "s3cret\\nX-Evil: 1"}}\n`,
      [
        "notify[0].webhook.headers.a b: is not an HTTP header name (line 5)",
        "notify[0].webhook.headers.ok: may not contain a line break (line 5)",
      ],
    ],
  ])("rejects %s", (_what, sinks, expected) => {
    const errors = errorsOf(withSinks(sinks));
    expect(errors).toEqual(expected);
    for (const e of errors) expect(e).not.toContain("s3cret");
  });
});

describe("steadyState and recovery.objective (SPEC §2)", () => {
  const base = (extra: string) => `apiVersion: chaos-monkey.io/v1
kind: ChaosMonkeyConfig
${extra}
targets:
  - name: web
    kind: Pod
    schedule: "@hourly"
`;
  it("resolves defaults, a target's own block replacing the top-level one, and objectives", () => {
    const r = loadConfig(
      `${base(`recovery: {objective: 60s}
steadyState:
  probes:
    - name: shop
      http: {url: "http://shop:8080/healthz"}`)}  - name: db
    kind: Pod
    schedule: "@hourly"
    recovery: {objective: 2m}
    steadyState:
      interval: 1s
      successThreshold: 3
      before: false
      probes: [{name: errors, prometheus: {url: "http://prom:9090", query: "up", above: 0}}]
`,
      {},
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const [web, db] = r.config.targets;
    expect(web?.recoveryObjectiveMs).toBe(60_000);
    expect(web?.steadyState).toMatchObject({ intervalMs: 2000, successThreshold: 2, before: true });
    expect(web?.steadyState?.probes[0]?.http).toMatchObject({
      method: "GET",
      expectStatus: [{ min: 200, max: 399 }],
      timeoutMs: 1000,
      bodyContains: "",
    });
    expect(db?.recoveryObjectiveMs).toBe(120_000);
    expect(db?.steadyState).toMatchObject({ intervalMs: 1000, successThreshold: 3, before: false });
    expect(db?.steadyState?.probes.map((p) => p.name)).toEqual(["errors"]);
  });

  it("expands ${NAME} in probe URLs and headers from the environment, and never shows the value", () => {
    const text = base(`steadyState:
  probes:
    - name: shop
      http: {url: "http://shop/\${SHOP_PATH}", headers: {Authorization: "Bearer \${SHOP_TOKEN}"}}`);
    const r = loadConfig(text, { SHOP_PATH: "healthz", SHOP_TOKEN: "s3cret" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const http = r.config.targets[0]?.steadyState?.probes[0]?.http;
    expect(http?.url).toBe("http://shop/healthz");
    expect(http?.shownUrl).toBe("http://shop/${SHOP_PATH}");
    expect(http?.headers.reveal()).toEqual({ Authorization: "Bearer s3cret" });
    expect(JSON.stringify(r.config)).not.toContain("s3cret");
    expect(requiredEnv(r.config)).toEqual(["SHOP_PATH", "SHOP_TOKEN"]);
    const missing = loadConfig(text, { SHOP_PATH: "healthz" });
    expect(missing.ok).toBe(false);
    if (missing.ok) return;
    expect(missing.errors).toEqual([
      "steadyState.probes[0].http.headers.Authorization: needs environment variable SHOP_TOKEN, which is not set (line 6)",
    ]);
  });

  it.each([
    [
      "neither kind",
      `probes: [{name: a}]`,
      "steadyState.probes[0]: needs one of http or prometheus",
    ],
    [
      "both kinds",
      `probes: [{name: a, http: {url: "http://a"}, prometheus: {url: "http://p", query: up, below: 1}}]`,
      "steadyState.probes[0]: has both http and prometheus; use one",
    ],
    [
      "no bound",
      `probes: [{name: a, prometheus: {url: "http://p", query: up}}]`,
      "steadyState.probes[0].prometheus: needs exactly one of below or above",
    ],
    [
      "two bounds",
      `probes: [{name: a, prometheus: {url: "http://p", query: up, below: 1, above: 0}}]`,
      "steadyState.probes[0].prometheus: needs exactly one of below or above",
    ],
    [
      "duplicate names",
      `probes: [{name: a, http: {url: "http://a"}}, {name: a, http: {url: "http://b"}}]`,
      'steadyState.probes[1].name: "a" is already the name of probes[0]',
    ],
    [
      "a bad status range",
      `probes: [{name: a, http: {url: "http://a", expectStatus: ["399-200"]}}]`,
      'steadyState.probes[0].http.expectStatus[0]: "399-200" is not an HTTP status or a range like "200-399"',
    ],
    ["no probes", `probes: []`, "steadyState.probes: must list at least one probe"],
    [
      "a threshold of 0",
      `successThreshold: 0\n  probes: [{name: a, http: {url: "http://a"}}]`,
      "steadyState.successThreshold",
    ],
  ])("%s is an error naming where", (_what, block, expected) => {
    const r = loadConfig(base(`steadyState:\n  ${block}`), {});
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.join("\n")).toContain(expected);
  });
});
