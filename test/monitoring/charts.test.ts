// scripts/render-charts.ts without a Prometheus: real query_range answers (charts.fixture.json)
// into Vega-Lite specs, and a spec into a PNG.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  disruptionChartSpec,
  disruptionQueries,
  durationSeconds,
  matrixRows,
  outcomesChartSpec,
  queries,
  recoveryChartSpec,
  renderPng,
  vectorRows,
  type DisruptionAnswers,
  type RangeResponse,
} from "../../scripts/render-charts.js";

type Fixture = Record<"p50" | "p90" | "p99" | "kills" | "recoveries", RangeResponse> & {
  disruption: DisruptionAnswers;
};
const fixture = JSON.parse(
  readFileSync(new URL("charts.fixture.json", import.meta.url), "utf8"),
) as Fixture;
const OPTS = { window: "1m", phase: "recovered", subtitle: "a run" };

/** The data rows of a spec, wherever the spec keeps them. */
function rowsOf(spec: unknown): Record<string, unknown>[] {
  const s = spec as {
    data?: { values?: Record<string, unknown>[] };
    vconcat?: { data?: { values?: Record<string, unknown>[] } }[];
  };
  return [...(s.data?.values ?? []), ...(s.vconcat ?? []).flatMap((v) => v.data?.values ?? [])];
}

describe("matrixRows", () => {
  it("turns each point into a row: ms time, number value, the kept labels", () => {
    const rows = matrixRows(fixture.p50, ["target"], { quantile: "p50" });
    expect(rows).toHaveLength(9);
    expect(rows[0]).toEqual({ target: "db", quantile: "p50", time: 1795241495000, value: 100 });
  });

  it("makes NaN a gap (null), as a window without recoveries is", () => {
    const web = matrixRows(fixture.p99, ["target"]).filter((r) => r.target === "web");
    expect(web.map((r) => r.value)).toEqual([9.816666666666668, 9.775, null]);
  });

  it("refuses an error answer and a non-matrix answer", () => {
    expect(() => matrixRows({ status: "error", error: "parse error" }, [])).toThrow(/parse error/);
    expect(() =>
      matrixRows({ status: "success", data: { resultType: "vector", result: [] } }, []),
    ).toThrow(/matrix/);
  });
});

describe("recoveryChartSpec", () => {
  const spec = recoveryChartSpec({ p50: fixture.p50, p90: fixture.p90, p99: fixture.p99 }, OPTS);

  it("has every target's p50, p90 and p99, one panel per target", () => {
    const rows = rowsOf(spec);
    expect(rows).toHaveLength(27);
    const series = new Set(rows.map((r) => `${String(r.target)} ${String(r.quantile)}`));
    expect([...series].sort()).toEqual(
      ["db", "volumes", "web"].flatMap((t) => ["p50", "p90", "p99"].map((q) => `${t} ${q}`)),
    );
    expect(spec).toMatchObject({ facet: { row: { field: "target" } } });
    expect(JSON.stringify(spec.title)).toContain("phase recovered");
  });

  it("refuses to draw a chart without a single observation", () => {
    const empty: RangeResponse = { status: "success", data: { resultType: "matrix", result: [] } };
    expect(() => recoveryChartSpec({ p50: empty, p90: empty, p99: empty }, OPTS)).toThrow(
      /no recovery/,
    );
  });
});

describe("vectorRows", () => {
  it("turns each sample of an instant answer into a row, NaN into null", () => {
    const rows = vectorRows(fixture.disruption.quantiles.disruption.p90, ["target"]);
    expect(rows).toEqual([
      { target: "api", time: 1795241735000, value: 4.75 },
      { target: "slow", time: 1795241735000, value: null },
      { target: "web", time: 1795241735000, value: 0 },
    ]);
  });

  it("refuses a matrix where it wants a vector", () => {
    expect(() =>
      vectorRows({ status: "success", data: { resultType: "matrix", result: [] } }, []),
    ).toThrow(/vector/);
  });
});

describe("disruptionChartSpec", () => {
  const spec = disruptionChartSpec(fixture.disruption, { range: "180s", subtitle: "a run" });
  const rows = rowsOf(spec);

  it("sets p50/p90 of disruption beside recovered and steady, one panel per probed target", () => {
    const quantiles = rows.filter((r) => r.kind === "quantile");
    // Two targets (slow has no probes, so no disruption: left out), 3 measures, 2 quantiles.
    expect(quantiles).toHaveLength(12);
    expect(new Set(rows.map((r) => r.target))).toEqual(new Set(["api", "web"]));
    const api = Object.fromEntries(
      quantiles
        .filter((r) => r.target === "api")
        .map((r) => [`${String(r.measure).split(":")[0]} ${String(r.quantile)}`, r.value]),
    );
    expect(api).toEqual({
      "disruption p50": 3.75,
      "disruption p90": 4.75,
      "recovered p50": 1.8333333333333333,
      "recovered p90": 4.1,
      "steady p50": 3.6666666666666665,
      "steady p90": 4.733333333333333,
    });
    expect(new Set(rows.map((r) => r.panel))).toEqual(
      new Set(["api · 21 recoveries to steady", "web · 34 recoveries to steady"]),
    );
    expect(JSON.stringify(spec.title)).toMatch(/buckets/);
  });

  it("draws the objective as a rule where the target has one, and only there", () => {
    const objectives = rows.filter((r) => r.kind === "objective");
    expect(objectives.map((r) => [r.target, r.value])).toEqual([["web", 1]]);
    expect(JSON.stringify(spec)).toContain('"type":"rule"');
  });

  it("refuses to draw a chart without disruption observations", () => {
    const empty = { status: "success", data: { resultType: "vector", result: [] } };
    const none = { p50: empty, p90: empty };
    expect(() =>
      disruptionChartSpec(
        {
          quantiles: { disruption: none, recovered: none, steady: none },
          count: empty,
          objective: empty,
        },
        { range: "1m", subtitle: "" },
      ),
    ).toThrow(/no disruption/);
  });

  it("queries one window of buckets per measure, the steady phase's included", () => {
    const q = disruptionQueries("180s");
    expect(q.quantile("disruption", 0.5)).toBe(
      "histogram_quantile(0.5, sum by (target, le) ((chaos_monkey_disruption_seconds_bucket unless chaos_monkey_disruption_seconds_bucket offset 180s) or increase(chaos_monkey_disruption_seconds_bucket[180s])))",
    );
    expect(q.quantile("steady", 0.9)).toContain(
      'chaos_monkey_recovery_seconds_bucket{phase="steady"}',
    );
    expect(q.objective).toBe("max by (target) (chaos_monkey_recovery_objective_seconds)");
  });

  it("renders to PNG cleanly (no Vega warnings)", async () => {
    const png = await renderPng(spec, 1);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.readUInt32BE(20)).toBeGreaterThan(2 * 150);
  });
});

describe("outcomesChartSpec", () => {
  it("draws kills by result and recoveries by outcome as bars spanning their window", () => {
    const spec = outcomesChartSpec({ kills: fixture.kills, recoveries: fixture.recoveries }, OPTS);
    const rows = rowsOf(spec);
    const kills = rows.filter((r) => "result" in r);
    const recoveries = rows.filter((r) => "outcome" in r);
    expect(new Set(kills.map((r) => r.result))).toEqual(new Set(["killed", "dry_run", "failed"]));
    expect(new Set(recoveries.map((r) => r.outcome))).toEqual(
      new Set(["recovered", "timeout", "gone"]),
    );
    for (const r of rows) expect(Number(r.time) - Number(r.from)).toBe(60_000);
  });
});

describe("queries", () => {
  it("count events as the alert rules do and read the phase's buckets", () => {
    const q = queries({ window: "5m", phase: "ready" });
    expect(q.quantile(0.9)).toBe(
      'histogram_quantile(0.9, sum by (target, le) ((chaos_monkey_recovery_seconds_bucket{phase="ready"} unless chaos_monkey_recovery_seconds_bucket{phase="ready"} offset 5m) or increase(chaos_monkey_recovery_seconds_bucket{phase="ready"}[5m])))',
    );
    expect(q.kills).toBe(
      "sum by (result) ((chaos_monkey_kills_total unless chaos_monkey_kills_total offset 5m) or increase(chaos_monkey_kills_total[5m]))",
    );
  });

  it.each([
    ["30s", 30],
    ["5m", 300],
    ["1h", 3600],
  ])("take a window of %s (%i s)", (text, seconds) => {
    expect(durationSeconds(text)).toBe(seconds);
  });
});

describe("renderPng", () => {
  it("renders the fixture's charts to PNG images of the spec's size", async () => {
    const spec = recoveryChartSpec({ p50: fixture.p50, p90: fixture.p90, p99: fixture.p99 }, OPTS);
    const png = await renderPng(spec, 1);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    // Three 720x150 panels plus axes, titles and the legend.
    expect(width).toBeGreaterThan(720);
    expect(height).toBeGreaterThan(3 * 150);
    const twice = await renderPng(spec, 2);
    expect(twice.readUInt32BE(16)).toBe(2 * width);
  });

  it("fails on a spec that Vega cannot draw cleanly instead of writing a broken picture", async () => {
    const spec = outcomesChartSpec({ kills: fixture.kills, recoveries: fixture.recoveries }, OPTS);
    // A log scale for a nominal colour: Vega-Lite warns and draws something else.
    const broken = JSON.parse(
      JSON.stringify(spec).replace(
        '"scale":{"domain":["killed"',
        '"scale":{"type":"log","domain":["killed"',
      ),
    ) as typeof spec;
    await expect(renderPng(broken, 1)).rejects.toThrow(/did not render cleanly/);
  });
});
