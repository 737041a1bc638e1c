// Writes config/schema.json, the JSON Schema (draft-07) of the config file, for editors and CI.
// It is generated from rawConfigSchema (src/config/schema.ts), which stays the one source of truth:
//
//   npm run schema                   regenerate config/schema.json
//   npm run schema -- --check        exit 1 when config/schema.json is not what would be written
//
// zod cannot express its refinements (cron, zones, regexes, selectors) in JSON Schema, so this
// script adds by path what they imply where a pattern is exact or errs only on the side of
// accepting: durations, blackout windows, schedule shapes, field selectors, and the kind- and
// mode-dependent rules of src/config/resolve.ts as if/then. What remains only
// `chaos-monkey validate` catches.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";
import { z } from "zod";
import { DEFAULT_OPT_OUT_ANNOTATION, SYSTEM_NAMESPACES } from "../src/config/resolve.js";
import { rawConfigSchema } from "../src/config/schema.js";
import { DEFAULT_NOTIFY_EVENTS } from "../src/config/types.js";
import { SELECTABLE_FIELDS } from "../src/selectors/labels.js";

export const SCHEMA_PATH = fileURLToPath(new URL("../config/schema.json", import.meta.url));
export const SCHEMA_ID = "https://chaos-monkey.io/schemas/config/v1/schema.json";

export type JsonSchema = { [key: string]: unknown };

// ---- Patterns implied by the refinements. Each accepts everything the parser accepts. ----

/** parseDuration: "0", or one or more <number><unit> terms ("90s", "1h30m", "1.5h", "500ms"). */
const DURATION = String.raw`^(0|([0-9]+(\.[0-9]+)?(ms|s|m|h))+)$`;

/** parseWeekday: Sun..Sat or Sunday..Saturday in any case, surrounding blanks ignored. */
const WEEKDAY = (() => {
  const anyCase = (s: string) => [...s].map((c) => `[${c.toUpperCase()}${c}]`).join("");
  const days = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
  const alternatives = days.map((d) => `${anyCase(d.slice(0, 3))}(${anyCase(d.slice(3))})?`);
  return String.raw`^\s*(${alternatives.join("|")})\s*$`;
})();

/** parseTimeRange: "HH:MM-HH:MM" on a 24-hour clock (that start ≠ end is not expressed). */
const CLOCK = "([01][0-9]|2[0-3]):[0-5][0-9]";
const TIME_RANGE = String.raw`^\s*${CLOCK}-${CLOCK}\s*$`;

/** parseBlackoutDate: "MM-DD" or "YYYY-MM-DD" with a day the month has (02-29 in any year). */
const MONTH_DAY = [
  "(0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])",
  "(0[469]|11)-(0[1-9]|[12][0-9]|30)",
  "02-(0[1-9]|1[0-9]|2[0-9])",
].join("|");
const DATE = String.raw`^\s*([0-9]{4}-)?(${MONTH_DAY})\s*$`;

/**
 * parseSchedule: a classic macro, "@every <duration>", or 5 or 6 blank-separated cron fields.
 * Field values (ranges, steps, names) are left to the validator.
 */
const MACROS = "yearly|annually|monthly|weekly|daily|midnight|hourly";
const CRON_FIELD = "[0-9A-Za-z*?/,#-]+";
const SCHEDULE = String.raw`^\s*(@(${MACROS})|@every\s+${DURATION.slice(1, -1)}|${CRON_FIELD}(\s+${CRON_FIELD}){4,5})\s*$`;

/**
 * parseFieldSelector, restricted to the fields of one kind (SELECTABLE_FIELDS): blank, or
 * comma-separated `<field> (=|==|!=) <value without commas>`, blanks around each part. Exact.
 */
function fieldSelectorPattern(fields: readonly string[]): string {
  const field = `(${fields.map((f) => f.replaceAll(".", String.raw`\.`)).join("|")})`;
  const term = String.raw`\s*${field}\s*(==|=|!=)[^,]*`;
  return String.raw`^(\s*|${term}(,${term})*)$`;
}
const POD_FIELD_SELECTOR = fieldSelectorPattern(SELECTABLE_FIELDS.Pod);
// Claims and volumes share their fields; should they part, the volume rule below must split.
const VOLUME_FIELD_SELECTOR = fieldSelectorPattern(SELECTABLE_FIELDS.PersistentVolumeClaim);
if (fieldSelectorPattern(SELECTABLE_FIELDS.PersistentVolume) !== VOLUME_FIELD_SELECTOR)
  throw new Error("gen-schema: claims and volumes no longer select on the same fields");

/**
 * A text with `${NAME}` references (src/config/env.ts): every "${" starts a well-formed one, and
 * a "$" not followed by "{" is literal. `excluded` are characters the text may not hold at all.
 * Exact, for the characters it allows.
 */
const NAME = "[A-Za-z_][A-Za-z0-9_]*";
function withEnvPattern(excluded: string): string {
  return String.raw`([^$${excluded}]|\$+(\{${NAME}\}|[^{$${excluded}]|$))*`;
}
/** Header values: no line breaks or NUL (src/config/schema.ts). Exact. */
const HEADER_VALUE = String.raw`^${withEnvPattern(String.raw`\r\n\u0000`)}$`;
/**
 * Sink URLs: no blanks or control characters, and http(s):// or a reference first. Whether the
 * rest parses as a URL (and has no user:password@) is left to the validator.
 */
const URL_UNSAFE = String.raw`\s\u0000-\u001f\u007f`;
const SINK_URL = String.raw`^([Hh][Tt][Tt][Pp][Ss]?://|\$\{${NAME}\})${withEnvPattern(URL_UNSAFE)}$`;

export const PATTERNS = {
  duration: DURATION,
  weekday: WEEKDAY,
  timeRange: TIME_RANGE,
  date: DATE,
  schedule: SCHEDULE,
  podFieldSelector: POD_FIELD_SELECTOR,
  volumeFieldSelector: VOLUME_FIELD_SELECTOR,
  headerValue: HEADER_VALUE,
  sinkUrl: SINK_URL,
} as const;

// ---- Annotations by path: "a.b" walks properties, a "[]" suffix steps into the list's items. ----

interface Annotation {
  readonly description?: string;
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly pattern?: string;
}

const duration = (what: string, extra: Annotation = {}): Annotation => ({
  description: `${what} A duration such as 90s, 10m or 1h30m (units ms, s, m, h).`,
  pattern: DURATION,
  ...extra,
});

const ANNOTATIONS: Readonly<Record<string, Annotation>> = {
  apiVersion: { description: "Always chaos-monkey.io/v1." },
  kind: { description: "Always ChaosMonkeyConfig." },
  dryRun: {
    description:
      "Select victims, log and count them as dry_run, and write nothing at all to the cluster.",
    default: true,
  },
  timezone: {
    description: "IANA time zone for schedules and blackout windows; a target may override it.",
    default: "UTC",
    examples: ["UTC", "Europe/Prague"],
  },
  seed: {
    description:
      "A fixed seed makes every round pick the same victims from the same cluster state. " +
      "Empty: a new random seed per round. The seed is always logged.",
    default: "",
  },
  paused: {
    description: "Kill switch: while true every round is skipped and counted as skipped.",
    default: false,
  },
  safety: { description: "Guards that hold whatever a target asks for." },
  "safety.excludedNamespaces": {
    description:
      `Namespaces never touched, added to the always-excluded ${SYSTEM_NAMESPACES.join(", ")} ` +
      "(see allowSystemNamespaces) and the monkey's own namespace.",
    default: [],
    examples: [["monitoring"]],
  },
  "safety.allowSystemNamespaces": {
    description:
      `true lifts the exclusion of ${SYSTEM_NAMESPACES.join(", ")}. ` +
      "The monkey's own namespace stays excluded.",
    default: false,
  },
  "safety.optOutAnnotation": {
    description:
      'An object, or its namespace, annotated with this key and "true" is never touched; nor ' +
      "is a claim or volume whose claim, or any pod mounting it, is so annotated.",
    default: DEFAULT_OPT_OUT_ANNOTATION,
  },
  "safety.maxKillsPerRound": {
    description:
      "Hard cap on kills per round, whatever a target's mode asks for; a volume victim whose " +
      "consumers are restarted counts 1 + their number. At least 1: to stop kills, set paused.",
    default: 10,
  },
  "safety.maxPerOwner": {
    description:
      "At most this many victims of one owning workload per round. At least 1: to stop kills, " +
      "set paused.",
    default: 1,
  },
  "safety.requireHealthy": {
    description: "Steady-state guard: skip a victim whose workload is not fully ready right now.",
    default: true,
  },
  "safety.blackout": {
    description:
      "No rounds inside these windows, read in the configured zone; any one matching is enough.",
  },
  "safety.blackout.weekdays": { description: "Whole days, e.g. [Sat, Sun]." },
  "safety.blackout.weekdays[]": { pattern: WEEKDAY, examples: ["Sat", "Sunday"] },
  "safety.blackout.timesOfDay": {
    description:
      'Daily windows "HH:MM-HH:MM", end exclusive; start and end differ; may wrap midnight.',
  },
  "safety.blackout.timesOfDay[]": { pattern: TIME_RANGE, examples: ["18:00-09:00"] },
  "safety.blackout.dates": { description: "MM-DD every year, or one YYYY-MM-DD." },
  "safety.blackout.dates[]": { pattern: DATE, examples: ["12-24", "2026-12-31"] },
  recovery: { description: "Defaults for every target's recovery." },
  "recovery.timeout": duration(
    "How long a victim's workload may take to be whole again before the outcome is timeout.",
    { default: "5m" },
  ),
  targets: { description: "What to kill and when. At least one." },
  "targets[]": { description: "One target: a schedule, a selector and a kill mode." },
  "targets[].name": {
    description: "Unique lowercase DNS label (at most 63 characters); used as a metric label.",
  },
  "targets[].kind": { description: "The kind of object to kill." },
  "targets[].schedule": {
    description:
      '5-field cron, 6-field cron (seconds first), @hourly/@daily/@weekly/@monthly/@yearly, or "@every 90s" (at least 1s).',
    pattern: SCHEDULE,
    examples: ["*/10 * * * *", "0 */5 * * * *", "@daily", "@every 90s"],
  },
  "targets[].timezone": {
    description: "IANA time zone of this target's schedule; defaults to the top-level timezone.",
    examples: ["Europe/Prague"],
  },
  "targets[].jitter": duration("A random extra delay in [0, jitter) after each tick.", {
    default: "0s",
  }),
  "targets[].concurrency": {
    description:
      "Forbid: skip a round while this target's last recoveries are in flight. Allow: do not.",
    default: "Forbid",
  },
  "targets[].selector": { description: "Which objects are eligible. All given fields must match." },
  "targets[].selector.namespaces": {
    description: "Empty: every namespace not excluded. Ignored for PersistentVolume.",
  },
  "targets[].selector.namespaceSelector": {
    description: "Kubernetes label selector on Namespace objects.",
    examples: ["chaos=enabled"],
  },
  "targets[].selector.labelSelector": {
    description: "Kubernetes label selector, sent to the API server.",
    examples: ["app=web,tier!=db"],
  },
  "targets[].selector.fieldSelector": {
    description:
      `Kubernetes field selector (=, ==, !=) on the fields the API server supports for the kind: ` +
      `pods ${SELECTABLE_FIELDS.Pod.join(", ")}; claims and volumes ` +
      `${SELECTABLE_FIELDS.PersistentVolumeClaim.join(", ")}.`,
    examples: ["spec.nodeName=node-1", "status.phase=Running,spec.nodeName!=node-0"],
  },
  "targets[].selector.annotations": { description: "Exact-match annotations." },
  "targets[].selector.includeNames": {
    description:
      "Regular expressions on metadata.name; any must match. RE2 syntax, matched in linear " +
      "time: no backreferences or lookaround.",
  },
  "targets[].selector.excludeNames": {
    description:
      "Regular expressions on metadata.name; none may match. RE2 syntax, matched in linear " +
      "time: no backreferences or lookaround.",
  },
  "targets[].selector.ownerKinds": {
    description:
      "Pods only: kind of the top-level owner (a ReplicaSet resolves to its Deployment).",
    examples: [["Deployment", "StatefulSet"]],
  },
  "targets[].selector.includeOrphans": {
    description: "Pods only: also pick pods without a controller (they never come back).",
    default: false,
  },
  "targets[].selector.minAge": duration("Only objects at least this old.", { default: "0s" }),
  "targets[].mode": {
    description:
      "How many of the eligible to pick (as in Chaos Mesh): one, all, fixed (value objects), " +
      "fixed-percent (value %), random-max-percent (a random share up to value %).",
    default: "one",
  },
  "targets[].value": {
    description:
      "The N for fixed (a whole number ≥ 1) or the percentage in (0, 100] for fixed-percent " +
      "and random-max-percent.",
    default: 1,
  },
  "targets[].action": { description: "How to kill." },
  "targets[].action.method": {
    description:
      "evict (honours PodDisruptionBudgets; a 429 is a skip) or delete. Pods: how the victim " +
      "is killed. Volumes (always deleted): how their consumers are restarted.",
    default: "evict",
  },
  "targets[].action.gracePeriodSeconds": {
    description: "Grace period of the delete; omitted: the object's own default.",
  },
  "targets[].action.stripFinalizers": {
    description:
      "Volumes only. true: once the delete is accepted and the object is Terminating, remove " +
      "kubernetes.io/pvc-protection (kubernetes.io/pv-protection for volumes) and nothing else; " +
      "or a list of finalizer names to remove. Never before the delete.",
    default: false,
  },
  "targets[].action.restartConsumers": {
    description: "Volumes only: also kill the pods that mount the volume.",
    default: true,
  },
  "targets[].recovery": { description: "This target's recovery settings." },
  "targets[].recovery.timeout": duration(
    "How long this target's victims may take to recover; defaults to the top-level timeout.",
  ),
  notify: {
    description:
      "Where to announce what the monkey does: Slack incoming webhooks and JSON webhooks " +
      "(body: config/notify/chaos-event.schema.json). Delivery never delays a round.",
    default: [],
  },
  "notify[]": { description: "One sink: a name, exactly one of slack or webhook, and events." },
  "notify[].name": {
    description: "Unique lowercase DNS label (at most 63 characters); used as a metric label.",
  },
  "notify[].slack": { description: "A Slack incoming webhook." },
  "notify[].slack.webhookUrl": {
    description:
      "The incoming webhook's URL, a credential: write ${NAME} and mount it from a Secret. " +
      "${NAME} is taken from the environment at load.",
    pattern: SINK_URL,
    examples: ["${SLACK_WEBHOOK_URL}"],
  },
  "notify[].webhook": { description: "An HTTP endpoint that gets a JSON ChaosEvent per event." },
  "notify[].webhook.url": {
    description: "http(s) URL the events are POSTed to; ${NAME} is taken from the environment.",
    pattern: SINK_URL,
    examples: ["https://audit.example/chaos"],
  },
  "notify[].webhook.headers": {
    description: "Extra request headers; ${NAME} in a value is taken from the environment.",
    examples: [{ Authorization: "Bearer ${AUDIT_TOKEN}" }],
  },
  "notify[].events": {
    description: "The events this sink gets (the key is events: YAML 1.1 tools read `on` as true).",
    default: [...DEFAULT_NOTIFY_EVENTS],
  },
};

/** The rules of resolve.ts's crossFieldIssues that JSON Schema can state (not unique names). */
const TARGET_RULES: readonly JsonSchema[] = [
  {
    if: { properties: { kind: { const: "Pod" } }, required: ["kind"] },
    then: {
      properties: {
        selector: {
          type: "object",
          properties: { fieldSelector: { type: "string", pattern: POD_FIELD_SELECTOR } },
        },
        action: { type: "object", properties: { stripFinalizers: false, restartConsumers: false } },
      },
    },
    else: {
      properties: {
        selector: {
          type: "object",
          properties: {
            ownerKinds: false,
            includeOrphans: false,
            fieldSelector: { type: "string", pattern: VOLUME_FIELD_SELECTOR },
          },
        },
      },
    },
  },
  {
    if: { properties: { mode: { const: "fixed" } }, required: ["mode"] },
    then: { properties: { value: { type: "integer", minimum: 1 } } },
  },
  {
    if: {
      properties: { mode: { enum: ["fixed-percent", "random-max-percent"] } },
      required: ["mode"],
    },
    then: { properties: { value: { type: "number", exclusiveMinimum: 0, maximum: 100 } } },
  },
];

/**
 * resolve.ts's notifyIssues: exactly one of slack and webhook (oneOf fails when both or neither
 * match). Unique names are not stated.
 */
const SINK_KINDS: readonly JsonSchema[] = ["slack", "webhook"].map((kind) => ({
  properties: { [kind]: { type: "object" } },
  required: [kind],
}));

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The schema node at a dotted path; throws when the path does not exist, so renames are loud. */
export function schemaAt(root: JsonSchema, path: string): JsonSchema {
  let node = root;
  for (const segment of path === "" ? [] : path.split(".")) {
    const name = segment.replace(/(\[\])+$/, "");
    const props = node.properties;
    let next: unknown = isSchema(props) ? props[name] : undefined;
    for (let depth = (segment.length - name.length) / 2; depth > 0; depth--) {
      next = isSchema(next) ? next.items : undefined;
    }
    if (!isSchema(next)) throw new Error(`gen-schema: no schema at "${path}" (at "${segment}")`);
    node = next;
  }
  return node;
}

// Keys of one schema node in a readable order; the rest keep zod's order after these.
const KEY_ORDER = [
  "$schema",
  "$id",
  "$comment",
  "title",
  "description",
  "type",
  "const",
  "enum",
  "default",
  "examples",
];
const SUBSCHEMA = new Set(["items", "additionalProperties", "propertyNames", "if", "then", "else"]);
const SUBSCHEMA_LISTS = new Set(["anyOf", "allOf", "oneOf"]);

function tidy(schema: unknown): unknown {
  if (!isSchema(schema)) return schema;
  const keys = Object.keys(schema);
  const ordered = [
    ...KEY_ORDER.filter((k) => k in schema),
    ...keys.filter((k) => !KEY_ORDER.includes(k)),
  ];
  const out: JsonSchema = {};
  for (const key of ordered) {
    const value = schema[key];
    if (key === "properties" && isSchema(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tidy(v)]));
    } else if (SUBSCHEMA.has(key)) out[key] = tidy(value);
    else if (SUBSCHEMA_LISTS.has(key) && Array.isArray(value)) out[key] = value.map(tidy);
    else out[key] = value;
  }
  return out;
}

/** The JSON Schema of the config file, as an object. Pure: reads and writes no file. */
export function generateSchema(): JsonSchema {
  const base = z.toJSONSchema(rawConfigSchema, {
    target: "draft-7",
    io: "input",
    unrepresentable: "any",
  }) as JsonSchema;
  for (const [path, annotation] of Object.entries(ANNOTATIONS)) {
    Object.assign(schemaAt(base, path), annotation);
  }
  schemaAt(base, "targets[]").allOf = TARGET_RULES;
  schemaAt(base, "notify[]").oneOf = SINK_KINDS;
  schemaAt(base, "notify[].webhook.headers").additionalProperties = {
    type: "string",
    pattern: HEADER_VALUE,
  };
  return tidy({
    ...base,
    $id: SCHEMA_ID,
    $comment:
      "Generated from src/config/schema.ts by scripts/gen-schema.ts (npm run schema); do not edit.",
    title: "kube-chaos-monkey config",
    description:
      "The config file of kube-chaos-monkey (apiVersion chaos-monkey.io/v1, kind " +
      "ChaosMonkeyConfig). `chaos-monkey validate` also checks what this schema cannot: cron " +
      "field values, IANA time zones, regular expressions (RE2), label selectors, unique " +
      "target names, non-empty time ranges and real calendar days.",
  }) as JsonSchema;
}

/** config/schema.json's exact text: the schema as JSON, formatted the way prettier keeps it. */
export async function renderSchema(): Promise<string> {
  const options = (await prettier.resolveConfig(SCHEMA_PATH)) ?? {};
  return prettier.format(JSON.stringify(generateSchema(), null, 2), {
    ...options,
    filepath: SCHEMA_PATH,
  });
}

function readCurrent(): string | undefined {
  try {
    return readFileSync(SCHEMA_PATH, "utf8");
  } catch {
    return undefined;
  }
}

async function main(args: readonly string[]): Promise<number> {
  const unknown = args.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    process.stderr.write(`gen-schema: unknown argument ${unknown.join(" ")}; usage: [--check]\n`);
    return 2;
  }
  const text = await renderSchema();
  if (args.includes("--check")) {
    if (readCurrent() === text) return 0;
    process.stderr.write(
      "config/schema.json is out of date with src/config/schema.ts; run `npm run schema`.\n",
    );
    return 1;
  }
  writeFileSync(SCHEMA_PATH, text);
  process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
  return 0;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
