import { CronExpressionParser } from "cron-parser";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextFire, parseSchedule, type Schedule } from "./cron.js";

const HOUR = 3_600_000;

function schedule(expr: string): Schedule {
  const parsed = parseSchedule(expr);
  if (!parsed.ok) throw new Error(`${expr}: ${parsed.error}`);
  return parsed.schedule;
}

// Small pieces that make schedules which still touch DST edges: fixed hours inside repeated or
// skipped hours, every-hour forms, seconds, leap days.
const timeOfDay = fc.record({
  second: fc.constantFrom(undefined, "0", "*/20", "45"),
  minute: fc.constantFrom("0", "30", "*/15", "*/7", "5,35", "59"),
  hour: fc.constantFrom("*", "0", "1", "2", "3", "1-3", "*/2", "2,14"),
});
const join = (fields: readonly (string | undefined)[]): string =>
  fields.filter((field) => field !== undefined).join(" ");

const cronExpr = fc
  .tuple(
    timeOfDay,
    fc.constantFrom("*", "*", "*", "1,15", "29", "L"),
    fc.constantFrom("*", "*", "*", "2", "3,10,11"),
    fc.constantFrom("*", "*", "*", "1-5", "SUN", "6"),
  )
  .map(([t, dayOfMonth, month, weekday]) =>
    join([t.second, t.minute, t.hour, dayOfMonth, month, weekday]),
  );
const dailyExpr = timeOfDay.map((t) => join([t.second, t.minute, t.hour, "*", "*", "*"]));

const FIXED_ZONES = ["UTC", "Asia/Tokyo", "Asia/Kathmandu"];

// Offset changes in 2026, with the zone they belong to.
const TRANSITIONS: readonly (readonly [zone: string, iso: string])[] = [
  ["Europe/Prague", "2026-03-29T01:00:00Z"],
  ["Europe/Prague", "2026-10-25T01:00:00Z"],
  ["America/New_York", "2026-03-08T07:00:00Z"],
  ["America/New_York", "2026-11-01T06:00:00Z"],
  ["Australia/Lord_Howe", "2026-04-04T15:00:00Z"],
  ["Australia/Lord_Howe", "2026-10-03T15:30:00Z"],
  ["Pacific/Auckland", "2026-04-04T14:00:00Z"],
  ["Pacific/Auckland", "2026-09-26T14:00:00Z"],
];
const DST_ZONES = [...new Set(TRANSITIONS.map(([zone]) => zone))];

const anyInstant = fc.integer({
  min: Date.parse("2024-01-01T00:00:00Z"),
  max: Date.parse("2030-12-31T23:59:59Z"),
});
const zoneAndInstantNearChange = fc
  .tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -4 * HOUR, max: 4 * HOUR }))
  .map(([[zone, iso], delta]) => [zone, Date.parse(iso) + delta] as const);
const fractions = fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
  minLength: 1,
  maxLength: 8,
});

/** r > after; r is a fire (asked from just before it); every point in [after, r) answers r. */
function checkNoFireSkipped(opts: {
  expr: string;
  zone: string;
  after: number;
  fractions: readonly number[];
}): void {
  const { zone, after } = opts;
  const s = schedule(opts.expr);
  const next = (from: number): number =>
    nextFire({ schedule: s, after: new Date(from), zone }).getTime();
  const fire = next(after);
  expect(fire).toBeGreaterThan(after);
  expect(next(fire - 1)).toBe(fire);
  for (const fraction of opts.fractions) {
    expect(next(after + Math.floor(fraction * (fire - after)))).toBe(fire);
  }
}

describe("the generators", () => {
  // The properties below call schedule(), which throws on an expression that does not parse, so a
  // generator drifting into invalid cron fails them loudly rather than testing nothing; this says
  // so directly, and that the expressions are not all one kind.
  it("make only expressions parseSchedule accepts, of several shapes", () => {
    const samples = [...fc.sample(cronExpr, 2000), ...fc.sample(dailyExpr, 1000)];
    const rejected = samples.filter((e) => !parseSchedule(e).ok);
    expect(rejected).toEqual([]);
    expect(new Set(samples).size).toBeGreaterThan(200);
    // Seconds and five-field forms both occur.
    const fields = new Set(samples.map((e) => e.split(" ").length));
    expect([...fields].sort()).toEqual([5, 6]);
  });
});

describe("nextFire properties", () => {
  it("is strictly later, is itself a fire, and nothing fires in between (cron)", () => {
    fc.assert(
      fc.property(
        cronExpr,
        fc.constantFrom(...DST_ZONES, ...FIXED_ZONES),
        anyInstant,
        fractions,
        (expr, zone, after, fractions) => checkNoFireSkipped({ expr, zone, after, fractions }),
      ),
      { numRuns: 200 },
    );
  });

  it("skips no fire and invents none near DST changes (daily and hourly cron)", () => {
    // Not vacuous: in a fair share of runs the interval [after, fire] spans the offset change
    // itself, so the "nothing in between" checks are made across it.
    let runs = 0;
    let acrossChange = 0;
    const changesIn = (zone: string) =>
      TRANSITIONS.filter(([z]) => z === zone).map(([, iso]) => Date.parse(iso));
    fc.assert(
      fc.property(
        dailyExpr,
        zoneAndInstantNearChange,
        fractions,
        (expr, [zone, after], fractions) => {
          runs++;
          checkNoFireSkipped({ expr, zone, after, fractions });
          const fire = nextFire({ schedule: schedule(expr), after: new Date(after), zone });
          if (changesIn(zone).some((c) => after <= c && c <= fire.getTime())) acrossChange++;
        },
      ),
      { numRuns: 500 },
    );
    expect(acrossChange).toBeGreaterThan(runs / 10);
  });

  it("agrees with cron-parser's own tz handling where there is no DST", () => {
    fc.assert(
      fc.property(cronExpr, fc.constantFrom(...FIXED_ZONES), anyInstant, (expr, zone, after) => {
        const ours = nextFire({ schedule: schedule(expr), after: new Date(after), zone });
        const theirs = CronExpressionParser.parse(expr, { tz: zone, currentDate: new Date(after) });
        expect(ours.toISOString()).toBe(theirs.next().toDate().toISOString());
      }),
      { numRuns: 200 },
    );
  });

  it("agrees with cron-parser's own tz handling for hourly schedules away from DST changes", () => {
    // Mid-January and mid-July: no offset change in any of these zones for weeks.
    const calmInstant = fc
      .tuple(
        fc.integer({ min: 2024, max: 2030 }),
        fc.constantFrom(0, 6),
        fc.integer({ min: 10, max: 18 }),
      )
      .chain(([year, month, day]) => {
        const start = Date.UTC(year, month, day);
        return fc.integer({ min: start, max: start + 2 * 24 * HOUR });
      });
    const hourly = fc.constantFrom(
      "*/15 * * * *",
      "0 * * * *",
      "*/20 30 * * * *",
      "5,35 */2 * * *",
    );
    fc.assert(
      fc.property(hourly, fc.constantFrom(...DST_ZONES), calmInstant, (expr, zone, after) => {
        const ours = nextFire({ schedule: schedule(expr), after: new Date(after), zone });
        const theirs = CronExpressionParser.parse(expr, { tz: zone, currentDate: new Date(after) });
        expect(ours.toISOString()).toBe(theirs.next().toDate().toISOString());
      }),
      { numRuns: 200 },
    );
  });

  it("@every fires on the anchor's lattice, first strictly after", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 * 24 * 3600 }).map((seconds) => seconds * 1000),
        anyInstant,
        anyInstant,
        (intervalMs, after, anchor) => {
          const fire = nextFire({
            schedule: { kind: "every", intervalMs },
            after: new Date(after),
            zone: "Europe/Prague",
            anchor: new Date(anchor),
          }).getTime();
          expect(fire).toBeGreaterThan(after);
          expect(fire - intervalMs).toBeLessThanOrEqual(after);
          expect((((fire - anchor) % intervalMs) + intervalMs) % intervalMs).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
