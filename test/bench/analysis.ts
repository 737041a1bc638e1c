// Pure arithmetic of the cluster benchmark: percentiles, heap trend, and counting requests from
// the API server's own records (its audit log and apiserver_request_total).
import type { AuditEvent } from "../support/audit.js";
import { receivedMs } from "../support/audit.js";

/** Nearest-rank percentile (p in 0..100) of `values`; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length === 0 ? NaN : Math.max(...values),
  };
}

export interface HeapSample {
  /** Seconds since the measured run started. */
  readonly t: number;
  readonly heapUsedBytes: number;
}

export interface HeapTrend {
  /** The lowest heap in the early window: the live set after a collection, not garbage. */
  readonly earlyFloorBytes: number;
  readonly lateFloorBytes: number;
  readonly growthPct: number;
}

/**
 * Heap growth as the change of the heap's floor (its minimum: what survives collections) from
 * an early window, after warm-up, to the last window of the run. Raw samples swing with the
 * garbage collector's timing; floors do not.
 */
export function heapTrend(
  samples: readonly HeapSample[],
  windowS: number,
  warmupS: number,
): HeapTrend {
  const end = Math.max(...samples.map((s) => s.t));
  const floor = (from: number, to: number) => {
    const inWindow = samples.filter((s) => s.t >= from && s.t <= to).map((s) => s.heapUsedBytes);
    if (inWindow.length === 0) throw new Error(`no heap samples between ${from} s and ${to} s`);
    return Math.min(...inWindow);
  };
  const earlyFloorBytes = floor(warmupS, warmupS + windowS);
  const lateFloorBytes = floor(end - windowS, end);
  return {
    earlyFloorBytes,
    lateFloorBytes,
    growthPct: ((lateFloorBytes - earlyFloorBytes) / earlyFloorBytes) * 100,
  };
}

export const WRITE_VERBS: ReadonlySet<string> = new Set([
  "create",
  "update",
  "patch",
  "delete",
  "deletecollection",
]);

/** `verb resource[/subresource]`, e.g. `create pods/eviction`. */
export const requestKind = (e: AuditEvent): string =>
  `${e.verb} ${e.objectRef?.resource ?? "?"}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ""}`;

/** Requests received in [fromMs, toMs), counted by request kind. */
export function countByKind(
  events: readonly AuditEvent[],
  fromMs: number,
  toMs = Infinity,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) {
    const at = receivedMs(e);
    if (at < fromMs || at >= toMs) continue;
    const k = requestKind(e);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** Sum of counts whose kind matches `pred`. */
export const countWhere = (counts: Map<string, number>, pred: (kind: string) => boolean): number =>
  [...counts].reduce((n, [k, v]) => (pred(k) ? n + v : n), 0);

/** Parses one metric family from Prometheus text: label string → value. */
export function metricSeries(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(name.length, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** The increase of every series from `before` to `after` (counters; absent before = 0). */
export function seriesDelta(
  before: Map<string, number>,
  after: Map<string, number>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) out.set(k, d);
  }
  return out;
}

/** A label's value in a `{a="x",b="y"}` label string. */
export function label(labels: string, key: string): string | undefined {
  return new RegExp(`[{,]${key}="([^"]*)"`).exec(labels)?.[1];
}
