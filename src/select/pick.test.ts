import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import type { Mode } from "../config/types.js";
import type { Candidate } from "./candidate.js";
import { consumer, context, owner, pod, pvc, safety, target } from "../../test/fixtures/select.js";
import { killCost, pickVictims, seededShuffle, wantedCount } from "./pick.js";
import type { PickInput, PickResult } from "./pick.js";
import { selectVictims } from "./select.js";

/** `n` Running pods, each with its own owner, so maxPerOwner never binds. */
function pods(n: number, prefix = "p"): Candidate[] {
  return Array.from({ length: n }, (_, i) =>
    pod(`${prefix}-${String(i).padStart(3, "0")}`, { owner: owner(`${prefix}-w${i}`) }),
  );
}

function pick(overrides: Partial<PickInput> & Pick<PickInput, "eligible">): PickResult {
  return pickVictims({
    mode: "all",
    value: 1,
    safety: safety({ maxKillsPerRound: 1000, maxPerOwner: 1000, requireHealthy: false }),
    rng: seedrandom("pick"),
    cost: () => 1,
    healthy: () => true,
    ...overrides,
  });
}

const names = (cs: readonly Candidate[]): string[] => cs.map((c) => c.name);
const reasons = (r: PickResult) => r.drops.map((d) => d.reason);

describe("wantedCount", () => {
  // [mode, value, eligible, wanted]
  const cases: [Mode, number, number, number][] = [
    ["one", 1, 0, 0],
    ["one", 1, 1, 1],
    ["one", 1, 50, 1],
    ["one", 0, 50, 1], // value is not read by "one"
    ["one", 7, 50, 1],
    ["all", 1, 0, 0],
    ["all", 1, 1, 1],
    ["all", 1, 50, 50],
    ["all", 0, 50, 50], // nor by "all"
    ["fixed", 0, 10, 0],
    ["fixed", 1, 0, 0],
    ["fixed", 1, 1, 1],
    ["fixed", 1, 10, 1],
    ["fixed", 3, 10, 3],
    ["fixed", 10, 10, 10],
    ["fixed", 11, 10, 10],
    ["fixed", 1000, 1, 1],
    ["fixed", 2.9, 10, 2],
    ["fixed-percent", 0, 10, 0],
    ["fixed-percent", 50, 0, 0],
    ["fixed-percent", 1, 1, 0],
    ["fixed-percent", 99, 1, 0],
    ["fixed-percent", 100, 1, 1],
    ["fixed-percent", 100, 37, 37],
    ["fixed-percent", 50, 3, 1], // 1.5 floors to 1
    ["fixed-percent", 33, 10, 3], // 3.3
    ["fixed-percent", 34, 3, 1], // 1.02
    ["fixed-percent", 66, 3, 1], // 1.98
    ["fixed-percent", 67, 3, 2], // 2.01
    ["fixed-percent", 10, 9, 0], // 0.9
    ["fixed-percent", 10, 10, 1],
    ["fixed-percent", 25, 100, 25],
    ["random-max-percent", 50, 0, 0],
    ["random-max-percent", 0, 100, 0],
  ];
  it.each(cases)("%s value=%d of %d → %d", (mode, value, eligible, wanted) => {
    expect(wantedCount(mode, value, eligible, seedrandom(`${mode}${value}${eligible}`))).toBe(
      wanted,
    );
  });

  it("random-max-percent stays in [0, floor(n·value/100)] and reaches both ends", () => {
    for (const [n, value] of [
      [1, 100],
      [10, 50],
      [7, 30],
      [100, 100],
      [3, 1],
      [40, 99],
    ] as const) {
      const max = Math.floor((n * value) / 100);
      const seen = new Set<number>();
      for (let seed = 0; seed < 2000; seed++) {
        const k = wantedCount("random-max-percent", value, n, seedrandom(String(seed)));
        expect(Number.isInteger(k)).toBe(true);
        expect(k).toBeGreaterThanOrEqual(0);
        expect(k).toBeLessThanOrEqual(max);
        seen.add(k);
      }
      expect(seen.has(0)).toBe(true);
      expect(seen.has(max)).toBe(true);
    }
  });

  it("random-max-percent draws a whole percentage in [0, value] (100 % is reachable)", () => {
    // rng just below 1 picks the top percentage, rng 0 picks 0 %.
    expect(wantedCount("random-max-percent", 100, 10, () => 0.999999)).toBe(10);
    expect(wantedCount("random-max-percent", 100, 10, () => 0)).toBe(0);
    expect(wantedCount("random-max-percent", 50, 10, () => 0.999999)).toBe(5);
  });
});

describe("pickVictims: counts per mode", () => {
  // [mode, value, eligible, victims]
  const cases: [Mode, number, number, number][] = [
    ["one", 1, 0, 0],
    ["one", 1, 1, 1],
    ["one", 1, 20, 1],
    ["all", 1, 0, 0],
    ["all", 1, 1, 1],
    ["all", 1, 20, 20],
    ["fixed", 1, 0, 0],
    ["fixed", 1, 1, 1],
    ["fixed", 5, 20, 5],
    ["fixed", 50, 20, 20],
    ["fixed-percent", 100, 0, 0],
    ["fixed-percent", 100, 1, 1],
    ["fixed-percent", 100, 20, 20],
    ["fixed-percent", 50, 1, 0],
    ["fixed-percent", 30, 20, 6],
    ["fixed-percent", 33, 20, 6],
  ];
  it.each(cases)("%s value=%d of %d eligible → %d victims", (mode, value, n, victims) => {
    const r = pick({ eligible: pods(n), mode, value });
    expect(r.victims).toHaveLength(victims);
    expect(r.wanted).toBe(victims);
    expect(r.drops).toEqual([]);
    expect(new Set(r.victims).size).toBe(victims);
  });

  it("random-max-percent picks within its bound for many seeds", () => {
    const eligible = pods(20);
    for (let seed = 0; seed < 300; seed++) {
      const r = pick({
        eligible,
        mode: "random-max-percent",
        value: 40,
        rng: seedrandom(`${seed}`),
      });
      expect(r.victims.length).toBe(r.wanted);
      expect(r.victims.length).toBeLessThanOrEqual(8);
    }
  });
});

describe("pickVictims: caps", () => {
  it("maxPerOwner: one owner with many pods gives one victim, the rest are cap drops", () => {
    const web = owner("web");
    const eligible = Array.from({ length: 8 }, (_, i) => pod(`web-${i}`, { owner: web }));
    const r = pick({ eligible, safety: safety({ maxPerOwner: 1, requireHealthy: false }) });
    expect(r.victims).toHaveLength(1);
    expect(reasons(r)).toEqual(Array(7).fill("cap"));
    expect(new Set([...r.victims, ...r.drops.map((d) => d.candidate)]).size).toBe(8);
  });

  it("maxPerOwner: a refused pick makes room for another owner's pod", () => {
    const web = owner("web");
    const eligible = [
      ...Array.from({ length: 5 }, (_, i) => pod(`web-${i}`, { owner: web })),
      pod("db-0", { owner: owner("db", "StatefulSet") }),
      pod("cache-0", { owner: owner("cache") }),
    ];
    for (let seed = 0; seed < 50; seed++) {
      const r = pick({
        eligible,
        mode: "fixed",
        value: 3,
        rng: seedrandom(`${seed}`),
        safety: safety({ maxPerOwner: 1, requireHealthy: false }),
      });
      expect(r.victims).toHaveLength(3);
      expect(new Set(r.victims.map((c) => c.owner?.uid)).size).toBe(3);
    }
  });

  it("maxPerOwner: orphans count as their own owners", () => {
    const eligible = Array.from({ length: 4 }, (_, i) => pod(`bare-${i}`, { owner: undefined }));
    const r = pick({ eligible, safety: safety({ maxPerOwner: 1, requireHealthy: false }) });
    expect(r.victims).toHaveLength(4);
  });

  it("maxPerOwner 2 allows two of one owner", () => {
    const web = owner("web");
    const eligible = Array.from({ length: 6 }, (_, i) => pod(`web-${i}`, { owner: web }));
    const r = pick({ eligible, safety: safety({ maxPerOwner: 2, requireHealthy: false }) });
    expect(r.victims).toHaveLength(2);
    expect(reasons(r)).toEqual(Array(4).fill("cap"));
  });

  it("maxKillsPerRound: mode all with 20 eligible and cap 5 → 5 victims, 15 cap drops", () => {
    const r = pick({
      eligible: pods(20),
      mode: "all",
      safety: safety({ maxKillsPerRound: 5, maxPerOwner: 1, requireHealthy: false }),
    });
    expect(r.wanted).toBe(20);
    expect(r.victims).toHaveLength(5);
    expect(reasons(r)).toEqual(Array(15).fill("cap"));
    const all = [...r.victims, ...r.drops.map((d) => d.candidate)];
    expect(new Set(all).size).toBe(20);
  });

  it("maxKillsPerRound 0 kills nothing and counts every wanted pick as capped", () => {
    const r = pick({
      eligible: pods(4),
      mode: "fixed",
      value: 3,
      safety: safety({ maxKillsPerRound: 0 }),
    });
    expect(r.victims).toEqual([]);
    expect(reasons(r)).toEqual(["cap", "cap", "cap"]);
  });

  it("does not count picks the mode never wanted as capped", () => {
    const r = pick({
      eligible: pods(20),
      mode: "fixed",
      value: 3,
      safety: safety({ maxKillsPerRound: 10 }),
    });
    expect(r.victims).toHaveLength(3);
    expect(r.drops).toEqual([]);
  });
});

describe("pickVictims: kill costs (consumers restarted with a volume count against the cap)", () => {
  /** A claim of its own workload, mounted by `n` pods. */
  const claim = (name: string, n: number): Candidate =>
    pvc(name, {
      owner: owner(`w-${name}`, "StatefulSet"),
      consumers: Array.from({ length: n }, (_, i) => consumer(`${name}-pod-${i}`)),
    });
  const restarting = target({
    kind: "PersistentVolumeClaim",
    action: {
      method: "evict",
      gracePeriodSeconds: undefined,
      stripFinalizers: [],
      restartConsumers: true,
    },
  });
  const costOf = killCost(restarting);
  const spent = (r: PickResult): number => r.victims.reduce((n, c) => n + costOf(c), 0);

  it("killCost is 1 + consumers with restartConsumers, 1 without, and 1 for pods", () => {
    const c = claim("a", 3);
    expect(costOf(c)).toBe(4);
    expect(
      killCost({ ...restarting, action: { ...restarting.action, restartConsumers: false } })(c),
    ).toBe(1);
    expect(killCost(target())(pod("web-1"))).toBe(1);
    expect(costOf(claim("b", 0))).toBe(1);
  });

  it("a victim whose cost does not fit is a cap drop, and the walk goes on to one that fits", () => {
    // Cap 4: "big" (cost 4) fits only as the first pick; after a cost-1 claim it is skipped and
    // the walk takes the remaining cost-1 claims. Mode all draws nothing before the shuffle, so
    // the walk's order is seededShuffle's with the same seed.
    const eligible = [claim("big", 3), claim("s1", 0), claim("s2", 0), claim("s3", 0)];
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const order = names(seededShuffle(eligible, seedrandom(`${seed}`)));
      const r = pick({
        eligible,
        rng: seedrandom(`${seed}`),
        cost: costOf,
        safety: safety({ maxKillsPerRound: 4, maxPerOwner: 1, requireHealthy: false }),
      });
      const small = order.filter((n) => n !== "big");
      const expected =
        order[0] === "big"
          ? { victims: ["big"], drops: small }
          : { victims: small, drops: ["big"] };
      expect({ victims: names(r.victims), drops: names(r.drops.map((d) => d.candidate)) }).toEqual(
        expected,
      );
      expect(reasons(r).every((x) => x === "cap")).toBe(true);
      expect(spent(r)).toBeLessThanOrEqual(4);
      seen.add(order[0] === "big" ? "big first" : "big skipped");
    }
    expect([...seen].sort()).toEqual(["big first", "big skipped"]);
  });

  it("a claim with more consumers than the whole cap is never picked", () => {
    const r = pick({
      eligible: [claim("huge", 10)],
      mode: "one",
      cost: costOf,
      safety: safety({ maxKillsPerRound: 10, requireHealthy: false }),
    });
    expect(r.victims).toEqual([]);
    expect(reasons(r)).toEqual(["cap"]);
  });

  it("with cost 1 everywhere it is the plain per-round cap", () => {
    const r = pick({
      eligible: [claim("a", 0), claim("b", 0), claim("c", 0)],
      cost: costOf,
      safety: safety({ maxKillsPerRound: 2, requireHealthy: false }),
    });
    expect(r.victims).toHaveLength(2);
    expect(reasons(r)).toEqual(["cap"]);
  });

  it("selectVictims charges consumers only when the target restarts them", () => {
    const eligible = [claim("a", 2), claim("b", 2), claim("c", 2)];
    const run = (restartConsumers: boolean) =>
      selectVictims({
        ...context({
          target: {
            ...restarting,
            mode: "all",
            action: { ...restarting.action, restartConsumers },
          },
          safety: safety({ maxKillsPerRound: 6, requireHealthy: false }),
        }),
        candidates: eligible,
        rng: seedrandom("x"),
        healthy: () => true,
      });
    expect(run(true).victims).toHaveLength(2); // 3 + 3 of 6
    expect(run(false).victims).toHaveLength(3);
  });
});

describe("pickVictims: requireHealthy", () => {
  const eligible = pods(6);
  const sick = new Set(["p-001", "p-004"]);
  const healthy = (c: Candidate) => !sick.has(c.name);

  it("drops victims whose workload is not healthy, with reason unhealthy", () => {
    const r = pick({ eligible, healthy, safety: safety({ requireHealthy: true }) });
    expect(names(r.victims).sort()).toEqual(["p-000", "p-002", "p-003", "p-005"]);
    expect(r.drops.map((d) => [d.candidate.name, d.reason]).sort()).toEqual([
      ["p-001", "unhealthy"],
      ["p-004", "unhealthy"],
    ]);
  });

  it("keeps them when requireHealthy is false, without asking", () => {
    const r = pick({
      eligible,
      healthy: () => {
        throw new Error("must not be consulted");
      },
      safety: safety({ requireHealthy: false }),
    });
    expect(r.victims).toHaveLength(6);
    expect(r.drops).toEqual([]);
  });

  it("asks only about the picked victims", () => {
    const asked: string[] = [];
    const r = pick({
      eligible,
      mode: "fixed",
      value: 2,
      healthy: (c) => (asked.push(c.name), true),
      safety: safety({ requireHealthy: true }),
    });
    expect(asked.sort()).toEqual(names(r.victims).sort());
  });
});

describe("pickVictims: reproducibility", () => {
  const eligible = [
    ...pods(12, "a"),
    ...Array.from({ length: 6 }, (_, i) => pod(`web-${i}`, { owner: owner("web") })),
    pod("x", { namespace: "pay", owner: owner("x", "StatefulSet", "pay") }),
    pod("x", { namespace: "dev", owner: owner("x", "StatefulSet", "dev") }),
  ];
  const run = (cs: readonly Candidate[], seed: string, mode: Mode = "fixed") =>
    pickVictims({
      eligible: cs,
      mode,
      value: mode === "fixed" ? 4 : 60,
      safety: safety({ maxKillsPerRound: 3, maxPerOwner: 1, requireHealthy: false }),
      rng: seedrandom(seed),
      cost: () => 1,
      healthy: () => true,
    });
  const reorder = (cs: readonly Candidate[], seed: string) =>
    seededShuffle(cs, seedrandom(`order-${seed}`)).reverse();

  it("the same seed and the same candidates in another order give the same victims", () => {
    for (const mode of ["one", "fixed", "fixed-percent", "random-max-percent", "all"] as Mode[])
      for (let seed = 0; seed < 40; seed++) {
        const first = run(eligible, `${seed}`, mode);
        const again = run(reorder(eligible, `${seed}`), `${seed}`, mode);
        expect(again.victims).toEqual(first.victims);
        expect(again.drops).toEqual(first.drops);
        expect(again.wanted).toBe(first.wanted);
      }
  });

  it("different seeds eventually give different victims", () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 50; seed++)
      outcomes.add(JSON.stringify(names(run(eligible, `s${seed}`).victims)));
    expect(outcomes.size).toBeGreaterThan(10);
  });

  it("mode one reaches every eligible object", () => {
    const seen = new Set<string>();
    const few = pods(5);
    for (let seed = 0; seed < 200; seed++)
      for (const v of run(few, `${seed}`, "one").victims) seen.add(v.name);
    expect([...seen].sort()).toEqual(names(few));
  });

  it("seededShuffle is a permutation that does not depend on input order", () => {
    const once = seededShuffle(eligible, seedrandom("x"));
    expect([...once].sort((a, b) => a.uid.localeCompare(b.uid))).toEqual(
      [...eligible].sort((a, b) => a.uid.localeCompare(b.uid)),
    );
    expect(seededShuffle([...eligible].reverse(), seedrandom("x"))).toEqual(once);
  });
});
