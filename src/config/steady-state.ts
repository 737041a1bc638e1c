// The resolved steady-state hypothesis of a target (SPEC §2 `steadyState`, §3): probes that say
// whether the service works as its users feel it, not only whether its pods are Ready.
import type { Secret } from "./env.js";

/** An inclusive range of HTTP status codes ("200-399" or "204"). */
export interface StatusRange {
  readonly min: number;
  readonly max: number;
}

export interface HttpProbeSpec {
  /** Expanded from the environment: may hold a secret, so it is never logged (see shownUrl). */
  readonly url: string;
  /** The URL as the config wrote it, `${NAME}` references and all: what plan shows. */
  readonly shownUrl: string;
  readonly method: string;
  readonly expectStatus: readonly StatusRange[];
  /** "" = any body. */
  readonly bodyContains: string;
  readonly timeoutMs: number;
  /** Expanded from the environment; a Secret, so no log or JSON shows the values. */
  readonly headers: Secret<Readonly<Record<string, string>>>;
}

export interface PrometheusProbeSpec {
  readonly url: string;
  readonly shownUrl: string;
  readonly query: string;
  /** Exactly one of below/above is set: the value must be strictly below / above it. */
  readonly below: number | undefined;
  readonly above: number | undefined;
  readonly timeoutMs: number;
}

export type ProbeSpec =
  | { readonly name: string; readonly http: HttpProbeSpec; readonly prometheus?: undefined }
  | { readonly name: string; readonly prometheus: PrometheusProbeSpec; readonly http?: undefined };

export interface SteadyState {
  readonly intervalMs: number;
  readonly successThreshold: number;
  /** Probes must pass before the kill, else the round is skipped (not_steady). */
  readonly before: boolean;
  readonly probes: readonly ProbeSpec[];
  /** The environment variables its URLs and headers refer to (names only). */
  readonly env: readonly string[];
}

/** Parses "200", "200-399"; undefined when it is not a status or a range of them. */
export function parseStatusRange(text: string): StatusRange | undefined {
  const m = /^\s*([1-5]\d\d)\s*(?:-\s*([1-5]\d\d)\s*)?$/.exec(text);
  if (!m) return undefined;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  return min <= max ? { min, max } : undefined;
}
