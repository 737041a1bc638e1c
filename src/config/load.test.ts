import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./load.js";

const EXAMPLE = readFileSync(new URL("../../config/example.yaml", import.meta.url), "utf8");

const base = (targets: string, top = "") => `apiVersion: chaos-monkey.io/v1
kind: ChaosMonkeyConfig
${top}targets:
${targets}`;

function errorsOf(text: string): readonly string[] {
  const r = loadConfig(text);
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
        method: "delete",
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
      "pod-only settings on a volume target",
      base(
        `  - name: v\n    kind: PersistentVolume\n    schedule: "@hourly"\n    selector: {includeOrphans: true}\n    action: {method: evict}\n`,
      ),
      [
        "targets[0].selector.includeOrphans: applies to Pod targets only (line 7)",
        "targets[0].action.method: applies to Pod targets only (volumes are always deleted) (line 8)",
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
