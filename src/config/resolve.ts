// Turns a schema-valid raw config into the resolved, frozen Config, and checks the rules that
// span several fields (unique names, pod-only and volume-only settings, mode/value ranges, the
// fields a kind can select on).
import { parseDuration } from "../schedule/duration.js";
import { parseBlackoutDate, parseTimeRange, parseWeekday } from "../schedule/blackout.js";
import type { Blackout } from "../schedule/blackout.js";
import { SELECTABLE_FIELDS, unselectableFields } from "../selectors/labels.js";
import { compileNamePattern } from "../selectors/names.js";
import { envReferences, expandEnv, expanded, Secret } from "./env.js";
import type { Env } from "./env.js";
import { optionalMs, resolveSteadyState, steadyIssues, steadyTexts } from "./resolve-steady.js";
import { httpUrlError } from "./schema.js";
import type { RawConfig, RawNotifySink, RawTarget } from "./schema.js";
import type {
  Action,
  Config,
  Endpoint,
  NotifySink,
  Selector,
  Target,
  TargetKind,
} from "./types.js";
import { DEFAULT_NOTIFY_EVENTS, PV_PROTECTION, PVC_PROTECTION } from "./types.js";
import type { Issue, PathPart, SinkText } from "./issue.js";

/** Always excluded unless safety.allowSystemNamespaces; safety.excludedNamespaces adds to them. */
export const SYSTEM_NAMESPACES: readonly string[] = Object.freeze([
  "kube-system",
  "kube-public",
  "kube-node-lease",
]);
export const DEFAULT_OPT_OUT_ANNOTATION = "chaos-monkey.io/exclude";
const DEFAULT_RECOVERY_TIMEOUT = "5m";

const ms = (d: string | undefined, fallback: string): number => parseDuration(d ?? fallback) ?? 0;

function defined<T>(xs: readonly (T | undefined)[]): T[] {
  return xs.filter((x): x is T => x !== undefined);
}

function resolveBlackout(raw: RawConfig["safety"]): Blackout {
  const b = raw?.blackout;
  return {
    weekdays: defined((b?.weekdays ?? []).map(parseWeekday)),
    timesOfDay: defined((b?.timesOfDay ?? []).map(parseTimeRange)),
    dates: defined((b?.dates ?? []).map(parseBlackoutDate)),
  };
}

// eslint-disable-next-line complexity -- one `??` default per field, not branching logic
function resolveSelector(raw: RawTarget["selector"]): Selector {
  return {
    namespaces: raw?.namespaces ?? [],
    namespaceSelector: raw?.namespaceSelector,
    labelSelector: raw?.labelSelector,
    fieldSelector: raw?.fieldSelector,
    annotations: raw?.annotations ?? {},
    includeNames: (raw?.includeNames ?? []).map(compileNamePattern),
    excludeNames: (raw?.excludeNames ?? []).map(compileNamePattern),
    ownerKinds: raw?.ownerKinds ?? [],
    includeOrphans: raw?.includeOrphans ?? false,
    minAgeMs: ms(raw?.minAge, "0s"),
  };
}

function protectionFinalizer(kind: TargetKind): string[] {
  if (kind === "PersistentVolumeClaim") return [PVC_PROTECTION];
  if (kind === "PersistentVolume") return [PV_PROTECTION];
  return [];
}

function resolveAction(kind: TargetKind, raw: RawTarget["action"]): Action {
  const strip = raw?.stripFinalizers ?? false;
  return {
    // Pods: how the victim dies. Volumes (always deleted): how their consumers are restarted.
    method: raw?.method ?? "evict",
    gracePeriodSeconds: raw?.gracePeriodSeconds,
    stripFinalizers: strip === true ? protectionFinalizer(kind) : strip === false ? [] : strip,
    restartConsumers: kind === "Pod" ? false : (raw?.restartConsumers ?? true),
  };
}

// eslint-disable-next-line complexity -- one `??` default per field, not branching logic
function resolveTarget(raw: RawTarget, top: RawConfig, env: Env | undefined): Target {
  return {
    name: raw.name,
    kind: raw.kind,
    schedule: raw.schedule,
    timezone: raw.timezone ?? top.timezone ?? "UTC",
    jitterMs: ms(raw.jitter, "0s"),
    concurrency: raw.concurrency ?? "Forbid",
    selector: resolveSelector(raw.selector),
    mode: raw.mode ?? "one",
    value: raw.value ?? 1,
    action: resolveAction(raw.kind, raw.action),
    recoveryTimeoutMs: ms(raw.recovery?.timeout ?? top.recovery?.timeout, DEFAULT_RECOVERY_TIMEOUT),
    recoveryObjectiveMs: optionalMs(raw.recovery?.objective ?? top.recovery?.objective),
    // A target's own block replaces the top-level default whole.
    steadyState: resolveSteadyState(raw.steadyState ?? top.steadyState, env),
  };
}

/** Where a sink's texts that may hold `${NAME}` sit, with their paths under the sink. */

function sinkTexts(raw: RawNotifySink): SinkText[] {
  if (raw.slack !== undefined)
    return [{ path: ["slack", "webhookUrl"], text: raw.slack.webhookUrl, isUrl: true }];
  if (raw.webhook === undefined) return [];
  return [
    { path: ["webhook", "url"], text: raw.webhook.url, isUrl: true },
    ...Object.entries(raw.webhook.headers ?? {}).map(([name, text]) => ({
      path: ["webhook", "headers", name],
      text,
      isUrl: false,
    })),
  ];
}

function resolveEndpoint(raw: RawNotifySink, env: Env | undefined): Endpoint {
  const headers = raw.webhook?.headers ?? {};
  const references = sinkTexts(raw).flatMap((t) => envReferences(t.text));
  return {
    url: expanded(raw.slack?.webhookUrl ?? raw.webhook?.url ?? "", env),
    headers: Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name, expanded(value, env)]),
    ),
    expanded: env !== undefined || references.length === 0,
  };
}

function resolveSink(raw: RawNotifySink, env: Env | undefined): NotifySink {
  return {
    name: raw.name,
    type: raw.slack !== undefined ? "slack" : "webhook",
    events: [...new Set(raw.events ?? DEFAULT_NOTIFY_EVENTS)],
    env: [...new Set(sinkTexts(raw).flatMap((t) => envReferences(t.text)))],
    // A Secret's value is no property deepFreeze could reach: frozen here.
    endpoint: new Secret(deepFreeze(resolveEndpoint(raw, env))),
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The configured list added to the system namespaces (unless lifted), each once. */
function excludedNamespaces(s: RawConfig["safety"]): string[] {
  const system = s?.allowSystemNamespaces === true ? [] : SYSTEM_NAMESPACES;
  return [...new Set([...system, ...(s?.excludedNamespaces ?? [])])];
}

/**
 * The resolved config. With `env`, every sink's `${NAME}` is expanded (run envIssues first: a
 * missing variable is an error); without, the references stay as written and the sinks are
 * marked unexpanded, which is enough to validate and to list what a run will need.
 */
// eslint-disable-next-line complexity -- one `??` default per field, not branching logic
export function resolveConfig(raw: RawConfig, env?: Env): Config {
  const s = raw.safety;
  return deepFreeze({
    dryRun: raw.dryRun ?? true,
    timezone: raw.timezone ?? "UTC",
    seed: raw.seed ?? "",
    paused: raw.paused ?? false,
    safety: {
      excludedNamespaces: excludedNamespaces(s),
      allowSystemNamespaces: s?.allowSystemNamespaces ?? false,
      optOutAnnotation: s?.optOutAnnotation ?? DEFAULT_OPT_OUT_ANNOTATION,
      maxKillsPerRound: s?.maxKillsPerRound ?? 10,
      maxPerOwner: s?.maxPerOwner ?? 1,
      requireHealthy: s?.requireHealthy ?? true,
      blackout: resolveBlackout(s),
    },
    recoveryTimeoutMs: ms(raw.recovery?.timeout, DEFAULT_RECOVERY_TIMEOUT),
    targets: raw.targets.map((t) => resolveTarget(t, raw, env)),
    notify: (raw.notify ?? []).map((sink) => resolveSink(sink, env)),
  });
}

const POD_ONLY_SELECTOR = ["ownerKinds", "includeOrphans"] as const;
const VOLUME_ONLY_ACTION = ["stripFinalizers", "restartConsumers"] as const;

function kindIssues(t: RawTarget, i: number): Issue[] {
  const issues: Issue[] = [];
  const at = (...p: PathPart[]): PathPart[] => ["targets", i, ...p];
  if (t.kind === "Pod") {
    for (const k of VOLUME_ONLY_ACTION)
      if (t.action?.[k] !== undefined)
        issues.push({
          path: at("action", k),
          message: "applies to volume targets only",
          showValue: false,
        });
  } else {
    for (const k of POD_ONLY_SELECTOR)
      if (t.selector?.[k] !== undefined)
        issues.push({
          path: at("selector", k),
          message: "applies to Pod targets only",
          showValue: false,
        });
  }
  return issues;
}

// Only the fields the API server supports for the kind (SPEC §2): any other one would match
// nothing there, and here nothing could be read for it.
function fieldSelectorIssue(t: RawTarget, i: number): Issue[] {
  const text = t.selector?.fieldSelector;
  if (text === undefined) return [];
  const bad = unselectableFields(t.kind, text);
  if (bad.length === 0) return [];
  const names = bad.map((p) => `"${p}"`).join(", ");
  return [
    {
      path: ["targets", i, "selector", "fieldSelector"],
      message:
        `names ${bad.length === 1 ? "field" : "fields"} ${names}, which a ${t.kind} field ` +
        `selector cannot use (allowed: ${SELECTABLE_FIELDS[t.kind].join(", ")})`,
      showValue: true,
    },
  ];
}

function valueIssue(t: RawTarget, i: number): Issue[] {
  const mode = t.mode ?? "one";
  const v = t.value ?? 1;
  const path = ["targets", i, "value"];
  if (mode === "fixed" && (!Number.isInteger(v) || v < 1))
    return [{ path, message: "must be a whole number ≥ 1 for mode fixed", showValue: true }];
  if ((mode === "fixed-percent" || mode === "random-max-percent") && (v <= 0 || v > 100))
    return [
      { path, message: `must be a percentage in (0, 100] for mode ${mode}`, showValue: true },
    ];
  return [];
}

/** Unique names, and exactly one of slack and webhook per sink. */
function notifyIssues(sinks: readonly RawNotifySink[]): Issue[] {
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  sinks.forEach((sink, i) => {
    const first = seen.get(sink.name);
    if (first !== undefined)
      issues.push({
        path: ["notify", i, "name"],
        message: `is already the name of notify[${first}]`,
        showValue: true,
      });
    else seen.set(sink.name, i);
    const kinds = [sink.slack, sink.webhook].filter((k) => k !== undefined).length;
    if (kinds !== 1)
      issues.push({
        path: ["notify", i],
        message:
          kinds === 0 ? "needs one of slack or webhook" : "has both slack and webhook; use one",
        showValue: false,
      });
  });
  return issues;
}

/** "needs environment variable A, which is not set, and environment variable B, which is empty" */
function missingMessage(names: readonly string[], env: Env): string {
  const variables = (ns: readonly string[], what: string): string[] => {
    if (ns.length === 0) return [];
    if (ns.length === 1) return [`environment variable ${ns[0]}, which is ${what}`];
    return [`environment variables ${ns.join(", ")}, which are ${what}`];
  };
  const parts = [
    ...variables(
      names.filter((n) => env[n] === undefined),
      "not set",
    ),
    ...variables(
      names.filter((n) => env[n] !== undefined),
      "empty",
    ),
  ];
  return `needs ${parts.join(", and ")}`;
}

/**
 * What expanding every sink's `${NAME}` from `env` runs into: variables that are not set (or
 * empty), and URLs that are no http(s) URL once expanded. No message shows a value.
 */
export function envIssues(raw: RawConfig, env: Env): Issue[] {
  return [
    ...(raw.notify ?? []).flatMap((sink, i) =>
      sinkTexts(sink).flatMap((t) => expansionIssues(t, ["notify", i, ...t.path], env)),
    ),
    ...steadyTexts(raw).flatMap((t) => expansionIssues(t, t.path, env)),
  ];
}

export function expansionIssues(t: SinkText, path: readonly PathPart[], env: Env): Issue[] {
  const names = envReferences(t.text);
  if (names.length === 0) return [];
  const result = expandEnv(t.text, env);
  if ("missing" in result)
    return [{ path, message: missingMessage(result.missing, env), showValue: false }];
  const error = t.isUrl
    ? httpUrlError(result.value)
    : /[\r\n\0]/.test(result.value)
      ? "may not contain a line break"
      : undefined;
  if (error === undefined) return [];
  // The value is a secret: name the variables, never show what they hold.
  const refs = names.map((n) => `\${${n}}`).join(", ");
  return [{ path, message: `${error} once ${refs} is expanded`, showValue: false }];
}

/** Rules no single field can check; run only on a config the schema accepted. */
export function crossFieldIssues(raw: RawConfig): Issue[] {
  const issues: Issue[] = [...notifyIssues(raw.notify ?? []), ...steadyIssues(raw)];
  const seen = new Map<string, number>();
  raw.targets.forEach((t, i) => {
    const first = seen.get(t.name);
    if (first !== undefined)
      issues.push({
        path: ["targets", i, "name"],
        message: `is already the name of targets[${first}]`,
        showValue: true,
      });
    else seen.set(t.name, i);
    issues.push(...kindIssues(t, i), ...fieldSelectorIssue(t, i), ...valueIssue(t, i));
  });
  return issues;
}
