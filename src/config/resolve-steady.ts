// The steady-state block (SPEC §2 steadyState): defaults, `${NAME}` expansion of probe URLs and
// headers, and the rules that span fields (one kind per probe, one bound per PromQL probe,
// unique probe names, as they are metric labels).
import { parseDuration } from "../schedule/duration.js";
import { envReferences, Secret } from "./env.js";
import type { Env } from "./env.js";
import type { RawConfig, RawProbe, RawSteadyState } from "./schema.js";
import { parseStatusRange } from "./steady-state.js";
import type {
  HttpProbeSpec,
  PrometheusProbeSpec,
  ProbeSpec,
  StatusRange,
  SteadyState,
} from "./steady-state.js";
import type { Issue, PathPart, SinkText } from "./issue.js";
import { expanded } from "./env.js";

const DEFAULTS = { interval: "2s", successThreshold: 2, timeout: "1s", expectStatus: "200-399" };

export const optionalMs = (d: string | undefined): number | undefined =>
  d === undefined ? undefined : parseDuration(d);

const ms = (d: string | undefined, fallback: string): number => parseDuration(d ?? fallback) ?? 0;

function probeTexts(p: RawProbe, path: readonly PathPart[]): SinkText[] {
  const kind = p.http ? "http" : "prometheus";
  const url = p.http?.url ?? p.prometheus?.url ?? "";
  return [
    { path: [...path, kind, "url"], text: url, isUrl: true },
    ...Object.entries(p.http?.headers ?? {}).map(([name, text]) => ({
      path: [...path, "http", "headers", name],
      text,
      isUrl: false,
    })),
  ];
}

/** Every probe text that may hold `${NAME}`, with its path from the top of the file. */
export function steadyTexts(raw: RawConfig): SinkText[] {
  const blocks: [readonly PathPart[], RawSteadyState | undefined][] = [
    [["steadyState"], raw.steadyState],
    ...raw.targets.map((t, i): [PathPart[], RawSteadyState | undefined] => [
      ["targets", i, "steadyState"],
      t.steadyState,
    ]),
  ];
  return blocks.flatMap(([path, block]) =>
    (block?.probes ?? []).flatMap((p, j) => probeTexts(p, [...path, "probes", j])),
  );
}

function resolveHttp(h: NonNullable<RawProbe["http"]>, env: Env | undefined): HttpProbeSpec {
  return {
    url: expanded(h.url, env),
    shownUrl: h.url,
    method: h.method ?? "GET",
    expectStatus: (h.expectStatus ?? [DEFAULTS.expectStatus])
      .map((r) => parseStatusRange(String(r)))
      .filter((r): r is StatusRange => r !== undefined),
    bodyContains: h.bodyContains ?? "",
    timeoutMs: ms(h.timeout, DEFAULTS.timeout),
    headers: new Secret(
      Object.freeze(
        Object.fromEntries(Object.entries(h.headers ?? {}).map(([k, v]) => [k, expanded(v, env)])),
      ),
    ),
  };
}

function resolvePrometheus(
  q: NonNullable<RawProbe["prometheus"]>,
  env: Env | undefined,
): PrometheusProbeSpec {
  return {
    url: expanded(q.url, env),
    shownUrl: q.url,
    query: q.query,
    below: q.below,
    above: q.above,
    timeoutMs: ms(q.timeout, DEFAULTS.timeout),
  };
}

/** Run only on a config whose cross-field check passed: exactly one of http and prometheus. */
function resolveProbe(p: RawProbe, env: Env | undefined): ProbeSpec {
  if (p.http) return { name: p.name, http: resolveHttp(p.http, env) };
  if (p.prometheus) return { name: p.name, prometheus: resolvePrometheus(p.prometheus, env) };
  throw new Error(`probe ${p.name} has neither http nor prometheus`);
}

export function resolveSteadyState(
  raw: RawSteadyState | undefined,
  env: Env | undefined,
): SteadyState | undefined {
  if (!raw) return undefined;
  const texts = raw.probes.flatMap((p) => probeTexts(p, []));
  return {
    intervalMs: ms(raw.interval, DEFAULTS.interval),
    successThreshold: raw.successThreshold ?? DEFAULTS.successThreshold,
    before: raw.before ?? true,
    probes: raw.probes.map((p) => resolveProbe(p, env)),
    env: [...new Set(texts.flatMap((t) => envReferences(t.text)))],
  };
}

function blockIssues(block: RawSteadyState, path: readonly PathPart[]): Issue[] {
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  block.probes.forEach((p, j) => {
    const at = [...path, "probes", j];
    const first = seen.get(p.name);
    if (first !== undefined)
      issues.push({
        path: [...at, "name"],
        message: `is already the name of probes[${first}]`,
        showValue: true,
      });
    else seen.set(p.name, j);
    if ((p.http === undefined) === (p.prometheus === undefined))
      issues.push({
        path: at,
        message: p.http
          ? "has both http and prometheus; use one"
          : "needs one of http or prometheus",
        showValue: false,
      });
    const q = p.prometheus;
    if (q && (q.below === undefined) === (q.above === undefined))
      issues.push({
        path: [...at, "prometheus"],
        message: "needs exactly one of below or above",
        showValue: false,
      });
  });
  return issues;
}

export function steadyIssues(raw: RawConfig): Issue[] {
  return [
    ...(raw.steadyState ? blockIssues(raw.steadyState, ["steadyState"]) : []),
    ...raw.targets.flatMap((t, i) =>
      t.steadyState ? blockIssues(t.steadyState, ["targets", i, "steadyState"]) : [],
    ),
  ];
}
