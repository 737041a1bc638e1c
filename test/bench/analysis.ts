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

/** utime + stime of a /proc/PID/stat line, in ms (USER_HZ is 100 on Linux). */
export function procCpuMs(stat: string): number {
  // The command name may hold spaces and parentheses: fields count from the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Busy and total jiffies of the machine from /proc/stat's "cpu" line. */
export function machineJiffies(procStat: string): { busy: number; total: number } {
  const cpu = (procStat.split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * CPU a process spent above its idle rate over a window, per unit of work: `usedMs` in
 * `seconds`, less `idleMsPerS` × `seconds` measured on the same process while nothing ran.
 */
export const aboveIdlePer = (
  usedMs: number,
  seconds: number,
  idleMsPerS: number,
  units: number,
): number => (usedMs - idleMsPerS * seconds) / units;

/** One row of the scaling curve (test/bench/results/curve.json), from one benchmark run. */
export interface CurveRow {
  readonly pods: number;
  readonly deployments: number;
  readonly namespaces: number;
  readonly date: string;
  readonly commit: string;
  readonly durationS: number;
  readonly victims: number;
  /** Every start: the dry-run starts, then the measured one. */
  readonly startupMs: readonly number[];
  readonly peakRssMiB: number;
  readonly medianRssMiB: number;
  readonly heapFloorMiB: number;
  readonly heapGrowthPct: number;
  readonly tickToKillMs: { readonly p50: number; readonly p99: number };
  readonly recoveryErrorP99Ms: number;
  readonly monkeyCpuMsPerRound: number;
  readonly apiserverCpuMsPerRound: number;
  readonly etcdCpuMsPerRound: number;
  /** Mean 1-minute load average over the measured run (2 cores). */
  readonly load: number;
  /** The NODE_OPTIONS the bundle ran with. */
  readonly nodeOptions?: string;
}

/** The curve with `row` in place of any earlier run at the same number of pods. */
export const mergeCurve = (rows: readonly CurveRow[], row: CurveRow): CurveRow[] =>
  [...rows.filter((r) => r.pods !== row.pods), row].sort((a, b) => a.pods - b.pods);

const fixed = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : "-");

/** The curve as a text table, one scale per row. */
export function curveTable(rows: readonly CurveRow[]): string {
  const head = [
    "pods",
    "start-up s (max)",
    "peak RSS MiB",
    "median RSS MiB",
    "heap floor MiB",
    "tick-to-kill p50/p99 ms",
    "recovery err p99 ms",
    "monkey CPU ms/round",
    "apiserver CPU ms/round",
    "etcd CPU ms/round",
    "load",
  ];
  const body = rows.map((r) => [
    String(r.pods),
    fixed(Math.max(...r.startupMs) / 1000, 2),
    fixed(r.peakRssMiB),
    fixed(r.medianRssMiB),
    fixed(r.heapFloorMiB),
    `${fixed(r.tickToKillMs.p50)}/${fixed(r.tickToKillMs.p99)}`,
    fixed(r.recoveryErrorP99Ms),
    fixed(r.monkeyCpuMsPerRound),
    fixed(r.apiserverCpuMsPerRound),
    fixed(r.etcdCpuMsPerRound),
    fixed(r.load),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ");
  return [line(head), ...body.map(line)].join("\n");
}

/** Change of `value` per 1,000 pods between two rows of the curve. */
export const perThousandPods = (a: CurveRow, b: CurveRow, value: (r: CurveRow) => number): number =>
  ((value(b) - value(a)) / (b.pods - a.pods)) * 1000;
