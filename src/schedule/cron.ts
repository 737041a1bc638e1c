import { CronExpressionParser, type CronExpression } from "cron-parser";
import { parseDuration } from "./duration.js";
import { isValidTimeZone, offsetShiftNear, wallTimeInstants, zoneOffsetMs } from "./zone.js";

export type Schedule =
  | { readonly kind: "cron"; readonly expression: string; readonly hasSeconds: boolean }
  | { readonly kind: "every"; readonly intervalMs: number };

export type ParseScheduleResult =
  | { readonly ok: true; readonly schedule: Schedule }
  | { readonly ok: false; readonly error: string };

export interface NextFireOptions {
  readonly schedule: Schedule;
  /** The result is strictly later than this instant. */
  readonly after: Date;
  /** IANA zone the cron fields are read in; ignored by "@every". */
  readonly zone: string;
  /** "@every" fires at anchor + k × interval; defaults to the Unix epoch. */
  readonly anchor?: Date;
}

// Only the classic macros; cron-parser's own extras (@minutely, @weekdays, ...) are not accepted.
const MACROS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const MIN_EVERY_MS = 1000;

// How many values each field has: a step larger than that can never repeat, so it is a typo
// ("*/61"). cron-parser silently turns such steps into a single value, hence our own check.
const FIVE_FIELDS: readonly (readonly [name: string, span: number])[] = [
  ["minute", 60],
  ["hour", 24],
  ["day of month", 31],
  ["month", 12],
  ["weekday", 7],
];
const SIX_FIELDS = [["second", 60] as const, ...FIVE_FIELDS];

const fail = (error: string): ParseScheduleResult => ({ ok: false, error });

/**
 * Parses a target's schedule: 5-field cron, 6-field cron (seconds first), a macro (@hourly,
 * @daily, @midnight, @weekly, @monthly, @yearly, @annually) or "@every <duration>" (≥ 1s).
 * The error is a short reason; callers add the expression and where it came from.
 */
export function parseSchedule(expr: string): ParseScheduleResult {
  const text = expr.trim();
  if (text === "") return fail("empty schedule");
  if (text.startsWith("@every")) return parseEvery(text);
  if (text.startsWith("@")) {
    const expression = MACROS[text];
    return expression === undefined
      ? fail(`unknown macro ${text}`)
      : { ok: true, schedule: { kind: "cron", expression, hasSeconds: false } };
  }
  return parseCron(text.split(/\s+/));
}

function parseEvery(text: string): ParseScheduleResult {
  const match = /^@every\s+(\S+)$/.exec(text);
  const intervalMs = match?.[1] === undefined ? undefined : parseDuration(match[1]);
  if (intervalMs === undefined) return fail('expected "@every <duration>", e.g. "@every 90s"');
  if (intervalMs < MIN_EVERY_MS) return fail("@every interval must be at least 1s");
  return { ok: true, schedule: { kind: "every", intervalMs } };
}

function parseCron(fields: readonly string[]): ParseScheduleResult {
  if (fields.length !== 5 && fields.length !== 6) {
    return fail(`expected 5 or 6 fields, got ${fields.length}`);
  }
  const specs = fields.length === 6 ? SIX_FIELDS : FIVE_FIELDS;
  for (const [index, [name, span]] of specs.entries()) {
    const problem = fieldProblem(fields[index] ?? "", span);
    if (problem !== undefined) return fail(`${name}: ${problem}`);
  }
  const expression = fields.join(" ");
  try {
    // One trial step also rejects what parses but can never fire.
    wallCursor(expression, 0).next();
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  return { ok: true, schedule: { kind: "cron", expression, hasSeconds: fields.length === 6 } };
}

/** What cron-parser accepts but we do not, for one field. */
function fieldProblem(field: string, span: number): string | undefined {
  for (const part of field.split(",")) {
    // Jenkins-style "H" draws from a random generator we do not control.
    if (/^h/i.test(part)) return `hashed values (H) are not supported`;
    const step = /\/(\d+)$/.exec(part)?.[1];
    if (step !== undefined && Number(step) > span) {
      return `step ${step} is larger than the field's ${span} values`;
    }
  }
  return undefined;
}

/**
 * A cron-parser iterator over matching wall-clock times, written as if they were UTC instants.
 * The zone is applied by us (see nextCronFire), never by cron-parser: its own tz handling
 * answers differently depending on where the search starts near a DST change.
 */
function wallCursor(expression: string, fromWall: number): CronExpression {
  return CronExpressionParser.parse(expression, { tz: "UTC", currentDate: new Date(fromWall) });
}

/** The instants at which one matching wall time fires, per the DST rules on nextFire. */
function fireInstants(wall: number, zone: string, everyHour: boolean): number[] {
  const placed = wallTimeInstants(wall, zone);
  if (placed.kind !== "repeated") return [placed.instant];
  return everyHour ? [placed.first, placed.second] : [placed.first];
}

function nextCronFire(expression: string, after: number, zone: string): number {
  // A fire can sit up to one offset change "behind" after's wall time (a repeat's second pass,
  // a gap-shifted time), so the search starts that far back; away from DST it starts at after.
  const startWall = after + zoneOffsetMs(after, zone) - offsetShiftNear(after, zone);
  const cursor = wallCursor(expression, startWall - 1);
  const everyHour = cursor.fields.hour.values.length === 24;
  let best = Number.POSITIVE_INFINITY;
  let stopAtWall = Number.POSITIVE_INFINITY;
  for (;;) {
    const wall = cursor.next().getTime();
    for (const instant of fireInstants(wall, zone, everyHour)) {
      if (instant > after && instant < best) {
        best = instant;
        // Past this wall time no match can land before `best`, even across a repeat.
        stopAtWall = best + zoneOffsetMs(best, zone) + offsetShiftNear(best, zone);
      }
    }
    if (wall >= stopAtWall) return best;
  }
}

function nextEveryFire(intervalMs: number, after: number, anchor: number): number {
  return anchor + (Math.floor((after - anchor) / intervalMs) + 1) * intervalMs;
}

/**
 * The first fire strictly after `after`.
 *
 * cron: the fields are matched against wall-clock time in `zone`. Across DST changes:
 * - spring forward: a time in the skipped hour fires shifted forward by the gap (Prague 02:30 on
 *   2026-03-29 fires at 03:30 CEST), once; a time that also exists after the jump is not doubled.
 * - fall back: a repeated wall time fires on its first pass only, unless the schedule runs every
 *   hour (its hour field covers 0-23, like "0,30 * * * *"), which fires on both passes so
 *   that real time between fires stays even.
 * This is what cron-parser's own tz iteration does when started before the change, but ours
 * gives the same answer whatever instant the search starts from.
 *
 * every: anchor + k × interval for the smallest integer k that is later than `after`.
 */
export function nextFire(opts: NextFireOptions): Date {
  const after = opts.after.getTime();
  if (Number.isNaN(after)) throw new RangeError("nextFire: after is an invalid Date");
  if (!isValidTimeZone(opts.zone)) throw new RangeError(`unknown time zone "${opts.zone}"`);
  const { schedule } = opts;
  if (schedule.kind === "every") {
    const anchor = opts.anchor?.getTime() ?? 0;
    return new Date(nextEveryFire(schedule.intervalMs, after, anchor));
  }
  return new Date(nextCronFire(schedule.expression, after, opts.zone));
}

/** The next `count` fires after `after`, each strictly later than the one before. */
export function nextFires(opts: NextFireOptions & { readonly count: number }): Date[] {
  const fires: Date[] = [];
  let after = opts.after;
  while (fires.length < opts.count) {
    after = nextFire({ ...opts, after });
    fires.push(after);
  }
  return fires;
}
