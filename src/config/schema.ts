// The shape of the config file as users write it (SPEC §2). Each refinement's message is the
// tail of an error line; errors.ts puts the YAML path, the offending value and the line around it.
// config/schema.json is generated from this schema (npm run schema), so editors and the validator
// cannot drift apart.
import { z } from "zod";
import { parseDuration } from "../schedule/duration.js";
import { parseSchedule } from "../schedule/cron.js";
import { isValidTimeZone } from "../schedule/zone.js";
import { parseBlackoutDate, parseTimeRange, parseWeekday } from "../schedule/blackout.js";
import { parseFieldSelector, parseLabelSelector } from "../select/labels.js";
import { namePatternError } from "../select/names.js";
import { MODES, TARGET_KINDS } from "./types.js";

function parses(fn: (s: string) => unknown): (s: string) => boolean {
  return (s) => {
    try {
      return fn(s) !== undefined;
    } catch {
      return false;
    }
  };
}

const duration = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, "is not a duration like 90s, 10m or 1h30m")
  .describe("A duration: 500ms, 90s, 10m, 1h30m");
const timezone = z
  .string()
  .refine(isValidTimeZone, "is not an IANA time zone (e.g. UTC, Europe/Prague)")
  .describe("IANA time zone, e.g. UTC or Europe/Prague");
// Names are matched with RE2 (linear time), so a pattern RE2 cannot compile is refused here.
const namePattern = z
  .string()
  .superRefine((s, ctx) => {
    const error = namePatternError(s);
    if (error !== undefined) ctx.addIssue({ code: "custom", message: error });
  })
  .describe("RE2 regular expression on metadata.name (linear-time matching)");
// 0 would mean "kill nothing", which is what paused says; a cap of 0 would also hide a
// misconfiguration as endless cap drops.
const atLeastOne = z.number().int().min(1, "must be at least 1 (to stop kills, set paused: true)");
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const blackout = z
  .strictObject({
    weekdays: z
      .array(z.string().refine((s) => parseWeekday(s) !== undefined, "is not a weekday (Mon..Sun)"))
      .optional(),
    timesOfDay: z
      .array(
        z
          .string()
          .refine(
            (s) => parseTimeRange(s) !== undefined,
            'is not a time range "HH:MM-HH:MM" (start and end differ; may wrap midnight)',
          ),
      )
      .optional(),
    dates: z
      .array(
        z
          .string()
          .refine((s) => parseBlackoutDate(s) !== undefined, "is not a date MM-DD or YYYY-MM-DD"),
      )
      .optional(),
  })
  .describe("No rounds inside these windows; any one matching blacks out the instant");

const safety = z.strictObject({
  excludedNamespaces: z.array(z.string()).optional(),
  allowSystemNamespaces: z.boolean().optional(),
  optOutAnnotation: z.string().min(1).optional(),
  maxKillsPerRound: atLeastOne.optional(),
  maxPerOwner: atLeastOne.optional(),
  requireHealthy: z.boolean().optional(),
  blackout: blackout.optional(),
});

const selector = z.strictObject({
  namespaces: z.array(z.string().regex(DNS_LABEL, "is not a namespace name")).optional(),
  namespaceSelector: z
    .string()
    .refine(parses(parseLabelSelector), "is not a valid label selector")
    .optional(),
  labelSelector: z
    .string()
    .refine(parses(parseLabelSelector), "is not a valid label selector")
    .optional(),
  fieldSelector: z
    .string()
    .refine(parses(parseFieldSelector), "is not a valid field selector")
    .optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  includeNames: z.array(namePattern).optional(),
  excludeNames: z.array(namePattern).optional(),
  ownerKinds: z.array(z.string().min(1)).optional(),
  includeOrphans: z.boolean().optional(),
  minAge: duration.optional(),
});

const action = z.strictObject({
  method: z.enum(["evict", "delete"]).optional(),
  gracePeriodSeconds: z.number().int().min(0).optional(),
  stripFinalizers: z.union([z.boolean(), z.array(z.string().min(1))]).optional(),
  restartConsumers: z.boolean().optional(),
});

const target = z.strictObject({
  name: z
    .string()
    .max(63, "is longer than 63 characters")
    .regex(DNS_LABEL, "is not a lowercase DNS label (a-z, 0-9, '-')"),
  kind: z.enum(TARGET_KINDS),
  schedule: z
    .string()
    .superRefine((s, ctx) => {
      const parsed = parseSchedule(s);
      if (parsed.ok) return;
      // SPEC's wording for cron; an @every schedule says what is wrong with its interval.
      ctx.addIssue({
        code: "custom",
        message: s.trim().startsWith("@every")
          ? `is not a valid schedule: ${parsed.error}`
          : "is not a valid cron expression",
      });
    })
    .describe('5- or 6-field cron, @hourly/@daily/..., or "@every 90s"'),
  timezone: timezone.optional(),
  jitter: duration.optional(),
  concurrency: z.enum(["Forbid", "Allow"]).optional(),
  selector: selector.optional(),
  mode: z.enum(MODES).optional(),
  value: z.number().min(0).optional(),
  action: action.optional(),
  recovery: z.strictObject({ timeout: duration.optional() }).optional(),
});

export const rawConfigSchema = z.strictObject({
  apiVersion: z.literal("chaos-monkey.io/v1"),
  kind: z.literal("ChaosMonkeyConfig"),
  dryRun: z.boolean().optional().describe("Default true: select and measure, write nothing"),
  timezone: timezone.optional(),
  seed: z.string().optional(),
  paused: z.boolean().optional(),
  safety: safety.optional(),
  recovery: z.strictObject({ timeout: duration.optional() }).optional(),
  targets: z.array(target).min(1, "must list at least one target"),
});

export type RawConfig = z.infer<typeof rawConfigSchema>;
export type RawTarget = z.infer<typeof target>;
