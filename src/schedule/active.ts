// "May chaos happen right now?" (chaos_monkey_active, SPEC §5) and "when next?" (plan). Pure: the
// same gates as a round's first two (src/engine/round.ts gate): paused, then the blackout windows
// read in the target's zone.
import { inBlackout } from "./blackout.js";
import type { Blackout, TimeOfDayRange } from "./blackout.js";
import { localParts } from "./zone.js";

/** What decides whether a target's rounds may run, apart from its schedule. */
export interface ActiveWindow {
  readonly paused: boolean;
  readonly blackout: Blackout;
  /** The zone the blackout windows are read in: the target's. */
  readonly timezone: string;
}

/** A target's window, from the resolved config and the target. */
export function activeWindow(
  config: { readonly paused: boolean; readonly safety: { readonly blackout: Blackout } },
  target: { readonly timezone: string },
): ActiveWindow {
  return { paused: config.paused, blackout: config.safety.blackout, timezone: target.timezone };
}

/** Whether a round would run at `instant`: not paused and not inside a blackout window. */
export function isActive(window: ActiveWindow, instant: Date): boolean {
  return !window.paused && !inBlackout(window.blackout, instant, window.timezone);
}

const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;
/** The most a zone's offset moves at once (DST); a skip stops this much short of its target. */
const MAX_SHIFT_MINUTES = 60;
/** How far nextActive looks: two weeks covers every weekly pattern twice over. */
export const NEXT_ACTIVE_HORIZON_MS = 14 * 86_400_000;

function covers(range: TimeOfDayRange, minute: number): boolean {
  const { startMinute: start, endMinute: end } = range;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/**
 * Whole minutes that surely pass before blacked-out `instant` (a whole minute) can be active:
 * every window covering it has to end, a whole day at local midnight, a time of day at its end.
 * Counted on the wall clock, so it stops an offset change short; never less than 1.
 */
function minutesToSkip(blackout: Blackout, instant: Date, zone: string): number {
  const local = localParts(instant, zone);
  const minute = local.hour * 60 + local.minute;
  const wholeDay =
    blackout.weekdays.includes(local.weekday) ||
    blackout.dates.some(
      (d) =>
        d.month === local.month && d.day === local.day && (d.year ?? local.year) === local.year,
    );
  let wallMinutes = wholeDay ? DAY_MINUTES - minute : 0;
  for (const range of blackout.timesOfDay)
    if (covers(range, minute))
      wallMinutes = Math.max(wallMinutes, (range.endMinute - minute + DAY_MINUTES) % DAY_MINUTES);
  return Math.max(1, wallMinutes - MAX_SHIFT_MINUTES);
}

/**
 * The first instant at or after `from` at which a round would run, or undefined when there is
 * none within `horizonMs` (paused, or blacked out throughout). Windows start and end on whole
 * minutes in every zone in use today, so after `from` only whole minutes are candidates; the
 * search skips ahead by what the covering windows surely still last, so two weeks stay cheap.
 */
export function nextActive(
  window: ActiveWindow,
  from: Date,
  horizonMs: number = NEXT_ACTIVE_HORIZON_MS,
): Date | undefined {
  if (window.paused) return undefined;
  if (isActive(window, from)) return from;
  const end = from.getTime() + horizonMs;
  let t = Math.floor(from.getTime() / MINUTE_MS) * MINUTE_MS;
  // t is blacked out here: `from` was, and so is every minute skipped over.
  for (;;) {
    t += minutesToSkip(window.blackout, new Date(t), window.timezone) * MINUTE_MS;
    if (t > end) return undefined;
    if (isActive(window, new Date(t))) return new Date(t);
  }
}
