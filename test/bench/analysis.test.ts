import { describe, expect, it } from "vitest";
import { heapTrend, label, metricSeries, percentile, seriesDelta, summarize } from "./analysis.js";

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
});
