// Renders the benchmark's scaling curve to PNG: memory, start-up and CPU per round against the
// pods in scope, one point per `npm run bench -- --pods N` run, with the goals of ISSUE 14
// marked. Nothing is drawn by hand: every point is a row of the curve file.
//
//   npx tsx scripts/render-bench-chart.ts [--curve test/bench/results/curve.json] \
//     [--out docs/charts/scaling.png]
//
// Rendered like the README's other charts (scripts/render-charts.ts): Vega-Lite → SVG → PNG.
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { TopLevelSpec } from "vega-lite";
import type { CurveRow } from "../test/bench/analysis.js";
import { renderPng } from "./render-charts.js";

export interface Point {
  readonly pods: number;
  readonly panel: string;
  readonly series: string;
  readonly value: number;
}

const MEMORY = "memory (MiB)";
const STARTUP = "start-up to ready (s)";
const CPU = "CPU per round (ms)";

/** The curve as chart points, one per (scale, series). */
export function curvePoints(rows: readonly CurveRow[]): Point[] {
  return rows.flatMap((r) => {
    const p = (panel: string, series: string, value: number): Point => ({
      pods: r.pods,
      panel,
      series,
      value,
    });
    return [
      p(MEMORY, "peak RSS", r.peakRssMiB),
      p(MEMORY, "median RSS", r.medianRssMiB),
      p(MEMORY, "heap floor", r.heapFloorMiB),
      p(STARTUP, "slowest start", Math.max(...r.startupMs) / 1000),
      p(STARTUP, "fastest start", Math.min(...r.startupMs) / 1000),
      p(CPU, "monkey", r.monkeyCpuMsPerRound),
      p(CPU, "kube-apiserver above idle", r.apiserverCpuMsPerRound),
      p(CPU, "etcd above idle", r.etcdCpuMsPerRound),
      // Below idle means the idle window was not idle (the control plane was still settling
      // after creating the pods): no measurement of the run, so no point (the JSON keeps it).
    ].filter((pt) => pt.panel !== CPU || pt.value >= 0);
  });
}

/** The goals, as points to mark (10,000 and 50,000 pods). */
export const GOALS: readonly Point[] = [
  { pods: 10_000, panel: MEMORY, series: "goal", value: 150 },
  { pods: 50_000, panel: MEMORY, series: "goal", value: 300 },
  { pods: 10_000, panel: STARTUP, series: "goal", value: 1.5 },
  { pods: 50_000, panel: STARTUP, series: "goal", value: 5 },
];

const FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif";

function panel(title: string, points: readonly Point[], maxPods: number) {
  const x = {
    field: "pods",
    type: "quantitative" as const,
    title: "pods in scope",
    scale: { domain: [0, maxPods] },
    axis: { format: "~s" },
  };
  const y = { field: "value", type: "quantitative" as const, title, scale: { zero: true } };
  const goals = GOALS.filter((p) => p.panel === title);
  return {
    width: 260,
    height: 220,
    layer: [
      {
        data: { values: points.filter((p) => p.panel === title) },
        mark: { type: "line" as const, point: true },
        encoding: { x, y, color: { field: "series", type: "nominal" as const, title: null } },
      },
      ...(goals.length === 0
        ? []
        : [
            {
              data: { values: goals },
              mark: { type: "point" as const, shape: "triangle-down", size: 90, color: "#c00" },
              encoding: { x, y },
            },
          ]),
    ],
    resolve: { scale: { color: "independent" as const } },
  };
}

export function scalingChartSpec(rows: readonly CurveRow[]): TopLevelSpec {
  const points = curvePoints(rows);
  const maxPods = Math.max(50_000, ...rows.map((r) => r.pods));
  const when = rows.map((r) => `${r.pods}: ${r.durationS} s at load ${r.load}`).join("; ");
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "kube-chaos-monkey at scale (npm run bench -- --pods N)",
      subtitle: `one run per scale (${when}); red triangles: the goals`,
    },
    hconcat: [MEMORY, STARTUP, CPU].map((t) => panel(t, points, maxPods)),
    resolve: { legend: { color: "independent" } },
    config: {
      font: FONT,
      background: "white",
      view: { stroke: "#ddd" },
      axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#eee" },
      legend: { labelFontSize: 11, labelLimit: 260, orient: "bottom", direction: "vertical" },
      title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: "#555", anchor: "start" },
    },
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      curve: { type: "string", default: "test/bench/results/curve.json" },
      out: { type: "string", default: "docs/charts/scaling.png" },
    },
  });
  const rows = JSON.parse(readFileSync(values.curve, "utf8")) as CurveRow[];
  writeFileSync(values.out, await renderPng(scalingChartSpec(rows)));
  process.stdout.write(`wrote ${values.out} (${rows.length} scales)\n`);
}

if (import.meta.main) await main(process.argv.slice(2));
