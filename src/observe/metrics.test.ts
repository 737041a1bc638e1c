import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createMetrics, RECOVERY_BUCKETS, type Metrics } from "./metrics.js";

function fresh(): { metrics: Metrics; registry: Registry } {
  const registry = new Registry();
  return { metrics: createMetrics({ registry, version: "1.2.3" }), registry };
}

/** The value of one sample in the exposition text, or undefined when the series is absent. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const found = parseLabels(match[2] ?? "");
    const same =
      Object.keys(found).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => found[k] === v);
    if (same) return Number(match[3]);
  }
  return undefined;
}

function parseLabels(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of body.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) out[m[1] ?? ""] = m[2] ?? "";
  return out;
}

function typeOf(text: string, name: string): string | undefined {
  return new RegExp(`^# TYPE ${name} (\\w+)$`, "m").exec(text)?.[1];
}

describe("createMetrics", () => {
  it("declares a loaded target's counters at 0 and keeps what was counted", async () => {
    const { metrics, registry } = fresh();
    metrics.roundSkipped("web", "pdb");
    metrics.incInFlight("web");
    metrics.declareTarget("web", "Pod");
    const text = await registry.metrics();
    for (const outcome of ["ran", "failed"])
      expect(sample(text, "chaos_monkey_rounds_total", { target: "web", outcome })).toBe(0);
    expect(sample(text, "chaos_monkey_rounds_total", { target: "web", outcome: "skipped" })).toBe(
      1,
    );
    expect(sample(text, "chaos_monkey_skips_total", { target: "web", reason: "pdb" })).toBe(1);
    expect(sample(text, "chaos_monkey_skips_total", { target: "web", reason: "cap" })).toBe(0);
    for (const outcome of ["recovered", "timeout", "gone", "aborted"])
      expect(
        sample(text, "chaos_monkey_recoveries_total", { target: "web", kind: "Pod", outcome }),
      ).toBe(0);
    expect(sample(text, "chaos_monkey_recoveries_in_flight", { target: "web" })).toBe(1);
    expect(text.match(/^chaos_monkey_skips_total\{/gm)).toHaveLength(10);
  });

  it("exposes every SPEC §5 metric with its type after use", async () => {
    const { metrics, registry } = fresh();
    metrics.roundRan("web");
    metrics.roundSkipped("web", "paused");
    metrics.kill("web", "pod", "shop", "killed");
    metrics.finalizerStripped("pvc", "kubernetes.io/pvc-protection");
    metrics.recoveryPhase({
      target: "web",
      kind: "pod",
      namespace: "shop",
      phase: "ready",
      seconds: 3,
    });
    metrics.recoveryOutcome("web", "pod", "recovered");
    metrics.setInFlight("web", 2);
    metrics.setEligible("web", 7);
    metrics.setLastRound("web", 1_700_000_000);
    metrics.setNextRound("web", 1_700_000_600);
    metrics.error("list");
    metrics.configReload("success");
    metrics.setLeader(true);
    metrics.setDryRun(false);
    metrics.setActive("web", true);
    metrics.notification("team", "sent");
    metrics.disruption("web", 4.2);
    metrics.probeCheck("web", "storefront", "fail");
    metrics.objectiveMiss("web");
    metrics.setObjective("web", 60);
    const text = await registry.metrics();

    const expected: [string, string][] = [
      ["chaos_monkey_rounds_total", "counter"],
      ["chaos_monkey_skips_total", "counter"],
      ["chaos_monkey_kills_total", "counter"],
      ["chaos_monkey_finalizers_stripped_total", "counter"],
      ["chaos_monkey_recovery_seconds", "histogram"],
      ["chaos_monkey_recoveries_total", "counter"],
      ["chaos_monkey_recoveries_in_flight", "gauge"],
      ["chaos_monkey_eligible_objects", "gauge"],
      ["chaos_monkey_last_round_timestamp_seconds", "gauge"],
      ["chaos_monkey_next_round_timestamp_seconds", "gauge"],
      ["chaos_monkey_errors_total", "counter"],
      ["chaos_monkey_config_reloads_total", "counter"],
      ["chaos_monkey_is_leader", "gauge"],
      ["chaos_monkey_dry_run", "gauge"],
      ["chaos_monkey_active", "gauge"],
      ["chaos_monkey_notifications_total", "counter"],
      ["chaos_monkey_disruption_seconds", "histogram"],
      ["chaos_monkey_probe_checks_total", "counter"],
      ["chaos_monkey_objective_misses_total", "counter"],
      ["chaos_monkey_recovery_objective_seconds", "gauge"],
      ["chaos_monkey_build_info", "gauge"],
    ];
    for (const [name, type] of expected) expect(typeOf(text, name), name).toBe(type);
    const declared = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    expect(declared.sort()).toEqual(expected.map(([name]) => name).sort());

    expect(sample(text, "chaos_monkey_rounds_total", { target: "web", outcome: "ran" })).toBe(1);
    expect(
      sample(text, "chaos_monkey_kills_total", {
        target: "web",
        kind: "pod",
        namespace: "shop",
        result: "killed",
      }),
    ).toBe(1);
    expect(
      sample(text, "chaos_monkey_finalizers_stripped_total", {
        kind: "pvc",
        finalizer: "kubernetes.io/pvc-protection",
      }),
    ).toBe(1);
    expect(
      sample(text, "chaos_monkey_recovery_seconds_sum", {
        target: "web",
        kind: "pod",
        namespace: "shop",
        phase: "ready",
      }),
    ).toBe(3);
    expect(
      sample(text, "chaos_monkey_recoveries_total", {
        target: "web",
        kind: "pod",
        outcome: "recovered",
      }),
    ).toBe(1);
    expect(sample(text, "chaos_monkey_recoveries_in_flight", { target: "web" })).toBe(2);
    expect(sample(text, "chaos_monkey_eligible_objects", { target: "web" })).toBe(7);
    expect(sample(text, "chaos_monkey_last_round_timestamp_seconds", { target: "web" })).toBe(
      1_700_000_000,
    );
    expect(sample(text, "chaos_monkey_next_round_timestamp_seconds", { target: "web" })).toBe(
      1_700_000_600,
    );
    expect(sample(text, "chaos_monkey_errors_total", { operation: "list" })).toBe(1);
    expect(sample(text, "chaos_monkey_config_reloads_total", { result: "success" })).toBe(1);
    expect(sample(text, "chaos_monkey_is_leader")).toBe(1);
    expect(sample(text, "chaos_monkey_dry_run")).toBe(0);
    expect(sample(text, "chaos_monkey_active", { target: "web" })).toBe(1);
    expect(sample(text, "chaos_monkey_notifications_total", { sink: "team", result: "sent" })).toBe(
      1,
    );
  });

  it("active follows each target; notifications count per sink and result", async () => {
    const { metrics, registry } = fresh();
    metrics.setActive("web", true);
    metrics.setActive("db", true);
    metrics.setActive("web", false);
    metrics.declareSink("team");
    metrics.declareSink("audit");
    metrics.notification("team", "failed");
    metrics.notification("team", "dropped");
    metrics.notification("team", "dropped");
    const text = await registry.metrics();
    expect(sample(text, "chaos_monkey_active", { target: "web" })).toBe(0);
    expect(sample(text, "chaos_monkey_active", { target: "db" })).toBe(1);
    const count = (sink: string, result: string) =>
      sample(text, "chaos_monkey_notifications_total", { sink, result });
    expect([count("team", "sent"), count("team", "failed"), count("team", "dropped")]).toEqual([
      0, 1, 2,
    ]);
    expect([count("audit", "sent"), count("audit", "failed"), count("audit", "dropped")]).toEqual([
      0, 0, 0,
    ]);
  });

  it("sets build_info{version} to 1 at creation", async () => {
    const { registry } = fresh();
    const text = await registry.metrics();
    expect(sample(text, "chaos_monkey_build_info", { version: "1.2.3" })).toBe(1);
  });

  it("uses exactly the SPEC recovery buckets", async () => {
    const { metrics, registry } = fresh();
    metrics.recoveryPhase({
      target: "db",
      kind: "pvc",
      namespace: "data",
      phase: "recovered",
      seconds: 0.7,
    });
    const text = await registry.metrics();
    const les = [
      ...text.matchAll(/^chaos_monkey_recovery_seconds_bucket\{.*le="([^"]+)".*\}/gm),
    ].map((m) => m[1]);
    expect(les).toEqual([
      "0.5",
      "1",
      "2",
      "5",
      "10",
      "15",
      "30",
      "60",
      "120",
      "300",
      "600",
      "1800",
      "+Inf",
    ]);
    expect(RECOVERY_BUCKETS).toEqual([0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800]);
    const labels = { target: "db", kind: "pvc", namespace: "data", phase: "recovered" };
    expect(sample(text, "chaos_monkey_recovery_seconds_bucket", { ...labels, le: "0.5" })).toBe(0);
    expect(sample(text, "chaos_monkey_recovery_seconds_bucket", { ...labels, le: "1" })).toBe(1);
    expect(sample(text, "chaos_monkey_recovery_seconds_count", labels)).toBe(1);
  });

  describe("skips", () => {
    it("a skipped round counts the round and its reason", async () => {
      const { metrics, registry } = fresh();
      metrics.roundSkipped("web", "blackout");
      metrics.roundSkipped("web", "blackout");
      metrics.roundSkipped("web", "not_leader");
      const text = await registry.metrics();
      expect(sample(text, "chaos_monkey_rounds_total", { target: "web", outcome: "skipped" })).toBe(
        3,
      );
      expect(sample(text, "chaos_monkey_skips_total", { target: "web", reason: "blackout" })).toBe(
        2,
      );
      expect(
        sample(text, "chaos_monkey_skips_total", { target: "web", reason: "not_leader" }),
      ).toBe(1);
    });

    it("victim-level skips count only skips_total, by the given count", async () => {
      const { metrics, registry } = fresh();
      metrics.roundRan("web");
      metrics.skipped("web", "pdb", 3);
      metrics.skipped("web", "cap");
      const text = await registry.metrics();
      expect(sample(text, "chaos_monkey_skips_total", { target: "web", reason: "pdb" })).toBe(3);
      expect(sample(text, "chaos_monkey_skips_total", { target: "web", reason: "cap" })).toBe(1);
      expect(sample(text, "chaos_monkey_rounds_total", { target: "web", outcome: "ran" })).toBe(1);
      expect(
        sample(text, "chaos_monkey_rounds_total", { target: "web", outcome: "skipped" }),
      ).toBeUndefined();
    });

    it("a failed round is its own outcome", async () => {
      const { metrics, registry } = fresh();
      metrics.roundFailed("web");
      const text = await registry.metrics();
      expect(sample(text, "chaos_monkey_rounds_total", { target: "web", outcome: "failed" })).toBe(
        1,
      );
    });
  });

  it.each([
    ["killed", 1],
    ["dry_run", 1],
    ["failed", 1],
  ] as const)("counts kills with result=%s", async (result, want) => {
    const { metrics, registry } = fresh();
    metrics.kill("web", "pod", "shop", result);
    const text = await registry.metrics();
    expect(
      sample(text, "chaos_monkey_kills_total", {
        target: "web",
        kind: "pod",
        namespace: "shop",
        result,
      }),
    ).toBe(want);
  });

  describe("in-flight recoveries", () => {
    it("increments and decrements per target", async () => {
      const { metrics, registry } = fresh();
      metrics.incInFlight("a");
      metrics.incInFlight("a");
      metrics.incInFlight("b");
      metrics.decInFlight("a");
      const text = await registry.metrics();
      expect(sample(text, "chaos_monkey_recoveries_in_flight", { target: "a" })).toBe(1);
      expect(sample(text, "chaos_monkey_recoveries_in_flight", { target: "b" })).toBe(1);
    });

    it("never goes below zero", async () => {
      const { metrics, registry } = fresh();
      metrics.incInFlight("a");
      metrics.decInFlight("a");
      metrics.decInFlight("a");
      expect(
        sample(await registry.metrics(), "chaos_monkey_recoveries_in_flight", { target: "a" }),
      ).toBe(0);
      metrics.incInFlight("a");
      expect(
        sample(await registry.metrics(), "chaos_monkey_recoveries_in_flight", { target: "a" }),
      ).toBe(1);
    });

    it("continues from a value set explicitly", async () => {
      const { metrics, registry } = fresh();
      metrics.setInFlight("a", 5);
      metrics.decInFlight("a");
      const text = await registry.metrics();
      expect(sample(text, "chaos_monkey_recoveries_in_flight", { target: "a" })).toBe(4);
    });
  });

  it("forgetTarget removes that target's gauges and keeps its counters and other targets", async () => {
    const { metrics, registry } = fresh();
    for (const target of ["gone", "kept"]) {
      metrics.setInFlight(target, 1);
      metrics.setEligible(target, 4);
      metrics.setLastRound(target, 100);
      metrics.setNextRound(target, 200);
      metrics.setActive(target, true);
      metrics.roundRan(target);
    }
    metrics.forgetTarget("gone");
    const text = await registry.metrics();
    for (const name of [
      "chaos_monkey_recoveries_in_flight",
      "chaos_monkey_eligible_objects",
      "chaos_monkey_last_round_timestamp_seconds",
      "chaos_monkey_next_round_timestamp_seconds",
      "chaos_monkey_active",
    ]) {
      expect(sample(text, name, { target: "gone" }), name).toBeUndefined();
      expect(sample(text, name, { target: "kept" }), name).toBeDefined();
    }
    expect(sample(text, "chaos_monkey_rounds_total", { target: "gone", outcome: "ran" })).toBe(1);

    // A forgotten target that comes back starts counting in-flight from zero.
    metrics.incInFlight("gone");
    expect(
      sample(await registry.metrics(), "chaos_monkey_recoveries_in_flight", { target: "gone" }),
    ).toBe(1);
  });

  it("forgetTarget of an unknown target is harmless", () => {
    const { metrics } = fresh();
    expect(() => metrics.forgetTarget("never-seen")).not.toThrow();
  });

  it("separate registries do not interfere", async () => {
    const a = fresh();
    const b = fresh();
    a.metrics.roundRan("web");
    a.metrics.roundRan("web");
    b.metrics.roundRan("web");
    const textA = await a.registry.metrics();
    const textB = await b.registry.metrics();
    expect(sample(textA, "chaos_monkey_rounds_total", { target: "web", outcome: "ran" })).toBe(2);
    expect(sample(textB, "chaos_monkey_rounds_total", { target: "web", outcome: "ran" })).toBe(1);
  });

  it("creates its own registry when none is given, leaving the global one alone", async () => {
    const { register } = await import("prom-client");
    const before = await register.metrics();
    const metrics = createMetrics({ version: "0.0.0" });
    metrics.roundRan("web");
    expect(metrics.registry).not.toBe(register);
    expect(await register.metrics()).toBe(before);
    expect(typeOf(await metrics.registry.metrics(), "chaos_monkey_rounds_total")).toBe("counter");
  });

  it("adds process and Node.js metrics only when collectDefault is set", async () => {
    const withDefaults = new Registry();
    createMetrics({ registry: withDefaults, version: "1", collectDefault: true });
    const on = await withDefaults.metrics();
    expect(typeOf(on, "process_cpu_user_seconds_total")).toBe("counter");
    expect(typeOf(on, "nodejs_heap_size_total_bytes")).toBe("gauge");

    const { registry } = fresh();
    const off = await registry.metrics();
    expect(off).not.toContain("process_cpu_user_seconds_total");
    expect(off).not.toContain("nodejs_");
  });
});
