// Recovery as users feel it (SPEC §2 steadyState, §3, §4; issue 12): steady-state probes over a
// service that follows a real Deployment, a PromQL probe on a real Prometheus, recovery
// objectives and the JUnit verdict, read back by an independent JUnit parser (PyPI junitparser).
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { e2eSuite } from "../support/suite.js";
import { evictionsBy } from "../support/audit.js";
import { deploymentReady } from "../support/kube.js";
import { asIdentity, chaosConfig, runMonkey } from "../support/monkey.js";
import { deployment } from "../support/objects.js";
import { Gauge, startPrometheus } from "../support/prometheus.js";
import { FollowingService } from "../support/service.js";
import { LOG } from "../../src/observe/messages.js";

const t = e2eSuite("e2e-steady");

async function workload(name: string, replicas = 2): Promise<void> {
  await t.kube.apps.createNamespacedDeployment({
    namespace: t.ns,
    body: deployment(t.ns, name, { replicas }),
  });
  t.onCleanup(() =>
    t.kube.apps.deleteNamespacedDeployment({ name, namespace: t.ns }).then(
      () => undefined,
      () => undefined,
    ),
  );
  await deploymentReady(t.kube, t.ns, name, replicas);
}

const target = (app: string, extra: Record<string, unknown>) => ({
  name: app,
  kind: "Pod",
  schedule: "@hourly",
  selector: { namespaces: [t.ns], labelSelector: `app=${app}` },
  recovery: { timeout: "60s" },
  ...extra,
});

/** The JUnit report as an independent, maintained parser reads it (junitparser from PyPI). */
function junitCounts(xml: string) {
  const file = join(mkdtempSync(join(tmpdir(), "kcm-junit-")), "report.xml");
  writeFileSync(file, xml);
  const script = [
    "import json, sys",
    "from junitparser import JUnitXml, Failure, Error, Skipped",
    "xml = JUnitXml.fromfile(sys.argv[1])",
    "cases = [c for s in xml for c in s]",
    "kinds = lambda t: [r.message for c in cases for r in c.result if isinstance(r, t)]",
    "print(json.dumps({'tests': xml.tests, 'failures': xml.failures, 'errors': xml.errors, 'skipped': xml.skipped, 'cases': len(cases), 'failureMessages': kinds(Failure), 'skippedMessages': kinds(Skipped)}))",
  ].join("\n");
  return JSON.parse(execFileSync("python3", ["-c", script, file], { encoding: "utf8" })) as {
    tests: number;
    failures: number;
    errors: number;
    skipped: number;
    cases: number;
    failureMessages: string[];
    skippedMessages: string[];
  };
}

describe("steady-state probes", () => {
  // eslint-disable-next-line complexity -- optional chains and defaults on parsed JSON
  it("pods back but the service not: steady comes after recovered by the app's own delay, and the disruption matches the service's record", async () => {
    await workload("shop");
    const brokenMs = 6000;
    const service = new FollowingService(t.kube, t.ns, "shop", brokenMs);
    await service.start();
    t.onCleanup(() => service.stop());
    const interval = 1;
    const cfg = chaosConfig([
      target("shop", {
        steadyState: {
          interval: `${interval}s`,
          successThreshold: 1,
          before: true,
          probes: [
            {
              name: "storefront",
              http: { url: service.url, expectStatus: ["200-299"], timeout: "500ms" },
            },
          ],
        },
        recovery: { timeout: "60s", objective: "2m" },
      }),
    ]);
    const table = await runMonkey(["once", "--config", cfg, ...asIdentity(t.id, t.selfNs)]);
    console.info(`pods back, service not:\n${table.stdout}`);
    expect(table.code, table.stderr).toBe(0);
    // And the same through JSON, for the figures.
    const r = await t.once(cfg);
    expect(r.code, r.stderr).toBe(0);
    const [v] = r.rounds[0]?.victims ?? [];
    expect(v?.outcome).toBe("recovered");
    const { recovered = NaN, steady = NaN } = v?.phases ?? {};
    // The service comes back brokenMs after the pods; the first passing check is at most one
    // interval later (plus the check's own round trip).
    expect(steady - recovered).toBeGreaterThanOrEqual(brokenMs / 1000 - interval);
    expect(steady - recovered).toBeLessThanOrEqual(brokenMs / 1000 + interval + 0.5);
    const outage = service.outages[service.outages.length - 1];
    const outageS = ((outage?.toMs ?? NaN) - (outage?.fromMs ?? NaN)) / 1000;
    expect(Math.abs((v?.disruptionSeconds ?? NaN) - outageS)).toBeLessThanOrEqual(interval + 0.5);
  }, 150_000);

  it("a PromQL probe: failing before the kill skips the round (not_steady); never passing after it times out naming the probe", async () => {
    await workload("cart");
    const errors = new Gauge("e2e_cart_errors");
    await errors.start();
    t.onCleanup(() => errors.stop());
    const prometheus = await startPrometheus([errors.address]);
    t.onCleanup(() => prometheus.stop());
    errors.value = 3;
    const probe = {
      name: "errors",
      prometheus: { url: prometheus.url, query: "max(e2e_cart_errors)", below: 1 },
    };
    // Wait until Prometheus has the series (an empty result would be a failure for another reason).
    await expect
      .poll(
        async () => {
          const res = await fetch(`${prometheus.url}/api/v1/query?query=max(e2e_cart_errors)`);
          const body = (await res.json()) as { data?: { result?: unknown[] } };
          return body.data?.result?.length ?? 0;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(1);
    const before = evictionsBy(t.auditLog, t.id.username).length;
    const skipped = await t.once(
      chaosConfig([
        target("cart", { steadyState: { interval: "1s", before: true, probes: [probe] } }),
      ]),
    );
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.rounds.map((x) => [x.skipped, x.victims.length])).toEqual([["not_steady", 0]]);
    expect(skipped.logs.some((l) => l.msg === LOG.ROUND_SKIPPED && l.reason === "not_steady")).toBe(
      true,
    );
    expect(evictionsBy(t.auditLog, t.id.username).length).toBe(before);
    // Without the before-check the kill happens, and the probe never passes: a timeout.
    const timedOut = await t.once(
      chaosConfig([
        target("cart", {
          steadyState: { interval: "1s", before: false, probes: [probe] },
          recovery: { timeout: "12s" },
        }),
      ]),
    );
    expect(timedOut.code, timedOut.stderr).toBe(3);
    const [v] = timedOut.rounds[0]?.victims ?? [];
    expect(v).toMatchObject({ result: "killed", outcome: "timeout", notSteady: ["errors"] });
    expect(v?.phases.recovered).toBeDefined(); // the pods came back; the service did not
    expect(v?.phases.steady).toBeUndefined();
  }, 150_000);
});

describe("recovery objectives and the CI verdict", () => {
  it("an objective shorter than the recovery: exit 3, one failed JUnit testcase saying why, an Event saying objective missed", async () => {
    await workload("pay");
    const missed = await runMonkey([
      "once",
      "--config",
      chaosConfig([target("pay", { recovery: { timeout: "60s", objective: "200ms" } })]),
      ...asIdentity(t.id, t.selfNs),
      "--output",
      "junit",
    ]);
    expect(missed.code, missed.stderr).toBe(3);
    const report = junitCounts(missed.stdout);
    expect(report).toMatchObject({ tests: 1, failures: 1, errors: 0, skipped: 0, cases: 1 });
    expect(report.failureMessages[0]).toMatch(
      /^objective missed: recovered in \d+\.\d+s, objective 0\.2s$/,
    );
    const events = await t.kube.core.listNamespacedEvent({ namespace: t.ns });
    expect(
      events.items.some(
        (e) => e.reason === "ChaosRecovered" && (e.message ?? "").includes("objective missed"),
      ),
    ).toBe(true);
    const met = await runMonkey([
      "once",
      "--config",
      chaosConfig([target("pay", { recovery: { timeout: "60s", objective: "60s" } })]),
      ...asIdentity(t.id, t.selfNs),
      "--output",
      "junit",
    ]);
    expect(met.code, met.stderr).toBe(0);
    expect(junitCounts(met.stdout)).toMatchObject({ tests: 1, failures: 0, errors: 0, skipped: 0 });
  }, 150_000);

  it("a skipped round is a skipped testcase", async () => {
    const r = await runMonkey([
      "once",
      "--config",
      chaosConfig([target("nothing-here", {})], { paused: true }),
      ...asIdentity(t.id, t.selfNs),
      "--output",
      "junit",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(junitCounts(r.stdout)).toMatchObject({
      tests: 1,
      failures: 0,
      skipped: 1,
      skippedMessages: ["skipped: paused"],
    });
  });
});
