import { localParts } from "./zone.js";

/** A window of minutes of the day, [startMinute, endMinute); wraps midnight when start > end. */
export interface TimeOfDayRange {
  readonly startMinute: number;
  readonly endMinute: number;
}

/** A calendar day: every year when `year` is absent. */
export interface BlackoutDate {
  readonly month: number;
  readonly day: number;
  readonly year?: number;
}

/**
 * When no round may run. The three lists are independent windows, not an intersection: an
 * instant is blacked out when ANY of them covers it (its weekday is listed, OR its time of day is
 * inside any range, OR its date is listed), all read on the wall clock of the configured zone.
 */
export interface Blackout {
  /** 0 = Sunday .. 6 = Saturday. */
  readonly weekdays: readonly number[];
  readonly timesOfDay: readonly TimeOfDayRange[];
  readonly dates: readonly BlackoutDate[];
}

const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** "Sun".."Sat" or "Sunday".."Saturday", any case, to 0..6. */
export function parseWeekday(s: string): number | undefined {
  const name = s.trim().toLowerCase();
  const index = WEEKDAYS.findIndex((day) => day === name || day.slice(0, 3) === name);
  return index === -1 ? undefined : index;
}

/** "HH:MM" (00:00..23:59) to minutes since midnight. */
function parseClock(hours: string, minutes: string): number | undefined {
  const h = Number(hours);
  const m = Number(minutes);
  return h <= 23 && m <= 59 ? h * 60 + m : undefined;
}

/** "HH:MM-HH:MM", end exclusive; "18:00-09:00" wraps midnight; an empty range is invalid. */
export function parseTimeRange(s: string): TimeOfDayRange | undefined {
  const match = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(s.trim());
  if (match === null) return undefined;
  const [, h1 = "", m1 = "", h2 = "", m2 = ""] = match;
  const startMinute = parseClock(h1, m1);
  const endMinute = parseClock(h2, m2);
  if (startMinute === undefined || endMinute === undefined || startMinute === endMinute) {
    return undefined;
  }
  return { startMinute, endMinute };
}

// Any leap year: "02-29" without a year is a real day (it recurs every leap year).
const LEAP_YEAR = 2000;

function isRealDate(year: number, month: number, day: number): boolean {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** "MM-DD" (every year) or "YYYY-MM-DD"; rejects days that do not exist ("2027-02-29"). */
export function parseBlackoutDate(s: string): BlackoutDate | undefined {
  const match = /^(?:(\d{4})-)?(\d{2})-(\d{2})$/.exec(s.trim());
  if (match === null) return undefined;
  const [, yearText, monthText = "", dayText = ""] = match;
  const month = Number(monthText);
  const day = Number(dayText);
  const year = yearText === undefined ? undefined : Number(yearText);
  if (!isRealDate(year ?? LEAP_YEAR, month, day)) return undefined;
  return year === undefined ? { month, day } : { month, day, year };
}

/**
 * Whether `minute` (since local midnight) is inside the range. Comparing whole minutes is exact:
 * boundaries are whole minutes, so 08:59:59 (minute 539) is inside "18:00-09:00" and 09:00:00
 * (minute 540) is not.
 */
function inRange(range: TimeOfDayRange, minute: number): boolean {
  const { startMinute, endMinute } = range;
  return startMinute < endMinute
    ? minute >= startMinute && minute < endMinute
    : minute >= startMinute || minute < endMinute;
}

/** Whether `instant`, read on the wall clock of `zone`, falls in any blackout window. */
export function inBlackout(blackout: Blackout, instant: Date, zone: string): boolean {
  const local = localParts(instant, zone);
  const minute = local.hour * 60 + local.minute;
  return (
    blackout.weekdays.includes(local.weekday) ||
    blackout.timesOfDay.some((range) => inRange(range, minute)) ||
    blackout.dates.some(
      (date) =>
        date.month === local.month &&
        date.day === local.day &&
        (date.year === undefined || date.year === local.year),
    )
  );
}
