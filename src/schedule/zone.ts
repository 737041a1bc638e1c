/** Wall-clock fields of an instant in a time zone. month is 1-12, weekday 0=Sunday..6. */
export interface LocalParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly weekday: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** Where a wall-clock time falls on a zone's timeline. */
export type WallTimeInstants =
  | { readonly kind: "single"; readonly instant: number }
  // A fall-back repeat: the same wall time happens twice, `first` < `second`.
  | { readonly kind: "repeated"; readonly first: number; readonly second: number }
  // A spring-forward gap: the wall time never happens; `instant` reads it with the offset in
  // force before the jump, i.e. it is shifted forward by the gap's length (02:30 → 03:30).
  | { readonly kind: "gap"; readonly instant: number };

const DAY_MS = 86_400_000;

// Building a DateTimeFormat is far slower than using one, and zones are few.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** True when Intl knows the zone (IANA names such as "UTC" or "Europe/Prague"). */
export function isValidTimeZone(zone: string): boolean {
  if (zone.trim() === "") return false;
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

/** Milliseconds since the epoch of a proleptic-Gregorian UTC date (years 0-99 included). */
function utcMs(parts: Omit<LocalParts, "weekday">): number {
  const date = new Date(0);
  date.setUTCFullYear(parts.year, parts.month - 1, parts.day);
  date.setUTCHours(parts.hour, parts.minute, parts.second, 0);
  return date.getTime();
}

/** The local wall-clock fields of `instant` in `zone`. Throws RangeError for an unknown zone. */
export function localParts(instant: Date, zone: string): LocalParts {
  const fields = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatterFor(zone).formatToParts(instant)) {
    if (part.type in fields) fields[part.type as keyof typeof fields] = Number(part.value);
  }
  // Derived from the date rather than read from the formatter: no locale text to map back.
  const weekday = new Date(utcMs({ ...fields, hour: 0, minute: 0, second: 0 })).getUTCDay();
  return { ...fields, weekday };
}

/** The zone's UTC offset at `instant` in milliseconds (east of Greenwich is positive). */
export function zoneOffsetMs(instant: number, zone: string): number {
  const wholeSecond = Math.floor(instant / 1000) * 1000;
  return utcMs(localParts(new Date(wholeSecond), zone)) - wholeSecond;
}

/**
 * The instants at which a wall-clock time happens in `zone`. `wall` is the wall time written as if
 * it were UTC (Date.UTC of its fields). Assumes at most one offset change within a day of it,
 * which holds for every zone's DST rules.
 */
export function wallTimeInstants(wall: number, zone: string): WallTimeInstants {
  const before = zoneOffsetMs(wall - DAY_MS, zone);
  const after = zoneOffsetMs(wall + DAY_MS, zone);
  if (before === after) return { kind: "single", instant: wall - before };
  const early = wall - Math.max(before, after);
  const late = wall - Math.min(before, after);
  const earlyOk = wall - zoneOffsetMs(early, zone) === early;
  const lateOk = wall - zoneOffsetMs(late, zone) === late;
  if (earlyOk && lateOk) return { kind: "repeated", first: early, second: late };
  if (earlyOk) return { kind: "single", instant: early };
  if (lateOk) return { kind: "single", instant: late };
  return { kind: "gap", instant: wall - before };
}

/** How far the zone's offset moves within a day either side of `instant` (0 away from DST). */
export function offsetShiftNear(instant: number, zone: string): number {
  return Math.abs(zoneOffsetMs(instant - DAY_MS, zone) - zoneOffsetMs(instant + DAY_MS, zone));
}
