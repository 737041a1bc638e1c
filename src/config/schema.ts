// The shape of the config file as users write it (SPEC §2). Each refinement's message is the
// tail of an error line; errors.ts puts the YAML path, the offending value and the line around it.
// config/schema.json is generated from this schema (npm run schema), so editors and the validator
// cannot drift apart.
import { z } from "zod";
import { parseDuration } from "../schedule/duration.js";
import { parseSchedule } from "../schedule/cron.js";
import { isValidTimeZone } from "../schedule/zone.js";
import { parseBlackoutDate, parseTimeRange, parseWeekday } from "../schedule/blackout.js";
import { parseFieldSelector, parseLabelSelector } from "../selectors/labels.js";
import { namePatternError } from "../selectors/names.js";
import { envReferenceError, envReferences } from "./env.js";
import { parseStatusRange } from "./steady-state.js";
import { MODES, NOTIFY_EVENTS, TARGET_KINDS } from "./types.js";

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
// Target and sink names are metric labels: short, lowercase, predictable.
const labelName = z
  .string()
  .max(63, "is longer than 63 characters")
  .regex(DNS_LABEL, "is not a lowercase DNS label (a-z, 0-9, '-')");

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

const URL_UNSAFE = /[\s\u0000-\u001f\u007f]/;

/** Why `s` cannot be a sink's URL, or undefined when it can. */
export function httpUrlError(s: string): string | undefined {
  // The URL parser would drop or encode blanks and control characters; here they are a typo.
  if (URL_UNSAFE.test(s)) return "is not an http(s) URL";
  const url = URL.parse(s);
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:"))
    return "is not an http(s) URL";
  // fetch refuses them, and they would sit in the URL where a header is the place for them.
  if (url.username !== "" || url.password !== "")
    return "may not hold user:password@ (send credentials in a header)";
  return undefined;
}

/**
 * A sink URL, checked as far as it can be before expansion: with references it must at least
 * start like one, or with the reference that supplies it; resolve.ts checks the expanded URL.
 */
export function sinkUrlError(s: string): string | undefined {
  const error = envReferenceError(s);
  if (error !== undefined) return error;
  if (envReferences(s).length === 0) return httpUrlError(s);
  return /^(https?:\/\/|\$\{)/i.test(s) && !URL_UNSAFE.test(s)
    ? undefined
    : "is not an http(s) URL";
}

/** Why `s` cannot be a header value (before expansion), or undefined when it can. */
export function headerValueError(s: string): string | undefined {
  return envReferenceError(s) ?? (/[\r\n\0]/.test(s) ? "may not contain a line break" : undefined);
}
// RFC 9110 token.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A string that `check` finds nothing wrong with; its answer is the error message. */
function checked(check: (s: string) => string | undefined) {
  return z.string().superRefine((s, ctx) => {
    const error = check(s);
    if (error !== undefined) ctx.addIssue({ code: "custom", message: error });
  });
}
const sinkUrl = checked(sinkUrlError).describe(
  "http(s) URL; ${NAME} is taken from the environment",
);
const headers = z.record(
  z.string().regex(HEADER_NAME, "is not an HTTP header name"),
  checked(headerValueError),
);

const recovery = z.strictObject({
  timeout: duration.optional(),
  objective: duration
    .optional()
    .describe("A recovery slower than this is an objective miss (once exits 3)"),
});

const statusRange = z
  .union([z.string(), z.number().int()])
  .refine(
    (s) => parseStatusRange(String(s)) !== undefined,
    'is not an HTTP status or a range like "200-399"',
  );

const httpProbe = z.strictObject({
  url: sinkUrl,
  method: z.enum(["GET", "HEAD", "POST"]).optional(),
  expectStatus: z.array(statusRange).min(1).optional(),
  bodyContains: z.string().optional(),
  timeout: duration.optional(),
  headers: headers.optional(),
});

const prometheusProbe = z.strictObject({
  url: sinkUrl,
  query: z.string().min(1, "must be a PromQL expression"),
  below: z.number().optional(),
  above: z.number().optional(),
  timeout: duration.optional(),
});

const probe = z.strictObject({
  name: labelName,
  http: httpProbe.optional(),
  prometheus: prometheusProbe.optional(),
});

const steadyState = z.strictObject({
  interval: duration.optional().describe("Probe cadence, and the disruption figure's resolution"),
  successThreshold: z.number().int().min(1).optional(),
  before: z.boolean().optional(),
  probes: z.array(probe).min(1, "must list at least one probe"),
});

const target = z.strictObject({
  name: labelName,
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
  recovery: recovery.optional(),
  steadyState: steadyState.optional(),
});

const notifySink = z.strictObject({
  name: labelName,
  slack: z.strictObject({ webhookUrl: sinkUrl }).optional(),
  webhook: z.strictObject({ url: sinkUrl, headers: headers.optional() }).optional(),
  events: z.array(z.enum(NOTIFY_EVENTS)).optional(),
});

export const rawConfigSchema = z.strictObject({
  apiVersion: z.literal("chaos-monkey.io/v1"),
  kind: z.literal("ChaosMonkeyConfig"),
  dryRun: z.boolean().optional().describe("Default true: select and measure, write nothing"),
  timezone: timezone.optional(),
  seed: z.string().optional(),
  paused: z.boolean().optional(),
  safety: safety.optional(),
  recovery: recovery.optional(),
  steadyState: steadyState.optional(),
  notify: z.array(notifySink).optional(),
  targets: z.array(target).min(1, "must list at least one target"),
});

export type RawConfig = z.infer<typeof rawConfigSchema>;
export type RawTarget = z.infer<typeof target>;
export type RawNotifySink = z.infer<typeof notifySink>;
export type RawSteadyState = z.infer<typeof steadyState>;
export type RawProbe = z.infer<typeof probe>;
