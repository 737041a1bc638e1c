import { describe, expect, it } from "vitest";
import {
  isValidTimeZone,
  localParts,
  offsetShiftNear,
  wallTimeInstants,
  zoneOffsetMs,
} from "./zone.js";

const HOUR = 3_600_000;
const at = (iso: string): Date => new Date(iso);
const ms = (iso: string): number => Date.parse(iso);

describe("isValidTimeZone", () => {
  it.each([
    ["UTC", true],
    ["Europe/Prague", true],
    ["America/New_York", true],
    ["Asia/Tokyo", true],
    ["Mars/Base", false],
    ["", false],
    ["  ", false],
    ["Local", false],
  ])("%j → %s", (zone, valid) => {
    expect(isValidTimeZone(zone)).toBe(valid);
  });
});

describe("localParts", () => {
  it.each([
    [
      "UTC midnight is hour 0, not 24",
      "2026-01-02T00:00:00Z",
      "UTC",
      { year: 2026, month: 1, day: 2, weekday: 5, hour: 0, minute: 0, second: 0 },
    ],
    [
      "Friday in UTC is already Saturday in Tokyo",
      "2026-01-02T16:00:05Z",
      "Asia/Tokyo",
      { year: 2026, month: 1, day: 3, weekday: 6, hour: 1, minute: 0, second: 5 },
    ],
    [
      "Prague in winter is UTC+1",
      "2026-12-31T23:30:59Z",
      "Europe/Prague",
      { year: 2027, month: 1, day: 1, weekday: 5, hour: 0, minute: 30, second: 59 },
    ],
    [
      "Prague in summer is UTC+2",
      "2026-07-01T06:59:59.999Z",
      "Europe/Prague",
      { year: 2026, month: 7, day: 1, weekday: 3, hour: 8, minute: 59, second: 59 },
    ],
    [
      "New York before midnight UTC is the previous day",
      "2026-03-01T03:00:00Z",
      "America/New_York",
      { year: 2026, month: 2, day: 28, weekday: 6, hour: 22, minute: 0, second: 0 },
    ],
    [
      "leap day",
      "2028-02-29T12:00:00Z",
      "UTC",
      { year: 2028, month: 2, day: 29, weekday: 2, hour: 12, minute: 0, second: 0 },
    ],
  ])("%s", (_label, iso, zone, expected) => {
    expect(localParts(at(iso), zone)).toEqual(expected);
  });

  it("throws for an unknown zone", () => {
    expect(() => localParts(at("2026-01-01T00:00:00Z"), "Mars/Base")).toThrow(RangeError);
  });
});

describe("zoneOffsetMs", () => {
  it.each([
    ["2026-01-15T12:00:00Z", "UTC", 0],
    ["2026-01-15T12:00:00Z", "Europe/Prague", HOUR],
    ["2026-07-15T12:00:00Z", "Europe/Prague", 2 * HOUR],
    ["2026-07-15T12:00:00Z", "America/New_York", -4 * HOUR],
    ["2026-07-15T12:00:00.750Z", "Asia/Kathmandu", 5.75 * HOUR],
    // Prague springs forward at 01:00 UTC on 2026-03-29.
    ["2026-03-29T00:59:59Z", "Europe/Prague", HOUR],
    ["2026-03-29T01:00:00Z", "Europe/Prague", 2 * HOUR],
  ])("%s in %s", (iso, zone, offset) => {
    expect(zoneOffsetMs(ms(iso), zone)).toBe(offset);
  });
});

describe("wallTimeInstants", () => {
  // Wall times are written as if UTC: "2026-03-29T02:30:00Z" means 02:30 on the local clock.
  it.each([
    [
      "an ordinary wall time happens once",
      "2026-06-01T02:30:00Z",
      "Europe/Prague",
      { kind: "single", instant: ms("2026-06-01T00:30:00Z") },
    ],
    [
      "an ordinary wall time on a DST day happens once",
      "2026-03-29T05:00:00Z",
      "Europe/Prague",
      { kind: "single", instant: ms("2026-03-29T03:00:00Z") },
    ],
    [
      "Prague 02:30 on spring-forward day does not exist; read with CET it is 03:30 CEST",
      "2026-03-29T02:30:00Z",
      "Europe/Prague",
      { kind: "gap", instant: ms("2026-03-29T01:30:00Z") },
    ],
    [
      "Prague 02:30 on fall-back day happens in CEST, then in CET",
      "2026-10-25T02:30:00Z",
      "Europe/Prague",
      { kind: "repeated", first: ms("2026-10-25T00:30:00Z"), second: ms("2026-10-25T01:30:00Z") },
    ],
    [
      "New York 02:30 on spring-forward day does not exist",
      "2026-03-08T02:30:00Z",
      "America/New_York",
      { kind: "gap", instant: ms("2026-03-08T07:30:00Z") },
    ],
    [
      "New York 01:30 on fall-back day happens in EDT, then in EST",
      "2026-11-01T01:30:00Z",
      "America/New_York",
      { kind: "repeated", first: ms("2026-11-01T05:30:00Z"), second: ms("2026-11-01T06:30:00Z") },
    ],
  ])("%s", (_label, wall, zone, expected) => {
    expect(wallTimeInstants(ms(wall), zone)).toEqual(expected);
  });
});

describe("offsetShiftNear", () => {
  it.each([
    ["2026-06-01T00:00:00Z", "Europe/Prague", 0],
    ["2026-03-29T12:00:00Z", "Europe/Prague", HOUR],
    ["2026-10-24T12:00:00Z", "Europe/Prague", HOUR],
    ["2026-04-05T00:00:00Z", "Australia/Lord_Howe", HOUR / 2],
    ["2026-03-29T00:00:00Z", "UTC", 0],
  ])("%s in %s", (iso, zone, shift) => {
    expect(offsetShiftNear(ms(iso), zone)).toBe(shift);
  });
});
