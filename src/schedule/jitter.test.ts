import fc from "fast-check";
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { jitterDelay, tickJitter } from "./jitter.js";

const constant = (value: number) => () => value;

describe("jitterDelay", () => {
  it("is 0 for no jitter, without drawing", () => {
    let draws = 0;
    expect(
      jitterDelay(0, () => {
        draws += 1;
        return 0.5;
      }),
    ).toBe(0);
    expect(draws).toBe(0);
  });

  it.each([
    [30_000, 0, 0],
    [30_000, 0.5, 15_000],
    [30_000, 0.999_999_999, 29_999],
    [1, 0.999, 0],
    [2.5, 0.99, 2],
  ])("jitter %d ms with draw %d → %d", (jitterMs, draw, expected) => {
    expect(jitterDelay(jitterMs, constant(draw))).toBe(expected);
  });

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY]])("rejects jitter %d", (jitterMs) => {
    expect(() => jitterDelay(jitterMs, constant(0))).toThrow(RangeError);
  });

  it.each([[1], [-0.1], [Number.NaN]])("rejects an rng that returns %d", (draw) => {
    expect(() => jitterDelay(1000, constant(draw))).toThrow(RangeError);
  });

  it("is reproducible from a seed and spreads evenly", () => {
    const draw = (seed: string): number[] => {
      const rng = seedrandom(seed);
      return Array.from({ length: 10_000 }, () => jitterDelay(10, rng));
    };
    const values = draw("chaos");
    expect(draw("chaos")).toEqual(values);
    const counts = Array.from(
      { length: 10 },
      (_, bucket) => values.filter((v) => v === bucket).length,
    );
    for (const count of counts) expect(count).toBeGreaterThan(900);
    for (const count of counts) expect(count).toBeLessThan(1100);
  });

  it("always returns a whole number in [0, jitter)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 1e9, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (jitterMs, draw) => {
          const delay = jitterDelay(jitterMs, constant(draw));
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(jitterMs);
        },
      ),
    );
  });
});

describe("tickJitter", () => {
  it("is the same for the same target and tick (every replica agrees), in [0, jitter)", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.integer({ min: 0, max: 2 ** 42 }),
        fc.integer({ min: 1, max: 3_600_000 }),
        (t, tick, j) => {
          const a = tickJitter(j, t, tick);
          expect(tickJitter(j, t, tick)).toBe(a);
          expect(a).toBeGreaterThanOrEqual(0);
          expect(a).toBeLessThan(j);
        },
      ),
    );
  });
  it("differs across ticks and targets (not one fixed delay)", () => {
    const draws = new Set([0, 1, 2, 3, 4, 5].map((i) => tickJitter(60_000, "web", i * 600_000)));
    draws.add(tickJitter(60_000, "db", 0));
    expect(draws.size).toBeGreaterThan(5);
  });
});
