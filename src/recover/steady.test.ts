import { describe, expect, it } from "vitest";
import type { CheckRound } from "../probe/loop.js";
import { SteadyWatch } from "./steady.js";

const round = (atMs: number, results: Record<string, "pass" | "fail" | "error">): CheckRound => ({
  atMs,
  checks: Object.entries(results).map(([probe, result]) => ({
    probe,
    outcome: result === "pass" ? { result } : { result, reason: "x" },
  })),
});

describe("SteadyWatch", () => {
  it("is steady once the workload is whole and every probe passed `threshold` times in a row", () => {
    const w = new SteadyWatch(["web", "errors"], 2);
    expect(w.observe(round(1000, { web: "fail", errors: "pass" }), false)).toBeUndefined();
    expect(w.observe(round(3000, { web: "pass", errors: "pass" }), true)).toBeUndefined();
    // Two in a row for both, and whole: steady at this check.
    expect(w.observe(round(5000, { web: "pass", errors: "pass" }), true)).toBe(5000);
    // Failing from the first failed check (1000) to the first all-passing one (3000).
    expect(w.disruptionMs(5000)).toBe(2000);
  });

  it("a failure resets the streak; passes while the workload is not whole still count", () => {
    const w = new SteadyWatch(["web"], 3);
    for (const [t, r] of [
      [2000, "pass"],
      [4000, "pass"],
      [6000, "error"],
      [8000, "pass"],
      [10000, "pass"],
    ] as const)
      expect(w.observe(round(t, { web: r }), true)).toBeUndefined();
    expect(w.observe(round(12000, { web: "pass" }), false)).toBeUndefined();
    expect(w.observe(round(14000, { web: "pass" }), true)).toBe(14000);
    expect(w.disruptionMs(14000)).toBe(2000);
  });

  it("adds up separate spells of failure; an open one counts up to now", () => {
    const w = new SteadyWatch(["a"], 5);
    const seq = ["fail", "pass", "fail", "fail", "pass", "fail"] as const;
    seq.forEach((r, i) => w.observe(round(i * 1000, { a: r }), true));
    // 0→1 s, 2→4 s, and from 5 s still failing at 7 s.
    expect(w.disruptionMs(7000)).toBe(1000 + 2000 + 2000);
    expect(w.neverPassed()).toEqual([]);
    expect(w.notSteady()).toEqual(["a"]);
  });

  it("names the probes that never passed", () => {
    const w = new SteadyWatch(["web", "errors"], 1);
    w.observe(round(1000, { web: "pass", errors: "fail" }), true);
    expect(w.neverPassed()).toEqual(["errors"]);
  });

  it("no failure seen, no disruption", () => {
    const w = new SteadyWatch(["web"], 1);
    expect(w.observe(round(900, { web: "pass" }), true)).toBe(900);
    expect(w.disruptionMs(900)).toBe(0);
  });
});
