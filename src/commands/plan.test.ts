import { describe, expect, it } from "vitest";
import { main } from "../cli.js";
import { loadConfig } from "../config/load.js";
import { parseRfc3339, planFires } from "./plan.js";

const config = (extra: string) => {
  const r = loadConfig(
    `apiVersion: chaos-monkey.io/v1
kind: ChaosMonkeyConfig
${extra}
targets:
  - name: web
    kind: Pod
    schedule: "*/30 * * * *"
    timezone: Europe/Prague
`,
    {},
  );
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.config;
};

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    env: {},
    io: { out: (s) => out.push(s), err: (s) => err.push(s) },
    stop: new AbortController().signal,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("plan --from", () => {
  it("parses RFC 3339 with Z, an offset and fractions", () => {
    expect(parseRfc3339("2026-03-29T00:30:00+01:00")).toBe(Date.UTC(2026, 2, 28, 23, 30));
    expect(parseRfc3339("2026-03-29T00:30:00Z")).toBe(Date.UTC(2026, 2, 29, 0, 30));
    expect(parseRfc3339("2026-03-29t00:30:00.250-02:30")).toBe(Date.UTC(2026, 2, 29, 3, 0, 0, 250));
  });

  it.each([
    "2026-03-29",
    "2026-03-29T00:30:00",
    "2026-02-30T00:00:00Z",
    "2026-02-28T24:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-03-29T00:30:00+25:00",
    "tomorrow",
    "1774740600",
  ])("rejects %s", (text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });

  it("lists the Europe/Prague DST day: 02:00 local does not exist, the clock jumps to 03:00", () => {
    const from = parseRfc3339("2026-03-29T01:00:00+01:00") ?? 0;
    const c = config("");
    const lines = planFires(c, c.targets[0]!, { nowMs: from, count: 4 });
    expect(lines.map((l) => l.trim())).toEqual([
      "2026-03-29 01:30:00 GMT+1",
      "2026-03-29 03:00:00 GMT+2",
      "2026-03-29 03:30:00 GMT+2",
      "2026-03-29 04:00:00 GMT+2",
    ]);
  });

  it("marks blackouts in the target's zone, not UTC", () => {
    // 08:00 Prague (CEST) is 06:00 UTC: a 07:00-09:00 window holds in Prague only.
    const from = parseRfc3339("2026-06-01T05:45:00Z") ?? 0;
    const c = config(`safety: {blackout: {timesOfDay: ["07:00-09:00"]}}`);
    const lines = planFires(c, c.targets[0]!, { nowMs: from, count: 2 });
    expect(lines.map((l) => l.trim())).toEqual([
      "2026-06-01 08:00:00 GMT+2  BLACKOUT (skipped)",
      "2026-06-01 08:30:00 GMT+2  BLACKOUT (skipped)",
    ]);
  });

  it("a bad TIME is a usage error naming it (exit 2), before any cluster is touched", async () => {
    const r = await cli("plan", "--config", "/nonexistent.yaml", "--from", "2026-02-30T00:00Z");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--from");
    expect(r.err).toContain("2026-02-30T00:00Z");
    expect(r.err).toMatch(/RFC 3339/);
  });

  it("--help documents --from", async () => {
    const r = await cli("plan", "--help");
    expect(r.code).toBe(0);
    expect(r.out).toContain("--from <time>");
  });
});
