import { describe, expect, it } from "vitest";
import {
  inBlackout,
  parseBlackoutDate,
  parseTimeRange,
  parseWeekday,
  type Blackout,
} from "./blackout.js";

const NONE: Blackout = { weekdays: [], timesOfDay: [], dates: [] };

function range(text: string): { startMinute: number; endMinute: number } {
  const parsed = parseTimeRange(text);
  if (parsed === undefined) throw new Error(`bad range ${text}`);
  return parsed;
}

function date(text: string): { month: number; day: number; year?: number } {
  const parsed = parseBlackoutDate(text);
  if (parsed === undefined) throw new Error(`bad date ${text}`);
  return parsed;
}

describe("parseWeekday", () => {
  it.each([
    ["Sun", 0],
    ["Mon", 1],
    ["Tue", 2],
    ["Wed", 3],
    ["Thu", 4],
    ["Fri", 5],
    ["Sat", 6],
    ["sat", 6],
    ["SUN", 0],
    ["Saturday", 6],
    ["wednesday", 3],
    ["THURSDAY", 4],
    ["Sa", undefined],
    ["Satur", undefined],
    ["0", undefined],
    ["", undefined],
    ["Funday", undefined],
  ])("%j → %s", (text, expected) => {
    expect(parseWeekday(text)).toBe(expected);
  });
});

describe("parseTimeRange", () => {
  it.each([
    ["09:00-17:00", { startMinute: 540, endMinute: 1020 }],
    ["18:00-09:00", { startMinute: 1080, endMinute: 540 }],
    ["18:00-00:00", { startMinute: 1080, endMinute: 0 }],
    ["00:00-23:59", { startMinute: 0, endMinute: 1439 }],
    ["23:59-00:00", { startMinute: 1439, endMinute: 0 }],
  ])("%j → %o", (text, expected) => {
    expect(parseTimeRange(text)).toEqual(expected);
  });

  it.each([
    ["09:00-09:00", "empty range"],
    ["24:00-01:00", "hour 24"],
    ["12:60-13:00", "minute 60"],
    ["9:00-10:00", "one-digit hour"],
    ["09:00", "no end"],
    ["09:00 - 10:00", "spaces around the dash"],
    ["09:00-10:00-11:00", "three times"],
    ["", "empty"],
  ])("%j is invalid (%s)", (text) => {
    expect(parseTimeRange(text)).toBeUndefined();
  });
});

describe("parseBlackoutDate", () => {
  it.each([
    ["12-24", { month: 12, day: 24 }],
    ["02-29", { month: 2, day: 29 }],
    ["01-31", { month: 1, day: 31 }],
    ["2026-12-31", { month: 12, day: 31, year: 2026 }],
    ["2028-02-29", { month: 2, day: 29, year: 2028 }],
    ["2000-02-29", { month: 2, day: 29, year: 2000 }],
  ])("%j → %o", (text, expected) => {
    expect(parseBlackoutDate(text)).toEqual(expected);
  });

  it.each([
    ["2027-02-29", "not a leap year"],
    ["2100-02-29", "century, not a leap year"],
    ["02-30", "no Feb 30 in any year"],
    ["04-31", "April has 30 days"],
    ["13-01", "month 13"],
    ["00-10", "month 0"],
    ["12-00", "day 0"],
    ["2026-1-5", "one-digit month and day"],
    ["12/24", "wrong separator"],
    ["", "empty"],
  ])("%j is invalid (%s)", (text) => {
    expect(parseBlackoutDate(text)).toBeUndefined();
  });
});

describe("inBlackout: times of day", () => {
  const overnight: Blackout = { ...NONE, timesOfDay: [range("18:00-09:00")] };
  const evening: Blackout = { ...NONE, timesOfDay: [range("18:00-00:00")] };
  const office: Blackout = { ...NONE, timesOfDay: [range("09:00-17:00")] };

  it.each([
    [overnight, "18:00-09:00", "2026-05-06T08:59:59Z", true],
    [overnight, "18:00-09:00", "2026-05-06T08:59:59.999Z", true],
    [overnight, "18:00-09:00", "2026-05-06T09:00:00Z", false],
    [overnight, "18:00-09:00", "2026-05-06T12:00:00Z", false],
    [overnight, "18:00-09:00", "2026-05-06T17:59:59Z", false],
    [overnight, "18:00-09:00", "2026-05-06T17:59:59.999Z", false],
    [overnight, "18:00-09:00", "2026-05-06T18:00:00Z", true],
    [overnight, "18:00-09:00", "2026-05-06T23:59:59Z", true],
    [overnight, "18:00-09:00", "2026-05-07T00:00:00Z", true],
    [evening, "18:00-00:00", "2026-05-06T23:59:27Z", true],
    [evening, "18:00-00:00", "2026-05-07T00:00:00Z", false],
    [evening, "18:00-00:00", "2026-05-06T18:00:00Z", true],
    [evening, "18:00-00:00", "2026-05-06T17:59:59Z", false],
    [office, "09:00-17:00", "2026-05-06T08:59:59Z", false],
    [office, "09:00-17:00", "2026-05-06T09:00:00Z", true],
    [office, "09:00-17:00", "2026-05-06T16:59:59Z", true],
    [office, "09:00-17:00", "2026-05-06T17:00:00Z", false],
  ])("%#: %s at %s in UTC → %s", (blackout, _label, iso, expected) => {
    expect(inBlackout(blackout, new Date(iso), "UTC")).toBe(expected);
  });

  it.each([
    // 06:59:59Z is 08:59:59 CEST.
    ["2026-07-01T06:59:59Z", true],
    ["2026-07-01T07:00:00Z", false],
    // 15:59:59Z is 17:59:59 CEST.
    ["2026-07-01T15:59:59Z", false],
    ["2026-07-01T16:00:00Z", true],
    // Winter: 07:59:59Z is 08:59:59 CET.
    ["2026-01-15T07:59:59Z", true],
    ["2026-01-15T08:00:00Z", false],
  ])("18:00-09:00 in Europe/Prague at %s → %s", (iso, expected) => {
    expect(inBlackout(overnight, new Date(iso), "Europe/Prague")).toBe(expected);
  });

  it("reads both passes of a repeated hour on the wall clock", () => {
    const night: Blackout = { ...NONE, timesOfDay: [range("02:00-03:00")] };
    // 02:30 CEST and 02:30 CET on 2026-10-25 in Prague.
    expect(inBlackout(night, new Date("2026-10-25T00:30:00Z"), "Europe/Prague")).toBe(true);
    expect(inBlackout(night, new Date("2026-10-25T01:30:00Z"), "Europe/Prague")).toBe(true);
    expect(inBlackout(night, new Date("2026-10-25T02:00:00Z"), "Europe/Prague")).toBe(false);
  });
});

describe("inBlackout: weekdays", () => {
  const weekend: Blackout = { ...NONE, weekdays: [6, 0] };
  // 2026-01-02T16:00:00Z is Friday 16:00 in UTC and Saturday 01:00 in Tokyo.
  const fridayUtc = new Date("2026-01-02T16:00:00Z");

  it.each([
    ["UTC", false],
    ["Asia/Tokyo", true],
    ["America/New_York", false],
  ])("Friday 16:00 UTC in %s → %s", (zone, expected) => {
    expect(inBlackout(weekend, fridayUtc, zone)).toBe(expected);
  });

  it.each([
    ["2026-01-03T00:00:00Z", true], // Saturday starts
    ["2026-01-04T23:59:59Z", true], // Sunday ends
    ["2026-01-05T00:00:00Z", false], // Monday
    ["2026-01-02T23:59:59Z", false], // Friday
  ])("%s in UTC → %s", (iso, expected) => {
    expect(inBlackout(weekend, new Date(iso), "UTC")).toBe(expected);
  });
});

describe("inBlackout: dates", () => {
  const leapDay: Blackout = { ...NONE, dates: [date("02-29")] };
  const yearly: Blackout = { ...NONE, dates: [date("12-24")] };
  const once: Blackout = { ...NONE, dates: [date("2026-12-31")] };

  it("02-29 matches every minute-ish of 2028-02-29 and nothing around it", () => {
    expect(inBlackout(leapDay, new Date("2028-02-29T00:00:00Z"), "UTC")).toBe(true);
    expect(inBlackout(leapDay, new Date("2028-02-29T23:59:59Z"), "UTC")).toBe(true);
    expect(inBlackout(leapDay, new Date("2028-02-28T23:59:59Z"), "UTC")).toBe(false);
    expect(inBlackout(leapDay, new Date("2028-03-01T00:00:00Z"), "UTC")).toBe(false);
  });

  it("02-29 never matches in 2027", () => {
    const start = Date.parse("2027-01-01T12:00:00Z");
    const hits = Array.from({ length: 365 }, (_, day) => new Date(start + day * 86_400_000)).filter(
      (instant) => inBlackout(leapDay, instant, "UTC"),
    );
    expect(hits).toEqual([]);
  });

  it.each([
    [yearly, "2026-12-24T12:00:00Z", "UTC", true],
    [yearly, "2031-12-24T12:00:00Z", "UTC", true],
    [yearly, "2026-12-25T00:00:00Z", "UTC", false],
    // 23:30 UTC on the 23rd is already 00:30 on the 24th in Prague.
    [yearly, "2026-12-23T23:30:00Z", "Europe/Prague", true],
    [yearly, "2026-12-23T23:30:00Z", "UTC", false],
    [once, "2026-12-31T12:00:00Z", "UTC", true],
    [once, "2027-12-31T12:00:00Z", "UTC", false],
    [once, "2026-12-30T12:00:00Z", "UTC", false],
  ])("%# at %s in %s → %s", (blackout, iso, zone, expected) => {
    expect(inBlackout(blackout, new Date(iso), zone)).toBe(expected);
  });
});

describe("inBlackout: windows combine with OR", () => {
  const spec: Blackout = {
    weekdays: [6, 0],
    timesOfDay: [range("18:00-09:00")],
    dates: [date("12-24"), date("2026-12-31")],
  };

  it.each([
    ["Wednesday noon: no window", "2026-05-06T12:00:00Z", false],
    ["Wednesday 20:00: time of day only", "2026-05-06T20:00:00Z", true],
    ["Saturday noon: weekday only", "2026-05-09T12:00:00Z", true],
    ["Thursday 24 Dec noon: date only", "2026-12-24T12:00:00Z", true],
    ["Thursday 31 Dec noon: dated day only", "2026-12-31T12:00:00Z", true],
    ["Friday 31 Dec 2027 noon: that date was 2026 only", "2027-12-31T12:00:00Z", false],
  ])("%s", (_label, iso, expected) => {
    expect(inBlackout(spec, new Date(iso), "UTC")).toBe(expected);
  });

  it("an empty blackout never blocks", () => {
    expect(inBlackout(NONE, new Date("2026-05-09T20:00:00Z"), "UTC")).toBe(false);
  });
});
