import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { activeWindow, isActive, nextActive, NEXT_ACTIVE_HORIZON_MS } from "./active.js";
import type { ActiveWindow } from "./active.js";
import type { Blackout } from "./blackout.js";

const NONE: Blackout = { weekdays: [], timesOfDay: [], dates: [] };
// Weekends, nights 18:00-09:00 and Christmas Eve, as in config/example.yaml.
const OFFICE: Blackout = {
  weekdays: [6, 0],
  timesOfDay: [{ startMinute: 18 * 60, endMinute: 9 * 60 }],
  dates: [{ month: 12, day: 24 }],
};
const at = (iso: string) => new Date(iso);
const win = (blackout: Blackout, timezone = "UTC", paused = false): ActiveWindow => ({
  paused,
  blackout,
  timezone,
});

describe("isActive", () => {
  it.each([
    ["no blackout", win(NONE), "2026-11-18T03:00:00Z", true],
    ["paused", win(NONE, "UTC", true), "2026-11-18T12:00:00Z", false],
    ["a Wednesday noon", win(OFFICE), "2026-11-18T12:00:00Z", true],
    ["08:59:59, inside a window that wraps midnight", win(OFFICE), "2026-11-18T08:59:59Z", false],
    ["09:00:00, the window's exclusive end", win(OFFICE), "2026-11-18T09:00:00Z", true],
    ["17:59:59.999", win(OFFICE), "2026-11-18T17:59:59.999Z", true],
    ["18:00", win(OFFICE), "2026-11-18T18:00:00Z", false],
    ["a Saturday noon", win(OFFICE), "2026-11-21T12:00:00Z", false],
    ["Christmas Eve noon (a Thursday)", win(OFFICE), "2026-12-24T12:00:00Z", false],
    // 10:30 UTC is 11:30 in Prague (CET) but 05:30 in New York (EST): the target's zone decides.
    ["10:30 UTC in Prague", win(OFFICE, "Europe/Prague"), "2026-11-18T10:30:00Z", true],
    ["10:30 UTC in New York", win(OFFICE, "America/New_York"), "2026-11-18T10:30:00Z", false],
  ])("%s", (_what, window, iso, expected) => {
    expect(isActive(window, at(iso))).toBe(expected);
  });

  it("reads paused from the config and the zone from the target", () => {
    const config = { paused: false, safety: { blackout: OFFICE } };
    expect(activeWindow(config, { timezone: "Asia/Tokyo" })).toEqual(win(OFFICE, "Asia/Tokyo"));
  });
});

describe("nextActive", () => {
  it.each([
    ["now, when active now", win(OFFICE), "2026-11-18T12:34:56.789Z", "2026-11-18T12:34:56.789Z"],
    ["the end of tonight's window", win(OFFICE), "2026-11-18T18:00:00Z", "2026-11-19T09:00:00Z"],
    [
      "the next whole minute inside one",
      win(OFFICE),
      "2026-11-19T08:59:30Z",
      "2026-11-19T09:00:00Z",
    ],
    ["Monday 09:00 from Friday night", win(OFFICE), "2026-11-20T19:00:00Z", "2026-11-23T09:00:00Z"],
    // Thursday the 24th is blacked out all day, Friday morning until 09:00.
    ["past Christmas Eve", win(OFFICE), "2026-12-23T20:00:00Z", "2026-12-25T09:00:00Z"],
    // 09:00 in Prague is 08:00 UTC in winter and 07:00 UTC in summer.
    [
      "in the target's zone",
      win(OFFICE, "Europe/Prague"),
      "2026-11-18T05:00:00Z",
      "2026-11-18T08:00:00Z",
    ],
    [
      "across a DST change",
      win(OFFICE, "Europe/Prague"),
      "2026-03-27T20:00:00Z",
      "2026-03-30T07:00:00Z",
    ],
  ])("%s", (_what, window, from, expected) => {
    expect(nextActive(window, at(from))?.getTime()).toBe(Date.parse(expected));
  });

  it("is undefined while paused, and when blacked out beyond the horizon", () => {
    expect(nextActive(win(NONE, "UTC", true), at("2026-11-18T12:00:00Z"))).toBeUndefined();
    const always = win({ weekdays: [0, 1, 2, 3, 4, 5, 6], timesOfDay: [], dates: [] });
    const started = performance.now();
    expect(nextActive(always, at("2026-11-18T12:00:00Z"))).toBeUndefined();
    // The whole two weeks, minute by minute, stays quick enough for `plan`.
    expect(performance.now() - started).toBeLessThan(2000);
    const weekend = win({ weekdays: [6, 0], timesOfDay: [], dates: [] });
    const saturday = at("2026-11-21T00:00:00Z");
    expect(nextActive(weekend, saturday, 86_400_000)).toBeUndefined();
    expect(nextActive(weekend, saturday, 2 * 86_400_000)?.toISOString()).toBe(
      "2026-11-23T00:00:00.000Z",
    );
    expect(NEXT_ACTIVE_HORIZON_MS).toBe(14 * 86_400_000);
  });
});

/** The definition: from, then every whole minute after it, one by one. */
function nextActiveByMinute(window: ActiveWindow, from: Date, horizonMs: number): Date | undefined {
  if (isActive(window, from)) return from;
  for (
    let t = Math.floor(from.getTime() / 60_000) * 60_000 + 60_000;
    t <= from.getTime() + horizonMs;
    t += 60_000
  )
    if (isActive(window, new Date(t))) return new Date(t);
  return undefined;
}

describe("nextActive agrees with checking every minute", () => {
  const minute = fc.integer({ min: 0, max: 1439 });
  const range = fc
    .tuple(minute, minute)
    .filter(([a, b]) => a !== b)
    .map(([startMinute, endMinute]) => ({ startMinute, endMinute }));
  const blackout = fc.record({
    weekdays: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { maxLength: 6 }),
    timesOfDay: fc.array(range, { maxLength: 3 }),
    dates: fc.array(
      fc.record({ month: fc.constantFrom(3, 10, 11), day: fc.integer({ min: 1, max: 31 }) }),
      { maxLength: 3 },
    ),
  });
  // Zones with 1-hour and 30-minute DST shifts, both hemispheres, and a :45 offset.
  const zone = fc.constantFrom(
    "UTC",
    "Europe/Prague",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/Santiago",
  );
  // Around the March and October/November DST changes of 2026.
  const from = fc.oneof(
    fc.integer({
      min: Date.parse("2026-03-25T00:00:00Z"),
      max: Date.parse("2026-04-08T00:00:00Z"),
    }),
    fc.integer({
      min: Date.parse("2026-10-01T00:00:00Z"),
      max: Date.parse("2026-11-05T00:00:00Z"),
    }),
  );

  it("for random windows, zones and starts", () => {
    fc.assert(
      fc.property(blackout, zone, from, (b, z, f) => {
        const window = win(b, z);
        const horizon = 4 * 86_400_000;
        expect(nextActive(window, new Date(f), horizon)?.getTime()).toBe(
          nextActiveByMinute(window, new Date(f), horizon)?.getTime(),
        );
      }),
      { numRuns: 150 },
    );
  });
});
