import { CronExpressionParser } from "cron-parser";
import { describe, expect, it } from "vitest";
import { nextFire, nextFires, parseSchedule, type Schedule } from "./cron.js";

function schedule(expr: string): Schedule {
  const parsed = parseSchedule(expr);
  if (!parsed.ok) throw new Error(`${expr}: ${parsed.error}`);
  return parsed.schedule;
}

function fires(opts: { expr: string; zone: string; after: string; count: number }): string[] {
  return nextFires({
    schedule: schedule(opts.expr),
    zone: opts.zone,
    after: new Date(opts.after),
    count: opts.count,
  }).map((date) => date.toISOString());
}

describe("parseSchedule", () => {
  it.each<[string, Schedule]>([
    ["*/10 * * * *", { kind: "cron", expression: "*/10 * * * *", hasSeconds: false }],
    ["  0   9  * *  1-5 ", { kind: "cron", expression: "0 9 * * 1-5", hasSeconds: false }],
    ["*/15 * * * * *", { kind: "cron", expression: "*/15 * * * * *", hasSeconds: true }],
    ["0 0 29 2 *", { kind: "cron", expression: "0 0 29 2 *", hasSeconds: false }],
    ["0 0 L * *", { kind: "cron", expression: "0 0 L * *", hasSeconds: false }],
    ["0 0 * * MON#1", { kind: "cron", expression: "0 0 * * MON#1", hasSeconds: false }],
    ["0 0 * JAN,JUL SUN", { kind: "cron", expression: "0 0 * JAN,JUL SUN", hasSeconds: false }],
    ["*/60 * * * *", { kind: "cron", expression: "*/60 * * * *", hasSeconds: false }],
    ["0 0 * * 7", { kind: "cron", expression: "0 0 * * 7", hasSeconds: false }],
    ["@yearly", { kind: "cron", expression: "0 0 1 1 *", hasSeconds: false }],
    ["@annually", { kind: "cron", expression: "0 0 1 1 *", hasSeconds: false }],
    ["@monthly", { kind: "cron", expression: "0 0 1 * *", hasSeconds: false }],
    ["@weekly", { kind: "cron", expression: "0 0 * * 0", hasSeconds: false }],
    ["@daily", { kind: "cron", expression: "0 0 * * *", hasSeconds: false }],
    ["@midnight", { kind: "cron", expression: "0 0 * * *", hasSeconds: false }],
    ["@hourly", { kind: "cron", expression: "0 * * * *", hasSeconds: false }],
    ["@every 90s", { kind: "every", intervalMs: 90_000 }],
    ["@every 1h30m", { kind: "every", intervalMs: 5_400_000 }],
    ["@every 1s", { kind: "every", intervalMs: 1000 }],
    [" @every  1.5h ", { kind: "every", intervalMs: 5_400_000 }],
  ])("accepts %j", (expr, expected) => {
    expect(parseSchedule(expr)).toEqual({ ok: true, schedule: expected });
  });

  // cron-parser 5 alone accepts several of these: "*/61" (turned into minute 0), "" and
  // 4-field expressions (defaulted to every minute), and "H" (a random value).
  it.each([
    ["", "empty schedule"],
    ["   ", "empty schedule"],
    ["*/61 * * * *", "minute: step 61 is larger than the field's 60 values"],
    ["0-30/61 * * * *", "minute: step 61"],
    ["0 */25 * * *", "hour: step 25"],
    ["0 0 */32 * *", "day of month: step 32"],
    ["0 0 * */13 *", "month: step 13"],
    ["0 0 * * */8", "weekday: step 8"],
    ["*/61 * * * * *", "second: step 61"],
    ["61 * * * *", "got value 61 expected range 0-59"],
    ["60 * * * * *", "got value 60 expected range 0-59"],
    ["0 24 * * *", "got value 24 expected range 0-23"],
    ["0 0 32 * *", "got value 32 expected range 1-31"],
    ["0 0 0 * *", "got value 0 expected range 1-31"],
    ["0 0 * 13 *", "got value 13 expected range 1-12"],
    ["0 0 * * 8", "got value 8 expected range 0-7"],
    ["5-2 * * * *", "Invalid range"],
    ["*/0 * * * *", "cannot repeat at every 0"],
    ["0 0 30 2 *", "Invalid explicit day of month"],
    ["0 0 31 4 *", "Invalid explicit day of month"],
    ["a * * * *", "Invalid characters"],
    ["* * * *", "expected 5 or 6 fields, got 4"],
    ["* * * * * * *", "expected 5 or 6 fields, got 7"],
    ["H * * * *", "minute: hashed values (H) are not supported"],
    ["0 H(0-5) * * *", "hour: hashed values (H) are not supported"],
    ["@reboot", "unknown macro @reboot"],
    ["@minutely", "unknown macro @minutely"],
    ["@Daily", "unknown macro @Daily"],
    ["@every", 'expected "@every <duration>"'],
    ["@every 10", 'expected "@every <duration>"'],
    ["@every 1d", 'expected "@every <duration>"'],
    ["@every -5s", 'expected "@every <duration>"'],
    ["@every 5s 5s", 'expected "@every <duration>"'],
    ["@every 500ms", "@every interval must be at least 1s"],
    ["@every 0s", "@every interval must be at least 1s"],
  ])("rejects %j (%s)", (expr, reason) => {
    const parsed = parseSchedule(expr);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(reason);
  });
});

describe("nextFire: plain cron", () => {
  it.each([
    {
      what: "every 10 minutes",
      expr: "*/10 * * * *",
      zone: "UTC",
      after: "2026-05-05T10:03:17Z",
      want: ["2026-05-05T10:10:00.000Z", "2026-05-05T10:20:00.000Z"],
    },
    {
      what: "strictly after: a fire instant itself is not returned",
      expr: "*/10 * * * *",
      zone: "UTC",
      after: "2026-05-05T10:10:00Z",
      want: ["2026-05-05T10:20:00.000Z"],
    },
    {
      what: "a millisecond before a fire returns that fire",
      expr: "0 0 * * *",
      zone: "UTC",
      after: "2026-05-05T23:59:59.999Z",
      want: ["2026-05-06T00:00:00.000Z"],
    },
    {
      what: "6-field cron fires on seconds",
      expr: "*/20 * * * * *",
      zone: "UTC",
      after: "2026-05-05T10:00:07.500Z",
      want: ["2026-05-05T10:00:20.000Z", "2026-05-05T10:00:40.000Z", "2026-05-05T10:01:00.000Z"],
    },
    {
      what: "6-field cron with a fixed second",
      expr: "30 15 9 * * *",
      zone: "UTC",
      after: "2026-05-05T09:15:30Z",
      want: ["2026-05-06T09:15:30.000Z"],
    },
    {
      what: "Feb 29 from 2026 waits for 2028, then 2032",
      expr: "0 0 29 2 *",
      zone: "UTC",
      after: "2026-01-01T00:00:00Z",
      want: ["2028-02-29T00:00:00.000Z", "2032-02-29T00:00:00.000Z"],
    },
    {
      what: "Feb 29 in Prague is 23:00 UTC the day before",
      expr: "0 0 29 2 *",
      zone: "Europe/Prague",
      after: "2026-01-01T00:00:00Z",
      want: ["2028-02-28T23:00:00.000Z"],
    },
    {
      what: "Saturday 09:00 in Tokyo is Saturday 00:00 UTC",
      expr: "0 9 * * 6",
      zone: "Asia/Tokyo",
      after: "2026-01-01T00:00:00Z",
      want: ["2026-01-03T00:00:00.000Z", "2026-01-10T00:00:00.000Z"],
    },
    {
      what: "Saturday 01:00 in Tokyo is still Friday in UTC",
      expr: "0 1 * * SAT",
      zone: "Asia/Tokyo",
      after: "2026-01-01T00:00:00Z",
      want: ["2026-01-02T16:00:00.000Z"],
    },
    {
      what: "day of month and weekday both set: either matches (Vixie cron)",
      expr: "0 0 13 * 5",
      zone: "UTC",
      after: "2026-01-01T00:00:00Z",
      want: ["2026-01-02T00:00:00.000Z", "2026-01-09T00:00:00.000Z", "2026-01-13T00:00:00.000Z"],
    },
    {
      what: "L is the last day of the month",
      expr: "0 0 L 2 *",
      zone: "UTC",
      after: "2027-01-01T00:00:00Z",
      want: ["2027-02-28T00:00:00.000Z", "2028-02-29T00:00:00.000Z"],
    },
    {
      what: "a half-hour zone",
      expr: "0 * * * *",
      zone: "Asia/Kathmandu",
      after: "2026-01-01T00:00:00Z",
      want: ["2026-01-01T00:15:00.000Z", "2026-01-01T01:15:00.000Z"],
    },
  ])("$what", ({ expr, zone, after, want }) => {
    expect(fires({ expr, zone, after, count: want.length })).toEqual(want);
  });

  it.each([
    ["@hourly", "2026-05-05T10:00:00Z", "2026-05-05T11:00:00.000Z"],
    ["@daily", "2026-05-05T10:00:00Z", "2026-05-06T00:00:00.000Z"],
    ["@midnight", "2026-05-05T10:00:00Z", "2026-05-06T00:00:00.000Z"],
    ["@weekly", "2026-05-05T10:00:00Z", "2026-05-10T00:00:00.000Z"],
    ["@monthly", "2026-05-05T10:00:00Z", "2026-06-01T00:00:00.000Z"],
    ["@yearly", "2026-05-05T10:00:00Z", "2027-01-01T00:00:00.000Z"],
    ["@annually", "2026-05-05T10:00:00Z", "2027-01-01T00:00:00.000Z"],
  ])("%s after %s in UTC fires at %s", (expr, after, want) => {
    expect(fires({ expr, zone: "UTC", after, count: 1 })).toEqual([want]);
  });

  it("@daily follows the zone's midnight", () => {
    expect(
      fires({ expr: "@daily", zone: "America/New_York", after: "2026-05-05T10:00:00Z", count: 1 }),
    ).toEqual(["2026-05-06T04:00:00.000Z"]);
  });
});

// Transitions in 2026: Prague springs forward 2026-03-29 01:00 UTC (02:00 CET → 03:00 CEST) and
// falls back 2026-10-25 01:00 UTC (03:00 CEST → 02:00 CET); New York springs forward
// 2026-03-08 07:00 UTC (02:00 EST → 03:00 EDT) and falls back 2026-11-01 06:00 UTC (02:00 EDT →
// 01:00 EST).
describe("nextFire across DST", () => {
  it.each([
    {
      what: "Prague spring: daily 02:30 (in the gap) fires once, shifted to 03:30 CEST",
      expr: "30 2 * * *",
      zone: "Europe/Prague",
      after: "2026-03-28T12:00:00Z",
      want: ["2026-03-29T01:30:00.000Z", "2026-03-30T00:30:00.000Z"],
    },
    {
      what: "Prague spring: same answer when asked from inside the landing hour",
      expr: "30 2 * * *",
      zone: "Europe/Prague",
      after: "2026-03-29T01:00:00Z",
      want: ["2026-03-29T01:30:00.000Z", "2026-03-30T00:30:00.000Z"],
    },
    {
      what: "Prague spring: daily 09:00 moves from 08:00 UTC to 07:00 UTC",
      expr: "0 9 * * *",
      zone: "Europe/Prague",
      after: "2026-03-28T00:00:00Z",
      want: ["2026-03-28T08:00:00.000Z", "2026-03-29T07:00:00.000Z"],
    },
    {
      what: "Prague spring: every 30 minutes stays 30 real minutes apart, nothing doubled",
      expr: "*/30 * * * *",
      zone: "Europe/Prague",
      after: "2026-03-29T00:00:00Z",
      want: [
        "2026-03-29T00:30:00.000Z", // 01:30 CET
        "2026-03-29T01:00:00.000Z", // 03:00 CEST (02:00 CET would be the same instant)
        "2026-03-29T01:30:00.000Z", // 03:30 CEST
        "2026-03-29T02:00:00.000Z",
      ],
    },
    {
      what: "Prague fall: daily 02:30 (repeated) fires on the first pass only",
      expr: "30 2 * * *",
      zone: "Europe/Prague",
      after: "2026-10-24T12:00:00Z",
      want: ["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"],
    },
    {
      what: "Prague fall: asked from inside the second pass, 02:30 CET is still not a fire",
      expr: "30 2 * * *",
      zone: "Europe/Prague",
      after: "2026-10-25T01:15:00Z",
      want: ["2026-10-26T01:30:00.000Z"],
    },
    {
      what: "Prague fall: every 30 minutes fires on both passes of the repeated hour",
      expr: "*/30 * * * *",
      zone: "Europe/Prague",
      after: "2026-10-24T23:30:00Z",
      want: [
        "2026-10-25T00:00:00.000Z", // 02:00 CEST
        "2026-10-25T00:30:00.000Z", // 02:30 CEST
        "2026-10-25T01:00:00.000Z", // 02:00 CET
        "2026-10-25T01:30:00.000Z", // 02:30 CET
        "2026-10-25T02:00:00.000Z", // 03:00 CET
      ],
    },
    {
      what: "Prague fall: every 2 hours at :15 skips 02:15 CET (the hour field is not every hour)",
      expr: "15 */2 * * *",
      zone: "Europe/Prague",
      after: "2026-10-24T23:30:00Z",
      want: ["2026-10-25T00:15:00.000Z", "2026-10-25T03:15:00.000Z"],
    },
    {
      what: "New York spring: daily 02:30 (in the gap) fires at 03:30 EDT",
      expr: "30 2 * * *",
      zone: "America/New_York",
      after: "2026-03-07T12:00:00Z",
      want: ["2026-03-08T07:30:00.000Z", "2026-03-09T06:30:00.000Z"],
    },
    {
      what: "New York spring: daily midnight moves from 05:00 UTC to 04:00 UTC",
      expr: "0 0 * * *",
      zone: "America/New_York",
      after: "2026-03-07T00:00:00Z",
      want: ["2026-03-07T05:00:00.000Z", "2026-03-08T05:00:00.000Z", "2026-03-09T04:00:00.000Z"],
    },
    {
      what: "New York spring: every 30 minutes",
      expr: "*/30 * * * *",
      zone: "America/New_York",
      after: "2026-03-08T06:00:00Z",
      want: ["2026-03-08T06:30:00.000Z", "2026-03-08T07:00:00.000Z", "2026-03-08T07:30:00.000Z"],
    },
    {
      what: "New York fall: daily 01:30 (repeated) fires on the EDT pass only",
      expr: "30 1 * * *",
      zone: "America/New_York",
      after: "2026-10-31T12:00:00Z",
      want: ["2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"],
    },
    {
      what: "New York fall: daily midnight moves from 04:00 UTC to 05:00 UTC",
      expr: "0 0 * * *",
      zone: "America/New_York",
      after: "2026-10-31T00:00:00Z",
      want: ["2026-10-31T04:00:00.000Z", "2026-11-01T04:00:00.000Z", "2026-11-02T05:00:00.000Z"],
    },
    {
      what: "New York fall: every 30 minutes fires on both passes of 01:xx",
      expr: "*/30 * * * *",
      zone: "America/New_York",
      after: "2026-11-01T04:30:00Z",
      want: [
        "2026-11-01T05:00:00.000Z", // 01:00 EDT
        "2026-11-01T05:30:00.000Z", // 01:30 EDT
        "2026-11-01T06:00:00.000Z", // 01:00 EST
        "2026-11-01T06:30:00.000Z", // 01:30 EST
        "2026-11-01T07:00:00.000Z", // 02:00 EST
      ],
    },
    {
      what: "Lord Howe falls back by 30 minutes; daily 02:00 still fires once a day",
      expr: "0 2 * * *",
      zone: "Australia/Lord_Howe",
      after: "2026-04-03T12:00:00Z",
      want: ["2026-04-03T15:00:00.000Z", "2026-04-04T15:30:00.000Z", "2026-04-05T15:30:00.000Z"],
    },
  ])("$what", ({ expr, zone, after, want }) => {
    expect(fires({ expr, zone, after, count: want.length })).toEqual(want);
  });
});

// Why the zone is applied here and not by cron-parser's `tz` option: its DST handling depends on
// where the search starts. If a cron-parser upgrade makes these fail, its behaviour changed and
// handing it the zone again may be worth a look.
describe("cron-parser's own tz handling (canary)", () => {
  const raw = (expr: string, zone: string, from: string): string =>
    CronExpressionParser.parse(expr, { tz: zone, currentDate: new Date(from) })
      .next()
      .toDate()
      .toISOString();

  it("answers differently for two starts with no fire between them (fall back)", () => {
    expect(raw("30 2 * * *", "Europe/Prague", "2026-10-25T00:45:00Z")).toBe(
      "2026-10-26T01:30:00.000Z",
    );
    expect(raw("30 2 * * *", "Europe/Prague", "2026-10-25T01:15:00Z")).toBe(
      "2026-10-25T01:30:00.000Z",
    );
  });

  it("drops the gap-shifted fire when started at the jump (spring forward)", () => {
    expect(raw("30 2 * * *", "Europe/Prague", "2026-03-29T00:59:30Z")).toBe(
      "2026-03-29T01:30:00.000Z",
    );
    expect(raw("30 2 * * *", "Europe/Prague", "2026-03-29T01:00:00Z")).toBe(
      "2026-03-30T00:30:00.000Z",
    );
  });

  it("gives up before a 30-minute fall back", () => {
    expect(() => raw("0 2 * * *", "Australia/Lord_Howe", "2026-04-04T14:00:00Z")).toThrow(
      /loop limit/,
    );
  });
});

describe("nextFire: @every", () => {
  const every = (expr: string, after: string, anchor?: string): string =>
    nextFire({
      schedule: schedule(expr),
      after: new Date(after),
      zone: "UTC",
      ...(anchor === undefined ? {} : { anchor: new Date(anchor) }),
    }).toISOString();

  it.each([
    ["@every 90s", "1970-01-01T00:00:00Z", undefined, "1970-01-01T00:01:30.000Z"],
    // 2026-05-05T10:00:00Z is itself a multiple of 90 s since the epoch, so the next one is later.
    ["@every 90s", "2026-05-05T10:00:00Z", undefined, "2026-05-05T10:01:30.000Z"],
    ["@every 1h", "2026-05-05T10:00:00Z", undefined, "2026-05-05T11:00:00.000Z"],
    ["@every 1h", "2026-05-05T10:59:59.999Z", undefined, "2026-05-05T11:00:00.000Z"],
    ["@every 10m", "2026-05-05T10:00:00Z", "2026-05-05T09:58:00Z", "2026-05-05T10:08:00.000Z"],
    ["@every 10m", "2026-05-05T09:00:00Z", "2026-05-05T09:58:00Z", "2026-05-05T09:08:00.000Z"],
    ["@every 10m", "2026-05-05T09:58:00Z", "2026-05-05T09:58:00Z", "2026-05-05T10:08:00.000Z"],
  ])("%s after %s anchored at %s → %s", (expr, after, anchor, want) => {
    expect(every(expr, after, anchor)).toBe(want);
  });

  it("ignores DST: fires stay evenly spaced in real time", () => {
    expect(
      fires({ expr: "@every 30m", zone: "Europe/Prague", after: "2026-10-25T00:10:00Z", count: 4 }),
    ).toEqual([
      "2026-10-25T00:30:00.000Z",
      "2026-10-25T01:00:00.000Z",
      "2026-10-25T01:30:00.000Z",
      "2026-10-25T02:00:00.000Z",
    ]);
  });
});

describe("nextFire: bad input", () => {
  it("rejects an unknown zone", () => {
    const opts = { after: new Date("2026-01-01T00:00:00Z"), zone: "Mars/Base" };
    expect(() => nextFire({ ...opts, schedule: schedule("@daily") })).toThrow(/unknown time zone/);
    expect(() => nextFire({ ...opts, schedule: schedule("@every 1m") })).toThrow(RangeError);
  });

  it("rejects an invalid Date", () => {
    expect(() =>
      nextFire({ schedule: schedule("@daily"), after: new Date(Number.NaN), zone: "UTC" }),
    ).toThrow(/invalid Date/);
  });
});

describe("nextFires", () => {
  it("returns nothing for count 0", () => {
    expect(
      fires({ expr: "@hourly", zone: "UTC", after: "2026-01-01T00:00:00Z", count: 0 }),
    ).toEqual([]);
  });

  it("chains fires, each after the last", () => {
    expect(
      fires({ expr: "0 */6 * * *", zone: "UTC", after: "2026-01-01T00:00:00Z", count: 4 }),
    ).toEqual([
      "2026-01-01T06:00:00.000Z",
      "2026-01-01T12:00:00.000Z",
      "2026-01-01T18:00:00.000Z",
      "2026-01-02T00:00:00.000Z",
    ]);
  });
});
