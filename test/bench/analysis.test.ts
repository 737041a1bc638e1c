import { describe, expect, it } from "vitest";
import {
  aboveIdlePer,
  curveTable,
  heapTrend,
  label,
  machineJiffies,
  mergeCurve,
  metricSeries,
  percentile,
  perThousandPods,
  procCpuMs,
  seriesDelta,
  summarize,
} from "./analysis.js";
import type { CurveRow } from "./analysis.js";
import { benchConfig, scaleOf, targetNamespaces } from "./scale.js";

describe("benchmark arithmetic", () => {
  it("takes nearest-rank percentiles", () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(summarize([3, 1, 2])).toEqual({ n: 3, p50: 2, p99: 3, max: 3 });
  });

  it("measures heap growth between the floors of an early and a late window", () => {
    // A sawtooth (garbage collected every 20 s) whose floor rises from 40 to 44 MiB.
    const samples = Array.from({ length: 121 }, (_, i) => {
      const t = i * 5;
      const floor = 40 + (4 * t) / 600;
      return { t, heapUsedBytes: (floor + ((t % 20) / 20) * 30) * 2 ** 20 };
    });
    const trend = heapTrend(samples, 120, 60);
    expect(trend.earlyFloorBytes / 2 ** 20).toBeCloseTo(40.4, 1);
    expect(trend.lateFloorBytes / 2 ** 20).toBeCloseTo(43.2, 1);
    expect(trend.growthPct).toBeCloseTo(6.93, 1);
    expect(() => heapTrend(samples.slice(0, 2), 120, 60)).toThrow(/no heap samples/);
  });

  it("reads counter deltas per series from Prometheus text", () => {
    const before = metricSeries(
      'apiserver_request_total{code="201",resource="pods",subresource="eviction",verb="POST"} 10\n' +
        'apiserver_request_total{code="200",resource="pods",verb="LIST"} 4\n' +
        "apiserver_request_total_other 99\n",
      "apiserver_request_total",
    );
    const after = metricSeries(
      'apiserver_request_total{code="201",resource="pods",subresource="eviction",verb="POST"} 25\n' +
        'apiserver_request_total{code="200",resource="pods",verb="LIST"} 4\n' +
        'apiserver_request_total{code="200",resource="leases",verb="PUT"} 3\n',
      "apiserver_request_total",
    );
    const delta = seriesDelta(before, after);
    expect([...delta.values()].sort()).toEqual([15, 3]);
    const eviction = [...delta.keys()].find((k) => label(k, "subresource") === "eviction");
    expect(eviction && label(eviction, "verb")).toBe("POST");
    expect(label('{verb="LIST"}', "code")).toBeUndefined();
  });

  it("reads a process's CPU from /proc/PID/stat and the machine's from /proc/stat", () => {
    // pid (comm with a space and parens) state ... utime=250 stime=50 (fields 14 and 15)
    const stat = "4242 (kube (api) server) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0";
    expect(procCpuMs(stat)).toBe(3000);
    expect(machineJiffies("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3")).toEqual({
      busy: 150,
      total: 1000,
    });
    // 12 s of CPU in 60 s at an idle rate of 100 ms/s, over 30 rounds: 200 ms per round.
    expect(aboveIdlePer(12_000, 60, 100, 30)).toBe(200);
  });

  it("keeps one curve row per scale, in order, and reports slopes per 1,000 pods", () => {
    const row = (pods: number, peakRssMiB: number): CurveRow => ({
      pods,
      deployments: pods / 100,
      namespaces: pods / 500,
      date: "d",
      commit: "c",
      durationS: 300,
      victims: 300,
      startupMs: [900, 1000],
      peakRssMiB,
      medianRssMiB: peakRssMiB - 5,
      heapFloorMiB: 30,
      heapGrowthPct: 1,
      tickToKillMs: { p50: 3, p99: 10 },
      recoveryErrorP99Ms: 20,
      monkeyCpuMsPerRound: 8,
      apiserverCpuMsPerRound: 40,
      etcdCpuMsPerRound: 5,
      load: 2.5,
    });
    let curve = mergeCurve([], row(10_000, 140));
    curve = mergeCurve(curve, row(1000, 120));
    curve = mergeCurve(curve, row(10_000, 138)); // a rerun replaces its scale's row
    expect(curve.map((r) => [r.pods, r.peakRssMiB])).toEqual([
      [1000, 120],
      [10_000, 138],
    ]);
    expect(perThousandPods(curve[0] as CurveRow, curve[1] as CurveRow, (r) => r.peakRssMiB)).toBe(
      2,
    );
    const table = curveTable(curve).split("\n");
    expect(table).toHaveLength(3);
    expect(table[2]).toMatch(/^ *10000 +1\.00 +138\.0 +133\.0 +30\.0 +3\.0\/10\.0 /);
  });

  it("scales Deployments and namespaces with the pods, targets taking turns each second", () => {
    expect(scaleOf(1000)).toMatchObject({ deployments: 10, namespaces: 2, targets: 2 });
    expect(scaleOf(10_000)).toMatchObject({ deployments: 100, namespaces: 20, targets: 20 });
    const big = scaleOf(50_000);
    expect(big).toMatchObject({ deployments: 500, namespaces: 100, targets: 20, replicas: 100 });
    expect(targetNamespaces(big, "b", 3)).toEqual(["b-03", "b-23", "b-43", "b-63", "b-83"]);
    const targets = benchConfig(big, "b").targets as { schedule: string }[];
    expect(targets).toHaveLength(20);
    expect(targets[3]?.schedule).toBe("3,23,43 * * * * *");
    expect(() => scaleOf(1000, { namespaces: 3 })).toThrow(/divide/);
    expect(() => scaleOf(1000, { targets: 7 })).toThrow(/divide 60/);
  });
});
