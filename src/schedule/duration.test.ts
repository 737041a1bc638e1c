import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.js";

describe("parseDuration", () => {
  it.each([
    ["90s", 90_000],
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["500ms", 500],
    ["2h", 7_200_000],
    ["1m30s", 90_000],
    ["1.5h", 5_400_000],
    ["0.5s", 500],
    ["1.25m", 75_000],
    ["1s500ms", 1500],
    ["0s", 0],
    ["0", 0],
    ["30m1h", 5_400_000],
  ])("%s = %i ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ["", "empty"],
    ["10", "no unit"],
    ["1d", "unknown unit"],
    ["1us", "unit below ms"],
    ["-5s", "negative"],
    ["+5s", "sign"],
    ["1.5", "decimal without unit"],
    [".5s", "no whole part"],
    ["5.s", "no fraction digits"],
    ["1.0005s", "not whole milliseconds"],
    ["0.5ms", "not whole milliseconds"],
    [" 5s", "leading space"],
    ["5s ", "trailing space"],
    ["5 s", "inner space"],
    ["1h 30m", "space between terms"],
    ["5S", "upper-case unit"],
    ["h", "unit without number"],
    ["1e3ms", "exponent"],
    ["99999999999999999999h", "beyond safe integers"],
  ])("%j is invalid (%s)", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [250, "250ms"],
    [1000, "1s"],
    [1500, "1.5s"],
    [90_000, "1m30s"],
    [90_250, "1m30.25s"],
    [600_000, "10m"],
    [3_600_000, "1h"],
    [3_601_000, "1h1s"],
    [5_400_000, "1h30m"],
    [90_000_000, "25h"],
    [-1500, "-1.5s"],
    [249.6, "250ms"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("rejects non-finite values", () => {
    expect(() => formatDuration(Number.NaN)).toThrow(RangeError);
    expect(() => formatDuration(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it("is read back by parseDuration", () => {
    fc.assert(
      fc.property(fc.nat({ max: 10 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});
