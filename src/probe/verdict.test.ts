import { describe, expect, it } from "vitest";
import { parseStatusRange } from "../config/steady-state.js";
import type { PrometheusProbeSpec } from "../config/steady-state.js";
import { bodyVerdict, prometheusVerdict, statusVerdict } from "./verdict.js";

const ranges = ["200-399", "418"].map((r) => parseStatusRange(r) ?? { min: 0, max: -1 });
const prom = (x: Partial<PrometheusProbeSpec>): PrometheusProbeSpec => ({
  url: "http://127.0.0.1:9090",
  shownUrl: "http://127.0.0.1:9090",
  query: "q",
  below: undefined,
  above: undefined,
  timeoutMs: 1000,
  ...x,
});
const vector = (...values: string[]) => ({
  status: "success",
  data: { resultType: "vector", result: values.map((v) => ({ metric: {}, value: [1, v] })) },
});

describe("probe verdicts", () => {
  it.each([
    [200, "pass"],
    [399, "pass"],
    [418, "pass"],
    [400, "fail"],
    [503, "fail"],
    [199, "fail"],
  ])("status %d against 200-399 and 418 → %s", (status, result) => {
    expect(statusVerdict(status, ranges).result).toBe(result);
  });

  it.each([
    ["200", { min: 200, max: 200 }],
    ["200-399", { min: 200, max: 399 }],
    [" 500 - 599 ", { min: 500, max: 599 }],
    ["399-200", undefined],
    ["20x", undefined],
    ["600", undefined],
    ["", undefined],
  ])("status range %j → %j", (text, expected) => {
    expect(parseStatusRange(text)).toEqual(expected);
  });

  it("matches the body only when asked to", () => {
    expect(bodyVerdict("anything", "").result).toBe("pass");
    expect(bodyVerdict('{"db":"ok"}', '"db":"ok"').result).toBe("pass");
    expect(bodyVerdict('{"db":"down"}', '"db":"ok"')).toEqual({
      result: "fail",
      reason: 'body lacks "\\"db\\":\\"ok\\""',
    });
  });

  it.each([
    ["a vector below the bound", vector("0.1"), { below: 0.5 }, "pass", undefined],
    [
      "a vector at the bound (strictly below)",
      vector("0.5"),
      { below: 0.5 },
      "fail",
      "0.5 is not below 0.5",
    ],
    [
      "every sample must hold",
      vector("0.1", "0.9"),
      { below: 0.5 },
      "fail",
      "0.9 is not below 0.5",
    ],
    ["above", vector("3"), { above: 2 }, "pass", undefined],
    [
      "a scalar",
      { status: "success", data: { resultType: "scalar", result: [1, "7"] } },
      { above: 5 },
      "pass",
      undefined,
    ],
    ["an empty vector", vector(), { below: 1 }, "fail", "empty result"],
    ["NaN", vector("NaN"), { below: 1 }, "fail", "not a number (NaN)"],
    [
      "+Inf is not below anything",
      vector("+Inf"),
      { below: 1e9 },
      "fail",
      "Infinity is not below 1000000000",
    ],
    [
      "a query error",
      { status: "error", error: "parse error at char 3" },
      { below: 1 },
      "error",
      "query error: parse error at char 3",
    ],
    [
      "a string result",
      { status: "success", data: { resultType: "string", result: [1, "x"] } },
      { below: 1 },
      "error",
      "unexpected result type string",
    ],
    ["not an answer at all", null, { below: 1 }, "error", "query error: status undefined"],
  ])("%s", (...row) => {
    const [, answer, bound, result, reason] = row;
    const v = prometheusVerdict(answer, prom(bound));
    expect(v.result).toBe(result);
    if (reason !== undefined) expect(v).toMatchObject({ reason });
  });
});
