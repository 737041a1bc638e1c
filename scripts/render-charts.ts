// Renders the README's recovery charts to PNG from a Prometheus that scraped the monkey: nothing
// is drawn by hand, every point is a query_range answer.
//
//   npx tsx scripts/render-charts.ts --prometheus http://127.0.0.1:9090 --out docs/charts \
//     [--start <RFC 3339 | unix seconds>] [--end …] [--window 5m] [--phase recovered]
//
// Writes recovery-quantiles.png (p50/p90/p99 of chaos_monkey_recovery_seconds per target),
// kills-and-recoveries.png (kills by result and recoveries by outcome per window) and, where a
// target has steady-state probes, disruption-and-recovery.png (p50/p90 of
// chaos_monkey_disruption_seconds beside those of the recovered and steady phases over the whole
// range, with the target's recovery objective as a rule). With KCM_CHARTS_ANSWERS=FILE it also
// writes the Prometheus answers the charts were drawn from to FILE (a fixture for the unit test,
// test/monitoring/charts.test.ts, test/monitoring/charts.fixture.json). The charts are
// Vega-Lite specs, rendered headlessly by Vega to SVG and by resvg to PNG (both from npm; resvg
// ships prebuilt binaries as optional dependencies, nothing is compiled or downloaded).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** Prometheus's answer to /api/v1/query_range, as far as the charts read it. */
export interface RangeResponse {
  readonly status: string;
  readonly error?: string;
  readonly data?: {
    readonly resultType: string;
    readonly result: readonly {
      readonly metric: Readonly<Record<string, string>>;
      readonly values: readonly (readonly [number, string])[];
    }[];
  };
}

/**
 * One point of a chart: time in ms since the epoch, a value (null where Prometheus answered NaN
 * or an infinity, e.g. a quantile of a window without observations), and the series' labels.
 */
export type Row = { time: number; value: number | null } & Record<string, string | number | null>;

export const QUANTILES = [
  ["p50", 0.5],
  ["p90", 0.9],
  ["p99", 0.99],
] as const;
export type Quantile = (typeof QUANTILES)[number][0];

/** Events in a window the way config/prometheus/rules.yaml counts them (see its head). */
export const events = (selector: string, window: string): string =>
  `(${selector} unless ${selector} offset ${window}) or increase(${selector}[${window}])`;

export const queries = (opts: { window: string; phase: string }) => {
  const bucket = `chaos_monkey_recovery_seconds_bucket{phase="${opts.phase}"}`;
  return {
    quantile: (q: number) =>
      `histogram_quantile(${q}, sum by (target, le) (${events(bucket, opts.window)}))`,
    kills: `sum by (result) (${events("chaos_monkey_kills_total", opts.window)})`,
    recoveries: `sum by (outcome) (${events("chaos_monkey_recoveries_total", opts.window)})`,
  };
};

/** Prometheus's answer to /api/v1/query (an instant vector), as far as the charts read it. */
export interface InstantResponse {
  readonly status: string;
  readonly error?: string;
  readonly data?: {
    readonly resultType: string;
    readonly result: readonly {
      readonly metric: Readonly<Record<string, string>>;
      readonly value: readonly [number, string];
    }[];
  };
}

/** The points of a query_range answer, each with the labels in `keep` and the `extra` fields. */
export function matrixRows(
  response: RangeResponse,
  keep: readonly string[],
  extra: Record<string, string> = {},
): Row[] {
  if (response.status !== "success" || !response.data)
    throw new Error(`Prometheus answered ${response.status}: ${response.error ?? "no data"}`);
  if (response.data.resultType !== "matrix")
    throw new Error(`expected a matrix, got ${response.data.resultType}`);
  return response.data.result.flatMap(({ metric, values }) => {
    const labels = Object.fromEntries(keep.map((k) => [k, metric[k] ?? ""]));
    return values.map(([t, v]) => {
      const value = Number(v);
      return {
        ...labels,
        ...extra,
        time: Math.round(t * 1000),
        value: Number.isFinite(value) ? value : null,
      };
    });
  });
}

/** The samples of an instant query's answer, as rows like matrixRows's. */
export function vectorRows(
  response: InstantResponse,
  keep: readonly string[],
  extra: Record<string, string> = {},
): Row[] {
  if (response.status !== "success" || !response.data)
    throw new Error(`Prometheus answered ${response.status}: ${response.error ?? "no data"}`);
  if (response.data.resultType !== "vector")
    throw new Error(`expected a vector, got ${response.data.resultType}`);
  return response.data.result.map(({ metric, value: [t, v] }) => {
    const value = Number(v);
    return {
      ...Object.fromEntries(keep.map((k) => [k, metric[k] ?? ""])),
      ...extra,
      time: Math.round(t * 1000),
      value: Number.isFinite(value) ? value : null,
    };
  });
}

/** What the disruption chart sets side by side, in its order (SPEC §5's series). */
export const MEASURES = [
  ["disruption", "chaos_monkey_disruption_seconds_bucket", "disruption: probes failing"],
  [
    "recovered",
    'chaos_monkey_recovery_seconds_bucket{phase="recovered"}',
    "recovered: workload whole",
  ],
  ["steady", 'chaos_monkey_recovery_seconds_bucket{phase="steady"}', "steady: probes passing"],
] as const;
export type Measure = (typeof MEASURES)[number][0];
export const DISRUPTION_QUANTILES = [
  ["p50", 0.5],
  ["p90", 0.9],
] as const;
export type DisruptionQuantile = (typeof DISRUPTION_QUANTILES)[number][0];

/** Instant queries over one window ending at the chart's end: the whole range. */
export const disruptionQueries = (window: string) => {
  const bucket = (m: Measure) => MEASURES.find(([name]) => name === m)?.[1] ?? "";
  return {
    quantile: (m: Measure, q: number) =>
      `histogram_quantile(${q}, sum by (target, le) (${events(bucket(m), window)}))`,
    count: `sum by (target) (${events("chaos_monkey_disruption_seconds_count", window)})`,
    objective: "max by (target) (chaos_monkey_recovery_objective_seconds)",
  };
};

export interface DisruptionAnswers {
  readonly quantiles: Readonly<
    Record<Measure, Readonly<Record<DisruptionQuantile, InstantResponse>>>
  >;
  readonly count: InstantResponse;
  readonly objective: InstantResponse;
}

const FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif";
const CONFIG = {
  font: FONT,
  background: "white",
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#eee" },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: "#555", anchor: "start" as const },
};
const MINUTE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];

/** A UTC time axis with a tick at every whole `step` minutes, about 8 over the rows' span. */
function timeAxis(rows: readonly Row[]) {
  const times = rows.map((r) => r.time);
  const [first, last] = [Math.min(...times), Math.max(...times)];
  const step = (MINUTE_STEPS.find((m) => (last - first) / 60_000 / m <= 8) ?? 2880) * 60_000;
  const values: number[] = [];
  for (let t = Math.ceil(first / step) * step; t <= last; t += step) values.push(t);
  return { title: "time (UTC)", format: "%H:%M", labelAngle: 0, values };
}

interface ChartOptions {
  readonly window: string;
  readonly phase: string;
  /** Shown under the title, e.g. the time range. */
  readonly subtitle: string;
}

/** p50/p90/p99 recovery time per target over time, one panel per target. */
export function recoveryChartSpec(
  byQuantile: Readonly<Record<Quantile, RangeResponse>>,
  opts: ChartOptions,
): TopLevelSpec {
  const values = QUANTILES.flatMap(([name]) =>
    matrixRows(byQuantile[name], ["target"], { quantile: name }),
  );
  if (!values.some((r) => r.value !== null))
    throw new Error("no recovery observations in the range");
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: `Recovery time after a kill, per target (phase ${opts.phase})`,
      subtitle: `p50, p90 and p99 of chaos_monkey_recovery_seconds over ${opts.window} windows · ${opts.subtitle}`,
    },
    data: { values },
    facet: {
      row: {
        field: "target",
        type: "nominal",
        title: null,
        header: {
          labelAngle: 0,
          labelOrient: "top",
          labelAnchor: "start",
          labelFontSize: 13,
          labelFontWeight: "bold",
        },
      },
    },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: 720,
      height: 150,
      // A gap where a window had no recovery, rather than a line across it.
      mark: {
        type: "line",
        strokeWidth: 2,
        point: { size: 10 },
        invalid: "break-paths-filter-domains",
      },
      encoding: {
        x: { field: "time", type: "temporal", scale: { type: "utc" }, axis: timeAxis(values) },
        y: { field: "value", type: "quantitative", title: "seconds", scale: { zero: true } },
        color: {
          field: "quantile",
          type: "nominal",
          title: "quantile",
          sort: QUANTILES.map(([n]) => n),
          scale: { domain: QUANTILES.map(([n]) => n), range: ["#2b8cbe", "#f28e2b", "#d62728"] },
        },
      },
    },
    config: CONFIG,
  };
}

/** One view of a vconcat, as vega-lite types it. */
type ViewSpec = Extract<TopLevelSpec, { vconcat: unknown }>["vconcat"][number];

const RESULT_COLORS = { killed: "#d62728", dry_run: "#4c78a8", failed: "#ff9f1c" };
const OUTCOME_COLORS = {
  recovered: "#2ca02c",
  timeout: "#d62728",
  gone: "#9467bd",
  aborted: "#ff9f1c",
};

function barsPanel(x: {
  title: string;
  values: Row[];
  field: string;
  colors: Record<string, string>;
  window: string;
}): ViewSpec {
  return {
    title: { text: x.title, fontSize: 13 },
    width: 720,
    height: 150,
    data: { values: x.values },
    // Stacked by hand: vega-lite does not stack bars that span an x range.
    transform: [
      { filter: "datum.value !== null" },
      { stack: "value", groupby: ["time"], sort: [{ field: x.field }], as: ["y0", "y1"] },
    ],
    mark: { type: "bar", opacity: 0.9 },
    encoding: {
      // Each point counts the window that ends at it: the bar spans that window.
      x: { field: "from", type: "temporal", scale: { type: "utc" }, axis: timeAxis(x.values) },
      x2: { field: "time" },
      y: { field: "y0", type: "quantitative", title: `per ${x.window}` },
      y2: { field: "y1" },
      color: {
        field: x.field,
        type: "nominal",
        title: x.field,
        scale: { domain: Object.keys(x.colors), range: Object.values(x.colors) },
      },
    },
  };
}

/** Kills by result and recoveries by outcome, counted per window, as stacked bars. */
export function outcomesChartSpec(
  responses: { readonly kills: RangeResponse; readonly recoveries: RangeResponse },
  opts: ChartOptions,
): TopLevelSpec {
  const windowMs = durationSeconds(opts.window) * 1000;
  const spans = (rows: Row[]) => rows.map((r) => ({ ...r, from: r.time - windowMs }));
  const kills = spans(matrixRows(responses.kills, ["result"]));
  const recoveries = spans(matrixRows(responses.recoveries, ["outcome"]));
  if (!kills.some((r) => r.value)) throw new Error("no kills in the range");
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Kills and recoveries",
      subtitle: `chaos_monkey_kills_total by result, chaos_monkey_recoveries_total by outcome, per ${opts.window} · ${opts.subtitle}`,
    },
    vconcat: [
      barsPanel({
        title: "Kills by result",
        values: kills,
        field: "result",
        colors: RESULT_COLORS,
        window: opts.window,
      }),
      barsPanel({
        title: "Recoveries by outcome",
        values: recoveries,
        field: "outcome",
        colors: OUTCOME_COLORS,
        window: opts.window,
      }),
    ],
    resolve: { scale: { color: "independent" } },
    config: CONFIG,
  };
}

const BUCKET_NOTE = [
  "Quantiles are interpolated inside the histograms' buckets (0, 0.5, 1, 2, 5, 10, 15 s …): estimates at that resolution,",
  "not measured values. Disruption is also only as fine as the probe interval.",
];

/**
 * Per target with steady-state probes: p50 and p90 of the disruption its probes saw beside those
 * of the recovered and steady phases, over the whole range, and its objective as a rule.
 */
export function disruptionChartSpec(
  answers: DisruptionAnswers,
  opts: { readonly range: string; readonly subtitle: string },
): TopLevelSpec {
  const quantiles = MEASURES.flatMap(([measure, , label]) =>
    DISRUPTION_QUANTILES.flatMap(([name]) =>
      vectorRows(answers.quantiles[measure][name], ["target"], {
        kind: "quantile",
        measure: label,
        quantile: name,
      }),
    ),
  );
  // Only targets with probes observe disruption; the others have no steady phase either.
  const targets = new Set(
    quantiles
      .filter((r) => r.measure === MEASURES[0][2] && r.value !== null)
      .map((r) => String(r.target)),
  );
  if (targets.size === 0) throw new Error("no disruption observations in the range");
  const counts = new Map(
    vectorRows(answers.count, ["target"]).map((r) => [r.target, Math.round(r.value ?? 0)]),
  );
  const panel = (target: string) => {
    const n = counts.get(target) ?? 0;
    return `${target} · ${n} recover${n === 1 ? "y" : "ies"} to steady`;
  };
  const values = [
    ...quantiles.filter((r) => targets.has(String(r.target)) && r.value !== null),
    ...vectorRows(answers.objective, ["target"], { kind: "objective" }).filter(
      (r) => targets.has(String(r.target)) && r.value !== null,
    ),
  ].map((r) => ({ ...r, panel: panel(String(r.target)) }));
  const measureOrder = MEASURES.map(([, , label]) => label);
  const quantileOrder = DISRUPTION_QUANTILES.map(([n]) => n);
  const isQuantile = { filter: "datum.kind === 'quantile'" };
  const isObjective = { filter: "datum.kind === 'objective'" };
  const y = {
    field: "measure",
    type: "nominal",
    title: null,
    sort: measureOrder,
    scale: { domain: measureOrder, paddingInner: 0.25 },
    axis: { labelLimit: 240 },
  } as const;
  const yOffset = { field: "quantile", type: "nominal", sort: quantileOrder } as const;
  const x = {
    field: "value",
    type: "quantitative",
    title: "seconds (recovered, steady: after the kill; disruption: of failing probes)",
    scale: { zero: true },
  } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Disruption beside recovery, per target with steady-state probes",
      subtitle: [
        `p50 and p90 over the whole range (${opts.range}) · ${opts.subtitle}`,
        'chaos_monkey_disruption_seconds (how long the probes failed) beside chaos_monkey_recovery_seconds{phase="recovered"} and {phase="steady"}',
        ...BUCKET_NOTE,
      ],
    },
    data: { values },
    facet: {
      row: {
        field: "panel",
        type: "nominal",
        title: null,
        header: {
          labelAngle: 0,
          labelOrient: "top",
          labelAnchor: "start",
          labelFontSize: 13,
          labelFontWeight: "bold",
        },
      },
    },
    spec: {
      width: 640,
      height: 150,
      layer: [
        {
          transform: [isQuantile],
          mark: { type: "bar" },
          encoding: {
            y,
            yOffset,
            x,
            color: {
              field: "quantile",
              type: "nominal",
              title: "quantile",
              sort: quantileOrder,
              scale: { domain: quantileOrder, range: ["#2b8cbe", "#f28e2b"] },
            },
          },
        },
        {
          transform: [isQuantile, { calculate: "format(datum.value, '.1f') + ' s'", as: "label" }],
          mark: { type: "text", align: "left", baseline: "middle", dx: 4, fontSize: 11 },
          encoding: { y, yOffset, x, text: { field: "label" }, color: { value: "#333" } },
        },
        {
          transform: [isObjective],
          mark: { type: "rule", color: "#d62728", strokeWidth: 2, strokeDash: [5, 3] },
          encoding: { x },
        },
        {
          transform: [
            isObjective,
            { calculate: "'objective ' + format(datum.value, '.3~f') + ' s'", as: "label" },
          ],
          mark: {
            type: "text",
            align: "left",
            baseline: "bottom",
            dx: 4,
            dy: -2,
            fontSize: 11,
            color: "#d62728",
          },
          encoding: { x, y: { value: 150 }, text: { field: "label" } },
        },
      ],
    },
    config: CONFIG,
  };
}

/** A logger that keeps what Vega and Vega-Lite warn of, so a chart drawn wrong fails instead. */
function strictLogger(): { logger: vega.LoggerInterface; problems: string[] } {
  const problems: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_method, level, args) =>
    problems.push(`${level} ${args.map(String).join(" ")}`),
  );
  return { logger, problems };
}

/**
 * A Vega-Lite spec as PNG: Vega renders SVG without a browser or canvas, resvg rasterizes it.
 * Throws on any warning or error of Vega-Lite or Vega.
 */
export async function renderPng(spec: TopLevelSpec, scale = 2): Promise<Buffer> {
  const { logger, problems } = strictLogger();
  const view = new vega.View(vega.parse(compile(spec, { logger }).spec), {
    renderer: "none",
    logger,
  });
  try {
    const svg = await view.toSVG();
    if (problems.length > 0)
      throw new Error(`the chart did not render cleanly: ${problems.join("; ")}`);
    const resvg = new Resvg(svg, {
      fitTo: { mode: "zoom", value: scale },
      background: "white",
      font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
    });
    return resvg.render().asPng();
  } finally {
    view.finalize();
  }
}

// ---- The command ----

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90s", "5m", "1h" in seconds. */
export function durationSeconds(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (!m) throw new Error(`not a duration like 30s, 5m or 1h: ${text}`);
  return Number(m[1]) * (DURATION_UNITS[m[2] ?? "s"] ?? 1);
}

/** RFC 3339 or unix seconds, in unix seconds. */
function timeArg(text: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Date.parse(text) / 1000;
  if (!Number.isFinite(seconds)) throw new Error(`not a time (RFC 3339 or unix seconds): ${text}`);
  return seconds;
}

async function queryInstant(base: string, query: string, time: number): Promise<InstantResponse> {
  const url = new URL("api/v1/query", base.endsWith("/") ? base : `${base}/`);
  url.search = new URLSearchParams({ query, time: String(time) }).toString();
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as InstantResponse;
  if (body.status !== "success") throw new Error(`${query}: ${body.error ?? res.statusText}`);
  return body;
}

async function queryRange(
  base: string,
  query: string,
  range: { start: number; end: number; step: number },
): Promise<RangeResponse> {
  const url = new URL("api/v1/query_range", base.endsWith("/") ? base : `${base}/`);
  url.search = new URLSearchParams({
    query,
    start: String(range.start),
    end: String(range.end),
    step: String(range.step),
  }).toString();
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as RangeResponse;
  if (body.status !== "success") throw new Error(`${query}: ${body.error ?? res.statusText}`);
  return body;
}

const utc = (s: number) => new Date(s * 1000).toISOString().replace(/\.\d+Z$/, "Z");

async function main(argv: readonly string[], nowSeconds: number): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      prometheus: { type: "string" },
      out: { type: "string", default: "docs/charts" },
      start: { type: "string" },
      end: { type: "string" },
      window: { type: "string", default: "5m" },
      phase: { type: "string", default: "recovered" },
    },
    strict: true,
  });
  if (!values.prometheus) {
    process.stderr.write("render-charts: --prometheus http://HOST:PORT is required\n");
    return 2;
  }
  const end = values.end ? timeArg(values.end) : nowSeconds;
  const start = values.start ? timeArg(values.start) : end - 3600;
  const window = values.window;
  const q = queries({ window, phase: values.phase });
  const fine = { start, end, step: Math.max(15, Math.round((end - start) / 240)) };
  // Bars of one window each, so no event is drawn twice.
  const perWindow = { start, end, step: durationSeconds(window) };
  const base = values.prometheus;
  const opts = { window, phase: values.phase, subtitle: `${utc(start)} to ${utc(end)}` };

  const byQuantile = Object.fromEntries(
    await Promise.all(
      QUANTILES.map(async ([name, value]) => [
        name,
        await queryRange(base, q.quantile(value), fine),
      ]),
    ),
  ) as Record<Quantile, RangeResponse>;
  const outcomes = {
    kills: await queryRange(base, q.kills, perWindow),
    recoveries: await queryRange(base, q.recoveries, perWindow),
  };
  // One window over the whole range, at its end.
  const range = `${Math.max(1, Math.round(end - start))}s`;
  const dq = disruptionQueries(range);
  const quantilesOf = async (
    measure: Measure,
  ): Promise<[Measure, Record<DisruptionQuantile, InstantResponse>]> => {
    const answers = await Promise.all(
      DISRUPTION_QUANTILES.map(
        async ([name, value]): Promise<[DisruptionQuantile, InstantResponse]> => [
          name,
          await queryInstant(base, dq.quantile(measure, value), end),
        ],
      ),
    );
    return [measure, Object.fromEntries(answers) as Record<DisruptionQuantile, InstantResponse>];
  };
  const disruption: DisruptionAnswers = {
    quantiles: Object.fromEntries(
      await Promise.all(MEASURES.map(([measure]) => quantilesOf(measure))),
    ) as DisruptionAnswers["quantiles"],
    count: await queryInstant(base, dq.count, end),
    objective: await queryInstant(base, dq.objective, end),
  };
  const answersFile = process.env.KCM_CHARTS_ANSWERS;
  if (answersFile)
    writeFileSync(
      answersFile,
      `${JSON.stringify({ range: { start, end, window, fine: fine.step }, ...byQuantile, ...outcomes, disruption }, null, 2)}\n`,
    );
  mkdirSync(values.out, { recursive: true });
  const charts: [string, TopLevelSpec][] = [
    ["recovery-quantiles.png", recoveryChartSpec(byQuantile, opts)],
    ["kills-and-recoveries.png", outcomesChartSpec(outcomes, opts)],
  ];
  const probed = vectorRows(disruption.quantiles.disruption.p50, []).some((r) => r.value !== null);
  if (probed)
    charts.push([
      "disruption-and-recovery.png",
      disruptionChartSpec(disruption, { range, subtitle: opts.subtitle }),
    ]);
  else
    process.stderr.write(
      "render-charts: no disruption observed (no target with steady-state probes recovered): no disruption-and-recovery.png\n",
    );
  for (const [file, spec] of charts) {
    const path = join(values.out, file);
    writeFileSync(path, await renderPng(spec));
    process.stdout.write(`wrote ${path}\n`);
  }
  return 0;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2), Date.now() / 1000);
